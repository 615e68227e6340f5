"""A 422 names the field and never repeats what was sent, on every port (issue #26).

FastAPI's own 422 echoes each refused value (``input``): a hostile body amplified into answers,
logs and proxies, and NaN once made the answer itself fail. Every router answers with
``pronto.validation_errors.PlainErrorsRoute`` (type, field, message); these requests go to the
real servers of the fuzz suite's system.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.integration.fuzz.conftest import OPERATOR_TOKEN, QUERY_TOKEN, TENANT, Fuzzed

pytestmark = pytest.mark.integration

MARKER = "echo-me-0123456789"


def _refusal(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    assert MARKER not in response.text
    errors: list[dict[str, Any]] = json.loads(response.text)["detail"]
    assert errors, response.text
    for error in errors:
        assert set(error) == {"type", "loc", "msg"}, error
    return errors


def test_no_422_repeats_what_was_sent(fuzzed: Fuzzed) -> None:
    query = fuzzed.system.query
    assert query is not None
    bearer = {"authorization": f"Bearer {QUERY_TOKEN}"}
    [error] = _refusal(
        requests.get(
            f"{query.http_url}/v1/conversations", params={"status": MARKER}, headers=bearer, timeout=10
        )
    )
    assert error["loc"] == ["query", "status"]

    operator = {"authorization": f"Bearer {OPERATOR_TOKEN}"}
    [error] = _refusal(
        requests.post(
            f"{query.http_url}/console/api/me/status", json={"status": MARKER}, headers=operator, timeout=10
        )
    )
    assert error["loc"] == ["body", "status"]

    notify = fuzzed.system.notify.http_url
    [error] = _refusal(requests.get(f"{notify}/v1/webchat/{TENANT}/visitor-1/events", timeout=10))
    assert error["loc"] == ["query", "token"]
