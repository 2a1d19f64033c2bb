"""Fixtures of the browser tests: a real server (``tests/browser/server.py``), Debian's
Chromium driven by Playwright, axe-core injected into each page checked, and a screenshot of
every step in the test output folder (``tmp_path_factory``: ``browser-screens*`` under
pytest's base temporary folder; ``--basetemp`` chooses where)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.server import Server, running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    with running_server(tmp_path_factory.mktemp("browser-server") / "var") as running:
        yield running


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Checks:
    """Screenshots and axe-core runs of the pages visited, in order."""

    folder: Path
    axe_source: str
    shots: list[Path] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    """Serious and critical: the test fails on them."""
    lesser: set[str] = field(default_factory=set)
    """Moderate and minor (rule ids): printed, not failed on."""
    checked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def shot(self, page: Any, name: str) -> Path:
        path = self.folder / f"{len(self.shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path

    def axe(self, page: Any, name: str) -> None:
        """axe-core on the page as it is: injected with ``page.evaluate`` (through the
        DevTools protocol, which the page's Content-Security-Policy does not govern, so the
        page keeps its real CSP); serious and critical violations are collected."""
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(self.axe_source)
        result = page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ['violations']});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
            }"""
        )
        self.checked.append(f"{name}: {page.url}")
        for v in result:
            if v["impact"] in BLOCKING_IMPACTS:
                self.violations.append(
                    f"{name} ({page.url}): {v['impact']} {v['id']} — {v['help']} — "
                    f"{json.dumps(v['nodes'], ensure_ascii=False)}"
                )
            else:
                self.lesser.add(f"{v['impact']} {v['id']}: {v['help']}")

    def step(self, page: Any, name: str, *, axe: bool = True) -> None:
        """A screenshot of the step, and the accessibility check of its page."""
        self.shot(page, name)
        if axe:
            self.axe(page, name)


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> Checks:
    folder = tmp_path_factory.mktemp("browser-screens")
    return Checks(folder=folder, axe_source=AXE.read_text("utf-8"))


_CSP_REFUSAL = re.compile(r"Content Security Policy|Refused to", re.IGNORECASE)


@dataclass
class People:
    """One browser context (its own cookies) per person, Polish pages."""

    server: Server
    browser: Any
    checks: Checks
    pages: dict[str, Any] = field(default_factory=dict)

    def __call__(self, who: str) -> Any:
        if who not in self.pages:
            context = self.browser.new_context(
                locale="pl-PL", accept_downloads=True, viewport={"width": 1280, "height": 900}
            )
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            page.on("console", lambda m, who=who: self._console(who, m))
            self.pages[who] = page
        return self.pages[who]

    def _console(self, who: str, message: Any) -> None:
        if message.type == "error" and _CSP_REFUSAL.search(message.text):
            self.checks.console_errors.append(f"{who}: {message.text}")

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()
