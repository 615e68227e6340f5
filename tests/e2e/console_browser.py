"""Signs in to the web console, waits on its live page, and reads when it loaded, for the console tests."""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait


def sign_in(driver: WebDriver, url: str, token: str) -> None:
    """With the keyboard only: the token, then Enter."""
    driver.get(url)
    field = WebDriverWait(driver, 15).until(ready.element_to_be_clickable((By.ID, "token")))
    field.send_keys(token, Keys.ENTER)


def loaded_at(driver: WebDriver) -> int:
    return int(driver.execute_script("return window.prontoLoadedAt"))


def live_wait(driver: WebDriver, seconds: float = 30) -> WebDriverWait[WebDriver]:
    """A wait that asks again when an element it read was redrawn meanwhile: the console re-renders
    its lists on every live update, so a row found may be gone when its text is read (CI: a stale
    element failed the transfer test once in two runs)."""
    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,))
