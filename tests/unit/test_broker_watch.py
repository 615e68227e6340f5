"""`BrokerWatch`: one slow answer is not an outage, two in a row are; each change logged once."""

from __future__ import annotations

import logging

import pytest

from pronto.kafka.watch import BrokerWatch


def test_ready_after_an_answer_unready_after_two_misses_in_a_row(caplog: pytest.LogCaptureFixture) -> None:
    watch = BrokerWatch("127.0.0.1:1")
    with caplog.at_level(logging.WARNING, "pronto.kafka"):
        heard = []
        for answered in (False, False, True, False, True, False, False, False, True):
            watch._heard(answered)
            heard.append(watch.answers)
    assert heard == [False, False, True, True, True, True, False, False, True]
    assert [r.getMessage() for r in caplog.records] == [
        "Kafka at 127.0.0.1:1 does not answer yet: not ready",
        "Kafka at 127.0.0.1:1 does not answer: not ready until it does",
        "Kafka at 127.0.0.1:1 answers again",
    ]


async def test_a_broker_that_is_not_there_is_not_an_answer() -> None:
    watch = BrokerWatch("127.0.0.1:1", timeout_s=1.0)
    assert await watch._ask() is False
    assert watch._client is None  # nothing half-open kept
