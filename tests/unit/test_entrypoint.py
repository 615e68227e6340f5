"""Every service ends with one line naming what is wrong in its configuration."""

from __future__ import annotations

import logging
from collections.abc import Callable

import faust
import pytest

from pronto.entrypoint import faust_worker
from services.routing.main import main as routing_main
from services.sla.main import main as sla_main


@pytest.mark.parametrize(
    ("main", "variable", "value", "expected"),
    [
        (
            routing_main,
            "PRONTO_ROUTING_TICK_S",
            "-1",
            "pronto-routing: invalid configuration: routing_tick_s: ",
        ),
        (routing_main, "PRONTO_ROUTING_REPLY_WITHIN_S", '{"fax": 3}', "unknown channels ['fax']"),
        (
            sla_main,
            "PRONTO_SLA_POLICIES",
            '{"s": {"timezone": "Nowhere/Land"}}',
            "unknown time zone 'Nowhere/Land'",
        ),
        (sla_main, "PRONTO_SLA_POLICIES", "{not json", "pronto-sla: invalid configuration: "),
    ],
)
def test_a_bad_setting_ends_the_service_with_one_line(
    monkeypatch: pytest.MonkeyPatch, main: Callable[[], None], variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SystemExit) as ended:
        main()

    message = str(ended.value.code)
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize("level", ["WARNING", "INFO", "ERROR"])
def test_the_log_level_asked_for_is_the_root_loggers(level: str) -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    worker = faust_worker(faust.App("pronto-test-logging", broker="kafka://127.0.0.1:1"), level)
    try:
        worker._setup_logging()
        assert logging.getLevelName(root.level) == level
    finally:
        root.setLevel(before[0])
        root.handlers[:] = before[1]
