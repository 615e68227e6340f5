"""mongomock behind the part of PyMongo's asyncio API that ``MongoStore`` uses.

mongomock is a Python imitation of MongoDB, not a server: running the
adapter on it checks that its queries, updates and aggregations are well
formed and mean what the contract says, on these machines where no MongoDB
runs. It is no substitute for the real server (PRONTO_TEST_MONGODB_URI).
"""

from __future__ import annotations

from typing import Any

import mongomock


class _Cursor:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def sort(self, *args: Any) -> _Cursor:
        self._cursor = self._cursor.sort(*args)
        return self

    def skip(self, n: int) -> _Cursor:
        self._cursor = self._cursor.skip(n)
        return self

    def limit(self, n: int) -> _Cursor:
        self._cursor = self._cursor.limit(n)
        return self

    async def to_list(self, length: int | None = None) -> list[Any]:
        return list(self._cursor)


class _Collection:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    def find(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self._c.find(*args, **kwargs))

    async def aggregate(self, pipeline: list[Any]) -> _Cursor:
        return _Cursor(iter(list(self._c.aggregate(pipeline))))

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._c, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        return call


class Database:
    def __init__(self) -> None:
        self._db: Any = mongomock.MongoClient(tz_aware=True).get_database("pronto")

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self._db[name])
