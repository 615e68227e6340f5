"""Headless Chromium (Debian's, through its chromedriver) for the console's browser tests.

Every request the page makes is read back from Chromium's network log, so a
test can check that nothing went to another host. Screenshots go to
``test-artifacts/console/`` at the repository's root.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "console"


@contextmanager
def chromium(width: int = 1400, height: int = 1000) -> Iterator[WebDriver]:
    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver_path is None:
        raise RuntimeError("Debian's chromium and chromium-driver are needed: run scripts/setup.sh")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    # Nothing of Chromium's own (updates, sign-in, suggestions) may reach out either.
    options.add_argument("--disable-background-networking")
    options.add_argument("--no-first-run")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def requested_hosts(driver: WebDriver, seen: set[str]) -> set[str]:
    """Adds to ``seen`` the host:port of every request the page made since the last call."""
    for entry in driver.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "ws", "wss"):
                seen.add(parts.netloc)
            elif parts.scheme not in ("data", "blob"):
                seen.add(f"{parts.scheme}:")
    return seen


def screenshot(driver: WebDriver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path
