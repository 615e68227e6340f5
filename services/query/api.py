"""The query API: a shop's conversations, operators and SLA reports, read from the read models.

Every route takes the shop from the caller's bearer token and filters by it;
a document of another shop is simply not found. Naive datetimes are UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict, Field

from pronto.auth import TokenAuthenticator
from pronto.channels import NAMES
from pronto.errors import Unauthenticated
from pronto.ops import ops_router
from pronto.security_headers import SecurityHeaders
from pronto.validation_errors import PlainErrorsRoute
from services.query.domain import conversation, operator
from services.query.domain.entries import Doc
from services.query.domain.sla_view import with_glance
from services.query.store.port import MAX_PAGE, ConversationQuery, OperatorQuery, ReportQuery, Store

ChannelName = Literal[NAMES]  # type: ignore[valid-type]
Status = Literal["new", "waiting", "queued", "assigned", "resolved"]
OperatorStatus = Literal["online", "away", "offline"]
Metric = Literal["first_response", "next_response", "resolution"]
MAX_OFFSET = 100_000
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")]


class Customer(BaseModel):
    id: str
    name: str
    email: str
    phone: str
    tier: str


class Referral(BaseModel):
    """The ad, post or link that brought the customer, as the platform named it ("" for what it left
    out): ``source`` is the platform's word for its kind (WhatsApp "ad", Messenger "ADS"...)."""

    source: str = ""
    type: str = ""
    ref: str = ""
    ad_id: str = ""
    post_id: str = ""
    url: str = ""
    headline: str = ""
    body: str = ""
    media_url: str = ""
    click_id: str = ""


class Person(BaseModel):
    id: str
    name: str


class Queue(BaseModel):
    position: int
    estimated_wait_s: float
    nobody_online: bool


class FirstResponse(BaseModel):
    at: datetime
    operator_id: str
    seconds: float


class Pause(BaseModel):
    # When it stopped counting, and when it counted again (None while paused).
    from_: datetime = Field(alias="from")
    to: datetime | None = None
    # What paused it: pending, on_hold, awaiting_customer (a reply marked so).
    state: str
    reason: str = ""
    # What resumed it: open (the operator) or customer_wrote.
    resumed_by: str | None = None

    model_config = ConfigDict(populate_by_name=True)


class Clock(BaseModel):
    # switched_off: the conversation's new tier has no target for this clock (SlaClockRetargeted);
    # paused: a pause state or a reply awaiting the customer stopped it (see ``pauses``); ended: a
    # response clock the resolution ended before a reply (no result). breached is also shown at
    # once for a running clock whose deadline has passed.
    state: Literal["running", "at_risk", "breached", "paused", "met", "missed", "switched_off", "ended"]
    target_s: float | None = None
    started_at: datetime | None = None
    warn_at: datetime | None = None
    deadline: datetime | None = None
    business_time: bool | None = None
    elapsed_s: float | None = None
    pauses: list[Pause] = []
    # Computed when asked: wall-clock seconds to the deadline while it counts (overrun_s once past
    # it); while paused, what is left of the target in the clock's own (business or calendar) time.
    time_left_s: float | None = None
    overrun_s: float | None = None


class ConversationSummary(BaseModel):
    conversation_id: str
    channel: str
    status: Status
    # Whom it waits on, as the operator set it: open, pending (the customer), on_hold (a third party).
    state: str = "open"
    customer: Customer | None
    language: str
    subject: str
    topics: list[str]
    # The first referral a customer message of it named: which ad or link brought the customer.
    referral: Referral | None = None
    operator: Person | None
    queue: Queue | None
    created_at: datetime
    updated_at: datetime
    last_customer_message_at: datetime | None
    messages: int
    replies: int
    first_response: FirstResponse | None
    resolved_at: datetime | None
    resolved_by: str | None
    sla: dict[str, Clock]
    # Routing's latest decision (assigned or queued) with its candidates and reasons.
    last_decision: dict[str, Any] | None = None
    seq: int


class Conversation(ConversationSummary):
    # Entries by ``seq``: each has ``id`` (the event id), ``at``, ``type`` and the event's own fields.
    # A customer message (``type`` "message") has, besides its text, the channel's ids of itself
    # (``channel_message_id``), of the message it answers (``reply_to_message_id``) and, for an edit
    # or a deletion, of the message it changes (``original_message_id``), "" when none, its
    # ``referral`` (a Referral's fields, or null), whether it was ``forwarded`` from elsewhere, and
    # the catalogue product it asks about (``referred_product``: catalog_id and
    # product_retailer_id, or null). Entries written before these were kept lack them.
    timeline: list[dict[str, Any]]


class ConversationPage(BaseModel):
    items: list[ConversationSummary]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class LanguageSkill(BaseModel):
    language: str
    proficiency: int


class Operator(BaseModel):
    operator_id: str
    display_name: str
    languages: list[LanguageSkill]
    topics: list[str]
    capacities: dict[str, int]
    team: str
    status: str
    status_reason: str
    status_since: datetime | None
    # Channels the operator paused: nothing new comes on them while the rest goes on (issue #20).
    paused_channels: list[str] = []
    updated_at: datetime
    day: date
    load: int
    handled: int
    average_first_response_s: float | None


class OperatorPage(BaseModel):
    items: list[Operator]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class ReportRow(BaseModel):
    day: date
    channel: str
    metric: str
    started: int
    warned: int
    breached: int
    met: int
    missed: int
    compliance: float | None
    average_elapsed_s: float | None


class Report(BaseModel):
    timezone: str
    since: date
    until: date
    rows: list[ReportRow]


def _utc(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC (naive: taken as UTC); beyond what UTC can hold, the nearest it can."""
    if moment is None:
        return None
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


def _invalid(parameter: str, message: str, value: object) -> RequestValidationError:
    """A 422 shaped like FastAPI's own, for checks that span parameters."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", parameter), "msg": message, "input": value}]
    )


def _next(offset: int, count: int, total: int) -> int | None:
    return offset + count if offset + count < total else None


def _tenant(
    request: Request, tenant: Annotated[str | None, Query(description="must be the token's own")] = None
) -> str:
    """The shop of the caller's bearer token; asking for another shop is refused."""
    tokens: TokenAuthenticator = request.app.state.tokens
    try:
        own = tokens.tenant_for(request.headers.get("authorization"))
    except Unauthenticated as exc:
        raise HTTPException(401, str(exc), {"www-authenticate": "Bearer"}) from exc
    if tenant not in (None, own):
        raise HTTPException(403, "this token reads its own shop only")
    return own


TenantId = Annotated[str, Depends(_tenant)]


def create_app(
    store: Store,
    tokens: TokenAuthenticator,
    timezone_of: Callable[[str], str],
    registry: CollectorRegistry,
    ready: Callable[[], bool],
    today: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    def local_day(shop: str, day: date | None) -> tuple[date, datetime, datetime]:
        zone = ZoneInfo(timezone_of(shop))
        day = day if day is not None else today().astimezone(zone).date()
        start = datetime.combine(day, time(), zone)
        # The next day's midnight, not 23:59:59.999999: no instant between two days is in neither.
        end = datetime.combine(day + timedelta(days=1), time(), zone) if day < date.max else datetime.max
        return day, _utc(start) or start, _utc(end) or end

    async def with_stats(shop: str, docs: list[Doc], day: date | None) -> list[Operator]:
        day, start, end = local_day(shop, day)
        stats = await store.operator_stats(shop, [d["operator_id"] for d in docs], start, end)
        return [Operator(**d, day=day, **vars(stats[d["operator_id"]])) for d in docs]

    router = APIRouter(
        prefix="/v1",
        tags=["query"],
        route_class=PlainErrorsRoute,
        responses={
            401: {"description": "no bearer token, or one this service does not know"},
            403: {"description": "the ``tenant`` asked for is not the token's"},
        },
    )

    @router.get("/conversations")
    async def list_conversations(
        shop: TenantId,
        channel: ChannelName | None = None,
        status: Status | None = None,
        operator_id: str | None = None,
        since: Annotated[datetime | None, Query(description="started at or after")] = None,
        until: Annotated[datetime | None, Query(description="started before")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ConversationPage:
        """The shop's conversations, newest first, without their timelines."""
        if since is not None and until is not None and _utc(since) > _utc(until):  # type: ignore[operator]
            raise _invalid("since", "since must not be after until", str(since))
        query = ConversationQuery(shop, channel, status, operator_id, _utc(since), _utc(until), limit, offset)
        page = await store.conversations(query)
        now = today()
        items = [ConversationSummary(**with_glance(d, now)) for d in page.items]
        return ConversationPage(
            items=items,
            total=page.total,
            limit=limit,
            offset=offset,
            next_offset=_next(offset, len(items), page.total),
        )

    @router.get(
        "/conversations/{conversation_id}",
        responses={404: {"description": "no such conversation in this shop"}},
    )
    async def get_conversation(shop: TenantId, conversation_id: str) -> Conversation:
        """One conversation with its whole timeline: messages, assignments, replies, SLA events."""
        doc = await store.get("conversations", conversation.document_id(shop, conversation_id))
        if doc is None:
            raise HTTPException(404, f"no conversation {conversation_id!r} in this shop")
        return Conversation(**with_glance(doc, today()))

    @router.get("/operators")
    async def list_operators(
        shop: TenantId,
        status: OperatorStatus | None = None,
        team: str | None = None,
        day: Annotated[
            date | None, Query(description="the shop's day of the figures; today by default")
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> OperatorPage:
        """Operators with their status, current load, and on ``day`` the conversations they resolved
        and their average first response (wall-clock seconds from the customer's first message)."""
        page = await store.operators(OperatorQuery(shop, status, team, limit, offset))
        items = await with_stats(shop, page.items, day)
        return OperatorPage(
            items=items,
            total=page.total,
            limit=limit,
            offset=offset,
            next_offset=_next(offset, len(items), page.total),
        )

    @router.get("/operators/{operator_id}", responses={404: {"description": "no such operator in this shop"}})
    async def get_operator(
        shop: TenantId,
        operator_id: str,
        day: Annotated[
            date | None, Query(description="the shop's day of the figures; today by default")
        ] = None,
    ) -> Operator:
        doc = await store.get("operators", operator.document_id(shop, operator_id))
        if doc is None:
            raise HTTPException(404, f"no operator {operator_id!r} in this shop")
        return (await with_stats(shop, [doc], day))[0]

    @router.get("/sla/reports")
    async def sla_reports(
        shop: TenantId,
        since: Annotated[date | None, Query(description="first day; 6 days before until by default")] = None,
        until: Annotated[date | None, Query(description="last day (included); today by default")] = None,
        channel: ChannelName | None = None,
        metric: Metric | None = None,
    ) -> Report:
        """Daily SLA figures per channel and metric in the shop's time zone. Compliance is met over
        met plus breached: every late answer counts once, as its breach."""
        zone = timezone_of(shop)
        last = until if until is not None else today().astimezone(ZoneInfo(zone)).date()
        first = since if since is not None else last - timedelta(days=min(6, (last - date.min).days))
        if first > last:
            raise _invalid("since", "since must not be after until", str(since))
        rows = await store.sla_report(ReportQuery(shop, first.isoformat(), last.isoformat(), channel, metric))
        return Report(timezone=zone, since=first, until=last, rows=[ReportRow(**r) for r in rows])

    app = FastAPI(
        title="Pronto query API",
        version="1",
        description="A shop's conversations, operators and SLA reports. "
        "Send `Authorization: Bearer <token>`.",
    )
    app.state.tokens = tokens
    app.add_middleware(SecurityHeaders)
    app.include_router(router)
    app.include_router(ops_router(registry, ready))
    return app
