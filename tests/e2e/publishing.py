"""An integrator that gets every message accepted: paced batches over gRPC, retried until acknowledged."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

import aiohttp
import grpc

from pronto.grpc_client import ProntoClient
from pronto.v1 import events_pb2, ingest_pb2, operator_pb2
from pronto_tools.simulate.channels import CustomerMessage, webhook_request
from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS

BATCH = 100


async def publish_all(
    target: str,
    token: str,
    messages: Sequence[events_pb2.MessageReceived],
    rate: float,
    on_accepted: Callable[[int], Awaitable[None]] | None = None,
    timeout: float = 240.0,
) -> dict[int, str]:
    """Message index -> event id, for all of them; unacknowledged batches are sent again (same ids)."""
    accepted: dict[int, str] = {}
    pending = list(range(len(messages)))
    started = time.monotonic()
    deadline = started + timeout
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} messages still unaccepted after {timeout:.0f} s")
        batch, pending = pending[:BATCH], pending[BATCH:]
        await asyncio.sleep(max(0.0, started + len(accepted) / rate - time.monotonic()))
        refused = await _send(target, token, messages, batch, accepted)
        if refused:
            pending = refused + pending
            await asyncio.sleep(0.5)  # what UNAVAILABLE's retry-after asks for, roughly
        elif on_accepted is not None:
            await on_accepted(len(accepted))
    return accepted


async def _send(
    target: str,
    token: str,
    messages: Sequence[events_pb2.MessageReceived],
    batch: list[int],
    accepted: dict[int, str],
) -> list[int]:
    request = ingest_pb2.PublishStreamRequest(
        events=[
            ingest_pb2.StreamedEvent(
                sequence=n, request=ingest_pb2.PublishRequest(message_received=messages[n])
            )
            for n in batch
        ]
    )
    try:
        async with ProntoClient(target, token) as client:
            async for response in client.publish_stream([request]):
                for ack in response.acks:
                    if ack.code == 0:
                        accepted[ack.sequence] = ack.event_id
    except grpc.aio.AioRpcError:
        pass  # ingest gone or not ready: what was not acknowledged is sent again
    return [n for n in batch if n not in accepted]


async def customer_writes(ingest_http_url: str, tenant: str, message: CustomerMessage) -> str:
    """``message`` as its platform's signed webhook to ingest; the event id ingest gave it."""
    request = webhook_request(tenant, message, DEMO_CHANNEL_SECRETS, ingest_http_url)
    async with (
        aiohttp.ClientSession() as http,
        http.post(ingest_http_url + request.path, data=request.body, headers=request.headers) as response,
    ):
        assert response.status == 200, await response.text()
        (event_id,) = (await response.json())["event_ids"]
    return str(event_id)


async def operator_joins(
    target: str, token: str, profile: events_pb2.OperatorProfileUpdated, online: bool = True
) -> None:
    """An operator's profile as the shop's own tools set it, and, with ``online``, their status."""
    async with ProntoClient(target, token) as client:
        await client.operators.UpdateOperatorProfile(
            operator_pb2.UpdateOperatorProfileRequest(profile=profile), metadata=client.metadata
        )
        if online:
            status = operator_pb2.SetOperatorStatusRequest(
                operator_id=profile.operator_id, status=events_pb2.OPERATOR_STATUS_ONLINE
            )
            await client.operators.SetOperatorStatus(status, metadata=client.metadata)
