"""The archive's format, no I/O beyond the bytes given: gzipped JSON lines per topic and a manifest.

One gzip file of JSON lines per topic, each line a record exactly as Kafka held it (partition, offset,
timestamp, key, value, headers; bytes in base64), and a manifest naming the topics, offsets, counts and
SHA-256 of each file.

JSON lines rather than Parquet: no new dependency, a file can be streamed record by record in both
directions and read by a person with ``zcat``; the backtest reads every record anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pronto_tools.errors import ArchiveError

FORMAT = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ArchivedRecord:
    """One Kafka record as it was: its bytes and headers untouched."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def line(self) -> bytes:
        return (
            json.dumps(
                {
                    "p": self.partition,
                    "o": self.offset,
                    "t": self.timestamp_ms,
                    "k": _b64(self.key),
                    "v": _b64(self.value),
                    "h": [[name, _b64(value)] for name, value in self.headers],
                },
                separators=(",", ":"),
            ).encode()
            + b"\n"
        )

    @classmethod
    def from_line(cls, line: bytes) -> ArchivedRecord:
        try:
            data = json.loads(line)
            return cls(
                int(data["p"]),
                int(data["o"]),
                int(data["t"]),
                _bytes(data["k"]),
                _bytes(data["v"]),
                tuple((str(name), _bytes(value) or b"") for name, value in data["h"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ArchiveError(f"not an archived record: {line[:80]!r} ({exc})") from exc


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def _bytes(text: Any) -> bytes | None:
    # binascii's strict mode refuses what b64decode(validate=True) refuses, without its regex.
    return None if text is None else binascii.a2b_base64(str(text), strict_mode=True)


@dataclass
class TopicPart:
    """What the archive holds of one topic: its file, count, checksum and offsets per partition."""

    file: str
    records: int = 0
    sha256: str = ""
    # Partition -> [first offset exported, next offset after the last] (source cluster's offsets).
    partitions: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class Manifest:
    """What was exported, from where and when, with the selection that chose it."""

    source: str
    exported_at: str
    tenant: str | None
    since_ms: int | None
    until_ms: int | None
    topics: dict[str, TopicPart] = field(default_factory=dict)
    format: int = FORMAT

    def dumps(self) -> str:
        topics = {name: vars(part) for name, part in self.topics.items()}
        return json.dumps({**vars(self), "topics": topics}, indent=2, sort_keys=True) + "\n"

    @classmethod
    def loads(cls, text: str) -> Manifest:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ArchiveError(f"{MANIFEST} is not JSON: {exc}") from exc
        if data.get("format") != FORMAT:
            raise ArchiveError(f"archive format {data.get('format')!r}; this version reads {FORMAT}")
        topics = {
            name: TopicPart(
                part["file"],
                part["records"],
                part["sha256"],
                {int(p): list(span) for p, span in part["partitions"].items()},
            )
            for name, part in data["topics"].items()
        }
        return cls(
            data["source"], data["exported_at"], data["tenant"], data["since_ms"], data["until_ms"], topics
        )


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read a megabyte at a time: an archive of a month is not held in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def selected(record: ArchivedRecord, tenant: str | None, since_ms: int | None, until_ms: int | None) -> bool:
    """Whether the export keeps ``record``: its shop (``ce_tenant``; records naming no tenant, such
    as journal entries, only when no shop is chosen) and its timestamp in [since, until)."""
    if since_ms is not None and record.timestamp_ms < since_ms:
        return False
    if until_ms is not None and record.timestamp_ms >= until_ms:
        return False
    if tenant is None:
        return True
    return dict(record.headers).get("ce_tenant") == tenant.encode()
