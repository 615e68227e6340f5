"""Every read-model store the tests run on, and the documents a history folds into.

- ``memory``: the in-memory store (tests, demo);
- ``mongo-adapter-on-mongomock``: ``MongoStore`` on mongomock, a Python imitation of MongoDB,
  which checks the adapter's queries here where no MongoDB server runs;
- ``mongodb``: ``MongoStore`` on a real server, when ``PRONTO_TEST_MONGODB_URI`` names one
  (each test on a database of its own, dropped after).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from pronto.envelope import Envelope
from services.query.domain.conversation import with_entry
from services.query.domain.entries import Doc, conversation_event
from services.query.store.memory import MemoryStore
from services.query.store.mongo import MongoStore, connect
from services.query.store.port import Store
from tests.support import mongomock_async

KINDS = ["memory", "mongo-adapter-on-mongomock", "mongodb"]


@asynccontextmanager
async def opened(kind: str) -> AsyncIterator[Store]:
    uri = os.environ.get("PRONTO_TEST_MONGODB_URI", "")
    if kind == "memory":
        store: Store = MemoryStore()
    elif kind == "mongo-adapter-on-mongomock":
        store = MongoStore(mongomock_async.Database())
    elif not uri:
        pytest.skip("no MongoDB server here: set PRONTO_TEST_MONGODB_URI to run this on one")
    else:
        store = connect(uri, f"pronto_test_{uuid.uuid4().hex[:12]}")
    await store.start()
    try:
        yield store
    finally:
        if kind == "mongodb" and isinstance(store, MongoStore):
            await store._db.client.drop_database(store._db.name)
        await store.close()


def folded(tenant: str, events: list[Envelope]) -> Doc:
    """The conversation document the pure model makes of ``events``."""
    doc: Doc | None = None
    for envelope in events:
        event = conversation_event(envelope)
        assert event is not None
        doc = with_entry(doc, tenant, event.conversation_id, event.entry) or doc
    assert doc is not None
    return doc
