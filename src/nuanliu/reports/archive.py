"""The report archive: each generated report kept unchanged (HTML in both languages, the
PDF, the XLSX) with the time of its data, so last Tuesday's brief reads the same next
month. Generating again adds a new version; old versions stay."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from nuanliu.errors import NotFound
from nuanliu.reports import render
from nuanliu.reports.brief import Brief

_META = (
    "report_id, kind, scope_key, first_day, end_day, version, data_time, generated_at,"
    " generated_by, title_zh, title_en, summary"
)


@dataclass(frozen=True)
class ArchivedReport:
    report_id: str
    kind: str
    scope_key: str
    first_day: date
    end_day: date
    version: int
    data_time: datetime
    generated_at: datetime
    generated_by: str
    title_zh: str
    title_en: str
    summary: dict[str, Any]

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def public(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for k in ("first_day", "end_day", "data_time", "generated_at"):
            out[k] = out[k].isoformat()
        return out


def _day(v: Any) -> date:
    return v.date() if isinstance(v, datetime) else v


def _meta(row: tuple) -> ArchivedReport:
    v = list(row)
    v[3], v[4] = _day(v[3]), _day(v[4])
    for i in (6, 7):
        v[i] = v[i].replace(tzinfo=UTC) if v[i].tzinfo is None else v[i].astimezone(UTC)
    v[5] = int(v[5])
    v[11] = json.loads(v[11])
    return ArchivedReport(*v)


def summary(brief: Brief) -> dict[str, Any]:
    """What the archive keeps besides the documents: the findings (for orders) and notes."""
    return {
        "findings": [
            {
                "key": f.key,
                "rule": f.rule,
                "level": f.level,
                "unit_id": f.unit_id,
                "enterprise_id": f.enterprise_id,
                "severity": f.severity,
                "text_zh": f.text_zh,
                "text_en": f.text_en,
                "propose_order": f.propose_order,
            }
            for f in brief.findings
        ],
        "complaints_connected": bool(brief.notes.get("complaints_connected", False)),
    }


def save_report(
    store: Any, brief: Brief, *, by: str, now: datetime | None = None
) -> ArchivedReport:
    """Render the brief once (HTML zh/en, PDF, XLSX) and archive it as a new version."""
    now = now or datetime.now(UTC)
    html_zh = render.body_html(brief, "zh")
    html_en = render.body_html(brief, "en")
    pdf = render.pdf_bytes(brief, "zh", body=html_zh)
    xlsx = render.xlsx(brief, "zh")
    rid = f"RPT-{uuid.uuid4().hex[:12]}"
    with store.write() as w:
        latest = w.one(
            "SELECT MAX(version) FROM rep_reports"
            " WHERE kind = ? AND scope_key = ? AND first_day = ?",
            [brief.kind, brief.scope.key, brief.first_day],
        )
        version = int(latest[0] or 0) + 1 if latest else 1
        w.execute(
            "INSERT INTO rep_reports (report_id, kind, scope_key, first_day, end_day, version,"
            " data_time, generated_at, generated_by, title_zh, title_en, summary, html_zh,"
            " html_en, pdf, xlsx) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                rid,
                brief.kind,
                brief.scope.key,
                brief.first_day,
                brief.end_day,
                version,
                brief.data_time,
                now,
                by,
                render.title(brief, "zh"),
                render.title(brief, "en"),
                json.dumps(summary(brief), ensure_ascii=False),
                html_zh,
                html_en,
                pdf,
                xlsx,
            ],
        )
    return get_report(store, rid)


def get_report(store: Any, report_id: str) -> ArchivedReport:
    with store.read() as q:
        row = q.one(f"SELECT {_META} FROM rep_reports WHERE report_id = ?", [report_id])
    if row is None:
        raise NotFound(f"report {report_id!r} not found", details={"report_id": report_id})
    return _meta(row)


def report_content(store: Any, report_id: str, part: str) -> Any:
    """One stored part: ``html_zh``, ``html_en``, ``pdf`` or ``xlsx`` (bytes for files)."""
    if part not in ("html_zh", "html_en", "pdf", "xlsx"):
        raise NotFound(f"report part {part!r} not found")
    with store.read() as q:
        row = q.one(f"SELECT {part} FROM rep_reports WHERE report_id = ?", [report_id])
    if row is None:
        raise NotFound(f"report {report_id!r} not found", details={"report_id": report_id})
    value = row[0]
    return bytes(value) if isinstance(value, (memoryview, bytearray)) else value


def list_reports(
    store: Any, *, scope_keys: set[str] | None = None, kind: str | None = None, limit: int = 200
) -> list[ArchivedReport]:
    """Newest data first (all versions); only ``scope_keys`` when given."""
    with store.read() as q:
        rows = q.all(
            f"SELECT {_META} FROM rep_reports"
            " ORDER BY first_day DESC, kind, scope_key, version DESC"
        )
    out = [_meta(r) for r in rows]
    if scope_keys is not None:
        out = [r for r in out if r.scope_key in scope_keys]
    if kind is not None:
        out = [r for r in out if r.kind == kind]
    return out[:limit]


def latest(
    store: Any, kind: str, scope_key: str, first_day: date | None = None
) -> ArchivedReport | None:
    """The newest version of the newest (or the given day's) report of a scope."""
    for r in list_reports(store, scope_keys={scope_key}, kind=kind, limit=10_000):
        if first_day is None or r.first_day == first_day:
            return r
    return None
