"""The daily brief's numbers against hand computations on the town (both engines)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nuanliu import seams
from nuanliu.oversight.licences import add_licence
from nuanliu.reports.daily import build_daily
from nuanliu.reports.scopes import ReportScope
from tests.reports.town import D

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 local on D+1


def _row(df: Any, **match: Any) -> dict[str, Any]:
    sel = df
    for k, v in match.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, (match, sel)
    return sel.iloc[0].to_dict()


def _licences(store: Any) -> None:
    for e in ("E1", "E2"):
        add_licence(
            store,
            licence_no=f"L-{e}",
            enterprise_id=e,
            holder_name=e,
            valid_from=D - timedelta(days=365),
            valid_to=D + timedelta(days=20 if e == "E1" else 365),
        )


def test_daily_indicators_by_hand(town: Any) -> None:
    _licences(town)
    brief = build_daily(town, ReportScope("city", "C"), D, now=NOW)
    units = brief.tables["units"]
    city = _row(units, level="city", unit_id="C")
    # D: 10 households report, 4 + 2 + 1 compliant; D-1: 9 of 11; D-7: 10 of 11
    assert city["reporting_households"] == 10 and city["households"] == 12
    assert city["rate_pct"] == 70.0
    assert city["rate_prev_pct"] == pytest.approx(81.8)
    assert city["delta_prev_pp"] == pytest.approx(-11.8)
    assert city["rate_week_pct"] == pytest.approx(90.9)
    assert city["delta_week_pp"] == pytest.approx(-20.9)
    assert city["hour_rate_pct"] == 70.0  # constant temperatures: hours follow days
    assert city["mean_temp_c"] == pytest.approx((88 + 73 + 36) / 10, abs=0.05)
    e2 = _row(units, level="enterprise", unit_id="E2")
    assert (e2["rate_pct"], e2["rate_prev_pct"], e2["delta_prev_pp"]) == (50.0, 75.0, -25.0)
    assert e2["rate_week_pct"] == 100.0 and e2["delta_week_pp"] == -50.0
    e3 = _row(units, level="enterprise", unit_id="E3")
    assert e3["rate_pct"] == 50.0 and e3["rate_prev_pct"] == pytest.approx(66.7)
    st = brief.tables["worst_stations"]
    assert list(st["station_id"][:2]) == ["S3", "S2"]  # 50 % each; S3 18.0 °C, S2 18.25 °C
    assert _row(st, station_id="S2")["low_days"] == 3
    cold = brief.tables["cold_homes"]
    assert list(cold["household_id"]) == ["E3-H2"] and cold["longest_run_h"][0] == 24
    assert list(brief.tables["overheated_homes"]["household_id"]) == ["E1-H4"]
    cov = brief.tables["coverage"]
    e3c = _row(cov, enterprise_id="E3")
    assert (e3c["households"], e3c["households_with_sensor"], e3c["coverage_pct"]) == (4, 3, 75.0)
    assert (e3c["sensors"], e3c["offline_sensors"], e3c["online_pct"]) == (
        3,
        1,
        pytest.approx(66.7),
    )
    assert e3c["licence_state"] == "none"
    assert _row(cov, enterprise_id="E1")["coverage_pct"] == 100.0
    rules = {(f.rule, f.unit_id) for f in brief.findings}
    assert rules >= {
        ("scope_rate", "C"),
        ("rate_fell", "E2"),
        ("rate_fell", "E3"),
        ("station_low", "S2"),
        ("station_low", "S3"),
        ("coverage_low", "E3"),
        ("offline_high", "E3"),
        ("no_licence", "E3"),
        ("long_cold", "E3"),
    }
    assert ("licence_expiring", "E1") in rules and ("licence_expiring", "E2") not in rules
    expiring = next(f for f in brief.findings if f.rule == "licence_expiring")
    assert "2026-12-20" in expiring.text_zh and "20" in expiring.text_en
    assert ("rate_fell", "E1") not in rules and ("coverage_low", "E1") not in rules
    fell = next(f for f in brief.findings if f.rule == "rate_fell" and f.unit_id == "E2")
    assert "25.0" in fell.text_zh and "25.0" in fell.text_en and "热力2" in fell.text_zh
    assert fell.refs[0].table == "units" and fell.refs[0].values == ("E2",)
    assert next(f for f in brief.findings if f.rule == "station_low").propose_order


def test_complaints_section_without_and_with_a_provider(town: Any) -> None:
    with seams.override("complaints", None):
        brief = build_daily(town, ReportScope("city", "C"), D, now=NOW)
    assert "complaints" not in brief.tables and brief.notes["complaints_connected"] is False

    def fake(store: Any, *, level: str, ids: Any, start: Any, end: Any) -> list:
        assert level == "enterprise" and sorted(ids) == ["E1", "E2", "E3"]
        return [
            seams.ComplaintStats("enterprise", "E2", 5, 3, 2, 0.9, 0.8, 0.75, 1.25, 3.0),
        ]

    with seams.override("complaints", fake):
        brief = build_daily(town, ReportScope("city", "C"), D, now=NOW)
    c = brief.tables["complaints"]
    assert _row(c, enterprise_id="E2")["overdue"] == 2
    assert _row(c, enterprise_id="E2")["satisfaction_pct"] == 75.0
    assert any(f.rule == "complaints_overdue" and f.unit_id == "E2" for f in brief.findings)


def test_enterprise_scope_sees_only_its_enterprise(town: Any) -> None:
    brief = build_daily(town, ReportScope("enterprise", "E2"), D, now=NOW)
    assert set(brief.tables["units"]["unit_id"]) == {"E2", "S2"}
    assert list(brief.tables["coverage"]["enterprise_id"]) == ["E2"]


def test_long_lists_are_capped_with_one_sentence_for_the_rest(town: Any, monkeypatch: Any) -> None:
    from nuanliu.reports import render
    from nuanliu.reports.brief import BriefRules

    brief = build_daily(town, ReportScope("city", "C"), D, now=NOW, rules=BriefRules(top_n=1))
    low = [f for f in brief.findings if f.rule.startswith("station_low")]
    assert [(f.rule, f.unit_id) for f in low] == [("station_low", "S2"), ("station_low_more", "C")]
    assert low[1].refs[0].values == ("S3",) and "1" in low[1].text_zh
    # long tables: the page shows the first rows and says so; the workbook keeps all
    monkeypatch.setattr(render, "MAX_DOCUMENT_ROWS", 2)
    html = render.body_html(brief, "en")
    assert "The first 2 of 7 rows" in html  # units: city, 3 enterprises, 3 stations
    from io import BytesIO

    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(render.xlsx(brief, "en")))
    sheet = next(ws for ws in wb.worksheets if ws.title.startswith("Compliance by city"))
    assert sheet.max_row == 1 + 7


def test_without_hour_rates_the_day_rates_are_the_same(town: Any) -> None:
    from nuanliu.reports.brief import BriefRules

    full = build_daily(town, ReportScope("city", "C"), D, now=NOW).tables["units"]
    lean = build_daily(
        town, ReportScope("city", "C"), D, now=NOW, rules=BriefRules(hour_rates=False)
    ).tables["units"]
    assert list(lean["rate_pct"]) == list(full["rate_pct"])
    assert lean["hour_rate_pct"].isna().all() and full["hour_rate_pct"].notna().all()
