"""The read side: projections of the event streams into queryable documents, and the query API."""
