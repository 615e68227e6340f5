"""Wiring and process lifecycle of the query service (``pronto-query``), and its rebuild command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from prometheus_client import CollectorRegistry
from pymongo.errors import PyMongoError
from tqdm import tqdm

from pronto.auth import TokenAuthenticator
from pronto.entrypoint import settings_or_exit
from pronto.kafka.watch import BrokerWatch
from pronto.logs import limit_repeats
from pronto.ops import serve_http
from services.query import api
from services.query.console import routes as console
from services.query.console.actions import OperatorActions
from services.query.console.auth import ConsoleAuth
from services.query.console.changes import Changes
from services.query.feed import Feed, FeedMetrics
from services.query.projector import Projector
from services.query.rebuild import rebuild
from services.query.settings import QuerySettings
from services.query.store.memory import MemoryStore
from services.query.store.mongo import connect
from services.query.store.port import Store

log = logging.getLogger("pronto.query")


def open_store(settings: QuerySettings) -> Store:
    if settings.query_mongodb_uri is None:
        return MemoryStore()
    return connect(settings.query_mongodb_uri.get_secret_value(), settings.query_mongodb_database)


async def serve(settings: QuerySettings, stop: asyncio.Event) -> None:
    store = open_store(settings)
    await store.start()
    if isinstance(store, MemoryStore):
        log.warning(
            "no PRONTO_QUERY_MONGODB_URI: read models in memory, replayed from the topics at every start"
        )
    registry = CollectorRegistry()
    changes = Changes()
    projector = Projector(store, settings.timezone_of, changes.touch)
    in_memory = isinstance(store, MemoryStore)
    group = None if in_memory else settings.query_group_id
    feed = Feed(
        settings.bootstrap_servers, projector, FeedMetrics(registry), group, settings.query_fetch_wait_ms
    )
    broker = BrokerWatch(settings.bootstrap_servers)
    app = api.create_app(
        store,
        TokenAuthenticator(settings.query_tokens),
        settings.timezone_of,
        registry,
        # In memory the read models are whole only once the replay has caught up, and follow the broker;
        # MongoDB's are served meanwhile and while the broker is away (what was last read, behind).
        lambda: (feed.connected and feed.caught_up and broker.answers) if in_memory else feed.connected,
    )
    console.install(
        app,
        store,
        ConsoleAuth(TokenAuthenticator(settings.query_tokens), settings.query_operator_tokens),
        OperatorActions(settings.query_ingest_target, settings.query_ingest_tokens),
        changes,
        settings.timezone_of,
        settings.query_sla_objective,
    )
    publishing = asyncio.create_task(changes.publish())
    following = asyncio.create_task(feed.run(stop))
    watching = asyncio.create_task(broker.run())
    limits = settings.http_limits()
    http = asyncio.create_task(
        serve_http(app, settings.query_http_host, settings.query_http_port, stop, limits)
    )
    log.info(
        "query API on http://%s:%d (OpenAPI at /docs), console at /console/",
        settings.query_http_host,
        settings.query_http_port,
    )
    try:
        done, _ = await asyncio.wait(
            {following, http, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED
        )
        for task in done & {following, http}:
            task.result()  # a crashed projector or server ends the process with its error
    finally:
        stop.set()
        publishing.cancel()
        watching.cancel()
        await asyncio.gather(following, http, publishing, watching, return_exceptions=True)
        await store.close()


async def run_rebuild(settings: QuerySettings) -> int:
    if settings.query_mongodb_uri is None:
        print(
            "pronto-query rebuild: set PRONTO_QUERY_MONGODB_URI; without MongoDB the read models live "
            "inside the running service, which replays the topics at every start",
            file=sys.stderr,
        )
        return 2
    store = open_store(settings)
    try:
        await store.start()
    except PyMongoError as exc:
        print(f"pronto-query rebuild: MongoDB does not answer: {exc}", file=sys.stderr)
        return 1
    bar = tqdm(unit=" events", desc="replaying", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        rebuilt = await rebuild(settings.bootstrap_servers, store, settings.timezone_of, progress)
    finally:
        bar.close()
        await store.close()
    counts = ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in rebuilt.documents.items())
    print(f"rebuilt from {rebuilt.events:,} events and swapped in: {counts}")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="pronto-query",
        description="Serve the query API over the read models (default), or rebuild the read models "
        "from the topics into fresh MongoDB collections and swap them in. Settings: PRONTO_QUERY_*.",
    )
    parser.add_argument("command", nargs="?", choices=("serve", "rebuild"), default="serve")
    command = parser.parse_args(argv).command
    settings = settings_or_exit(QuerySettings, "pronto-query")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    limit_repeats()
    if command == "rebuild":
        sys.exit(asyncio.run(run_rebuild(settings)))

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(settings, stop)

    asyncio.run(_main())


if __name__ == "__main__":
    main()
