"""Grafana dashboards, written as code: the one source of the JSON under deploy/k8s/base/dashboards.

Each panel is its PromQL queries; a test runs every one of them against a real Prometheus
scraping a demo run (tests/integration/deploy), so a panel cannot quietly refer to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Grafana replaces these; the tests replace them the same way before asking Prometheus.
TENANT = 'tenant=~"$tenant"'
CHANNEL = 'channel=~"$channel"'
SCOPE = f"{TENANT}, {CHANNEL}"
RATE = "$__rate_interval"
FIRST = 'metric="first_response"'


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    description: str = ""
    kind: str = "timeseries"
    # A core panel must show data during a demo run (the tests check it).
    core: bool = False
    width: int = 12


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...] = field(default_factory=tuple)


def _responses(q: str) -> Query:
    expr = (
        f"histogram_quantile({q}, sum by (channel, le) "
        f"(rate(pronto_sla_response_seconds_bucket{{{SCOPE}, {FIRST}}}[{RATE}])))"
    )
    return Query(expr, f"{{{{channel}}}} p{round(float(q) * 100)}")


def _ratio(good_or_bad: str, by: str, window: str) -> str:
    outcomes = f'pronto_sla_outcomes_total{{{SCOPE}, metric=~"first_response|next_response"'
    return (
        f'sum by ({by}) (rate({outcomes}, outcome="{good_or_bad}"}}[{window}])) / '
        f'sum by ({by}) (rate({outcomes}, outcome=~"met|breached"}}[{window}]))'
    )


SLA = Dashboard(
    "pronto-sla",
    "Pronto · SLA overview",
    "Response times against the shops' targets: compliance, percentiles, breaches, clocks at risk.",
    (
        Panel(
            "Compliance by channel (1 h)",
            (Query(f"pronto:sla_compliance:ratio_rate1h{{{SCOPE}, {FIRST}}}", "{{tenant}} {{channel}}"),),
            unit="percentunit",
            description="Share of first responses in time over the last hour (recording rule; target 95%).",
            core=True,
        ),
        Panel(
            "Compliance by tenant (15 min)",
            (Query(_ratio("met", "tenant", "15m"), "{{tenant}}"),),
            unit="percentunit",
            description="Met over met and breached responses, first and next, per shop.",
            core=True,
        ),
        Panel(
            "First response time against target",
            (
                _responses("0.5"),
                _responses("0.9"),
                _responses("0.99"),
                Query(
                    f"max by (channel) (pronto_sla_target_seconds{{{SCOPE}, {FIRST}}})", "{{channel}} target"
                ),
            ),
            unit="s",
            description="Percentiles of the time to the first response; the target line is the policy's.",
            core=True,
            width=24,
        ),
        Panel(
            "Breaches (5 min)",
            (
                Query(
                    "sum by (channel) "
                    f'(increase(pronto_sla_outcomes_total{{{SCOPE}, outcome="breached"}}[5m]))',
                    "{{channel}}",
                ),
            ),
            description="Clocks that passed their deadline unanswered (first, next response, resolution).",
            core=True,
        ),
        Panel(
            "Clocks running and at risk",
            (
                Query("sum(pronto_sla_open_clocks)", "running"),
                Query("sum(pronto_sla_at_risk_clocks)", "at risk (warned, not yet breached)"),
            ),
            description="At risk: warned at 80% of the target, not answered yet.",
            core=True,
        ),
        Panel(
            "Error budget burn rate (1 h)",
            (Query(f"pronto:sla_error_ratio:rate1h{{{SCOPE}}} / 0.05", "{{tenant}} {{channel}} {{metric}}"),),
            description="1 spends the 5% budget exactly over the SLO period; 14.4 pages (see the alerts).",
        ),
    ),
)

ROUTING = Dashboard(
    "pronto-routing",
    "Pronto · Routing",
    "Who waits, for how long, and how busy the operators are.",
    (
        Panel(
            "Queue length",
            (Query(f"sum by (channel) (pronto_routing_queue_length{{{SCOPE}}})", "{{channel}}"),),
            core=True,
        ),
        Panel(
            "Oldest wait",
            (Query(f"max by (channel) (pronto_routing_oldest_wait_seconds{{{SCOPE}}})", "{{channel}}"),),
            unit="s",
        ),
        Panel(
            "Operators online",
            (Query(f"sum by (tenant) (pronto_routing_operators_online{{{TENANT}}})", "{{tenant}}"),),
            core=True,
        ),
        Panel(
            "Utilisation",
            (Query(f"avg by (channel) (pronto_routing_utilisation{{{SCOPE}}})", "{{channel}}"),),
            unit="percentunit",
            description="Conversations assigned over the capacity of the operators online.",
        ),
        Panel(
            "Message to assignment, p50 and p99",
            tuple(
                Query(
                    f"histogram_quantile({q}, sum by (le) "
                    f"(rate(pronto_routing_assignment_latency_seconds_bucket{{{CHANNEL}}}[{RATE}])))",
                    f"p{round(float(q) * 100)}",
                )
                for q in ("0.5", "0.99")
            ),
            unit="s",
        ),
        Panel(
            "Decisions",
            (Query(f"sum by (kind) (rate(pronto_routing_decisions_total[{RATE}]))", "{{kind}}"),),
            unit="ops",
        ),
    ),
)

PIPELINE = Dashboard(
    "pronto-pipeline",
    "Pronto · Pipeline health",
    "Messages in, what was refused and why, how far behind the consumers are, what failed to reach people.",
    (
        Panel(
            "Messages accepted by channel",
            (Query(f"sum by (channel) (rate(pronto_events_accepted_total[{RATE}]))", "{{channel}}"),),
            unit="ops",
            core=True,
        ),
        Panel(
            "Refused by reason",
            (Query(f"sum by (reason) (rate(pronto_events_rejected_total[{RATE}]))", "{{reason}}"),),
            unit="ops",
        ),
        Panel(
            "Consumer lag",
            (Query("sum by (group, topic) (pronto_consumer_lag_records)", "{{group}} {{topic}}"),),
            description="Records fetched but not handled yet, per stream processor and topic.",
            core=True,
        ),
        Panel(
            "Notifications sent and failed",
            (
                Query(f"sum by (adapter) (rate(pronto_notify_sent_total[{RATE}]))", "sent {{adapter}}"),
                Query(
                    f"sum by (adapter, kind) (rate(pronto_notify_failed_total[{RATE}]))",
                    "failed {{adapter}} {{kind}}",
                ),
                Query(f"sum(rate(pronto_notify_retries_total[{RATE}]))", "retries"),
            ),
            unit="ops",
            description="Failed: given up after retries, on the dead-letter topic.",
        ),
        Panel(
            "Kafka produce latency p99",
            (
                Query(
                    "histogram_quantile(0.99, sum by (le) "
                    f"(rate(pronto_produce_latency_seconds_bucket[{RATE}])))",
                    "p99",
                ),
            ),
            unit="s",
        ),
        Panel(
            "Services up",
            (Query('up{job=~"pronto-.*"}', "{{job}}"),),
            kind="stat",
            core=True,
        ),
    ),
)

DASHBOARDS = (SLA, ROUTING, PIPELINE)


def _panel(panel: Panel, number: int, x: int, y: int) -> dict[str, Any]:
    return {
        "id": number,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True}},
        "targets": [
            {"refId": chr(ord("A") + n), "expr": q.expr, "legendFormat": q.legend, "range": True}
            for n, q in enumerate(panel.queries)
        ],
    }


def _variable(name: str, query: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "query",
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "query": {"query": query, "refId": name},
        "definition": query,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"text": "All", "value": "$__all"},
        "refresh": 2,
    }


def render(dashboard: Dashboard) -> dict[str, Any]:
    """The dashboard as Grafana's JSON model (schema 39), panels laid out two to a row."""
    panels, x, y = [], 0, 0
    for number, panel in enumerate(dashboard.panels, start=1):
        if x + panel.width > 24:
            x, y = 0, y + 8
        panels.append(_panel(panel, number, x, y))
        x += panel.width
    return {
        "uid": dashboard.uid,
        "title": dashboard.title,
        "description": dashboard.description,
        "tags": ["pronto"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "10s",
        "time": {"from": "now-6h", "to": "now"},
        "timezone": "browser",
        "panels": panels,
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "current": {}},
                _variable("tenant", "label_values(pronto_sla_outcomes_total, tenant)"),
                _variable("channel", "label_values(pronto_events_accepted_total, channel)"),
            ]
        },
        "annotations": {"list": []},
    }


def as_prometheus_query(expr: str, rate_interval: str = "1m", tenant: str = ".*", channel: str = ".*") -> str:
    """A panel's query as Grafana sends it for the tenant and channel chosen (by default: all)."""
    return (
        expr.replace("$__rate_interval", rate_interval)
        .replace("$tenant", tenant)
        .replace("$channel", channel)
    )
