"""``pronto history export|import``: the command line of the event archive."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from kafka.errors import KafkaError

from pronto import topics
from pronto_tools.errors import ArchiveError
from pronto_tools.history.export import export, prepare
from pronto_tools.history.restore import restore

# What a shop's history is: every topic but the services' snapshots (their state, not what happened).
HISTORY_TOPICS = tuple(spec.name for spec in topics.ALL if spec is not topics.SNAPSHOTS)


def instant_ms(text: str) -> int:
    """An ISO 8601 date or instant as epoch milliseconds; one without a zone is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date or time (2026-12-01T09:00Z)"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def topic_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in {spec.name for spec in topics.ALL}]
    if unknown or not names:
        known = ", ".join(spec.name for spec in topics.ALL)
        raise argparse.ArgumentTypeError(f"unknown topics {unknown or text!r}; known: {known}")
    return names


def cmd_export(args: argparse.Namespace) -> int:
    try:
        prepare(args.out)
        say = print
        say(f"exporting {len(args.topics)} topics from {args.bootstrap_servers} to {args.out} ...")
        manifest = asyncio.run(
            export(
                args.bootstrap_servers,
                args.topics,
                args.out,
                tenant=args.tenant,
                since_ms=args.since,
                until_ms=args.until,
                say=say,
            )
        )
    except (FileExistsError, LookupError, KafkaError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    total = sum(part.records for part in manifest.topics.values())
    print(f"{total:,} records in {args.out} (manifest.json lists offsets, counts and checksums)")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    try:
        print(f"importing {args.archive} into {args.bootstrap_servers} ...")
        written = asyncio.run(restore(args.bootstrap_servers, args.archive))
    except (ArchiveError, KafkaError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{written:,} records written")
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser], bootstrap: str) -> None:
    history = commands.add_parser(
        "history", help="keep a shop's events off the cluster: export them to files, import them back"
    ).add_subparsers(dest="history_command", required=True)

    out = history.add_parser("export", help="write chosen topics (a shop, a time range) to an archive")
    out.add_argument("--bootstrap-servers", default=bootstrap)
    out.add_argument("--out", type=Path, required=True, help="a new or empty directory")
    out.add_argument(
        "--topics",
        type=topic_list,
        default=list(HISTORY_TOPICS),
        help="comma-separated (default: all but snapshots)",
    )
    out.add_argument("--tenant", help="only this shop's events (their ce_tenant header)")
    out.add_argument(
        "--since", type=instant_ms, help="records at or after this time (ISO 8601; UTC if no zone)"
    )
    out.add_argument("--until", type=instant_ms, help="records before this time")
    out.set_defaults(run=cmd_export)

    back = history.add_parser("import", help="write an archive's records back to a cluster")
    back.add_argument("archive", type=Path, help="the directory 'pronto history export' wrote")
    back.add_argument("--bootstrap-servers", default=bootstrap)
    back.set_defaults(run=cmd_import)
