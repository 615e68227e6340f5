"""The operational HTTP endpoints of every service: /metrics, /healthz, /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import resource
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
log = logging.getLogger(__name__)


def within_descriptors(limits: HttpLimits) -> HttpLimits:
    """``limits`` with at most half the process's descriptors (``RLIMIT_NOFILE``) for connections.

    The rest stays for Kafka, gRPC, files and the other ports: a cap over the descriptor limit
    would let connections run the process out of them (``EMFILE``), which the cap is there to stop.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or limits.max_connections <= soft // 2:
        return limits
    cap = max(1, soft // 2)
    log.warning(
        "%d connections per HTTP port asked, but the process may open %d descriptors: at most %d",
        limits.max_connections,
        soft,
        cap,
    )
    return dataclasses.replace(limits, max_connections=cap)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside a service that owns the signals: the service decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_http(
    app: FastAPI, host: str, port: int, stop: asyncio.Event, limits: HttpLimits = DEFAULT_LIMITS
) -> None:
    """Run ``app`` with uvicorn inside the current event loop until ``stop`` is set.

    Requests over ``limits`` are refused (414, 431, 413) before the rest of them is read, a head
    not complete in time with 408, and connections over the caps with 503 (``pronto.http_limits``).
    """
    limits = within_descriptors(limits)
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
