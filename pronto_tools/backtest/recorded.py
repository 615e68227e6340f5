"""What a shop's event archive (``pronto history export``) says happened, read for the backtest.

Routing's input topic, ``support.routing.v1``, holds the shop's messages, operators' changes and actions,
and ticks in the order routing handled them (one shop is one partition): it is the stream replayed.
``support.conversations.v1`` holds routing's decisions and ``support.sla.v1`` SLA's clock events, what
really happened; ``support.clocks.v1`` (optional) the SLA policies set through the admin API.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pronto import envelope, topics
from pronto.envelope import Envelope
from pronto.errors import EnvelopeError
from pronto.v1 import events_pb2
from pronto_tools.backtest import candidate
from pronto_tools.backtest.replay import DEADLINES, Recorded, is_action
from pronto_tools.errors import BacktestError
from pronto_tools.history.archive import ArchivedRecord, Manifest
from pronto_tools.history.restore import read_archive

NEEDED = (topics.ROUTING.name, topics.CONVERSATIONS.name, topics.SLA.name)
# Of routing's and SLA's outputs, those ``Observer`` measures (the others are not decoded).
OBSERVED = frozenset(
    t.DESCRIPTOR.full_name.encode()
    for t in (
        events_pb2.ConversationAssigned,
        events_pb2.ConversationQueued,
        events_pb2.ConversationReassigned,
        events_pb2.SlaMet,
        events_pb2.SlaMissed,
        events_pb2.SlaBreached,
        events_pb2.SlaWarning,
    )
)


def open_history(directory: Path, tenant: str | None, needed: Sequence[str] = NEEDED) -> tuple[Manifest, str]:
    """The archive's manifest (its files checked) and the shop to replay: ``tenant``, else the one the
    export chose."""
    if not directory.is_dir():
        raise BacktestError(f"{directory} is not a directory: give one 'pronto history export' wrote")
    manifest = read_archive(directory)
    missing = [name for name in needed if name not in manifest.topics]
    if missing:
        them = "it" if len(missing) == 1 else "them"
        raise BacktestError(
            f"{directory} lacks {', '.join(missing)}: export {them} too (pronto history export --topics ...)"
        )
    chosen = tenant or manifest.tenant
    if not chosen:
        raise BacktestError(f"{directory} holds every shop's events: name one with --tenant")
    if manifest.tenant and chosen != manifest.tenant:
        raise BacktestError(f"{directory} holds only {manifest.tenant}'s events, not {chosen}'s")
    return manifest, chosen


def events(
    directory: Path, manifest: Manifest, topic: str, tenant: str, types: frozenset[bytes] | None = None
) -> Iterator[tuple[int, Envelope]]:
    """The shop's events on ``topic`` (of ``types`` only, if given: the others are not decoded) with
    their positions in the file; unreadable records skipped (the live services skipped them too).

    A line is parsed only if it holds the base64 of one of ``types`` (the archive writes each header
    value in base64): most of SLA's events are not measured, and parsing is most of reading."""
    marks = None if types is None else tuple(base64.b64encode(t) for t in types)
    with gzip.open(directory / manifest.topics[topic].file, "rb") as file:
        for position, line in enumerate(file):
            if marks is not None and not any(mark in line for mark in marks):
                continue
            event = _decoded(ArchivedRecord.from_line(line), tenant.encode(), types)
            if event is not None:
                yield position, event


def _decoded(record: ArchivedRecord, tenant: bytes, types: frozenset[bytes] | None) -> Envelope | None:
    """The record's event if it is the shop's and of ``types``; None too when it cannot be read."""
    headers = list(record.headers)
    attributes = dict(headers)
    if attributes.get("ce_tenant") != tenant:
        return None
    if types is not None and attributes.get("ce_type") not in types:
        return None
    try:
        return envelope.decode(headers, record.value)
    except EnvelopeError:
        return None


def recorded(
    directory: Path, manifest: Manifest, tenant: str, observe: Callable[[Envelope], None]
) -> tuple[Recorded, list[tuple[int, Envelope]]]:
    """Every event of what really happened goes to ``observe`` (of routing's and SLA's outputs, those
    it measures); returns what the replay needs of it, and the stream it replays (``stream``)."""
    first: dict[str, tuple[str, datetime]] = {}
    for _, event in events(directory, manifest, topics.CONVERSATIONS.name, tenant, OBSERVED):
        observe(event)
        payload = event.payload
        if isinstance(payload, events_pb2.ConversationAssigned):
            before = first.get(payload.conversation_id)
            if before is None or event.time < before[1]:
                first[payload.conversation_id] = (payload.operator_id, event.time)
    for _, event in events(directory, manifest, topics.SLA.name, tenant, OBSERVED):
        observe(event)
    actions: dict[str, list[tuple[int, Envelope]]] = defaultdict(list)
    # Routing's recorded input, but the actions that move with their conversations: held in memory,
    # read once for every replay of the period (a month of a busy shop is about two million events).
    stream: list[tuple[int, Envelope]] = []
    for position, event in events(directory, manifest, topics.ROUTING.name, tenant):
        if not isinstance(event.payload, (events_pb2.RoutingTick, *DEADLINES)):
            observe(event)
        conversation_id = getattr(event.payload, "conversation_id", "")
        if is_action(event) and conversation_id in first:
            actions[conversation_id].append((position, event))
        else:
            stream.append((position, event))
    return Recorded(first, dict(actions)), stream


def recorded_sla_policy(directory: Path, manifest: Manifest, tenant: str) -> dict[str, Any] | None:
    """The last SLA policy set for the shop through the admin API within the history, if any."""
    if topics.CLOCKS.name not in manifest.topics:
        return None
    last: tuple[datetime, str] | None = None
    for _, event in events(directory, manifest, topics.CLOCKS.name, tenant):
        if isinstance(event.payload, events_pb2.SlaPolicyChanged) and (last is None or event.time >= last[0]):
            last = (event.time, event.payload.policy_json)
    return json.loads(last[1]) if last else None


def beside(given: Path | None, directory: Path, name: str) -> Path | None:
    """``given``, else the file ``name`` beside the archive if there is one."""
    return given if given is not None else directory / name if (directory / name).exists() else None


def live_routing(given: Path | None, directory: Path) -> tuple[dict[str, Any], str]:
    """Routing's settings as they were live, with where they came from: ``given``, else
    ``live-routing.yaml`` beside the archive, else routing's defaults."""
    path = beside(given, directory, "live-routing.yaml")
    return (candidate.read(path), str(path)) if path else ({}, "routing's defaults")


def live_sla(
    given: Path | None, directory: Path, manifest: Manifest, tenant: str
) -> tuple[dict[str, Any], str]:
    """The shop's SLA policy as it was live, with where it came from: ``given``, else ``live-sla.yaml``
    beside the archive, else the last one the history records, else SLA's defaults."""
    path = beside(given, directory, "live-sla.yaml")
    if path is not None:
        return candidate.read(path), str(path)
    in_history = recorded_sla_policy(directory, manifest, tenant)
    if in_history is not None:
        return in_history, "the last policy the history records"
    return {}, "SLA's defaults"
