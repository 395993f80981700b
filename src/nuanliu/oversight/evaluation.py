"""Evaluation runs (考核评价): a stored scorecard applied to every enterprise of a
regulator region for a month or a season; results, per-indicator points and their
basis are stored, so runs compare across seasons.

An indicator without data scores 0 and says so (``source = missing``); a hand-entered
value (``set_manual_value``, with evidence) fills indicators the data cannot give.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from nuanliu.errors import InvalidInput, NotFound
from nuanliu.oversight.indicators import compute
from nuanliu.oversight.records import audit, dumps, new_id
from nuanliu.oversight.scorecard import get_scorecard


def set_manual_value(
    store: Any,
    scorecard_id: str,
    period_label: str,
    enterprise_id: str,
    indicator: str,
    value: float,
    evidence: str,
    *,
    by: Any,
) -> None:
    if not evidence.strip():
        raise InvalidInput("a hand-entered value needs its evidence", details={"field": "evidence"})
    get_scorecard(store, scorecard_id)
    now = datetime.now(UTC)
    with store.write() as w:
        w.execute(
            "DELETE FROM ov_manual_values WHERE scorecard_id = ? AND period_label = ?"
            " AND enterprise_id = ? AND indicator = ?",
            [scorecard_id, period_label, enterprise_id, indicator],
        )
        w.execute(
            "INSERT INTO ov_manual_values VALUES (?,?,?,?,?,?,?,?)",
            [
                scorecard_id,
                period_label,
                enterprise_id,
                indicator,
                float(value),
                evidence,
                str(getattr(by, "username", by)),
                now,
            ],
        )
    audit(
        store,
        by,
        "evaluation_manual_value",
        "enterprise",
        enterprise_id,
        None,
        {"indicator": indicator, "value": value, "evidence": evidence},
    )


def _manual(
    store: Any, scorecard_id: str, period_label: str
) -> dict[tuple[str, str], tuple[float, str]]:
    with store.read() as q:
        rows = q.all(
            "SELECT enterprise_id, indicator, value, evidence FROM ov_manual_values"
            " WHERE scorecard_id = ? AND period_label = ?",
            [scorecard_id, period_label],
        )
    return {(str(e), str(i)): (float(v), str(ev)) for e, i, v, ev in rows}


def region_enterprises(store: Any, region_id: str) -> list[str]:
    from nuanliu.reports.scopes import enterprise_region, region_chain

    with store.read() as q:
        ents = [str(r[0]) for r in q.all("SELECT enterprise_id FROM enterprises ORDER BY 1")]
    return [e for e in ents if region_id in region_chain(store, enterprise_region(store, e))]


def run_evaluation(
    store: Any,
    scorecard_id: str,
    region_id: str,
    *,
    period_kind: str,
    period_label: str,
    first_day: date,
    end_day: date,
    by: Any,
    now: datetime | None = None,
) -> str:
    """Score every enterprise of ``region_id`` over ``[first_day, end_day)``; returns the id."""
    if period_kind not in ("month", "season"):
        raise InvalidInput(
            f"period kind {period_kind!r} is not month or season",
            details={"field": "period_kind", "value": period_kind},
        )
    if end_day <= first_day:
        raise InvalidInput("the evaluation period is empty", details={"field": "end_day"})
    now = now or datetime.now(UTC)
    card = get_scorecard(store, scorecard_id)
    ents = region_enterprises(store, region_id)
    values = compute(store, ents, first_day, end_day, now)
    manual = _manual(store, scorecard_id, period_label)
    eid_run = new_id("EV")
    results, items = [], []
    for e in ents:
        total, vetoed, reasons = 0.0, False, []
        known: dict[str, float | None] = {}
        for key in {i.key for i in card.indicators} | {v.indicator for v in card.vetoes}:
            if (e, key) in manual:
                v, ev = manual[(e, key)]
                known[key] = v
                src, basis = "manual", {"evidence": ev}
            elif key in values[e]:
                known[key] = values[e][key].value
                src, basis = (
                    ("data" if values[e][key].value is not None else "missing"),
                    values[e][key].basis,
                )
            else:
                known[key] = None
                src, basis = "missing", {"reason": "no data connected and no value entered"}
            ind = next((i for i in card.indicators if i.key == key), None)
            pts = ind.score(known[key]) if ind else 0.0
            total += pts
            if ind is not None or (e, key) in manual or key in values[e]:
                items.append((eid_run, e, key, known[key], pts, src, dumps(basis)))
        for veto in card.vetoes:
            if veto.fails(known.get(veto.indicator)):
                vetoed = True
                reasons.append(
                    {
                        "indicator": veto.indicator,
                        "value": known.get(veto.indicator),
                        "below": veto.below,
                        "at_least": veto.at_least,
                    }
                )
        grade = card.grade(total, vetoed)
        results.append(
            [
                e,
                round(total, 3),
                card.max_points,
                grade,
                vetoed,
                reasons,
                (not vetoed) and grade in card.pass_grades,
            ]
        )
    results.sort(key=lambda r: (-r[1], r[0]))
    with store.write() as w:
        w.execute(
            "INSERT INTO ov_evaluations VALUES (?,?,?,?,?,?,?,?,?)",
            [
                eid_run,
                scorecard_id,
                region_id,
                period_kind,
                period_label,
                first_day,
                end_day,
                now,
                str(getattr(by, "username", by)),
            ],
        )
        for rank, r in enumerate(results, start=1):
            w.execute(
                "INSERT INTO ov_evaluation_results VALUES (?,?,?,?,?,?,?,?,?)",
                [eid_run, r[0], r[1], r[2], r[3], r[4], dumps(r[5]), r[6], rank],
            )
        w.executemany("INSERT INTO ov_evaluation_items VALUES (?,?,?,?,?,?,?)", items)
    audit(
        store,
        by,
        "evaluation_run",
        "evaluation",
        eid_run,
        None,
        {"scorecard_id": scorecard_id, "region_id": region_id, "period": period_label},
    )
    return eid_run


def evaluation_results(
    store: Any, evaluation_id: str, enterprise_ids: list[str] | None = None
) -> dict[str, Any]:
    """The run, its ranked results and each enterprise's items (visible ones only)."""
    with store.read() as q:
        run = q.dicts("SELECT * FROM ov_evaluations WHERE evaluation_id = ?", [evaluation_id])
        if not run:
            raise NotFound(
                f"evaluation {evaluation_id!r} not found", details={"evaluation_id": evaluation_id}
            )
        res = q.dicts(
            "SELECT * FROM ov_evaluation_results WHERE evaluation_id = ? ORDER BY rank",
            [evaluation_id],
        )
        its = q.dicts(
            "SELECT * FROM ov_evaluation_items WHERE evaluation_id = ?"
            " ORDER BY enterprise_id, indicator",
            [evaluation_id],
        )
    if enterprise_ids is not None:
        keep = set(enterprise_ids)
        res = [r for r in res if r["enterprise_id"] in keep]
        its = [i for i in its if i["enterprise_id"] in keep]
    for r in res:
        r["veto_reasons"] = json.loads(r["veto_reasons"])
        r["vetoed"], r["passed"] = bool(r["vetoed"]), bool(r["passed"])
    for i in its:
        i["basis"] = json.loads(i["basis"])
    return {"evaluation": run[0], "results": res, "items": its}


def list_evaluations(store: Any) -> list[dict[str, Any]]:
    with store.read() as q:
        return q.dicts("SELECT * FROM ov_evaluations ORDER BY first_day DESC, run_at DESC")


def enterprise_history(store: Any, enterprise_id: str, period_kind: str) -> list[dict[str, Any]]:
    """The enterprise's results of ``period_kind`` runs, oldest period first (latest run
    per period)."""
    with store.read() as q:
        rows = q.dicts(
            "SELECT e.evaluation_id, e.period_label, e.first_day, e.run_at, r.grade, r.passed,"
            " r.total_points, r.vetoed FROM ov_evaluations e JOIN ov_evaluation_results r"
            " ON r.evaluation_id = e.evaluation_id WHERE r.enterprise_id = ? AND e.period_kind = ?"
            " ORDER BY e.first_day, e.run_at",
            [enterprise_id, period_kind],
        )
    latest: dict[str, dict[str, Any]] = {}
    for r in rows:
        latest[r["period_label"]] = r
    return sorted(latest.values(), key=lambda r: r["first_day"])
