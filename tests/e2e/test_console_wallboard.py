"""Checks the web console's wallboard in headless Chromium changing live during a demo run.

The test saves a screenshot of the wallboard (test-artifacts/console/) and checks from
Chromium's network log that the page asked nothing of any host but the console's own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready

from tests.e2e.console_browser import live_wait, loaded_at, sign_in
from tests.support.browser import chromium, requested_hosts, screenshot
from tests.support.demo import running_demo

pytestmark = pytest.mark.integration


@pytest.fixture
def demo() -> Iterator[str]:
    """``pronto demo`` as the README runs it, until it prints the console's address."""
    with running_demo("--duration", "50", until=r"web console\s+(http://\S+/console/)") as (found, _):
        yield found.group(1)


def test_the_wallboard_changes_live_during_a_demo_run(demo: str) -> None:
    console = demo
    with chromium() as driver:
        sign_in(driver, console, "demo-query-token")
        wait = live_wait(driver)
        wait.until(ready.visibility_of_element_located((By.ID, "wallboard")))
        first_load = loaded_at(driver)

        def figures() -> tuple[str, str]:
            queue = (
                driver.find_element(By.ID, "queue-total").text
                + driver.find_element(By.ID, "queue-table").text
            )
            return queue, driver.find_element(By.ID, "compliance-table").text

        queues: set[str] = set()
        compliances: set[str] = set()
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and (len(queues) < 2 or len(compliances) < 2):
            queue, compliance = figures()
            queues.add(queue)
            compliances.add(compliance)
            time.sleep(0.5)
        assert len(queues) >= 2, f"the queue figures never changed: {queues}"
        assert len(compliances) >= 2, f"the compliance figures never changed: {compliances}"
        assert loaded_at(driver) == first_load, "the page was reloaded"
        assert driver.find_elements(By.CSS_SELECTOR, "#operators-table tbody tr"), "no operators shown"
        assert driver.find_elements(By.CSS_SELECTOR, "#decisions-table tbody tr"), (
            "no routing decisions shown"
        )
        driver.find_element(By.ID, "language").send_keys("Italiano")
        wait.until(lambda d: d.find_element(By.ID, "wallboard-title").text == "Pannello")
        screenshot(driver, "wallboard-during-demo")
        assert requested_hosts(driver, set()) == {urlsplit(console).netloc}
