"""The web console: a supervisor's wallboard and an operator's view, served by the query service."""
