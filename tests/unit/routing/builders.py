"""Small builders for routing tests: one sensible operator and conversation, changed by keyword."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from services.routing.domain.model import Conversation, Operator, Status

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """``minutes`` after ``T0``."""
    return T0 + timedelta(minutes=minutes)


def an_operator(
    operator_id: str = "ana",
    *,
    languages: dict[str, int] | None = None,
    topics: Iterable[str] = ("billing",),
    capacities: dict[str, int] | None = None,
    team: str = "",
    status: Status = Status.ONLINE,
    load: dict[str, int] | None = None,
    idle_since: datetime | None = None,
) -> Operator:
    """An online Italian speaker covering billing, with room on every channel unless told otherwise."""
    return Operator(
        id=operator_id,
        display_name=operator_id.title(),
        languages={"it": 5} if languages is None else languages,
        topics=frozenset(topics),
        capacities={"web_chat": 2, "email": 5, "phone": 1} if capacities is None else capacities,
        team=team,
        status=status,
        load={} if load is None else load,
        idle_since=idle_since,
    )


def a_conversation(
    conversation_id: str = "c1",
    *,
    channel: str = "web_chat",
    language: str = "it",
    topics: tuple[str, ...] = ("billing",),
    tier: int = 0,
    is_public: bool = False,
    callback: bool = False,
    last_operator_id: str = "",
    team: str = "",
    waiting_since: datetime | None = None,
    level: int = 0,
    excluded: frozenset[str] = frozenset(),
) -> Conversation:
    """An Italian billing question on the web chat, from a standard customer."""
    return Conversation(
        id=conversation_id,
        channel=channel,
        language=language,
        topics=topics,
        tier=tier,
        is_public=is_public,
        callback=callback,
        customer_id=f"customer-{conversation_id}",
        last_operator_id=last_operator_id,
        team=team,
        waiting_since=waiting_since,
        level=level,
        excluded=excluded,
    )
