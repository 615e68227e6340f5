"""The SLA service: a folding Faust app (``pronto.folding``), direct over its sources.

Customer messages, operator replies and resolutions, and routing's decisions
are all keyed by conversation; the fold reads them together with
``support.clocks.v1`` (its ticks, the shops' policy changes and its journal),
runs each conversation's clocks and writes started, warning, breached, met
and missed events to ``support.sla.v1``. The HTTP side serves the
first-response windows.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from pronto import envelope, topics
from pronto.auth import TokenAuthenticator
from pronto.channels import NAMES
from pronto.envelope import Envelope
from pronto.errors import Unauthenticated
from pronto.folding import FoldingApp, FoldSpec, Headers, Out
from pronto.v1 import events_pb2
from pronto.validation_errors import PlainErrorsRoute, plain
from services.sla import ical
from services.sla.domain.windows import EARLIEST, LATEST, figures
from services.sla.metrics import SlaMetrics
from services.sla.settings import PolicyConfig, SlaSettings
from services.sla.worker import Outcome, Worker

APP_ID = "pronto-sla"
# An iCalendar file of special days: a thousand events take some 300 KB.
MAX_ICAL_BYTES = 1024 * 1024


def same_key(key: bytes | None, _headers: Headers) -> bytes | None:
    """Every source is keyed by conversation already."""
    return key or None


class Sla:
    def __init__(self, settings: SlaSettings) -> None:
        self.registry = CollectorRegistry()
        self.metrics = SlaMetrics(self.registry)
        self._auth = TokenAuthenticator(settings.sla_tokens)
        policies, default = settings.policies()
        self.worker = Worker(policies, default, f"/pronto/sla/{settings.instance}")
        spec = FoldSpec(
            app_id=APP_ID,
            bootstrap_servers=settings.bootstrap_servers,
            sources=(topics.INBOUND.name, topics.OUTBOUND.name, topics.CONVERSATIONS.name),
            input_topic=topics.CLOCKS.name,
            direct=True,
            output_topic=topics.SLA.name,
            rekey=same_key,
            tick_s=settings.sla_tick_s,
            http_host=settings.sla_http_host,
            http_port=settings.sla_http_port,
            http_limits=settings.http_limits(),
            fetch_wait_ms=settings.sla_fetch_wait_ms,
            linger_ms=settings.sla_linger_ms,
            session_timeout_s=settings.sla_session_timeout_s,
            snapshot_every_records=settings.snapshot_every_records,
            snapshot_every_s=settings.snapshot_every_s,
            batch_max=settings.stream_batch_max,
            batch_within_s=settings.sla_batch_within_ms / 1000,
            routes=[self._windows_router(), self._admin_router(settings)],
        )
        self.folding = FoldingApp(
            spec,
            self.worker,
            self.registry,
            published=self._published,
            ticked=self._ticked,
            skipped=self.metrics.invalid,
            replayed=self.metrics.replayed,
        )
        self.app = self.folding.app

    def _published(self, out: Out) -> None:
        if isinstance(out.emitted, Outcome):
            self.metrics.observe(out.emitted)
        elif isinstance(out.emitted, events_pb2.RecordDeadLettered):
            self.metrics.invalid(1)

    def _ticked(self) -> None:
        running, at_risk = self.worker.open_clocks()
        self.metrics.open.set(running)
        self.metrics.at_risk.set(at_risk)

    def _authenticate(self, request: Request) -> None:
        """The shop a request speaks for, from its token; runs before the body is read, so a caller
        without a valid token learns nothing more."""
        try:
            request.state.tenant = self._auth.tenant_for(request.headers.get("authorization"))
        except Unauthenticated as exc:
            raise HTTPException(401, str(exc), {"www-authenticate": "Bearer"}) from exc

    def _admin_router(self, settings: SlaSettings) -> APIRouter:
        """``PUT /v1/admin/sla-policy``: a shop changes its policy at run time, as an event."""
        router = APIRouter(prefix="/v1/admin", tags=["admin"], route_class=PlainErrorsRoute)
        source = f"/pronto/sla/{settings.instance}"

        def in_force(tenant: str) -> dict[str, Any]:
            """A change is in force once every partition here has applied it (each applies it at its
            own place among its records); until then, what a partition not reached yet applies."""
            given = self.worker.in_force(tenant, self.folding.assigned_partitions)
            if given is not None:
                return given
            configured = settings.sla_policies.get(tenant, settings.sla_default_policy)
            return configured.model_dump(mode="json")

        @router.put("/sla-policy", status_code=202, dependencies=[Depends(self._authenticate)])
        async def set_policy(request: Request, policy: PolicyConfig) -> dict[str, str]:
            """The shop's calendar and targets from now on; clocks already running keep their deadlines."""
            return await publish(request.state.tenant, policy)

        @router.put(
            "/sla-policy/special-days",
            status_code=202,
            dependencies=[Depends(self._authenticate)],
            openapi_extra={"requestBody": {"content": {"text/calendar": {"schema": {"type": "string"}}}}},
        )
        async def import_special_days(request: Request) -> dict[str, str]:
            """The policy in force with its special days replaced by those of an iCalendar file
            (``services/sla/ical.py`` says how events read); the rest of the policy stays."""
            tenant: str = request.state.tenant
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_ICAL_BYTES:
                    raise HTTPException(413, f"an iCalendar file of at most {MAX_ICAL_BYTES} bytes")
            current = in_force(tenant)

            def imported() -> PolicyConfig:
                days = ical.special_days(bytes(body), str(current.get("timezone", "UTC")))
                return PolicyConfig.model_validate(current | {"special_days": days})

            try:
                # A large file takes a while to read: not on the event loop the clocks run on.
                policy = await asyncio.to_thread(imported)
            except ValidationError as exc:
                raise HTTPException(422, plain(exc.errors())) from exc
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from exc
            return await publish(tenant, policy)

        async def publish(tenant: str, policy: PolicyConfig) -> dict[str, str]:
            changed = events_pb2.SlaPolicyChanged(policy_json=policy.model_dump_json())
            event = Envelope(str(uuid.uuid4()), source, tenant, changed, datetime.now(UTC))
            headers, value = envelope.encode(event)
            try:
                for partition in range(topics.CLOCKS.partitions):
                    sent = await self.folding.input.send(
                        key=tenant.encode(), value=value, headers=headers, partition=partition
                    )
                    await asyncio.wait_for(sent, timeout=10)
            except TimeoutError as exc:
                raise HTTPException(
                    503, "Kafka did not acknowledge the change; send it again", {"retry-after": "1"}
                ) from exc
            return {"event_id": event.id}

        @router.get("/sla-policy", dependencies=[Depends(self._authenticate)])
        async def get_policy(request: Request) -> dict[str, Any]:
            """The policy in force: the latest set here, else the configured one."""
            return in_force(request.state.tenant)

        return router

    def _windows_router(self) -> APIRouter:
        router = APIRouter(prefix="/v1/sla", tags=["sla"], route_class=PlainErrorsRoute)

        @router.get("/windows", dependencies=[Depends(self._authenticate)])
        async def windows(
            request: Request,
            channel: str | None = None,
            size: Literal["1m", "5m", "1h", "1d"] = "5m",
            kind: Literal["tumbling", "hopping"] = "hopping",
            at: Annotated[datetime | None, Query(description="the window containing this instant")] = None,
        ) -> dict[str, Any]:
            """First-response figures of the token's shop per channel over the current window.

            Tumbling windows are aligned to their size (this hour); hopping windows end now and move
            every minute (the last five minutes). Figures cover the partitions this worker owns.
            """
            tenant: str = request.state.tenant
            if channel is not None and channel not in NAMES:
                raise HTTPException(422, f"unknown channel {channel!r}; known: {', '.join(NAMES)}")
            now = at or datetime.now(UTC)
            if now.tzinfo is None:
                raise HTTPException(422, "at needs a time zone, e.g. 2026-11-24T09:30:00+01:00")
            if not EARLIEST <= now <= LATEST:
                raise HTTPException(422, f"at must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
            states = list(self.worker.partitions.values())
            channels = (
                [channel] if channel else sorted({c for s in states for c in s.windows.channels(tenant)})
            )
            parts = [s.windows for s in states]
            return {
                "tenant": tenant,
                "size": size,
                "kind": kind,
                "channels": {
                    name: asdict(figures(parts, tenant, name, size, now, kind == "hopping"))
                    for name in channels
                },
            }

        return router
