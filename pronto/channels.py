"""Channel names as services, metrics and settings write them: ``web_chat`` for ``CHANNEL_WEB_CHAT``."""

from __future__ import annotations

from typing import cast

from pronto.v1 import common_pb2


def channel_name(channel: int) -> str:
    """``CHANNEL_WEB_CHAT`` -> ``web_chat``; a value this version does not know is ``unknown``."""
    try:
        return common_pb2.Channel.Name(channel).removeprefix("CHANNEL_").lower()
    except ValueError:
        return "unknown"


def channel_value(name: str) -> common_pb2.Channel:
    """``web_chat`` -> ``CHANNEL_WEB_CHAT``."""
    return cast(common_pb2.Channel, common_pb2.Channel.Value(f"CHANNEL_{name.upper()}"))


NAMES = tuple(channel_name(c) for c in common_pb2.Channel.values() if c != common_pb2.CHANNEL_UNSPECIFIED)
