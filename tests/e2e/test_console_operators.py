"""Checks the web console in headless Chromium over a real system: an operator's day, tenants, transfers.

Each test saves a screenshot of the view it checked (test-artifacts/console/)
and checks from Chromium's network log that the page asked nothing of any
host but the console's own.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select

from pronto.grpc_client import ProntoClient
from pronto.v1 import common_pb2, events_pb2, operator_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision
from pronto_tools.simulate.channels import CustomerMessage
from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS
from pronto_tools.simulate.team import roster
from pronto_tools.system import System, TenantSetup
from tests.e2e.conftest import ALWAYS_OPEN, TENANT, TOKEN
from tests.e2e.console_browser import live_wait, loaded_at, sign_in
from tests.e2e.publishing import customer_writes, operator_joins
from tests.support.browser import chromium, requested_hosts, screenshot
from tests.support.receivers import http_receiver

pytestmark = pytest.mark.integration


OPERATOR, OPERATOR_TOKEN = "sam", "console-operator-token-0123"
COLLEAGUE_TOKEN = "console-colleague-token-0123"  # jonas, another operator of the same shop
SUPERVISOR_TOKEN = "console-supervisor-token-0123"
OTHER_SHOP, OTHER_SHOP_TOKEN = "other-shop", "other-shop-query-token-0123"


def call(
    method: str, url: str, token: str | None = None, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    headers = {"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data, headers, method=method), timeout=10
        ) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    run_dir = tmp_path_factory.mktemp("console")
    with EmbeddedBroker(log_path=run_dir / "tansu.log") as broker, http_receiver() as receiver:
        provision(broker.bootstrap_servers)
        hook = {"url": receiver.url("/ok/customers"), "secret": "console-hook-secret-0123"}
        shop = TenantSetup(
            TENANT,
            TOKEN,
            DEMO_CHANNEL_SECRETS,
            ALWAYS_OPEN,
            inbox_port=0,
            notify={"customer_webhooks": {"*": hook}, "operator_default": {"webhook": hook}},
            query_token=SUPERVISOR_TOKEN,
            operator_tokens={OPERATOR: OPERATOR_TOKEN, "jonas": COLLEAGUE_TOKEN},
        )
        tokens = {TENANT: SUPERVISOR_TOKEN, OTHER_SHOP: OTHER_SHOP_TOKEN}
        env = {"query": {"PRONTO_QUERY_TOKENS": json.dumps(tokens)}}
        running = System(broker.bootstrap_servers, run_dir, shop, env=env, query=True).start()
        try:
            yield running
        finally:
            running.stop()


async def _profile(system: System) -> None:
    """Sam's profile, as the shop's own tools would set it: languages, channels, capacity."""
    profile = roster(1, capacity=3)[0]
    profile.operator_id, profile.display_name = OPERATOR, "Sam"
    await operator_joins(system.ingest.grpc_target, TOKEN, profile, online=False)


def test_an_operator_goes_online_is_assigned_replies_and_sees_the_clock_stop(system: System) -> None:
    assert system.query is not None
    asyncio.run(_profile(system))
    console = f"{system.query.http_url}/console/"
    with chromium() as driver:
        wait = live_wait(driver)
        sign_in(driver, console, OPERATOR_TOKEN)
        wait.until(ready.visibility_of_element_located((By.ID, "operator")))
        first_load = loaded_at(driver)
        online = driver.find_element(By.CSS_SELECTOR, "#status button[data-status=online]")
        online.click()
        wait.until(lambda d: online.get_attribute("aria-pressed") == "true")

        message = CustomerMessage(
            channel="web_chat",
            customer_id="visitor-console-1",
            name="Giulia Rossi",
            text="Buongiorno, dov'è il mio ordine 4512?",
            message_id="console-1",
            sent_at=time.time(),
        )
        asyncio.run(customer_writes(system.ingest.http_url, TENANT, message))

        # The page updates its cards in place; each check looks them up again.
        def card_text(d: WebDriver) -> str:
            return str(d.find_element(By.CSS_SELECTOR, ".conversation").text)

        def clock_state(d: WebDriver) -> str:
            return str(d.find_element(By.CSS_SELECTOR, ".conversation .sla").get_attribute("data-state"))

        wait.until(lambda d: "dov'è il mio ordine 4512" in card_text(d))
        wait.until(lambda d: clock_state(d) in ("running", "at_risk"))
        assert re.search(
            r"First response: .* left", driver.find_element(By.CSS_SELECTOR, ".conversation .sla").text
        )

        # Keyboard only: type the reply, Tab to Send, Enter.
        driver.find_element(By.CSS_SELECTOR, ".conversation textarea").send_keys(
            "Ciao Giulia, parte oggi.", Keys.TAB
        )
        assert driver.switch_to.active_element.text == "Send"
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        wait.until(lambda d: clock_state(d) == "met")
        wait.until(lambda d: "Ciao Giulia, parte oggi." in card_text(d))
        assert "clock stopped (met)" in driver.find_element(By.CSS_SELECTOR, ".conversation .sla").text
        assert driver.find_element(By.ID, "operator-count").text == "1 conversation"
        assert loaded_at(driver) == first_load, "the page was reloaded"
        screenshot(driver, "operator-reply-clock-stopped")

        # On hold (issue #21): the resolution clock pauses with its budget shown; Reopen runs it again.
        def clocks_text(d: WebDriver) -> str:
            return str(d.find_element(By.CSS_SELECTOR, ".conversation .clocks").text)

        driver.find_element(By.CSS_SELECTOR, ".conversation input.state-reason").send_keys("BRT courier")
        driver.find_element(By.CSS_SELECTOR, ".conversation button[data-state=on_hold]").click()
        wait.until(lambda d: "Resolution: paused (on hold: BRT courier)" in clocks_text(d))
        assert "State: on hold" in clocks_text(driver)
        assert re.search(
            r"Resolution: paused \(on hold: BRT courier\) since .+, 29 min \d+ s left", clocks_text(driver)
        )
        reason = driver.find_element(By.CSS_SELECTOR, ".conversation input.state-reason")
        assert reason.get_attribute("value") == "", "the reason stays in the field after the change"
        screenshot(driver, "operator-on-hold-clock-paused")
        driver.find_element(By.CSS_SELECTOR, ".conversation button[data-state=open]").click()
        wait.until(lambda d: re.search(r"Resolution: (running|at risk), .* left · 1 pause", clocks_text(d)))
        driver.execute_script(
            "arguments[0].focus()", driver.find_element(By.CSS_SELECTOR, ".conversation button[type=submit]")
        )

        # Resolve, by keyboard too: Tab on from Send. The conversation leaves the list.
        driver.switch_to.active_element.send_keys(Keys.TAB)
        assert driver.switch_to.active_element.text == "Resolve"
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".conversation"))
        assert driver.find_element(By.ID, "operator-empty").is_displayed()
        assert loaded_at(driver) == first_load
        assert requested_hosts(driver, set()) == {urlsplit(console).netloc}


def test_tenant_isolation_through_the_console_api(system: System) -> None:
    assert system.query is not None
    base = f"{system.query.http_url}/console/api"

    assert call("GET", f"{base}/wallboard")[0] == 401
    assert call("GET", f"{base}/wallboard", "somebody-elses-token")[0] == 401
    assert call("GET", f"{base}/wallboard", OPERATOR_TOKEN)[0] == 403  # an operator is not a supervisor
    assert call("GET", f"{base}/me", SUPERVISOR_TOKEN)[0] == 403
    reply = {"text": "x", "key": "0123456789"}
    assert call("POST", f"{base}/me/conversations/not-a-conversation/reply", OPERATOR_TOKEN, reply)[0] == 403
    # Sam's conversation (from the operator test): a colleague can neither see it nor act on it.
    status, listed = call(
        "GET", f"{system.query.http_url}/v1/conversations?operator_id={OPERATOR}", SUPERVISOR_TOKEN
    )
    assert status == 200
    assert listed["items"], "the operator test's conversation is not there"
    sams = listed["items"][0]["conversation_id"]
    for action, body in (("reply", reply), ("resolve", {"key": "0123456789"})):
        assert call("POST", f"{base}/me/conversations/{sams}/{action}", COLLEAGUE_TOKEN, body)[0] == 403
    status, colleague = call("GET", f"{base}/me", COLLEAGUE_TOKEN)
    assert status == 200
    assert colleague["conversations"] == []
    # Sam's own conversation, resolved in the operator test, takes no more replies or resolutions.
    assert (
        call("POST", f"{base}/me/conversations/{sams}/resolve", OPERATOR_TOKEN, {"key": "0123456789"})[0]
        == 409
    )
    status, board = call("GET", f"{base}/wallboard", SUPERVISOR_TOKEN)
    assert status == 200
    assert board["tenant"] == TENANT
    status, _ = call("GET", f"{base}/events?token=nope")
    assert status == 401


def test_another_shops_supervisor_sees_nothing_of_this_one(system: System) -> None:
    """A second shop on the same console: its token reads its own (empty) shop, never this one's."""
    assert system.query is not None
    base = f"{system.query.http_url}/console/api"
    status, board = call("GET", f"{base}/wallboard", OTHER_SHOP_TOKEN)
    assert status == 200
    assert board["tenant"] == OTHER_SHOP
    assert (board["queue"]["total"], board["operators"], board["decisions"]) == (0, [], [])
    status, _ = call("POST", f"{base}/me/status", OTHER_SHOP_TOKEN, {"status": "online"})
    assert status == 403


async def _three_chats(system: System) -> None:
    """Sam online with a chat; Jonas, with room for one chat only, online and given the next; the
    third is Sam's again (Jonas is full)."""
    await _profile(system)
    async with ProntoClient(system.ingest.grpc_target, TOKEN) as client:
        await client.operators.SetOperatorStatus(
            operator_pb2.SetOperatorStatusRequest(
                operator_id=OPERATOR, status=events_pb2.OPERATOR_STATUS_ONLINE
            ),
            metadata=client.metadata,
        )
    await asyncio.sleep(1.0)
    for n in range(3):
        if n == 1:
            jonas = roster(1, capacity=1)[0]
            jonas.operator_id, jonas.display_name = "jonas", "Jonas"
            del jonas.capacities[:]
            jonas.capacities.add(channel=common_pb2.CHANNEL_WEB_CHAT, max_concurrent=1)
            await operator_joins(system.ingest.grpc_target, TOKEN, jonas)
            await asyncio.sleep(1.0)
        message = CustomerMessage(
            channel="web_chat",
            customer_id=f"visitor-transfer-{n}",
            name=f"Cliente Trasferimento {n}",
            text=f"Salve, una domanda sul reso {n}",
            message_id=f"transfer-{n}",
            sent_at=time.time(),
        )
        await customer_writes(system.ingest.http_url, TENANT, message)
        await asyncio.sleep(1.0)


def values(within: Any, selector: str, attribute: str = "value") -> list[str]:
    return [str(e.get_attribute(attribute)) for e in within.find_elements(By.CSS_SELECTOR, selector)]


def error(driver: WebDriver) -> str:
    return str(driver.find_element(By.ID, "error").text)


def _conversation_of(system: System, customer: str, operator: str) -> dict[str, Any]:
    """The open conversation of the customer named ``customer``, once the read model has it with
    ``operator``."""
    assert system.query is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, page = call(
            "GET", f"{system.query.http_url}/v1/conversations?operator_id={operator}", SUPERVISOR_TOKEN
        )
        assert status == 200, page
        for item in page["items"]:
            if (item.get("customer") or {}).get("name") == customer and item["status"] == "assigned":
                return dict(item)
        time.sleep(0.5)
    raise AssertionError(f"{customer}'s conversation never showed with {operator}")


def test_a_supervisors_move_and_an_operators_transfer_in_the_browser(system: System) -> None:
    """Issue #20 in the console. On the wallboard the supervisor moves Sam's chat to Jonas, who is
    full: refused with routing's reason, then made with the override; the conversation's history
    shows it taken from Sam. Sam then hands his other chat to Jonas (refused, shown, the chat stays
    his) and then to the queue (made: the card leaves his list)."""
    assert system.query is not None
    asyncio.run(_three_chats(system))
    first = str(_conversation_of(system, "Cliente Trasferimento 0", OPERATOR)["conversation_id"])
    second = str(_conversation_of(system, "Cliente Trasferimento 2", OPERATOR)["conversation_id"])
    _conversation_of(system, "Cliente Trasferimento 1", "jonas")
    console = f"{system.query.http_url}/console/"
    with chromium() as driver:
        wait = live_wait(driver)
        sign_in(driver, console, SUPERVISOR_TOKEN)
        wait.until(ready.visibility_of_element_located((By.ID, "move-form")))
        wait.until(lambda d: "jonas" in values(d, "#move-to option"))
        driver.find_element(By.ID, "move-conversation").send_keys(first)
        Select(driver.find_element(By.ID, "move-to")).select_by_value("jonas")
        driver.find_element(By.ID, "move-reason").send_keys("VIP account")
        driver.find_element(By.CSS_SELECTOR, "#move-form button[type=submit]").click()
        wait.until(lambda d: "jonas is at capacity on web_chat (1 of 1)" in error(d))
        driver.find_element(By.ID, "move-override").click()
        driver.find_element(By.CSS_SELECTOR, "#move-form button[type=submit]").click()
        wait.until(lambda d: d.find_element(By.ID, "move-result").text == "Now with jonas.")

        def decided(d: WebDriver) -> str:
            rows = d.find_elements(By.CSS_SELECTOR, "#decisions-table tbody tr")
            return next((r.text for r in rows if first in r.text), "")

        wait.until(lambda d: "assigned to Jonas" in decided(d))
        screenshot(driver, "wallboard-move-overridden")
        status, moved = call("GET", f"{system.query.http_url}/v1/conversations/{first}", SUPERVISOR_TOKEN)
        assert status == 200, moved
        [taken] = [e for e in moved["timeline"] if e["type"] == "reassigned"]
        assert taken["from_operator_id"] == OPERATOR  # held by Sam, not waiting, when moved
        assert taken["transfer"]["by_supervisor"]
        assert taken["transfer"]["capacity_overridden"]
        driver.find_element(By.ID, "sign-out").click()

        sign_in(driver, console, OPERATOR_TOKEN)
        wait.until(lambda d: second in values(d, ".conversation", "data-conversation"))
        assert first not in values(driver, ".conversation", "data-conversation")
        card = driver.find_element(By.CSS_SELECTOR, f'.conversation[data-conversation="{second}"]')
        wait.until(lambda d: "jonas" in values(card, "select.transfer-to option"))
        Select(card.find_element(By.CSS_SELECTOR, "select.transfer-to")).select_by_value("jonas")
        card.find_element(By.CSS_SELECTOR, "input.transfer-reason").send_keys("he knows this order")
        card.find_element(By.CSS_SELECTOR, "button.transfer").click()
        wait.until(lambda d: "jonas is at capacity on web_chat (2 of 1)" in error(d))
        assert "nothing changed" in error(driver)
        time.sleep(1.0)
        assert second in values(driver, ".conversation", "data-conversation")
        screenshot(driver, "operator-transfer-refused")

        card = driver.find_element(By.CSS_SELECTOR, f'.conversation[data-conversation="{second}"]')
        Select(card.find_element(By.CSS_SELECTOR, "select.transfer-to")).select_by_value("")
        card.find_element(By.CSS_SELECTOR, "button.transfer").click()
        wait.until(lambda d: error(d) == "Back in the queue.")
        wait.until(lambda d: second not in values(d, ".conversation", "data-conversation"))
        assert requested_hosts(driver, set()) == {urlsplit(console).netloc}
