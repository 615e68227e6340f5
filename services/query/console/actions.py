"""What an operator does from the console, done through ingest's operator API (gRPC).

It is the same API that operator tools and the REST API use: status, replies, resolutions, states,
transfers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from fastapi import HTTPException
from pydantic import SecretStr

from pronto.grpc_client import ProntoClient
from pronto.v1 import events_pb2, operator_pb2
from services.query.errors import Refused

STATUSES = {
    "online": events_pb2.OPERATOR_STATUS_ONLINE,
    "away": events_pb2.OPERATOR_STATUS_AWAY,
    "offline": events_pb2.OPERATOR_STATUS_OFFLINE,
}


# The console's names of a conversation's states (issue #21); "open" is the console's "reopen".
STATES = {
    "open": events_pb2.CONVERSATION_STATE_OPEN,
    "pending": events_pb2.CONVERSATION_STATE_PENDING,
    "on_hold": events_pb2.CONVERSATION_STATE_ON_HOLD,
}


# What ingest wrote for an action: its event id, and whether it was a repeat of one already written.
Written = dict[str, str | bool]


class OperatorActions:
    def __init__(self, target: str, tokens: dict[str, SecretStr]) -> None:
        self._target = target
        self._tokens = tokens

    async def set_status(self, tenant: str, operator_id: str, status: str) -> Written:
        request = operator_pb2.SetOperatorStatusRequest(
            operator_id=operator_id, status=STATUSES[status], reason="set in the console"
        )
        return await self._call(tenant, lambda c: c.operators.SetOperatorStatus(request, metadata=c.metadata))

    async def reply(
        self, tenant: str, operator_id: str, conversation_id: str, text: str, key: str
    ) -> Written:
        """``key`` makes a resent reply (a retried click) the same event."""
        request = operator_pb2.PostReplyRequest(
            conversation_id=conversation_id, operator_id=operator_id, text=text, idempotency_key=key
        )
        return await self._call(tenant, lambda c: c.operators.PostReply(request, metadata=c.metadata))

    async def resolve(self, tenant: str, operator_id: str, conversation_id: str, key: str) -> Written:
        request = operator_pb2.ResolveConversationRequest(
            conversation_id=conversation_id, operator_id=operator_id, idempotency_key=key
        )
        return await self._call(
            tenant, lambda c: c.operators.ResolveConversation(request, metadata=c.metadata)
        )

    async def set_state(
        self, tenant: str, operator_id: str, conversation_id: str, state: str, reason: str, key: str
    ) -> Written:
        """Pending, on hold, or open again; ``key`` makes a retried click the same event."""
        request = operator_pb2.SetConversationStateRequest(
            conversation_id=conversation_id,
            operator_id=operator_id,
            state=STATES[state],
            reason=reason,
            idempotency_key=key,
        )
        return await self._call(
            tenant, lambda c: c.operators.SetConversationState(request, metadata=c.metadata)
        )

    async def transfer(
        self,
        tenant: str,
        by: str,
        conversation_id: str,
        to_operator_id: str,
        reason: str,
        key: str,
        supervisor: bool = False,
        override: bool = False,
    ) -> Written:
        """To a colleague, or back to the queue (``to_operator_id`` empty). Answered once routing
        has decided: who has it now, or 409 with routing's reason (then nothing changed)."""
        request = operator_pb2.TransferConversationRequest(
            conversation_id=conversation_id,
            operator_id=by,
            by_supervisor=supervisor,
            to_operator_id=to_operator_id,
            reason=reason,
            override_capacity=override,
            idempotency_key=key,
        )
        return await self._call(
            tenant,
            lambda c: c.operators.TransferConversation(request, metadata=c.metadata),
            lambda answer: {"operator_id": answer.operator_id, "queued": answer.queued},
        )

    async def _call(
        self,
        tenant: str,
        call: Callable[[ProntoClient], Awaitable[Any]],
        more: Callable[[Any], Written] = lambda _answer: {},
    ) -> Written:
        token = self._tokens.get(tenant)
        if token is None:
            raise HTTPException(
                503, f"the console has no ingest token for {tenant!r} (PRONTO_QUERY_INGEST_TOKENS)"
            )
        async with ProntoClient(self._target, token.get_secret_value()) as client:
            try:
                answer = await call(client)
            except grpc.aio.AioRpcError as exc:
                if exc.code() is grpc.StatusCode.FAILED_PRECONDITION:  # routing refused a transfer
                    written = dict(exc.trailing_metadata() or ()).get("event-id", "")
                    raise Refused(exc.details() or "refused", str(written)) from exc
                status = (
                    503
                    if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
                    else 422
                )
                raise HTTPException(status, f"ingest refused it: {exc.code().name}: {exc.details()}") from exc
        return {"event_id": answer.event_id, "duplicate": answer.duplicate} | more(answer)
