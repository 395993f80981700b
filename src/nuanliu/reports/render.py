"""A brief as documents: the HTML body (web page and PDF share it), the PDF (through
``nuanliu.documents.render_pdf``) and the XLSX workbook (one sheet per table, numbers
as numbers, units in the headers). Charts are matplotlib SVG (vector) with the CJK font.
"""

from __future__ import annotations

import io
import math
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from nuanliu.documents import render_pdf, xlsx_bytes
from nuanliu.reports import labels
from nuanliu.reports.brief import Brief
from nuanliu.web.i18n import translate

LOCAL = ZoneInfo("Asia/Shanghai")
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
KEY_COLUMNS = (
    "unit_id",
    "station_id",
    "building_id",
    "household_id",
    "enterprise_id",
    "rule_id",
    "day",
    "order_id",
)
SECTION_ORDER = [
    "units",
    "trend",
    "ranking_enterprises",
    "ranking_stations",
    "carried_over",
    "orders",
    "worst_stations",
    "worst_buildings",
    "cold_homes",
    "overheated_homes",
    "coverage",
    "alerts",
    "complaints",
    "weather",
]


# Rows of one table on the page and in the PDF; the XLSX holds every row. Tables are
# ordered so that the rows a regulator acts on (the worst) come first.
MAX_DOCUMENT_ROWS = 60


def cell_text(value: Any, column: str = "") -> str:
    """How a cell reads on the page and in the PDF (the XLSX keeps the number)."""
    if (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    ):
        return "–"
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float):
        return f"{value:.1f}"
    if hasattr(value, "item"):
        return cell_text(value.item(), column)
    return str(value)


def title(brief: Brief, lang: str) -> str:
    key = "daily" if brief.kind == "daily" else "weekly"
    if key == "daily":
        return translate("reports.title_daily", lang, name=brief.name(lang))
    return translate("reports.title_weekly", lang, name=brief.name(lang))


def period_text(brief: Brief) -> str:
    last = brief.end_day - timedelta(days=1)
    if last == brief.first_day:
        return brief.first_day.isoformat()
    return f"{brief.first_day.isoformat()} – {last.isoformat()}"


def data_time_text(brief: Brief) -> str:
    return brief.data_time.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") + " (UTC+8)"


@lru_cache(maxsize=1)
def _font() -> str:
    from matplotlib import font_manager

    font_manager.fontManager.addfont(CJK_FONT)
    return font_manager.FontProperties(fname=CJK_FONT).get_name()


def chart_svg(brief: Brief, lang: str) -> str:
    """Daily: compliance per enterprise today vs. the day before; weekly: the daily trend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    family = _font()
    with plt.rc_context(
        {"font.family": family, "svg.fonttype": "path", "axes.unicode_minus": False}
    ):
        fig, ax = plt.subplots(figsize=(7.0, 2.6))
        if brief.kind == "daily":
            ents = brief.tables["units"]
            ents = ents[ents["level"] == "enterprise"]
            names = ents["name_en" if lang == "en" else "name_zh"].astype(str).tolist()
            x = list(range(len(names)))
            ax.bar(
                [i - 0.2 for i in x],
                ents["rate_prev_pct"].fillna(0),
                width=0.4,
                color="#9db4cc",
                label=labels.header("rate_prev_pct", lang),
            )
            ax.bar(
                [i + 0.2 for i in x],
                ents["rate_pct"].fillna(0),
                width=0.4,
                color="#1f5f99",
                label=labels.header("rate_pct", lang),
            )
            ax.set_xticks(x, names, fontsize=7)
        else:
            trend = brief.tables["trend"]
            ax.plot(
                [str(d)[5:] for d in trend["day"]],
                trend["rate_pct"],
                marker="o",
                color="#1f5f99",
                label=labels.header("rate_pct", lang),
            )
        ax.axhline(90.0, color="#c0392b", linewidth=0.8, linestyle="--")
        ax.set_ylim(0, 100)
        ax.set_ylabel("%")
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.find("<svg") :]


def sections(brief: Brief, lang: str) -> list[dict[str, Any]]:
    """The tables in page order, as header and row texts (the same in HTML and PDF)."""
    out = []
    names = [n for n in SECTION_ORDER if n in brief.tables or n == "complaints"]
    for name in names:
        frame = brief.tables.get(name)
        if frame is None:
            if brief.kind != "daily":
                continue
            out.append(
                {
                    "name": name,
                    "title": labels.title(name, lang),
                    "missing": True,
                    "headers": [],
                    "rows": [],
                }
            )
            continue
        cols = labels.visible_columns(list(frame.columns), lang)
        key = next((c for c in KEY_COLUMNS if c in frame.columns), None)
        rows = []
        for rec in frame.head(MAX_DOCUMENT_ROWS).to_dict("records"):
            rows.append(
                {
                    "anchor": f"{name}-{rec[key]}" if key else "",
                    "cells": [
                        (
                            cell_text(labels.value_label(c, rec[c], lang), c),
                            isinstance(rec[c], (int, float)) and not isinstance(rec[c], bool),
                        )
                        for c in cols
                    ],
                }
            )
        out.append(
            {
                "name": name,
                "title": labels.title(name, lang),
                "missing": False,
                "total_rows": len(frame),
                "headers": [labels.header(c, lang) for c in cols],
                "rows": rows,
            }
        )
    return out


def body_html(brief: Brief, lang: str) -> str:
    """The report body: title, scope, period, data time, findings, chart, tables."""
    from nuanliu.web.templating import environment

    tmpl = environment().get_template("reports/_body.html")
    return tmpl.render(
        lang=lang,
        t=lambda key, **kw: translate(key, lang, **kw),
        title=title(brief, lang),
        scope_name=brief.name(lang),
        period=period_text(brief),
        data_time=data_time_text(brief),
        weather_source=brief.notes.get("weather_source", ""),
        findings=[
            (f.text(lang), f.severity, [f"#{r.table}-{r.values[0]}" for r in f.refs if r.values])
            for f in brief.findings
        ],
        chart=chart_svg(brief, lang),
        sections=sections(brief, lang),
    )


def pdf_bytes(brief: Brief, lang: str = "zh", body: str | None = None) -> bytes:
    when = f"{translate('reports.data_time', lang)} {data_time_text(brief)}"
    head = f"{title(brief, lang)} · {period_text(brief)} · {when}"
    return render_pdf(
        body or body_html(brief, lang),
        header=head,
        footer=brief.scope.key,
        title=title(brief, lang),
    )


def xlsx(brief: Brief, lang: str = "zh") -> bytes:
    """One sheet per table; headers with units; the numbers exactly as in the documents."""
    sheets: dict[str, pd.DataFrame] = {}
    frames = {"findings": brief.findings_frame(), **brief.tables}
    for name in ["findings", *[n for n in SECTION_ORDER if n in brief.tables]]:
        frame = frames[name]
        cols = labels.visible_columns(list(frame.columns), lang)
        out = frame[cols].copy()
        for c in cols:
            if c in labels.VALUES:
                out[c] = out[c].map(lambda v, c=c: labels.value_label(c, v, lang))
        for c in cols:
            if out[c].dtype == object:
                out[c] = out[c].map(
                    lambda v: (
                        v.isoformat() if isinstance(v, date) and not isinstance(v, datetime) else v
                    )
                )
        out.columns = [labels.header(c, lang) for c in cols]
        sheets[labels.title(name, lang)] = out
    return xlsx_bytes(sheets)
