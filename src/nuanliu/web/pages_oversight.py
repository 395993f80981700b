"""Regulator oversight pages: the report archive and today's brief (with PDF/XLSX
downloads and "create an order from this finding"), supervision orders (list, create,
answer, verify), licences, evaluations and exit flags. Regulators and enterprises
(admin, operator) only; every page filters to what the user may see."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from nuanliu.api.deps import CurrentUser, StoreDep, csrf_protect
from nuanliu.errors import InvalidInput, NotFound
from nuanliu.oversight import evaluation as ev
from nuanliu.oversight import exit as ex
from nuanliu.oversight import licences as lc
from nuanliu.oversight import orders as od
from nuanliu.oversight.attachments import add_attachment, get_attachment
from nuanliu.oversight.scorecard import list_scorecards, parse_scorecard, save_scorecard
from nuanliu.reports import archive
from nuanliu.reports.scopes import (
    ReportScope,
    check_may_see,
    default_scope,
)
from nuanliu.web.auth import PageUser
from nuanliu.web.context import base_context, label
from nuanliu.web.export import download
from nuanliu.web.i18n import choose_lang
from nuanliu.web.pages import forbidden_page, login_redirect, not_found_page
from nuanliu.web.templating import render

router = APIRouter(include_in_schema=False)
LOCAL = ZoneInfo("Asia/Shanghai")
CSRF = [Depends(csrf_protect)]


def _gate(request: Request, user: Any) -> Response | None:
    """Log in first; only regulators and enterprise staff have oversight pages."""
    if user is None:
        return login_redirect(request)
    if od.side_of(user) is None:
        return forbidden_page(request, user)
    return None


def _ctx(request: Request, user: Any, nav: str = "oversight") -> dict[str, Any]:
    return {**base_context(request, user, nav), "is_regulator": od.side_of(user) == od.REGULATOR}


def _visible_enterprises(store: Any, user: Any) -> list[str]:
    from nuanliu.api.routes.oversight import visible_enterprises

    return visible_enterprises(store, user)


def _enterprise_names(store: Any, lang: str) -> dict[str, str]:
    with store.read() as q:
        rows = q.all("SELECT enterprise_id, name_zh, name_en FROM enterprises")
    return {str(e): str((en if lang == "en" else zh) or zh or e) for e, zh, en in rows}


# ------------------------------------------------------------------ reports


def _visible_reports(store: Any, user: Any) -> list[archive.ArchivedReport]:
    out = []
    for r in archive.list_reports(store, limit=10_000):
        try:
            check_may_see(store, user, ReportScope.parse(r.scope_key))
        except NotFound:
            continue
        out.append(r)
    return out


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, user: PageUser, store: StoreDep) -> Response:
    if (gate := _gate(request, user)) is not None:
        return gate
    rs = default_scope(store, user)
    yesterday = datetime.now(UTC).astimezone(LOCAL).date() - timedelta(days=1)
    ctx = {
        **_ctx(request, user, "reports"),
        "reports": _visible_reports(store, user)[:200],
        "scope_key": rs.key,
        "default_day": yesterday.isoformat(),
    }
    return render(request, "reports/index.html", ctx)


@router.get("/reports/today")
def reports_today(request: Request, user: PageUser, store: StoreDep) -> Response:
    """The newest daily brief of the user's own scope."""
    if (gate := _gate(request, user)) is not None:
        return gate
    found = archive.latest(store, "daily", default_scope(store, user).key)
    return RedirectResponse(f"/reports/{found.report_id}" if found else "/reports", status_code=303)


@router.post("/reports/generate", dependencies=CSRF)
def reports_generate(
    request: Request,
    user: CurrentUser,
    store: StoreDep,
    kind: str = Form(...),
    scope: str = Form(...),
    day: str = Form(...),
) -> Response:
    from nuanliu.reports.daily import build_daily
    from nuanliu.reports.weekly import build_weekly

    if (deny := _regulator_only(request, user)) is not None:
        return deny
    rs = ReportScope.parse(scope)
    check_may_see(store, user, rs)
    when = _parse_day(day, "day")
    brief = build_daily(store, rs, when) if kind == "daily" else build_weekly(store, rs, when)
    report = archive.save_report(store, brief, by=user.username)
    return RedirectResponse(f"/reports/{report.report_id}", status_code=303)


def _parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{field} {text!r} is not a date YYYY-MM-DD", details={"field": field, "value": text}
        ) from None


def _report_for(
    request: Request, user: Any, store: Any, report_id: str
) -> archive.ArchivedReport | None:
    try:
        r = archive.get_report(store, report_id)
        check_may_see(store, user, ReportScope.parse(r.scope_key))
    except NotFound:
        return None
    return r


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: str, user: PageUser, store: StoreDep) -> Response:
    if (gate := _gate(request, user)) is not None:
        return gate
    r = _report_for(request, user, store, report_id)
    if r is None:
        return not_found_page(request, user)
    lang, _ = choose_lang(request)
    findings = [
        (i, f) for i, f in enumerate(r.summary.get("findings", [])) if f.get("enterprise_id")
    ]
    ctx = {
        **_ctx(request, user, "reports"),
        "report": r,
        "body": archive.report_content(store, report_id, f"html_{lang}"),
        "order_findings": findings,
    }
    return render(request, "reports/view.html", ctx)


@router.get("/reports/{report_id}/{fmt}")
def report_file(
    request: Request, report_id: str, fmt: str, user: PageUser, store: StoreDep
) -> Response:
    if (gate := _gate(request, user)) is not None:
        return gate
    r = _report_for(request, user, store, report_id)
    if r is None or fmt not in ("pdf", "xlsx"):
        return not_found_page(request, user)
    stem = f"{r.kind}-{r.scope_key.replace(':', '-')}-{r.first_day.isoformat()}-v{r.version}"
    return download(archive.report_content(store, report_id, fmt), f"{stem}.{fmt}")


# ------------------------------------------------------------------ orders


@router.get("/oversight/orders", response_class=HTMLResponse)
def orders_page(request: Request, user: PageUser, store: StoreDep, state: str = "open") -> Response:
    if (gate := _gate(request, user)) is not None:
        return gate
    lang, _ = choose_lang(request)
    states = od.OPEN_STATES if state == "open" else None
    orders = od.list_orders(store, user, states=states)
    ents = sorted({o.enterprise_id for o in orders})
    ctx = {
        **_ctx(request, user, "orders"),
        "orders": orders,
        "state": state,
        "names": _enterprise_names(store, lang),
        "licence": lc.licence_states(store, ents, datetime.now(UTC).astimezone(LOCAL).date()),
    }
    return render(request, "oversight/orders.html", ctx)


@router.get("/oversight/orders/new", response_class=HTMLResponse)
def order_new_page(
    request: Request, user: PageUser, store: StoreDep, report: str = "", finding: int = -1
) -> Response:
    if (gate := _gate(request, user)) is not None:
        return gate
    if (deny := _regulator_only(request, user)) is not None:
        return deny
    lang, _ = choose_lang(request)
    prefill: dict[str, Any] = {"subject_level": "enterprise", "evidence": ""}
    if report:
        r = _report_for(request, user, store, report)
        found = r.summary.get("findings", []) if r else []
        if r is None or not 0 <= finding < len(found):
            return not_found_page(request, user)
        f = found[finding]
        prefill = {
            "enterprise_id": f["enterprise_id"],
            "subject_level": f["level"],
            "subject_id": f["unit_id"],
            "problem_zh": f["text_zh"],
            "problem_en": f["text_en"],
            "evidence": f"/reports/{r.report_id}#findings",
        }
    deadline = (datetime.now(UTC).astimezone(LOCAL).date() + timedelta(days=7)).isoformat()
    ents = _visible_enterprises(store, user)
    names = _enterprise_names(store, lang)
    ctx = {
        **_ctx(request, user, "orders"),
        "prefill": prefill,
        "deadline": deadline,
        "enterprises": [(e, names.get(e, e)) for e in ents],
        "levels": od.SUBJECT_LEVELS,
    }
    return render(request, "oversight/order_new.html", ctx)


@router.post("/oversight/orders", dependencies=CSRF)
def order_create(
    request: Request,
    user: CurrentUser,
    store: StoreDep,
    enterprise_id: str = Form(...),
    subject_level: str = Form(...),
    subject_id: str = Form(...),
    problem_zh: str = Form(...),
    problem_en: str = Form(""),
    evidence: str = Form(""),
    deadline: str = Form(...),
) -> Response:
    if enterprise_id not in _visible_enterprises(store, user):
        return not_found_page(request, user)
    end = datetime.combine(_parse_day(deadline, "deadline"), time(23, 59), tzinfo=LOCAL).astimezone(
        UTC
    )
    o = od.create_order(
        store,
        enterprise_id=enterprise_id,
        subject_level=subject_level,
        subject_id=subject_id,
        problem_zh=problem_zh,
        problem_en=problem_en,
        evidence=[e.strip() for e in evidence.splitlines() if e.strip()],
        deadline=end,
        by=user,
    )
    return RedirectResponse(f"/oversight/orders/{o.order_id}", status_code=303)


@router.get("/oversight/orders/{order_id}", response_class=HTMLResponse)
def order_page(request: Request, order_id: str, user: PageUser, store: StoreDep) -> Response:
    if (gate := _gate(request, user)) is not None:
        return gate
    try:
        o = od.visible_order(store, user, order_id)
    except NotFound:
        return not_found_page(request, user)
    lang, _ = choose_lang(request)
    ctx = {
        **_ctx(request, user, "orders"),
        "o": o,
        "events": od.order_events(store, order_id),
        "actions": od.allowed_actions(o, user),
        "names": _enterprise_names(store, lang),
        "handler_name": label(store, "region", o.handler_region_id, lang),
        "licence": lc.licence_states(
            store, [o.enterprise_id], datetime.now(UTC).astimezone(LOCAL).date()
        ),
    }
    return render(request, "oversight/order.html", ctx)


@router.post("/oversight/orders/{order_id}/act", dependencies=CSRF)
async def order_act(
    request: Request,
    order_id: str,
    user: CurrentUser,
    store: StoreDep,
    action: str = Form(...),
    note: str = Form(""),
    files: list[UploadFile] = File(default_factory=list),
) -> Response:
    from starlette.concurrency import run_in_threadpool

    try:
        await run_in_threadpool(od.visible_order, store, user, order_id)
    except NotFound:
        return not_found_page(request, user)
    ids = []
    for f in files:
        if f.filename:
            content = await f.read()
            ids.append(
                await run_in_threadpool(
                    add_attachment,
                    store,
                    "order",
                    order_id,
                    f.filename,
                    f.content_type or "application/octet-stream",
                    content,
                    user.username,
                )
            )
    await run_in_threadpool(
        od.transition, store, order_id, action, by=user, note=note, attachment_ids=ids
    )
    return RedirectResponse(f"/oversight/orders/{order_id}", status_code=303)


@router.get("/oversight/attachments/{attachment_id}")
def attachment_file(
    request: Request, attachment_id: str, user: PageUser, store: StoreDep
) -> Response:
    if (gate := _gate(request, user)) is not None:
        return gate
    try:
        att = get_attachment(store, attachment_id)
        if att["owner_kind"] != "order":
            raise NotFound("not an order attachment")
        od.visible_order(store, user, att["owner_id"])
    except NotFound:
        return not_found_page(request, user)
    return download(att["content"], att["filename"])


# ------------------------------------------------------------------ licences, evaluations, exit


@router.get("/oversight/licences", response_class=HTMLResponse)
def licences_page(request: Request, user: PageUser, store: StoreDep) -> Response:
    if (gate := _gate(request, user)) is not None:
        return gate
    lang, _ = choose_lang(request)
    today = datetime.now(UTC).astimezone(LOCAL).date()
    lics = lc.list_licences(store, _visible_enterprises(store, user))
    rows = [
        (x, x.state_on(today), x.expires_within(today), lc.state_label(x.state_on(today), lang))
        for x in lics
    ]
    ctx = {**_ctx(request, user, "licences"), "rows": rows, "names": _enterprise_names(store, lang)}
    return render(request, "oversight/licences.html", ctx)


@router.get("/oversight/evaluations", response_class=HTMLResponse)
def evaluations_page(request: Request, user: PageUser, store: StoreDep, id: str = "") -> Response:
    if (gate := _gate(request, user)) is not None:
        return gate
    lang, _ = choose_lang(request)
    mine = _visible_enterprises(store, user)
    runs = [
        r
        for r in ev.list_evaluations(store)
        if ev.evaluation_results(store, r["evaluation_id"], mine)["results"]
    ]
    chosen = id or (runs[0]["evaluation_id"] if runs else "")
    detail = None
    if chosen:
        try:
            detail = ev.evaluation_results(store, chosen, mine)
        except NotFound:
            return not_found_page(request, user)
        if not detail["results"]:
            return not_found_page(request, user)
    today = datetime.now(UTC).astimezone(LOCAL).date()
    ctx = {
        **_ctx(request, user, "evaluations"),
        "runs": runs,
        "detail": detail,
        "chosen": chosen,
        "names": _enterprise_names(store, lang),
        "licence": lc.licence_states(store, mine, today),
        "scorecards": list_scorecards(store),
        "regions": [(r, label(store, "region", r, lang)) for r in user.scope_ids],
        "enterprises": mine,
        "today": today.isoformat(),
        "month_start": today.replace(day=1).isoformat(),
    }
    return render(request, "oversight/evaluations.html", ctx)


def _regulator_only(request: Request, user: Any) -> Response | None:
    """403 unless ``user`` is on the regulator's side."""
    if od.side_of(user) != od.REGULATOR:
        return forbidden_page(request, user)
    return None


@router.post("/oversight/scorecards", dependencies=CSRF)
def scorecard_upload(
    request: Request, user: CurrentUser, store: StoreDep, file: UploadFile = File(...)
) -> Response:
    """Load a scorecard file (TOML or JSON) as the next version of its season."""
    if (deny := _regulator_only(request, user)) is not None:
        return deny
    name = file.filename or "scorecard.toml"
    try:
        text = file.file.read().decode("utf-8-sig")
        data = json.loads(text) if name.endswith(".json") else tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"scorecard file {name}: {exc}", details={"file": name}) from exc
    save_scorecard(store, parse_scorecard(data), by=user)
    return RedirectResponse("/oversight/evaluations", status_code=303)


@router.post("/oversight/evaluations/run", dependencies=CSRF)
def evaluation_run(
    request: Request,
    user: CurrentUser,
    store: StoreDep,
    scorecard_id: str = Form(...),
    region_id: str = Form(...),
    period_kind: str = Form(...),
    period_label: str = Form(...),
    first_day: str = Form(...),
    end_day: str = Form(...),
) -> Response:
    if (deny := _regulator_only(request, user)) is not None:
        return deny
    if region_id not in user.scope_ids:
        return not_found_page(request, user)
    eid = ev.run_evaluation(
        store,
        scorecard_id,
        region_id,
        period_kind=period_kind,
        period_label=period_label,
        first_day=_parse_day(first_day, "first_day"),
        end_day=_parse_day(end_day, "end_day"),
        by=user,
    )
    return RedirectResponse(f"/oversight/evaluations?id={eid}", status_code=303)


@router.post("/oversight/evaluations/manual", dependencies=CSRF)
def evaluation_manual(
    request: Request,
    user: CurrentUser,
    store: StoreDep,
    scorecard_id: str = Form(...),
    period_label: str = Form(...),
    enterprise_id: str = Form(...),
    indicator: str = Form(...),
    value: float = Form(...),
    evidence: str = Form(...),
) -> Response:
    if (deny := _regulator_only(request, user)) is not None:
        return deny
    if enterprise_id not in _visible_enterprises(store, user):
        return not_found_page(request, user)
    ev.set_manual_value(
        store, scorecard_id, period_label, enterprise_id, indicator, value, evidence, by=user
    )
    return RedirectResponse("/oversight/evaluations", status_code=303)


@router.post("/oversight/exit/rule", dependencies=CSRF)
def exit_rule(
    request: Request,
    user: CurrentUser,
    store: StoreDep,
    failing_periods: int = Form(...),
    period_kind: str = Form(...),
    unrectified_orders: int = Form(...),
) -> Response:
    if (deny := _regulator_only(request, user)) is not None:
        return deny
    ex.save_rule(store, ex.ExitRule(failing_periods, period_kind, unrectified_orders), by=user)
    ex.check_all(store)
    return RedirectResponse("/oversight/exit", status_code=303)


@router.get("/oversight/exit", response_class=HTMLResponse)
def exit_page(request: Request, user: PageUser, store: StoreDep) -> Response:
    if (gate := _gate(request, user)) is not None:
        return gate
    if (deny := _regulator_only(request, user)) is not None:
        return deny
    lang, _ = choose_lang(request)
    ctx = {
        **_ctx(request, user, "exit"),
        "flags": ex.list_flags(store, _visible_enterprises(store, user)),
        "names": _enterprise_names(store, lang),
        "decisions": ex.DECISIONS,
        "rule": ex.load_rule(store),
    }
    return render(request, "oversight/exit.html", ctx)


@router.post("/oversight/exit/{flag_id}", dependencies=CSRF)
def exit_decide(
    request: Request,
    flag_id: str,
    user: CurrentUser,
    store: StoreDep,
    decision: str = Form(...),
    note: str = Form(""),
) -> Response:
    try:
        flag = ex.get_flag(store, flag_id)
        if od.side_of(user) != od.REGULATOR or flag["enterprise_id"] not in _visible_enterprises(
            store, user
        ):
            raise NotFound(f"exit flag {flag_id!r} not found")
    except NotFound:
        return not_found_page(request, user)
    ex.decide(store, flag_id, decision, note, by=user)
    return RedirectResponse("/oversight/exit", status_code=303)
