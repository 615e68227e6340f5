"""SLA's Prometheus metrics: response times, outcomes with exemplars, open and at-risk clocks."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.sla.domain.clock_outputs import Breached, Paused, Resumed, Retargeted, Started, Stopped, Warned
from services.sla.domain.clocks import RESPONSES
from services.sla.worker import Outcome

# Seconds: chat targets are a minute, social 15 minutes, e-mail 30 business minutes, resolution hours.
RESPONSE_BUCKETS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)


class SlaMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._response = Histogram(
            "pronto_sla_response_seconds",
            "Time to the operator's response (business or calendar time, as the target counts it).",
            ["tenant", "channel", "metric"],
            buckets=RESPONSE_BUCKETS,
            registry=registry,
        )
        self._outcomes = Counter(
            "pronto_sla_outcomes",
            "Clocks by outcome: started, met, missed (stopped late), warned, predicted (warned from the "
            "queue estimate), breached, retargeted (the customer's tier changed the target), switched_off "
            "(the new tier has no target). Breach-related ones carry the conversation id as an exemplar.",
            ["tenant", "channel", "metric", "outcome"],
            registry=registry,
        )
        self._target = Gauge(
            "pronto_sla_target_seconds",
            "The target of the clocks started last, per tenant, channel and metric (dashboards draw it "
            "beside the response times; a tier's own target shows while its clocks start).",
            ["tenant", "channel", "metric"],
            registry=registry,
        )
        self.open = Gauge("pronto_sla_open_clocks", "Clocks running now.", registry=registry)
        self.at_risk = Gauge(
            "pronto_sla_at_risk_clocks", "Clocks running, warned, not yet breached.", registry=registry
        )
        self._invalid = Counter(
            "pronto_sla_invalid_records", "Input records SLA could not read or failed on.", registry=registry
        )
        self._replayed = Counter(
            "pronto_sla_replayed_records", "Input records replayed to rebuild the clocks.", registry=registry
        )

    def observe(self, outcome: Outcome) -> None:
        output = outcome.output
        labels = (outcome.tenant, outcome.channel, output.metric.value)
        exemplar = {"conversation_id": outcome.conversation_id[:60]}
        if isinstance(output, Started):
            self._outcomes.labels(*labels, "started").inc()
            self._target.labels(*labels).set(output.target.duration.total_seconds())
        elif isinstance(output, Retargeted):
            self._outcomes.labels(*labels, "retargeted" if output.target else "switched_off").inc()
        elif isinstance(output, Warned):
            self._outcomes.labels(*labels, "predicted" if output.predicted else "warned").inc(
                exemplar=exemplar
            )
        elif isinstance(output, Breached):
            self._outcomes.labels(*labels, "breached").inc(exemplar=exemplar)
        elif isinstance(output, Paused | Resumed):
            self._outcomes.labels(*labels, "paused" if isinstance(output, Paused) else "resumed").inc()
        elif isinstance(output, Stopped):
            self._outcomes.labels(*labels, "met" if output.met else "missed").inc(
                exemplar=None if output.met else exemplar
            )
            if output.metric in RESPONSES:
                self._response.labels(*labels).observe(
                    output.elapsed.total_seconds(), exemplar=None if output.met else exemplar
                )

    def invalid(self, count: int = 1) -> None:
        self._invalid.inc(count)

    def replayed(self, count: int) -> None:
        self._replayed.inc(count)
