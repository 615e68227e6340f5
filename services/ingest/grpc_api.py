"""The gRPC entry points: authenticate, translate, delegate to ``Ingest``, translate back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from pronto.auth import TokenAuthenticator
from pronto.errors import BrokerUnavailable, PermissionDenied, Unauthenticated
from pronto.metrics import ServiceMetrics
from pronto.v1 import ingest_pb2, ingest_pb2_grpc, operator_pb2, operator_pb2_grpc
from services.ingest.application import Ingest
from services.ingest.errors import InvalidEvent, TransferRefused, TransferUndecided
from services.ingest.writes import Pending, Write

log = logging.getLogger("pronto.ingest.grpc")
T = TypeVar("T")
MAX_STREAM_BATCH = 1_000
SERVICE_NAMES = (
    ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name,
    operator_pb2.DESCRIPTOR.services_by_name["OperatorService"].full_name,
)


def _metadata(context: grpc.aio.ServicerContext, name: str) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == name:
            return str(value)
    return ""


REFUSALS = (InvalidEvent, PermissionDenied, BrokerUnavailable)


def _status_of(exc: Exception) -> tuple[grpc.StatusCode, str]:
    if isinstance(exc, InvalidEvent):
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    if isinstance(exc, PermissionDenied):
        return grpc.StatusCode.PERMISSION_DENIED, str(exc)
    if isinstance(exc, TransferRefused):
        return grpc.StatusCode.FAILED_PRECONDITION, f"routing refused the transfer: {exc}; nothing changed"
    if isinstance(exc, TransferUndecided):
        return grpc.StatusCode.DEADLINE_EXCEEDED, str(exc)
    if isinstance(exc, BrokerUnavailable):
        return (
            grpc.StatusCode.UNAVAILABLE,
            f"{exc}; nothing was accepted: retry the same request (same idempotency key or message id)",
        )
    raise exc


class _Base:
    def __init__(
        self, ingest: Ingest, auth: TokenAuthenticator, metrics: ServiceMetrics, retry_after_s: float
    ):
        self._ingest = ingest
        self._auth = auth
        self._metrics = metrics
        self._retry_after_ms = int(retry_after_s * 1000)

    async def _tenant(self, context: grpc.aio.ServicerContext) -> str:
        try:
            return self._auth.tenant_for(_metadata(context, "authorization"))
        except Unauthenticated as exc:
            self._metrics.rejected("unknown", "unauthenticated")
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
            raise  # abort raises; this line only tells the type checker

    async def _unary(
        self, api: str, context: grpc.aio.ServicerContext, call: Callable[[str, str], Awaitable[T]]
    ) -> T:
        with self._metrics.in_flight(api):
            tenant = await self._tenant(context)
            try:
                return await call(tenant, _metadata(context, "traceparent"))
            except (
                InvalidEvent,
                PermissionDenied,
                BrokerUnavailable,
                TransferRefused,
                TransferUndecided,
            ) as exc:
                await self._abort(context, exc)
            except Exception as exc:
                # A bug tripped by one request: INTERNAL, named, logged with its trace; never the
                # "UNKNOWN: Unexpected ValueError" grpc answers for an exception it did not expect.
                log.exception("%s could not be handled", api)
                await context.abort(
                    grpc.StatusCode.INTERNAL, f"the request could not be handled: {type(exc).__name__}"
                )
                raise AssertionError("unreachable: abort raises") from exc

    async def _abort(self, context: grpc.aio.ServicerContext, exc: Exception) -> NoReturn:
        code, message = _status_of(exc)
        if isinstance(exc, TransferRefused | TransferUndecided):  # the request is in the log
            context.set_trailing_metadata((("event-id", exc.event_id),))
        if code is grpc.StatusCode.UNAVAILABLE:
            context.set_trailing_metadata((("retry-after-ms", str(self._retry_after_ms)),))
        await context.abort(code, message)
        raise AssertionError("unreachable: abort raises")


@dataclass
class _BegunBatch:
    """A stream batch whose valid events were handed to the broker; refusals already answered."""

    size: int
    acks: dict[int, ingest_pb2.EventAck] = field(default_factory=dict)
    written: list[tuple[int, int]] = field(default_factory=list)
    pending: list[Pending | BrokerUnavailable] = field(default_factory=list)


class IngestServicer(_Base, ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, *args: Any, stream_window: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stream_window = stream_window

    async def Publish(  # noqa: N802 - the name is the RPC's
        self, request: ingest_pb2.PublishRequest, context: grpc.aio.ServicerContext
    ) -> ingest_pb2.PublishResponse:
        outcome = await self._unary(
            "grpc.Publish", context, lambda t, tp: self._ingest.publish(t, request, tp)
        )
        return ingest_pb2.PublishResponse(
            event_id=outcome.event_id,
            duplicate=outcome.duplicate,
            partition=outcome.receipt.partition,
            offset=outcome.receipt.offset,
        )

    async def PublishStream(  # noqa: N802
        self,
        request_iterator: AsyncIterator[ingest_pb2.PublishStreamRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[ingest_pb2.PublishStreamResponse]:
        """Batches are written in the order they arrive (so a conversation's order holds across
        batches) and acknowledged as the broker answers for all their events."""
        with self._metrics.in_flight("grpc.PublishStream"):
            tenant = await self._tenant(context)
            traceparent = _metadata(context, "traceparent")
            # Responses in completion order; None ends the stream, a (code, message) refuses it.
            responses: asyncio.Queue[
                ingest_pb2.PublishStreamResponse | tuple[grpc.StatusCode, str] | None
            ] = asyncio.Queue()
            window = asyncio.Semaphore(self._stream_window)
            pending: set[asyncio.Task[None]] = set()

            async def acknowledge(begun: _BegunBatch) -> None:
                try:
                    responses.put_nowait(await self._settle(begun))
                finally:
                    window.release()

            async def read() -> None:
                async for batch in request_iterator:
                    if len(batch.events) > MAX_STREAM_BATCH:
                        # The stream ends here; the handler, not this task, aborts the call.
                        responses.put_nowait(
                            (
                                grpc.StatusCode.INVALID_ARGUMENT,
                                f"a PublishStreamRequest carries at most {MAX_STREAM_BATCH} events, "
                                f"this one {len(batch.events)}",
                            )
                        )
                        return
                    await window.acquire()
                    task = asyncio.create_task(acknowledge(await self._begin(tenant, batch, traceparent)))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                if pending:
                    await asyncio.wait(set(pending))
                responses.put_nowait(None)

            async def read_or_refuse() -> None:
                """A reader that failed must end the call now, not leave the caller to its deadline."""
                try:
                    await read()
                except Exception as exc:
                    log.exception("a PublishStream failed")
                    responses.put_nowait(
                        (grpc.StatusCode.INTERNAL, f"the stream failed: {type(exc).__name__}")
                    )

            reader = asyncio.create_task(read_or_refuse())
            try:
                while (response := await responses.get()) is not None:
                    if isinstance(response, tuple):
                        await context.abort(*response)
                        return
                    yield response
                await reader
            finally:
                for task in (reader, *pending):
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader

    async def _begin(
        self, tenant: str, batch: ingest_pb2.PublishStreamRequest, traceparent: str
    ) -> _BegunBatch:
        """Check every event of the batch and hand the good ones to the broker together."""
        begun = _BegunBatch(size=len(batch.events))
        writes: list[Write] = []
        for index, item in enumerate(batch.events):
            try:
                writes.append(self._ingest.check_message(tenant, item.request, traceparent))
            except (InvalidEvent, PermissionDenied) as exc:
                begun.acks[index] = self._refusal(item.sequence, exc)
            except Exception as exc:
                # A check tripped by one event (a bug) refuses that event alone: the stream goes on.
                log.exception("event %d of a PublishStream could not be checked", item.sequence)
                begun.acks[index] = ingest_pb2.EventAck(
                    sequence=item.sequence,
                    code=grpc.StatusCode.INTERNAL.value[0],
                    message=f"the event could not be checked: {type(exc).__name__}",
                )
            else:
                begun.written.append((index, item.sequence))
        begun.pending = await self._ingest.begin(writes)
        return begun

    async def _settle(self, begun: _BegunBatch) -> ingest_pb2.PublishStreamResponse:
        """Wait once for the whole batch, then acknowledge each event on its own."""
        settled = await self._ingest.settle(begun.pending)
        for (index, sequence), result in zip(begun.written, settled, strict=True):
            if isinstance(result, BrokerUnavailable):
                begun.acks[index] = self._refusal(sequence, result)
            else:
                begun.acks[index] = ingest_pb2.EventAck(
                    sequence=sequence, event_id=result.event_id, duplicate=result.duplicate
                )
        return ingest_pb2.PublishStreamResponse(acks=[begun.acks[i] for i in range(begun.size)])

    def _refusal(self, sequence: int, exc: Exception) -> ingest_pb2.EventAck:
        code, message = _status_of(exc)
        retry = self._retry_after_ms if code is grpc.StatusCode.UNAVAILABLE else 0
        return ingest_pb2.EventAck(
            sequence=sequence, code=code.value[0], message=message, retry_after_ms=retry
        )


class OperatorServicer(_Base, operator_pb2_grpc.OperatorServiceServicer):
    async def SetOperatorStatus(  # noqa: N802
        self, request: operator_pb2.SetOperatorStatusRequest, context: grpc.aio.ServicerContext
    ) -> operator_pb2.SetOperatorStatusResponse:
        outcome = await self._unary(
            "grpc.SetOperatorStatus", context, lambda t, tp: self._ingest.set_operator_status(t, request, tp)
        )
        return operator_pb2.SetOperatorStatusResponse(event_id=outcome.event_id, duplicate=outcome.duplicate)

    async def PostReply(  # noqa: N802
        self, request: operator_pb2.PostReplyRequest, context: grpc.aio.ServicerContext
    ) -> operator_pb2.PostReplyResponse:
        outcome = await self._unary(
            "grpc.PostReply", context, lambda t, tp: self._ingest.post_reply(t, request, tp)
        )
        return operator_pb2.PostReplyResponse(event_id=outcome.event_id, duplicate=outcome.duplicate)

    async def UpdateOperatorProfile(  # noqa: N802
        self, request: operator_pb2.UpdateOperatorProfileRequest, context: grpc.aio.ServicerContext
    ) -> operator_pb2.UpdateOperatorProfileResponse:
        outcome = await self._unary(
            "grpc.UpdateOperatorProfile", context, lambda t, tp: self._ingest.update_profile(t, request, tp)
        )
        return operator_pb2.UpdateOperatorProfileResponse(
            event_id=outcome.event_id, duplicate=outcome.duplicate
        )

    async def ResolveConversation(  # noqa: N802
        self, request: operator_pb2.ResolveConversationRequest, context: grpc.aio.ServicerContext
    ) -> operator_pb2.ResolveConversationResponse:
        outcome = await self._unary(
            "grpc.ResolveConversation", context, lambda t, tp: self._ingest.resolve(t, request, tp)
        )
        return operator_pb2.ResolveConversationResponse(
            event_id=outcome.event_id, duplicate=outcome.duplicate
        )

    async def SetConversationState(  # noqa: N802
        self, request: operator_pb2.SetConversationStateRequest, context: grpc.aio.ServicerContext
    ) -> operator_pb2.SetConversationStateResponse:
        outcome = await self._unary(
            "grpc.SetConversationState",
            context,
            lambda t, tp: self._ingest.set_conversation_state(t, request, tp),
        )
        return operator_pb2.SetConversationStateResponse(
            event_id=outcome.event_id, duplicate=outcome.duplicate
        )

    async def TransferConversation(  # noqa: N802
        self, request: operator_pb2.TransferConversationRequest, context: grpc.aio.ServicerContext
    ) -> operator_pb2.TransferConversationResponse:
        made = await self._unary(
            "grpc.TransferConversation", context, lambda t, tp: self._ingest.transfer(t, request, tp)
        )
        return operator_pb2.TransferConversationResponse(
            event_id=made.outcome.event_id,
            duplicate=made.outcome.duplicate,
            operator_id=made.operator_id,
            queued=made.queued,
        )


def build_server(
    ingest: Ingest,
    auth: TokenAuthenticator,
    metrics: ServiceMetrics,
    retry_after_s: float,
    stream_window: int,
) -> tuple[grpc.aio.Server, health.aio.HealthServicer]:
    """A gRPC server with our services, standard health checking and reflection (not yet bound)."""
    server = grpc.aio.server()
    ingest_pb2_grpc.add_IngestServiceServicer_to_server(
        IngestServicer(ingest, auth, metrics, retry_after_s, stream_window=stream_window), server
    )
    operator_pb2_grpc.add_OperatorServiceServicer_to_server(
        OperatorServicer(ingest, auth, metrics, retry_after_s), server
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )
    return server, health_servicer


async def set_serving(health_servicer: health.aio.HealthServicer, serving: bool) -> None:
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, status)
