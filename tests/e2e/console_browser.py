"""Signs in to the web console and reads when its page loaded, for the console tests in Chromium."""

from __future__ import annotations

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
