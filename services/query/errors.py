"""The exceptions the query service's store and console raise, in one place."""

from __future__ import annotations


class ConflictingWrite(Exception):
    """Another writer changed the document since it was read: read it again and retry."""


class Refused(Exception):
    """Routing refused a transfer: nothing changed, but the request (``event_id``) was written.
    Answered 409 with both (``routes.install``)."""

    def __init__(self, detail: str, event_id: str) -> None:
        super().__init__(detail)
        self.detail, self.event_id = detail, event_id
