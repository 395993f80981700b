"""Chromium for the browser tests: Debian's chromium (never a downloaded one), sessions
at a desktop or phone size, the login form, and screenshots for people to look at."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .world import PASSWORD

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
#: the narrowest phone residents and stewards use
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Debian's chromium is missing: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            yield b
        finally:
            b.close()


def new_page(
    browser: Any,
    *,
    width: int | None = None,
    phone: bool = False,
    locale: str = "zh-CN",
    timeout_ms: int = 15000,
) -> tuple[Any, Any]:
    """A fresh context (no cookies) and its page: desktop, ``width`` px wide, or a phone."""
    viewport = PHONE if phone else {**DESKTOP, **({"width": width} if width else {})}
    ctx = browser.new_context(
        viewport=viewport, locale=locale, is_mobile=phone, has_touch=phone, accept_downloads=True
    )
    pg = ctx.new_page()
    pg.set_default_timeout(timeout_ms)
    return ctx, pg


def log_in(pg: Any, base: str, username: str, password: str = PASSWORD) -> None:
    pg.goto(f"{base}/login")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", password)
    pg.click("form[data-testid=login-form] button[type=submit]")
    pg.wait_for_load_state("networkidle")


def session(
    browser: Any, base: str, username: str, password: str = PASSWORD, **page: Any
) -> tuple[Any, Any]:
    """A new context logged in as ``username`` (``page``: options of :func:`new_page`)."""
    ctx, pg = new_page(browser, **page)
    log_in(pg, base, username, password)
    return ctx, pg


def shot(pg: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
