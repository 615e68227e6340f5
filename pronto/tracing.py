"""W3C trace context for events: one customer message can be followed across services.

Each event carries a ``traceparent`` (the CloudEvents distributed-tracing
extension). Services continue the caller's trace when one is given and start
a new one otherwise. No exporter is configured here; deployments add one
through the standard OpenTelemetry environment variables.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()


class Tracer:
    def __init__(self, service: str) -> None:
        self._tracer = TracerProvider().get_tracer(f"pronto.{service}")

    def child_traceparent(self, span_name: str, incoming: str = "") -> str:
        """Record a span (child of ``incoming`` when given) and return its traceparent."""
        context = _PROPAGATOR.extract({"traceparent": incoming}) if incoming else None
        with self._tracer.start_as_current_span(span_name, context=context) as span:
            carrier: dict[str, str] = {}
            _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
        return carrier["traceparent"]
