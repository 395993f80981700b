"""Reports as documents: the PDF text (pdftotext) and the XLSX (openpyxl) hold the same
numbers as the web page; the archive keeps them unchanged; the weekly numbers by hand."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from nuanliu.oversight import orders as od
from nuanliu.reports.archive import list_reports, report_content, save_report
from nuanliu.reports.daily import build_daily
from nuanliu.reports.jobs import daily_reports, weekly_reports
from nuanliu.reports.scopes import ReportScope
from nuanliu.reports.weekly import build_weekly
from nuanliu.seams import override
from tests.reports.town import D

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_daily_pdf_xlsx_and_page_hold_the_same_numbers(town: Any, tmp_path: Path) -> None:
    with override("complaints", None):  # as without the hotline: the section says so
        brief = build_daily(town, ReportScope("city", "C"), D, now=NOW)
    report = save_report(town, brief, by="test", now=NOW)
    html = report_content(town, report.report_id, "html_zh")
    text = pdf_text(report_content(town, report.report_id, "pdf"), tmp_path)
    for heading in (
        "暖城供热日研判",
        "研判发现",
        "达标率（城市—企业—换热站）",
        "低温住户",
        "测温覆盖与在线",
    ):
        assert heading in html and heading in text, heading
    assert "数据时间 2026-12-01 00:00" in text  # the running header: end of D, UTC+8
    assert "尚未接入投诉" in text  # no hotline: no zeros
    # the city row: 70.0 %, 81.8 %, -11.8 pp, 90.9 %, -20.9 pp on the page and in the PDF
    row = re.search(r'<tr id="units-C">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells[5:10] == ["70.0", "81.8", "-11.8", "90.9", "-20.9"]
    # the city's table row (pdftotext puts the wrapped level word on its own line)
    line = next(ln for ln in text.splitlines() if ln.split()[:1] == ["C"])
    for value in cells[5:10]:
        assert value in line
    wb = load_workbook(io.BytesIO(report_content(town, report.report_id, "xlsx")))
    ws = wb["达标率（城市—企业—换热站）"]
    head = [c.value for c in ws[1]]
    assert head[head.index("达标率 (%)") + 2] == "较前一日 (百分点)"
    city = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[1] == "C")
    assert city[head.index("达标率 (%)")] == 70.0
    assert city[head.index("较前一日 (百分点)")] == -11.8
    assert isinstance(city[head.index("户数")], int)
    assert "研判发现" in wb.sheetnames and wb["研判发现"].max_row == len(brief.findings) + 1


def test_archive_keeps_reports_unchanged_and_versions_new_ones(town: Any) -> None:
    first = save_report(
        town, build_daily(town, ReportScope("city", "C"), D, now=NOW), by="a", now=NOW
    )
    pdf = report_content(town, first.report_id, "pdf")
    html = report_content(town, first.report_id, "html_en")
    # later readings change the numbers; the archived report does not change
    import pyarrow as pa

    from tests.reports.town import SENSORS, day_start_utc

    late = [
        (s, day_start_utc(D) + timedelta(hours=h, minutes=45), 30.0)
        for s in SENSORS
        for h in range(24)
    ]
    town.insert_readings(
        pa.table(
            {
                "sensor_id": pa.array([r[0] for r in late]),
                "ts": pa.array([r[1] for r in late], pa.timestamp("us", tz="UTC")),
                "temp_c": pa.array([r[2] for r in late]),
                "humidity_pct": pa.array([None] * len(late), pa.float64()),
            }
        )
    )
    second = save_report(
        town, build_daily(town, ReportScope("city", "C"), D, now=NOW), by="b", now=NOW
    )
    assert (first.version, second.version) == (1, 2)
    assert report_content(town, first.report_id, "pdf") == pdf
    assert report_content(town, first.report_id, "html_en") == html
    assert report_content(town, second.report_id, "html_en") != html
    assert first.data_time == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


def test_weekly_numbers_by_hand(town: Any) -> None:
    brief = build_weekly(town, ReportScope("city", "C"), D, now=NOW)
    rank = brief.tables["ranking_enterprises"]
    assert list(rank["unit_id"]) == ["E1", "E2", "E3"]
    e2 = rank[rank["unit_id"] == "E2"].iloc[0]
    assert e2["rate_pct"] == pytest.approx(82.1)  # 23 of 28 household-days
    assert e2["rate_last_week_pct"] == 100.0  # only D-7 in last week's window
    trend = brief.tables["trend"]
    assert list(trend["rate_pct"])[-3:] == [pytest.approx(72.7), pytest.approx(81.8), 70.0]
    week = brief.findings[0]
    assert week.rule == "week_rate" and "84.2" in week.text_zh and "-6.7" in week.text_en


def test_jobs_archive_every_scope_once(town: Any) -> None:
    out = daily_reports(town, now=NOW)
    assert out["day"] == D.isoformat() and out["generated"] == 2 + 3  # R, C, E1-E3
    assert daily_reports(town, now=NOW)["generated"] == 0
    week = weekly_reports(town, now=NOW)
    assert week["generated"] == 5
    # S3 was below 90 % last week (D-7: 2 of 3) and this week: carried over, proposed
    # once (by the region and the city reports alike: one open order per rule key)
    proposed = od.list_orders(town, states=("proposed",))
    assert [o.rule_key for o in proposed] == ["carried_over:station:S3"]
    assert week["orders_proposed"] == 1 and proposed[0].enterprise_id == "E3"
    assert weekly_reports(town, now=NOW)["orders_proposed"] == 0
    kinds = {(r.kind, r.scope_key) for r in list_reports(town)}
    assert ("weekly", "city:C") in kinds and ("daily", "enterprise:E3") in kinds
