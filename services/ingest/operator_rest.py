"""The operator API over REST: the same requests as gRPC's OperatorService, as JSON.

Bodies use the protobuf JSON mapping of the gRPC request messages (camelCase
or the .proto field names), so both APIs accept the same fields and share
one validation. The path names the operator or conversation; the bearer
token names the tenant. A retried request with the same ``Idempotency-Key``
header is answered as a duplicate instead of becoming a second event.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from google.protobuf.message import Message

from pronto.auth import TokenAuthenticator
from pronto.channels import NAMES as CHANNEL_NAMES
from pronto.errors import BrokerUnavailable, PermissionDenied, Unauthenticated
from pronto.v1 import operator_pb2
from pronto.validation_errors import PlainErrorsRoute
from services.ingest.application import Ingest, TransferOutcome
from services.ingest.errors import BadBody, BodyTooLarge, InvalidEvent, TransferRefused, TransferUndecided
from services.ingest.validation import MAX_EVENT_BYTES
from services.ingest.webhooks import read_body
from services.ingest.writes import Outcome

M = TypeVar("M", bound=Message)
# A request's event is at most MAX_EVENT_BYTES; its JSON form may be larger (escapes, field names).
MAX_BODY_BYTES = 4 * MAX_EVENT_BYTES
STATUS_NAMES = {
    "online": "OPERATOR_STATUS_ONLINE",
    "away": "OPERATOR_STATUS_AWAY",
    "offline": "OPERATOR_STATUS_OFFLINE",
}
STATE_NAMES = {
    "open": "CONVERSATION_STATE_OPEN",
    "pending": "CONVERSATION_STATE_PENDING",
    "on_hold": "CONVERSATION_STATE_ON_HOLD",
}


def _error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


async def _parsed(request: Request, message: M, **path: str) -> M:
    raw = await read_body(request, MAX_BODY_BYTES)  # 413 before a larger body is read in full
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadBody(f"the body is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise BadBody("the body nests too deep to be a request") from exc
    if not isinstance(body, dict):
        raise BadBody("the body must be a JSON object")
    if isinstance(status := body.get("status"), str):
        # The short names (``online``) beside the enum's own (``OPERATOR_STATUS_ONLINE``).
        body["status"] = STATUS_NAMES.get(status.lower(), status)
    if isinstance(state := body.get("state"), str):
        body["state"] = STATE_NAMES.get(state.lower(), state)
    if isinstance(channel := body.get("channel"), str) and channel.lower() in CHANNEL_NAMES:
        body["channel"] = f"CHANNEL_{channel.upper()}"  # ``web_chat`` beside ``CHANNEL_WEB_CHAT``
    try:
        json_format.ParseDict(body, message)
    except json_format.ParseError as exc:
        raise BadBody(str(exc)) from exc
    except RecursionError as exc:
        raise BadBody("the body nests too deep to be a request") from exc
    for name, value in path.items():
        _set_path_field(message, name, value)
    if key := request.headers.get("idempotency-key", ""):
        message.idempotency_key = key  # type: ignore[attr-defined]
    return message


def _set_path_field(message: Message, name: str, value: str) -> None:
    """The path names the id; a body naming a different one is a mistake worth reporting."""
    given = getattr(message, name)
    if given and given != value:
        raise BadBody(f"{name} in the body is {given!r} but the path says {value!r}")
    setattr(message, name, value)


@dataclass
class OperatorRest:
    ingest: Ingest
    auth: TokenAuthenticator
    retry_after_s: float

    async def answer(
        self, request: Request, call: Callable[[str], Awaitable[Outcome | TransferOutcome]]
    ) -> JSONResponse:
        try:
            tenant = self.auth.tenant_for(request.headers.get("authorization"))
            outcome = await call(tenant)
        except Unauthenticated as exc:
            return _error(401, "unauthenticated", str(exc), {"www-authenticate": "Bearer"})
        except PermissionDenied as exc:
            return _error(403, "permission_denied", str(exc))
        except BodyTooLarge as exc:
            return _error(413, "too_large", str(exc))
        except (InvalidEvent, BadBody) as exc:
            return _error(422, "invalid", str(exc))
        except (TransferRefused, TransferUndecided) as exc:  # the request is in the log, as event_id
            refused = isinstance(exc, TransferRefused)
            status, error = (409, "refused") if refused else (504, "undecided")
            detail = f"routing refused the transfer: {exc}; nothing changed" if refused else str(exc)
            return JSONResponse(
                {"error": error, "detail": detail, "event_id": exc.event_id}, status_code=status
            )
        except BrokerUnavailable as exc:
            retry = str(max(1, round(self.retry_after_s)))
            return _error(503, "unavailable", f"{exc}; retry the same request", {"retry-after": retry})
        if isinstance(outcome, TransferOutcome):  # decided: where the conversation is now
            written = outcome.outcome
            return JSONResponse(
                {
                    "event_id": written.event_id,
                    "duplicate": written.duplicate,
                    "operator_id": outcome.operator_id,
                    "queued": outcome.queued,
                },
                status_code=200,
            )
        return JSONResponse({"event_id": outcome.event_id, "duplicate": outcome.duplicate}, status_code=202)


def _body(example: dict[str, object], request: str) -> dict[str, object]:
    """The request body as /docs shows it: the gRPC request's JSON form, with an example."""
    return {
        "requestBody": {
            "required": True,
            "description": f"The JSON form of pronto.v1.{request} (proto/pronto/v1/operator.proto).",
            "content": {"application/json": {"schema": {"type": "object"}, "example": example}},
        }
    }


PROFILE_EXAMPLE: dict[str, object] = {
    "profile": {
        "displayName": "Giulia",
        "languages": [{"language": "it", "proficiency": 5}, {"language": "en", "proficiency": 4}],
        "topics": ["SUPPORT_TOPIC_ORDERS", "SUPPORT_TOPIC_RETURNS"],
        "capacities": [
            {"channel": "CHANNEL_WEB_CHAT", "maxConcurrent": 3},
            {"channel": "CHANNEL_EMAIL", "maxConcurrent": 8},
        ],
        "team": "front",
    }
}


def operator_router(api: OperatorRest) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["operators"], route_class=PlainErrorsRoute)

    @router.put(
        "/operators/{operator_id}/profile",
        status_code=202,
        openapi_extra=_body(PROFILE_EXAMPLE, "UpdateOperatorProfileRequest"),
    )
    async def update_profile(operator_id: str, request: Request) -> JSONResponse:
        """Replace an operator's profile: display name, languages, topics, capacities per channel, team."""

        async def call(tenant: str) -> Outcome:
            body = await _parsed(request, operator_pb2.UpdateOperatorProfileRequest())
            _set_path_field(body.profile, "operator_id", operator_id)
            return await api.ingest.update_profile(tenant, body)

        return await api.answer(request, call)

    @router.put(
        "/operators/{operator_id}/status",
        status_code=202,
        openapi_extra=_body({"status": "online", "reason": "shift starts"}, "SetOperatorStatusRequest"),
    )
    async def set_status(operator_id: str, request: Request) -> JSONResponse:
        """Online, away or offline (``{"status": "online"}``), with an optional reason. With a
        ``channel``, that channel alone: ``away`` pauses it, ``online`` resumes it."""

        async def call(tenant: str) -> Outcome:
            body = await _parsed(request, operator_pb2.SetOperatorStatusRequest(), operator_id=operator_id)
            return await api.ingest.set_operator_status(tenant, body)

        return await api.answer(request, call)

    @router.post(
        "/conversations/{conversation_id}/replies",
        status_code=202,
        openapi_extra=_body({"operatorId": "giulia", "text": "Buongiorno!"}, "PostReplyRequest"),
    )
    async def post_reply(conversation_id: str, request: Request) -> JSONResponse:
        """An operator's answer to the customer."""

        async def call(tenant: str) -> Outcome:
            body = await _parsed(request, operator_pb2.PostReplyRequest(), conversation_id=conversation_id)
            return await api.ingest.post_reply(tenant, body)

        return await api.answer(request, call)

    @router.post(
        "/conversations/{conversation_id}/resolution",
        status_code=202,
        openapi_extra=_body(
            {"operatorId": "giulia", "resolution": "refund sent"}, "ResolveConversationRequest"
        ),
    )
    async def resolve(conversation_id: str, request: Request) -> JSONResponse:
        """The operator closes the conversation: their capacity is free again."""

        async def call(tenant: str) -> Outcome:
            body = await _parsed(
                request, operator_pb2.ResolveConversationRequest(), conversation_id=conversation_id
            )
            return await api.ingest.resolve(tenant, body)

        return await api.answer(request, call)

    @router.put(
        "/conversations/{conversation_id}/state",
        status_code=202,
        openapi_extra=_body(
            {"operatorId": "giulia", "state": "on_hold", "reason": "courier asked"},
            "SetConversationStateRequest",
        ),
    )
    async def set_state(conversation_id: str, request: Request) -> JSONResponse:
        """Open, pending (waiting on the customer) or on hold (waiting on a third party), without a
        reply: the shop's SLA policy says which clocks each pause state stops."""

        async def call(tenant: str) -> Outcome:
            body = await _parsed(
                request, operator_pb2.SetConversationStateRequest(), conversation_id=conversation_id
            )
            return await api.ingest.set_conversation_state(tenant, body)

        return await api.answer(request, call)

    @router.post(
        "/conversations/{conversation_id}/transfer",
        status_code=200,
        responses={
            409: {"description": "routing refused it (a colleague at capacity, ...): nothing changed"}
        },
        openapi_extra=_body(
            {"operatorId": "giulia", "toOperatorId": "marek", "reason": "speaks Polish"},
            "TransferConversationRequest",
        ),
    )
    async def transfer(conversation_id: str, request: Request) -> JSONResponse:
        """Hand the conversation to a colleague (``toOperatorId``), a team (``toTeam``) or back to
        the queue (neither); ``bySupervisor`` moves any conversation, and ``overrideCapacity`` lets a
        supervisor give it to a colleague beyond their capacity. Answers once routing has decided:
        200 with who has it now, or 409 with routing's reason (then nothing changed)."""

        async def call(tenant: str) -> TransferOutcome:
            body = await _parsed(
                request, operator_pb2.TransferConversationRequest(), conversation_id=conversation_id
            )
            return await api.ingest.transfer(tenant, body)

        return await api.answer(request, call)

    return router
