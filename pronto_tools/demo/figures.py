"""What the demo reads back from the running services: their metrics and the query API's read models."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


def accepted_by_channel(metrics_text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for sample in _families(metrics_text, "pronto_events_accepted"):
        if sample.name.endswith("_total"):
            counts[sample.labels["channel"]] += int(sample.value)
    return counts


def scrape(url: str) -> str:
    """The metrics at ``url``; empty (no figures) when the service does not answer, which the progress
    line then says, instead of ending the demo."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return ""


def _families(metrics_text: str, name: str) -> list[Sample]:
    return [s for f in text_string_to_metric_families(metrics_text) if f.name == name for s in f.samples]


def decisions(metrics_text: str) -> Counter[str]:
    """Routing's decisions by kind (assigned, queued, reassigned, widened...)."""
    return Counter(
        {
            s.labels["kind"]: int(s.value)
            for s in _families(metrics_text, "pronto_routing_decisions")
            if s.name.endswith("_total")
        }
    )


QUEUE_LENGTH = "pronto_routing_queue_length"


def gauge(metrics_text: str, name: str) -> int:
    return int(sum(s.value for s in _families(metrics_text, name)))


def assigned(metrics_text: str) -> int:
    return decisions(metrics_text)["assigned"]


def first_responses(metrics_text: str) -> dict[str, Counter[str]]:
    """Channel -> first-response outcomes (met, missed, breached...) from the SLA service's metrics."""
    by_channel: dict[str, Counter[str]] = {}
    for sample in _families(metrics_text, "pronto_sla_outcomes"):
        labels = sample.labels
        if sample.name.endswith("_total") and labels["metric"] == "first_response":
            by_channel.setdefault(labels["channel"], Counter())[labels["outcome"]] += int(sample.value)
    return by_channel


def compliance(outcomes: Counter[str]) -> str:
    answered = outcomes["met"] + outcomes["breached"]
    return f"{outcomes['met'] / answered:.0%}" if answered else "-"


def read_models(query_url: str, token: str) -> dict[str, Any]:
    """What the query API holds: conversations by status and today's first-response report rows."""

    def get(path: str) -> Any:
        request = urllib.request.Request(f"{query_url}{path}", headers={"authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)

    statuses = ("waiting", "queued", "assigned", "resolved")
    by_status = {s: get(f"/v1/conversations?status={s}&limit=1")["total"] for s in statuses}
    report = get("/v1/sla/reports?metric=first_response")
    return {
        "conversations": get("/v1/conversations?limit=1")["total"],
        "by_status": by_status,
        "report": report["rows"],
    }
