"""Statements: the household PDF (CJK font embedded) and the community XLSX."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from nuanliu.billing.runs import run_billing
from nuanliu.billing.statement import community_xlsx, statement_data, statement_pdf
from nuanliu.meters.ingest import Candidate, ingest
from nuanliu.meters.reading import MeterReading

from .world import add_meter, seed_registry

START = datetime(2026, 10, 14, 16, tzinfo=UTC)
END = datetime(2027, 4, 15, 16, tzinfo=UTC)


def _seed(store) -> None:
    seed_registry(store)
    cands = []
    for n in range(4):
        add_meter(store, f"m{n}", f"h-b1-{n}")
        for at, gj in ((START, 0), (END, 20 + 3 * n)):
            r = MeterReading("manual", f"m{n}", energy_gj=D(gj))
            cands.append(Candidate("t", "", r, read_at=at, meter_id=f"m{n}"))
    ingest(store, cands, now=datetime(2027, 5, 1, tzinfo=UTC))
    with store.write() as w:
        w.executemany(
            "INSERT INTO mon_household_daily (household_id, local_day, n, sum_temp_c, "
            "min_temp_c, max_temp_c) VALUES (?, ?, 1, ?, ?, ?)",
            [("h-b1-1", date(2026, 11, d), 19.0 + d / 10, 18.0, 22.0) for d in range(1, 29)],
        )
    run_billing(store, season="2026-2027", kind="advance", issued_on=date(2026, 10, 1))
    run_billing(store, season="2026-2027", kind="settlement", issued_on=date(2027, 5, 1))


@pytest.fixture
def duck(tmp_path):
    from nuanliu.store import open_store

    with open_store(f"duckdb:///{tmp_path / 'b.duckdb'}") as store:
        yield store


def test_statement_data_and_pdf(duck, tmp_path) -> None:
    store = duck
    _seed(store)
    s = statement_data(store, "h-b1-1", "2026-2027", as_of=date(2027, 5, 2))
    # 23 GJ over 90 m² = 0.256 GJ/m²; neighbours 20/80, 26/100, 29/110 → 0.25, 0.26, 0.264
    assert s.heat_gj_m2 == D("0.256")
    assert s.neighbours_gj_m2 == [D("0.250"), D("0.260"), D("0.264")]
    assert s.rank_text[1] == "Heat use per m² above 1 of 3 neighbours in the building"
    assert s.bill["kind"] == "settlement" and len(s.indoor_daily) == 28
    pdf = statement_pdf(s)
    assert pdf.startswith(b"%PDF")
    Path("artifacts").mkdir(exist_ok=True)
    Path("artifacts/billing-statement.pdf").write_bytes(pdf)
    path = tmp_path / "s.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
        assert "WenQuanYi" in fonts or "wqy" in fonts.lower()
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
        assert (
            "供热费用账单" in text and "h-b1-1" in text and "2,102.35" in text
        )  # 1080.00 + 23 × 44.45


def test_community_xlsx(duck) -> None:
    store = duck
    import openpyxl

    _seed(store)
    data = community_xlsx(store, "m1", "2026-2027", as_of=date(2027, 5, 2))
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["账单 bills", "收缴率 collection"]
    rows = list(wb["账单 bills"].values)
    assert [r[0] for r in rows[1:]] == [f"h-b1-{n}" for n in range(4)]
