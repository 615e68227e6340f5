"""W3C trace context for events: one customer message can be followed across services.

Each event carries a ``traceparent`` (the CloudEvents distributed-tracing
extension). A service continues the caller's trace when one is given and
starts a new one otherwise. Ids come from OpenTelemetry's generator and the
header from its W3C propagator. Spans are not recorded or exported yet: a
recording span costs about 20 µs, which matters on the ingest hot path, and
nothing here exports spans (see the README).
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
_SAMPLED = trace.TraceFlags(trace.TraceFlags.SAMPLED)


class Tracer:
    def __init__(self, service: str) -> None:
        self.service = service
        self._ids = RandomIdGenerator()

    def child_traceparent(self, incoming: str = "") -> str:
        """A traceparent for a new span: in ``incoming``'s trace when that is valid, else in a new trace."""
        parent = trace.get_current_span(_PROPAGATOR.extract({"traceparent": incoming})).get_span_context()
        trace_id = parent.trace_id if parent.is_valid else self._ids.generate_trace_id()
        flags = parent.trace_flags if parent.is_valid else _SAMPLED
        span_id = self._ids.generate_span_id()
        return f"00-{trace.format_trace_id(trace_id)}-{trace.format_span_id(span_id)}-{flags:02x}"
