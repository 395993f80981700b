"""The brief a report is made of: its scope, period, data time, tables and findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from nuanliu.reports.scopes import ReportScope


@dataclass(frozen=True)
class BriefRules:
    """Thresholds of the finding rules (configurable per call)."""

    rate_drop_pp: float = 1.0  # an enterprise's rate fell more than this on the day before
    low_rate: float = 0.90  # a station below this share …
    low_days: int = 3  # … for this many days running
    coverage_quota: float = 0.90  # required sensor coverage (default for every enterprise)
    quotas: dict[str, float] = field(default_factory=dict)  # per-enterprise coverage quotas
    offline_share_max: float = 0.10  # more offline sensors than this share is a finding
    cold_run_h: int = 6  # a cold (or overheated) home: this many hours in a row
    long_cold_h: int = 12  # cold this long is named in a finding
    top_n: int = 10  # rows in the "worst" lists
    next_days: int = 3  # weather forecast days
    licence_warn_days: int = 60  # a licence ending this soon is a finding
    # Hour rates (the monitor's household-hour compliance) for the day and the two days
    # compared; they cost most of a large brief (see bench/reports.py). False: "–".
    hour_rates: bool = True

    def quota(self, enterprise_id: str) -> float:
        return float(self.quotas.get(enterprise_id, self.coverage_quota))


@dataclass(frozen=True)
class RowRef:
    """A link from a finding to the rows behind it: a table of the brief and its keys."""

    table: str
    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    """A sentence generated from the numbers by a rule, in both languages."""

    rule: str
    level: str
    unit_id: str
    enterprise_id: str | None
    severity: str  # info | warning | critical
    text_zh: str
    text_en: str
    value: float | None
    refs: tuple[RowRef, ...]
    propose_order: bool = False  # the rule proposes a supervision order

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.level}:{self.unit_id}"

    def text(self, lang: str) -> str:
        return self.text_en if lang == "en" else self.text_zh


@dataclass
class Brief:
    kind: str  # daily | weekly
    scope: ReportScope
    name_zh: str
    name_en: str
    first_day: date
    end_day: date  # exclusive
    data_time: datetime  # the instant the numbers are as of (UTC)
    tables: dict[str, pd.DataFrame]
    findings: list[Finding]
    notes: dict[str, Any] = field(default_factory=dict)

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh

    def findings_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "no": i,
                    "rule": f.rule,
                    "severity": f.severity,
                    "level": f.level,
                    "unit_id": f.unit_id,
                    "enterprise_id": f.enterprise_id,
                    "value": f.value,
                    "text_zh": f.text_zh,
                    "text_en": f.text_en,
                }
                for i, f in enumerate(self.findings, start=1)
            ],
            columns=[
                "no",
                "rule",
                "severity",
                "level",
                "unit_id",
                "enterprise_id",
                "value",
                "text_zh",
                "text_en",
            ],
        )
