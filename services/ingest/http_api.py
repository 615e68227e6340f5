"""Ingest's HTTP side: the operational endpoints now, channel webhooks as they arrive."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from pronto.ops import ops_router


def create_app(registry: CollectorRegistry, ready: Callable[[], bool]) -> FastAPI:
    app = FastAPI(title="Pronto ingest", version="1")
    app.include_router(ops_router(registry, ready))
    return app
