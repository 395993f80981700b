"""The points table is declared once: the doc page shows exactly it."""

from __future__ import annotations

from pathlib import Path

from nuanliu.telemetry.points import POINTS, markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "telemetry.md"


def test_doc_page_carries_the_generated_table() -> None:
    assert markdown() in DOC.read_text(encoding="utf-8")


def test_every_point_has_a_unit_in_its_name_and_a_sane_range() -> None:
    suffix = {
        "°C": "_c",
        "MPa": "_mpa",
        "m³/h": "_m3_h",
        "kW": "_kw",
        "GJ": "_gj",
        "%": "_pct",
        "m³": "_m3",
    }
    for p in POINTS:
        assert p.name.endswith(suffix[p.unit]), p.name
        assert p.min_value < p.max_value
        assert p.name_zh and p.name_en
