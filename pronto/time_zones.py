"""IANA time-zone names, checked where a setting or a request names one; one message for every service."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or a ValueError saying what a valid name looks like."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Rome'") from exc


def _known(name: str) -> str:
    zone_named(name)
    return name


# A setting's field that must name a time zone ZoneInfo knows: refused at start-up otherwise.
TimeZoneName = Annotated[str, AfterValidator(_known)]
