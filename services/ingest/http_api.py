"""Ingest's HTTP side: the channels' webhooks, the operator API and the operational endpoints."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from pronto.ops import ops_router
from services.ingest.operator_rest import OperatorRest, operator_router
from services.ingest.webhooks import Webhooks, webhook_router


def create_app(
    registry: CollectorRegistry, ready: Callable[[], bool], webhooks: Webhooks, operators: OperatorRest
) -> FastAPI:
    app = FastAPI(
        title="Pronto ingest",
        version="1",
        description=(
            "Channel webhooks: every customer message becomes one event on support.inbound.v1. "
            "Operator API: profiles and status on support.operators.v1, replies and resolutions "
            "on support.outbound.v1."
        ),
    )
    app.include_router(webhook_router(webhooks))
    app.include_router(operator_router(operators))
    app.include_router(ops_router(registry, ready))
    return app
