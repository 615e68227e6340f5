"""The console against what issue #26 (defect 7) found, in headless Chromium and over loopback.

The query service runs alone on the real broker (no other service is needed: the
console reads the read models and its event stream follows their changes). Checked:
signing out leaves no token in the page; switching from the wallboard to the
operator view while a wallboard refresh is in flight leaves no error; every answer
of the port carries a Content-Security-Policy with ``frame-ancestors 'none'`` and
``X-Content-Type-Options: nosniff``; the live event stream is opened with a
short-lived, single-use ticket from an authenticated POST, never with the token in
its URL, and neither is written to the service's log.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import QueryService
from tests.integration.query.publishing import publish
from tests.support import history
from tests.support.browser import chromium

pytestmark = pytest.mark.integration
TENANT = "console-hostile-shop"
SUPERVISOR_TOKEN = "console-hostile-supervisor-0123"
OPERATOR, OPERATOR_TOKEN = "ada", "console-hostile-operator-0123"

# Installed in the page before signing in: wallboard answers arrive 1.5 s late (a slow refresh to
# switch views during), and every wallboard request is counted (refreshes the event stream causes).
SLOW_WALLBOARD = """
window.wallboardFetches = 0;
const fetchNow = window.fetch.bind(window);
window.fetch = async (url, options) => {
  const answer = await fetchNow(url, options);
  if (String(url).includes("/console/api/wallboard")) {
    window.wallboardFetches += 1;
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
  return answer;
};
"""


@pytest.fixture(scope="module")
def query(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueryService]:
    log = tmp_path_factory.mktemp("console-hostile") / "query.log"
    service = QueryService(
        broker.bootstrap_servers,
        log,
        env={
            "PRONTO_QUERY_TOKENS": json.dumps({TENANT: SUPERVISOR_TOKEN}),
            "PRONTO_QUERY_OPERATOR_TOKENS": json.dumps({TENANT: {OPERATOR: OPERATOR_TOKEN}}),
            "PRONTO_LOG_LEVEL": "DEBUG",
        },
    )
    service.start().wait_ready(timeout=60)
    yield service
    service.stop()


def sign_in(driver: WebDriver, token: str) -> None:
    field = WebDriverWait(driver, 15).until(ready.element_to_be_clickable((By.ID, "token")))
    field.clear()  # whatever the page left there (the sign-out test checks it leaves nothing)
    field.send_keys(token, Keys.ENTER)


def test_signing_out_leaves_no_token_in_the_page(query: QueryService) -> None:
    with chromium() as driver:
        driver.get(f"{query.http_url}/console/")
        sign_in(driver, SUPERVISOR_TOKEN)
        WebDriverWait(driver, 15).until(ready.visibility_of_element_located((By.ID, "wallboard")))
        driver.find_element(By.ID, "sign-out").click()
        WebDriverWait(driver, 15).until(ready.visibility_of_element_located((By.ID, "sign-in")))
        assert driver.find_element(By.ID, "token").get_attribute("value") == ""
        assert driver.execute_script("return sessionStorage.getItem('pronto-token')") is None


def test_switching_to_the_operator_view_during_a_refresh_leaves_no_error(query: QueryService) -> None:
    with chromium() as driver:
        driver.get(f"{query.http_url}/console/")
        driver.execute_script(SLOW_WALLBOARD)
        sign_in(driver, SUPERVISOR_TOKEN)
        wait = WebDriverWait(driver, 15)
        wait.until(ready.visibility_of_element_located((By.ID, "sign-out")))
        wait.until(lambda d: d.execute_script("return window.wallboardFetches") >= 1)
        # The wallboard's answer is still on its way: switch to the operator's view now.
        driver.find_element(By.ID, "sign-out").click()
        sign_in(driver, OPERATOR_TOKEN)
        wait.until(ready.visibility_of_element_located((By.ID, "operator")))
        time.sleep(2.5)  # the late wallboard answer has arrived by now
        assert driver.find_element(By.ID, "error").text == ""
        assert driver.find_element(By.ID, "operator").is_displayed()
        assert not driver.find_element(By.ID, "wallboard").is_displayed()
        assert driver.find_element(By.ID, "operator-empty").is_displayed()
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]
        assert not [e for e in errors if "length" in e["message"]], errors


def _answer(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None
) -> Any:
    request = urllib.request.Request(url, body, headers or {}, method=method)
    try:
        return urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as exc:
        return exc


def test_every_answer_forbids_framing_and_sniffing(query: QueryService) -> None:
    bearer = {"authorization": f"Bearer {SUPERVISOR_TOKEN}"}
    asked = [
        ("/console/", {}, 200),
        ("/console/api/events", {}, 401),
        ("/console/static/console.js", {}, 200),
        ("/console/static/nothing.js", {}, 404),
        ("/console/api/whoami", {}, 401),
        ("/console/api/wallboard", bearer, 200),
        ("/v1/conversations", {}, 401),
        ("/v1/conversations?limit=0", bearer, 422),
        ("/v1/conversations", bearer, 200),
        ("/openapi.json", {}, 200),
        ("/docs", {}, 200),
        ("/metrics", {}, 200),
        ("/healthz", {}, 200),
        ("/no/such/page", {}, 404),
    ]
    for path, headers, expected in asked:
        with _answer(query.http_url + path, headers=headers) as answer:
            assert answer.status == expected, path
            policy = answer.headers.get("content-security-policy", "")
            assert "frame-ancestors 'none'" in policy, (path, policy)
            assert "default-src" in policy, (path, policy)
            assert answer.headers.get("x-content-type-options") == "nosniff", path


def test_the_event_stream_takes_a_single_use_ticket_never_the_token(query: QueryService) -> None:
    base = f"{query.http_url}/console/api"
    # The token itself no longer opens the stream, in the URL or otherwise.
    with _answer(f"{base}/events?token={SUPERVISOR_TOKEN}") as refused:
        assert refused.status == 401
    with _answer(f"{base}/events/ticket", "POST") as anonymous:
        assert anonymous.status == 401
    bearer = {"authorization": f"Bearer {SUPERVISOR_TOKEN}"}
    with _answer(f"{base}/events/ticket", "POST", bearer) as issued:
        assert issued.status == 201
        ticket = json.load(issued)
    assert 0 < ticket["expires_in_s"] <= 60
    assert SUPERVISOR_TOKEN not in ticket["ticket"]
    with _answer(f"{base}/events?ticket={ticket['ticket']}") as stream:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.readline().startswith(b"retry:")
    with _answer(f"{base}/events?ticket={ticket['ticket']}") as again:
        assert again.status == 401, "a ticket opens one stream only"

    # In the browser: the stream is opened with a ticket, and it keeps the page live.
    with chromium() as driver:
        driver.get(f"{query.http_url}/console/")
        driver.execute_script(SLOW_WALLBOARD)
        sign_in(driver, SUPERVISOR_TOKEN)
        WebDriverWait(driver, 15).until(ready.visibility_of_element_located((By.ID, "wallboard")))
        WebDriverWait(driver, 15).until(lambda d: d.execute_script("return window.wallboardFetches") >= 1)
        time.sleep(2)
        before = driver.execute_script("return window.wallboardFetches")
        start = datetime.now(UTC)
        asyncio.run(publish(query.env["PRONTO_BOOTSTRAP_SERVERS"], history.shop(TENANT, start, 2)))
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return window.wallboardFetches") > before)
        urls = _requested(driver)
    streams = [u for u in urls if "/console/api/events" in u and "/ticket" not in u]
    assert streams, urls
    assert all("ticket=" in u and "token=" not in u and SUPERVISOR_TOKEN not in u for u in streams), streams

    log = query.log_path.read_text()
    assert SUPERVISOR_TOKEN not in log
    assert ticket["ticket"] not in log


def _requested(driver: WebDriver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(str(message["params"]["request"]["url"]))
    return urls
