"""The dashboard as a person sees it: log in with the key, read rows, keep a screenshot and each page's HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait


@dataclass
class Dashboard:
    driver: Any  # selenium.webdriver.Chrome
    url: str  # the local Dokploy server's base URL
    key: str  # the owner API key, typed into the login form
    artefacts: Path
    pages: list[str] = field(default_factory=list)  # every page's HTML, for the secret-leak check

    def open(self, path: str = "/") -> None:
        self.driver.get(self.url + path)
        if "/login" in self.driver.current_url:
            self.driver.find_element(By.ID, "key").send_keys(self.key)
            self.driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
            WebDriverWait(self.driver, 10).until(lambda d: "/login" not in d.current_url)
        self.pages.append(self.driver.page_source)

    def shot(self, name: str) -> Path:
        path = self.artefacts / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def compose_row(self, compose_id: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, f'tr.compose[data-compose-id="{compose_id}"]')

    def latest_in_row(self, compose_id: str) -> tuple[str | None, str | None]:
        """(deployment id, its status) that the overview shows as a compose's latest deployment."""
        shown = self.compose_row(compose_id).find_element(By.CSS_SELECTOR, ".deployment")
        status = shown.find_element(By.CSS_SELECTOR, "[data-status]").get_attribute("data-status")
        return shown.get_attribute("data-deployment-id"), status

    def section(self, section_id: str) -> str:
        return str(self.driver.find_element(By.ID, section_id).text)

    def deployments(self) -> list[tuple[str | None, str | None]]:
        """(id, status) of each deployment on a compose page, newest first."""
        found = self.driver.find_elements(By.CSS_SELECTOR, "details.deployment")
        return [(d.get_attribute("data-deployment-id"), d.get_attribute("data-status")) for d in found]
