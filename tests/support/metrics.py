"""What a running service's ``/metrics`` says, read the way Prometheus reads it."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def metric_sum(base_url: str, sample: str) -> float:
    """The sum over all labels of the samples named ``sample`` (``pronto_notify_retries_total``)."""
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(
        s.value for family in text_string_to_metric_families(text) for s in family.samples if s.name == sample
    )
