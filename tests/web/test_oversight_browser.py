"""Oversight in Chromium: the regulator opens today's brief, downloads its PDF, creates
a supervision order from a finding; the enterprise accepts it and reports its
rectification with an attachment; the regulator verifies and closes it. Screenshots
go to artifacts/screenshots/oversight-*.png."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuanliu.reports.jobs import daily_reports

from .browser import session
from .browser import shot as browser_shot
from .server import serve
from .world import ENTERPRISES, World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    from nuanliu.api.app import create_app
    from nuanliu.config import load_settings

    world = build_world(
        f"duckdb:///{tmp_path_factory.mktemp('oversight') / 'web.duckdb'}",
        users=("regulator", "operator_b", "operator_a"),
    )
    daily_reports(world.store, now=world.now)  # what the 07:30 job archives
    app = create_app(load_settings({}), store=world.store)
    try:
        with serve(app) as base:
            yield base, world
    finally:
        world.store.close()


def login(browser, base: str, username: str, width: int | None = None):  # type: ignore[no-untyped-def]
    return session(browser, base, username, width=width, timeout_ms=30000)


def shot(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    browser_shot(pg, f"oversight-{name}")


def test_brief_pdf_order_answer_close(browser, site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, world = site
    beta = ENTERPRISES["EB"][0]
    reg_ctx, reg = login(browser, base, "regulator")
    reg.click("nav.mainnav >> text=监管督办")
    reg.click("[data-testid=today-brief]")
    reg.wait_for_selector("[data-testid=report-body]")
    body = reg.inner_text("[data-testid=report-body]")
    assert "供热日研判" in body and "研判发现" in body
    shot(reg, "1-regulator-brief")
    with reg.expect_download() as dl:
        reg.click("[data-testid=download-pdf]")
    pdf = tmp_path / "brief.pdf"
    dl.value.save_as(pdf)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "研判发现" in text and "达标率（城市—企业—换热站）" in text
    # the finding about Beta → a prefilled order form → the order
    reg.locator("[data-testid=order-findings] li", has_text=beta).first.locator(
        "[data-testid=order-from-finding]"
    ).click()
    reg.wait_for_selector("[data-testid=order-form]")
    assert beta in reg.inner_text("[data-testid=order-form]") or reg.input_value(
        "textarea[name=problem_zh]"
    )
    shot(reg, "2-regulator-order-form")
    reg.click("[data-testid=order-submit]")
    reg.wait_for_selector("[data-testid=order-state]")
    assert reg.inner_text("[data-testid=order-state]").startswith("已下发")
    order_url = reg.url
    shot(reg, "3-regulator-order-issued")

    # enterprise A does not see it; enterprise B accepts and reports
    a_ctx, a = login(browser, base, "operator_a")
    a.goto(order_url)
    assert a.locator("[data-testid=order-state]").count() == 0
    a_ctx.close()
    ent_ctx, ent = login(browser, base, "operator_b", width=360)
    ent.goto(f"{base}/oversight/orders")
    ent.click(f"[data-testid=order-list] >> a[href='{order_url.removeprefix(base)}']")
    ent.click("[data-testid=act-accept]")
    ent.wait_for_load_state("domcontentloaded")
    assert ent.inner_text("[data-testid=order-state]").startswith("已签收")
    evidence = tmp_path / "整改照片.txt"
    evidence.write_text("二号站循环泵已检修", encoding="utf-8")
    ent.fill("[data-testid=order-note]", "已更换循环泵，室温恢复到18°C以上")
    ent.set_input_files("input[name=files]", str(evidence))
    ent.click("[data-testid=act-report]")
    ent.wait_for_load_state("domcontentloaded")
    assert ent.inner_text("[data-testid=order-state]").startswith("已报整改")
    shot(ent, "4-enterprise-reported-360px")
    ent_ctx.close()

    reg.goto(order_url)
    assert "已更换循环泵" in reg.inner_text("[data-testid=order-events]")
    reg.fill("[data-testid=order-note]", "现场核验合格")
    reg.click("[data-testid=act-close]")
    reg.wait_for_load_state("domcontentloaded")
    assert reg.inner_text("[data-testid=order-state]").startswith("已办结")
    shot(reg, "5-regulator-closed")
    reg_ctx.close()
