"""Browser tests: the real app on a real socket, driven by Debian's chromium through Playwright.

No browser is downloaded: Playwright launches /usr/bin/chromium (apt-get install chromium),
or the executable in STOCKROOM_CHROMIUM. Screenshots of every main page go to
artifacts/screenshots/ on every run.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from app.extensions import db
from sandbox.server import start_in_thread

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("STOCKROOM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium():
    """A headless chromium for the session (skipped with the reason if it is not installed)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("STOCKROOM_REQUIRE_E2E"):
            pytest.fail(f"{CHROMIUM} not found: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_app(tmp_path):
    """The app on a freshly migrated SQLite database, served on a free loopback port."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "e2e",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
                      "STOCKROOM_SECURE_COOKIES": False})
    with app.app_context():
        upgrade()
    server = start_in_thread(app)
    app.config["E2E_URL"] = server.url
    try:
        yield app
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def page(chromium):
    """A fresh browser context and page (1280 px wide), closed afterwards."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


class Screenshots:
    """Saves full-page screenshots into artifacts/; ``publish`` copies them to docs/."""

    def __init__(self):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    def take(self, page, name: str) -> None:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)

    def publish(self) -> None:
        """Copy this run's screenshots to docs/screenshots/ (STOCKROOM_PUBLISH_SCREENSHOTS=1)."""
        if os.environ.get("STOCKROOM_PUBLISH_SCREENSHOTS") != "1":
            return
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        for path in self.taken:
            shutil.copyfile(path, target / path.name)


@pytest.fixture
def screenshots():
    """Screenshot helper for one test."""
    shots = Screenshots()
    yield shots
    shots.publish()
