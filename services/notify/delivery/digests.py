"""What the shop lets wait for a digest, and each recipient's limit, for the gate. No I/O.

The rules of holding and releasing (``services.notify.domain.gate``) know
nothing of shops; these two functions tell the gate what each shop chose.
"""

from __future__ import annotations

from pronto.v1 import events_pb2
from services.notify.delivery.partition_state import Request
from services.notify.domain.gate import Limit
from services.notify.settings import NotifySettings


def gated(settings: NotifySettings, request: Request) -> bool:
    """Whether the shop limits this kind (by default what storms: breaches, predicted breaches,
    queue alerts); a customer's answers and an operator's work are never held."""
    if request.request.recipient_kind == events_pb2.RECIPIENT_KIND_CUSTOMER:
        return False
    return request.request.kind in settings.shop(request.event.tenant).limited_kinds


def limit(settings: NotifySettings, key: str) -> Limit:
    """The limit of the recipient named by ``key`` (tenant/kind/id): their shop's."""
    return settings.shop(key.split("/", 1)[0]).limit()
