"""A small client for Pronto's gRPC APIs, used by the CLI, the demo and the benchmarks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import grpc

from pronto.v1 import ingest_pb2, ingest_pb2_grpc, operator_pb2_grpc


class ProntoClient:
    def __init__(self, target: str, token: str) -> None:
        self._channel = grpc.aio.insecure_channel(target)
        self._metadata = (("authorization", f"Bearer {token}"),)
        self.ingest = ingest_pb2_grpc.IngestServiceStub(self._channel)
        self.operators = operator_pb2_grpc.OperatorServiceStub(self._channel)

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    async def publish_stream(
        self,
        requests: AsyncIterator[ingest_pb2.PublishStreamRequest] | Iterable[ingest_pb2.PublishStreamRequest],
    ) -> AsyncIterator[ingest_pb2.PublishStreamResponse]:
        async for ack in self.ingest.PublishStream(requests, metadata=self._metadata):
            yield ack

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> ProntoClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()
