"""Applies events to the read models: the one place that decides what each event changes.

At-least-once input (a restart redelivers what was not committed) is fine:
every write is idempotent (``domain.conversation``, ``domain.operator``,
SLA events keyed by event id), and writes of one document are compared and
set on its version, so two projectors never lose each other's events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

from pronto.envelope import decode
from pronto.errors import EnvelopeError
from pronto.kafka.reader import Record
from services.query.domain import conversation, operator
from services.query.domain.entries import Doc, conversation_event
from services.query.domain.reports import sla_fact
from services.query.errors import ConflictingWrite
from services.query.store.port import VERSION_FIELD, Collection, Store

log = logging.getLogger("pronto.query")
ATTEMPTS = 20


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    INVALID = "invalid"


class Projector:
    def __init__(
        self,
        store: Store,
        timezone_of: Callable[[str], str],
        changed: Callable[[str], None] = lambda _tenant: None,
    ) -> None:
        self.store = store
        self._timezone_of = timezone_of
        # Told the tenant of every event that changed a read model (the console's live pages).
        self._changed = changed

    async def apply(self, record: Record) -> Outcome:
        try:
            envelope = decode(record.headers, record.value)
        except EnvelopeError as exc:
            log.warning("skipping %s/%d@%d: %s", record.topic, record.partition, record.offset, exc)
            return Outcome.INVALID
        if operator.is_operator_event(envelope):
            position = operator.Position(record.partition, record.offset)
            payload_id = envelope.payload.operator_id  # type: ignore[attr-defined]
            return await self._update(
                envelope.tenant,
                "operators",
                operator.document_id(envelope.tenant, payload_id),
                lambda doc: operator.with_event(doc, envelope, position),
            )
        event = conversation_event(envelope)
        if event is None:
            return Outcome.IGNORED
        fact = sla_fact(event.tenant, event.conversation_id, event.entry, self._timezone_of(event.tenant))
        if fact is not None:
            await self.store.add_fact(fact)
        return await self._update(
            event.tenant,
            "conversations",
            conversation.document_id(event.tenant, event.conversation_id),
            lambda doc: conversation.with_entry(doc, event.tenant, event.conversation_id, event.entry),
        )

    async def _update(
        self,
        tenant: str,
        collection: Collection,
        document_id: str,
        change: Callable[[Doc | None], Doc | None],
    ) -> Outcome:
        for _ in range(ATTEMPTS):
            current = await self.store.get(collection, document_id)
            changed = change(current)
            if changed is None:
                return Outcome.DUPLICATE
            version = 0 if current is None else int(current[VERSION_FIELD[collection]])
            try:
                await self.store.put(collection, changed, version)
            except ConflictingWrite:
                continue
            self._changed(tenant)
            return Outcome.APPLIED
        raise ConflictingWrite(f"{collection}/{document_id}: still conflicting after {ATTEMPTS} attempts")
