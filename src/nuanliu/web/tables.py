"""The dashboard's tables as data frames for CSV/XLSX export: the same rows the page
shows (already scoped and masked), with translated headers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from nuanliu.web.i18n import translate
from nuanliu.web.templating import fmt_time


def rollup_frame(rows: list[dict[str, Any]], child_level: str, lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            translate(f"col.{child_level}", lang): [r["label"] for r in rows],
            translate("col.households", lang): [r["households"] for r in rows],
            translate("col.reporting", lang): [r["reporting"] for r in rows],
            translate("col.rate", lang): [
                None if r["rate_pct"] is None else round(r["rate_pct"], 2) for r in rows
            ],
            translate("col.cold", lang): [r["cold"] for r in rows],
            translate("col.overheated", lang): [r["overheated"] for r in rows],
            translate("col.offline", lang): [r["offline"] for r in rows],
            translate("col.mean_temp", lang): [
                None if r["mean_temp_c"] is None else round(r["mean_temp_c"], 2) for r in rows
            ],
            translate("col.id", lang): [r["id"] for r in rows],
        }
    )


def households_frame(rows: list[dict[str, Any]], lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            translate("col.household", lang): [r["label"] for r in rows],
            translate("col.address", lang): [r["address"] for r in rows],
            translate("col.temp", lang): [r["temp_c"] for r in rows],
            translate("col.status", lang): [translate(f"status.{r['status']}", lang) for r in rows],
            translate("col.last_seen", lang): [fmt_time(r["last_ts"]) for r in rows],
            translate("col.household_id", lang): [r["household_id"] for r in rows],
        }
    )


def alerts_frame(rows: list[dict[str, Any]], lang: str) -> pd.DataFrame:
    def state(a: dict[str, Any]) -> str:
        if a["cleared_at"] is not None:
            return translate("alerts.cleared_at", lang, time=fmt_time(a["cleared_at"]))
        if a["acknowledged_at"] is not None:
            return translate(
                "alerts.acked_by",
                lang,
                who=a["acknowledged_by"] or "",
                time=fmt_time(a["acknowledged_at"]),
            )
        return translate("alerts.open_state", lang)

    return pd.DataFrame(
        {
            translate("col.kind", lang): [a["kind"] for a in rows],
            translate("col.opened", lang): [fmt_time(a["opened_at"]) for a in rows],
            translate("col.severity", lang): [
                translate(f"severity.{a['severity']}", lang) for a in rows
            ],
            translate("col.subject", lang): [a["subject"] for a in rows],
            translate("col.detail", lang): [a["detail"] for a in rows],
            translate("col.state", lang): [state(a) for a in rows],
        }
    )
