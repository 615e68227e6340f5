"""Every service ends with one line naming what is wrong in its configuration."""

from __future__ import annotations

from collections.abc import Callable

import pytest

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
