"""PDFs carry Chinese text in an embedded font; workbooks keep numbers as numbers."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from nuanliu.documents import csv_bytes, render_pdf, xlsx_bytes


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_has_chinese_text_an_embedded_font_and_page_numbers(tmp_path: Path) -> None:
    rows = "".join(
        f"<tr><td>换热站{i}</td><td class='num'>{90 + i / 10:.1f}</td></tr>" for i in range(80)
    )
    pdf = render_pdf(
        f"<h1>供热日研判</h1><table><tr><th>站</th><th>达标率 (%)</th></tr>{rows}</table>",
        header="呼和浩特市 · 数据截至 2026-12-01 07:00",
    )
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "供热日研判" in text and "换热站79" in text and "97.9" in text
    assert "数据截至 2026-12-01 07:00" in text
    pages = text.count("\f")
    assert pages >= 2 and re.search(rf"\b2\s*/\s*{pages}\b", text)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    wqy = [line for line in fonts.splitlines() if "WenQuanYi" in line]
    assert wqy and all(" yes " in line for line in wqy)  # embedded


def test_xlsx_keeps_numbers_money_and_local_times() -> None:
    frame = pd.DataFrame(
        {
            "站点": ["一号站", "二号站"],
            "达标率 (%)": [97.25, 88.0],
            "金额 (元)": [Decimal("1234.56"), Decimal("0.01")],
            "时间": [datetime(2026, 12, 1, 0, 0, tzinfo=UTC)] * 2,
        }
    )
    wb = load_workbook(io.BytesIO(xlsx_bytes({"日报/站点": frame, "x" * 40: frame})))
    assert wb.sheetnames == ["日报_站点", "x" * 31]
    ws = wb["日报_站点"]
    assert [c.value for c in ws[1]] == list(frame.columns)
    assert ws["B2"].value == 97.25 and ws["C2"].value == pytest.approx(1234.56)
    assert ws["D2"].value == datetime(2026, 12, 1, 8, 0)  # Asia/Shanghai wall time


def test_csv_opens_in_excel_with_chinese() -> None:
    assert csv_bytes(pd.DataFrame({"站": ["一号"]})).startswith(b"\xef\xbb\xbf")
