"""The operational HTTP endpoints of every service: /metrics, /healthz, /readyz."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from pronto.http_limits import BodyLimit, LimitedHttpProtocol
from pronto.settings import HttpLimits


def ops_router(registry: CollectorRegistry, ready: Callable[[], bool]) -> APIRouter:
    """``/healthz`` says the process runs; ``/readyz`` says it can do its work (e.g. Kafka reached)."""
    router = APIRouter(tags=["operations"])

    @router.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encoder(registry), media_type=content_type)

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    def readyz(response: Response) -> dict[str, str]:
        if ready():
            return {"status": "ready"}
        response.status_code = 503
        return {"status": "not ready"}

    return router


DEFAULT_LIMITS = HttpLimits()


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside a service that owns the signals: the service decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_http(
    app: FastAPI, host: str, port: int, stop: asyncio.Event, limits: HttpLimits = DEFAULT_LIMITS
) -> None:
    """Run ``app`` with uvicorn inside the current event loop until ``stop`` is set.

    Requests over ``limits`` are refused (414, 431, 413) before the rest of them is read.
    """
    config = uvicorn.Config(
        BodyLimit(app, limits.max_body_bytes),
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        http=LimitedHttpProtocol.with_limits(limits),
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task
