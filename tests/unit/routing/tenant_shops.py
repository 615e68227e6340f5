"""Builds one shop's routing state for the tests and reads back who holds what and the queue."""

from __future__ import annotations

from datetime import datetime

from services.routing.domain.decision import Assign, Wait
from services.routing.domain.model import Operator
from services.routing.domain.tenant import Output, TenantRouting
from tests.unit.routing.builders import T0, a_conversation

CHAT_ONLY = {"web_chat": 1}


def a_shop(*operators: Operator, now: datetime = T0) -> TenantRouting:
    shop = TenantRouting()
    for operator in operators:
        assert shop.operator_changed(operator, now) == []
    return shop


def waiting_in(shop: TenantRouting, *tiers: tuple[str, int], language: str = "it") -> None:
    """Conversations (id, tier) that nobody can take yet, all arrived at ``T0``."""
    for conversation_id, tier in tiers:
        outputs = shop.arrive(a_conversation(conversation_id, tier=tier, language=language), T0)
        assert [type(output) for output in outputs] == [Wait]


def assignments(outputs: list[Output]) -> list[tuple[str, str]]:
    return [(o.conversation_id, o.operator_id) for o in outputs if isinstance(o, Assign)]


def holder(shop: TenantRouting, conversation_id: str) -> str:
    return shop.assigned[conversation_id].operator_id


def queued(shop: TenantRouting, now: datetime) -> list[str]:
    return [conversation.id for conversation in shop.queue(now)]
