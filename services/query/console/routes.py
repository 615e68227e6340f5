"""The console's HTTP side: its page and files, its JSON API and the event stream that keeps it live.

Everything is served from the query service's own origin; the page loads
nothing from anywhere else. Supervisors (the tenant's query token) get the
wallboard; operators (their own token) get their conversations and act on them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from pronto.errors import Unauthenticated
from pronto.validation_errors import PlainErrorsRoute
from services.query.console import wallboard
from services.query.console.actions import OperatorActions
from services.query.console.auth import Caller, ConsoleAuth
from services.query.console.changes import Changes
from services.query.console.tickets import TICKET_LIFETIME_S, Tickets
from services.query.domain import conversation
from services.query.domain.entries import Doc
from services.query.domain.sla_view import with_glance
from services.query.errors import Refused
from services.query.store.port import ConversationQuery, OperatorQuery, Page, ReportQuery, Store

STATIC = Path(__file__).parent / "static"
WINDOW = timedelta(minutes=15)
OPEN = ("waiting", "queued", "assigned")
LISTED = 200


class StatusChange(BaseModel):
    status: Literal["online", "away", "offline"]


class Resolution(BaseModel):
    # The page's id of this resolution: a second click is the same resolution.
    key: str = Field(min_length=8, max_length=64)


class Reply(BaseModel):
    text: str = Field(min_length=1, max_length=4096)
    # The page's id of this reply: sent again after a lost answer, it is still one reply.
    key: str = Field(min_length=8, max_length=64)


class TransferTo(BaseModel):
    # A colleague's operator id; empty: back to the shop's queue.
    to_operator_id: str = Field(default="", max_length=128)
    reason: str = Field(default="", max_length=500)
    key: str = Field(min_length=8, max_length=64)
    # Supervisors only: beyond the colleague's capacity.
    override: bool = False


class StateChange(BaseModel):
    # open (the console's "reopen"), pending (waiting on the customer), on_hold (on a third party).
    state: Literal["open", "pending", "on_hold"]
    reason: str = Field(default="", max_length=500)
    key: str = Field(min_length=8, max_length=64)


def _caller(request: Request) -> Caller:
    auth: ConsoleAuth = request.app.state.console_auth
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    try:
        return auth.caller(token.strip() if scheme.lower() == "bearer" else "")
    except Unauthenticated as exc:
        raise HTTPException(401, str(exc), {"www-authenticate": "Bearer"}) from exc


def _operator(caller: Annotated[Caller, Depends(_caller)]) -> Caller:
    if caller.operator_id is None:
        raise HTTPException(403, "sign in as an operator for this")
    return caller


def _supervisor(caller: Annotated[Caller, Depends(_caller)]) -> Caller:
    if caller.operator_id is not None:
        raise HTTPException(403, "the wallboard is for the shop's supervisors")
    return caller


AnyCaller = Annotated[Caller, Depends(_caller)]
OperatorCaller = Annotated[Caller, Depends(_operator)]
SupervisorCaller = Annotated[Caller, Depends(_supervisor)]


def install(
    app: FastAPI,
    store: Store,
    auth: ConsoleAuth,
    actions: OperatorActions,
    changes: Changes,
    timezone_of: Callable[[str], str],
    objective: float,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    app.state.console_auth = auth
    tickets = Tickets()
    # The page's own API, in the service's schema under "console" so that the fuzz suite reaches it.
    router = APIRouter(prefix="/console/api", tags=["console"], route_class=PlainErrorsRoute)

    async def listed(tenant: str, **filters: Any) -> list[Doc]:
        return (await paged(tenant, **filters)).items

    async def paged(tenant: str, **filters: Any) -> Page:
        return await store.conversations(ConversationQuery(tenant, limit=LISTED, **filters))

    @router.get("/whoami")
    async def whoami(caller: AnyCaller) -> dict[str, Any]:
        return {
            "tenant": caller.tenant,
            "role": "operator" if caller.operator_id else "supervisor",
            "operator_id": caller.operator_id,
        }

    @router.get("/wallboard")
    async def board(caller: SupervisorCaller) -> dict[str, Any]:
        """The shop's queue, operators, compliance, conversations needing attention and latest decisions."""
        tenant, now = caller.tenant, clock()
        zone = ZoneInfo(timezone_of(tenant))
        today = now.astimezone(zone).date()
        start = datetime.combine(today, time(), zone).astimezone(UTC)
        end = datetime.combine(today + timedelta(days=1), time(), zone).astimezone(UTC)  # not +24 h: DST
        # The longest waits first: what a page of LISTED leaves out are the newest.
        not_routed, queued = (
            await paged(tenant, status="waiting", oldest_first=True),
            await paged(tenant, status="queued", oldest_first=True),
        )
        waiting = not_routed.items + queued.items
        assigned = await listed(tenant, status="assigned", oldest_first=True)
        staff = (await store.operators(OperatorQuery(tenant, limit=LISTED))).items
        stats = await store.operator_stats(tenant, [o["operator_id"] for o in staff], start, end)
        day = today.isoformat()
        window = await store.sla_report(
            ReportQuery(
                tenant,
                (today - timedelta(days=1)).isoformat(),
                day,
                metric="first_response",
                since_at=now - WINDOW,
            )
        )
        daily = await store.sla_report(ReportQuery(tenant, day, day, metric="first_response"))
        return jsonable_encoder(  # type: ignore[no-any-return]
            {
                "tenant": tenant,
                "now": now,
                "objective": objective,
                "window_minutes": int(WINDOW.total_seconds() // 60),
                "queue": wallboard.queue(waiting, not_routed.total + queued.total, now),
                "operators": wallboard.operators(staff, stats),
                "compliance": wallboard.compliance(window, daily, objective),
                "attention": wallboard.attention(waiting + assigned, now),
                "decisions": wallboard.decisions(await listed(tenant)),
            }
        )

    @router.get("/me")
    async def me(caller: OperatorCaller) -> dict[str, Any]:
        """The operator's status and their open conversations, with the customer's messages and the
        SLA clock that runs."""
        tenant, operator_id = caller.tenant, caller.operator_id
        assert operator_id is not None
        profile = await store.get("operators", f"{tenant}/{operator_id}")
        mine = await listed(tenant, status="assigned", operator_id=operator_id)
        now = clock()
        full = [await store.get("conversations", d["_id"]) for d in mine]
        staff = (await store.operators(OperatorQuery(tenant, limit=LISTED))).items
        return jsonable_encoder(  # type: ignore[no-any-return]
            {
                "operator_id": operator_id,
                "name": (profile or {}).get("display_name") or operator_id,
                "status": (profile or {}).get("status", "offline"),
                # Whom a conversation can be handed to (routing says whether they have room).
                "colleagues": [
                    {"operator_id": o["operator_id"], "name": o["display_name"] or o["operator_id"]}
                    | {"status": o["status"]}
                    for o in staff
                    if o["operator_id"] != operator_id
                ],
                "conversations": [_conversation(with_glance(d, now)) for d in full if d is not None],
                "now": now,
            }
        )

    async def own(caller: Caller, conversation_id: str) -> Doc:
        doc = await store.get("conversations", conversation.document_id(caller.tenant, conversation_id))
        if doc is None or (doc["operator"] or {}).get("id") != caller.operator_id:
            raise HTTPException(403, "this conversation is not yours")
        if doc["status"] != "assigned":
            raise HTTPException(409, f"this conversation is {doc['status']}, not open with you")
        return doc

    @router.post("/me/status", status_code=202)
    async def set_status(caller: OperatorCaller, change: StatusChange) -> dict[str, str | bool]:
        assert caller.operator_id is not None
        written = await actions.set_status(caller.tenant, caller.operator_id, change.status)
        return {"status": change.status} | written

    @router.post("/me/conversations/{conversation_id}/reply", status_code=202)
    async def reply(caller: OperatorCaller, conversation_id: str, body: Reply) -> dict[str, str | bool]:
        await own(caller, conversation_id)
        assert caller.operator_id is not None
        written = await actions.reply(caller.tenant, caller.operator_id, conversation_id, body.text, body.key)
        return {"conversation_id": conversation_id} | written

    @router.post("/me/conversations/{conversation_id}/resolve", status_code=202)
    async def resolve(
        caller: OperatorCaller, conversation_id: str, body: Resolution
    ) -> dict[str, str | bool]:
        await own(caller, conversation_id)
        assert caller.operator_id is not None
        written = await actions.resolve(caller.tenant, caller.operator_id, conversation_id, body.key)
        return {"conversation_id": conversation_id} | written

    @router.post("/me/conversations/{conversation_id}/state", status_code=202)
    async def set_state(
        caller: OperatorCaller, conversation_id: str, body: StateChange
    ) -> dict[str, str | bool]:
        """Pending, on hold or open again, without a reply: SLA pauses what the shop's policy says."""
        await own(caller, conversation_id)
        assert caller.operator_id is not None
        written = await actions.set_state(
            caller.tenant, caller.operator_id, conversation_id, body.state, body.reason, body.key
        )
        return {"conversation_id": conversation_id, "state": body.state} | written

    @router.post("/me/conversations/{conversation_id}/transfer")
    async def transfer(
        caller: OperatorCaller, conversation_id: str, body: TransferTo
    ) -> dict[str, str | bool]:
        """To a colleague or back to the queue, with a reason: 200 once routing made it, 409 with
        routing's reason when it could not (a colleague at capacity): then nothing changed."""
        await own(caller, conversation_id)
        assert caller.operator_id is not None
        if body.override:
            raise HTTPException(403, "only a supervisor may override a colleague's capacity")
        written = await actions.transfer(
            caller.tenant, caller.operator_id, conversation_id, body.to_operator_id, body.reason, body.key
        )
        return {"conversation_id": conversation_id} | written

    @router.post("/conversations/{conversation_id}/transfer")
    async def reassign(
        caller: SupervisorCaller, conversation_id: str, body: TransferTo
    ) -> dict[str, str | bool]:
        """A supervisor moves any conversation, waiting or held, to an operator (``override``:
        beyond their capacity, recorded on the event) or back to the queue."""
        written = await actions.transfer(
            caller.tenant,
            "",
            conversation_id,
            body.to_operator_id,
            body.reason,
            body.key,
            supervisor=True,
            override=body.override,
        )
        return {"conversation_id": conversation_id} | written

    @router.post("/events/ticket", status_code=201)
    async def ticket(caller: AnyCaller) -> dict[str, Any]:
        """A ticket that opens one event stream within ``TICKET_LIFETIME_S`` (``tickets``)."""
        return {"ticket": tickets.issue(caller), "expires_in_s": TICKET_LIFETIME_S}

    @router.get("/events", response_class=StreamingResponse)
    async def events(
        request: Request,
        ticket: Annotated[str, Query(max_length=64, description="from POST /events/ticket")] = "",
    ) -> StreamingResponse:
        """Server-sent ``changed`` events whenever the caller's shop's read models change (at most
        twice a second): the page fetches what it shows again. EventSource cannot send headers,
        and a token in a URL is kept by logs and histories: the stream takes a single-use ticket."""
        caller = tickets.redeem(ticket)
        if caller is None:
            raise HTTPException(
                401, "ask POST /console/api/events/ticket for a ticket; each opens one stream"
            )

        async def stream() -> AsyncIterator[bytes]:
            seen = changes.version(caller.tenant)
            yield b"retry: 2000\n: connected\n\n"
            while not await request.is_disconnected():
                now = await changes.wait(caller.tenant, seen, 15.0)
                if now == seen:
                    yield b": keep-alive\n\n"
                    continue
                seen = now
                yield f"event: changed\ndata: {now}\n\n".encode()

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    app.include_router(router)

    @app.exception_handler(Refused)
    async def refused(_request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"detail": exc.detail, "event_id": exc.event_id}, status_code=409)

    @app.get("/console", include_in_schema=False)
    async def console_root() -> RedirectResponse:
        return RedirectResponse("/console/")

    @app.get("/console/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")


def _conversation(doc: Doc) -> dict[str, Any]:
    clocks = {m: c for m, c in doc["sla"].items() if m in ("first_response", "next_response")}
    running = next(
        (
            c | {"metric": m}
            for m, c in clocks.items()
            if c.get("state") in ("running", "at_risk", "breached")
        ),
        None,
    )
    latest = max(
        clocks.items(),
        key=lambda mc: mc[1].get("started_at") or datetime.min.replace(tzinfo=UTC),
        default=None,
    )
    # A reply or an edit names the message it refers to by the channel's id: shown by its text when
    # the conversation holds it (a customer's message), else by that id.
    said = {
        e["channel_message_id"]: e["text"]
        for e in doc["timeline"]
        if e["type"] == "message" and e.get("channel_message_id")
    }
    return {
        "conversation_id": doc["conversation_id"],
        "channel": doc["channel"],
        "customer": doc["customer"],
        "language": doc["language"],
        "subject": doc["subject"],
        "referral": doc.get("referral"),
        "messages": [
            {
                "from": "customer" if e["type"] == "message" else "operator",
                "operator_id": e.get("operator_id", ""),
                "at": e["at"],
                "text": e["text"],
                "reply_to": _quoted(said, e.get("reply_to_message_id", "")),
                "changes": _quoted(said, e.get("original_message_id", "")),
                "forwarded": bool(e.get("forwarded")),
                "product": (e.get("referred_product") or {}).get("product_retailer_id", ""),
            }
            for e in doc["timeline"]
            if e["type"] in ("message", "reply")
        ],
        "sla": running or (latest[1] | {"metric": latest[0]} if latest else None),
        # Whom it waits on (open, pending, on_hold), and every clock at a glance with its pauses.
        "state": doc.get("state", "open"),
        "clocks": {
            metric: {
                k: clock.get(k)
                for k in ("state", "deadline", "time_left_s", "overrun_s", "business_time", "pauses")
            }
            for metric, clock in doc["sla"].items()
        },
    }


def _quoted(said: dict[str, str], message_id: str) -> dict[str, str] | None:
    """The message ``message_id`` names: its id, and its text when the conversation holds it."""
    if not message_id:
        return None
    return {"id": message_id, "text": said.get(message_id, "")}
