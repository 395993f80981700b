"""Regulator oversight over the API: reports (daily/weekly archive and downloads),
supervision orders, licences, scorecards, evaluations and exit decisions.

Regulators see everything of the enterprises in their regions, create orders, run
evaluations and decide; an enterprise (admin, operator) sees and answers only its own
orders and sees only its own scores; stewards, residents and gateways get 403. An
object outside the caller's scope is 404 (its existence is not revealed).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from nuanliu.api.accounts import User
from nuanliu.api.deps import CurrentUser, StoreDep, csrf_protect
from nuanliu.api.routes import API_PREFIX
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.errors import NotFound, PermissionDenied
from nuanliu.oversight import evaluation as ev
from nuanliu.oversight import exit as ex
from nuanliu.oversight import licences as lc
from nuanliu.oversight import orders as od
from nuanliu.oversight.attachments import add_attachment, get_attachment, list_attachments
from nuanliu.oversight.scorecard import list_scorecards, parse_scorecard, save_scorecard
from nuanliu.reports import archive
from nuanliu.reports.scopes import ReportScope, check_may_see, enterprise_region, region_chain
from nuanliu.web.export import download

router = APIRouter(
    prefix=API_PREFIX,
    tags=["oversight"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(csrf_protect)],
)


def _side(user: User) -> str:
    side = od.side_of(user)
    if side is None:
        raise PermissionDenied(
            f"role {user.role} has no oversight access", details={"role": str(user.role)}
        )
    return side


def _regulator(user: CurrentUser) -> User:
    if _side(user) != od.REGULATOR:
        raise PermissionDenied("only a regulator may do this", details={"role": str(user.role)})
    return user


def _party(user: CurrentUser) -> User:
    _side(user)
    return user


Regulator = Annotated[User, Depends(_regulator)]
Party = Annotated[User, Depends(_party)]


def visible_enterprises(store: Any, user: User) -> list[str]:
    if _side(user) == od.ENTERPRISE:
        return list(user.scope_ids)
    with store.read() as q:
        ents = [str(r[0]) for r in q.all("SELECT enterprise_id FROM enterprises ORDER BY 1")]
    mine = set(user.scope_ids)
    return [e for e in ents if mine & set(region_chain(store, enterprise_region(store, e)))]


# ------------------------------------------------------------------ reports


class GenerateBody(BaseModel):
    kind: str = Field(pattern="^(daily|weekly)$")
    scope: str
    day: date


@router.get("/reports", operation_id="reports_list", summary="Archived reports I may see")
def reports_list(
    store: StoreDep, user: Party, kind: str | None = Query(default=None)
) -> list[dict[str, Any]]:
    out = []
    for r in archive.list_reports(store, kind=kind, limit=10_000):
        try:
            check_may_see(store, user, ReportScope.parse(r.scope_key))
        except NotFound:
            continue
        out.append(r.public())
    return out[:500]


@router.post("/reports", operation_id="reports_generate", summary="Generate and archive a report")
def reports_generate(store: StoreDep, user: Regulator, body: GenerateBody) -> dict[str, Any]:
    from nuanliu.reports.daily import build_daily
    from nuanliu.reports.weekly import build_weekly

    rs = ReportScope.parse(body.scope)
    check_may_see(store, user, rs)
    brief = (
        build_daily(store, rs, body.day)
        if body.kind == "daily"
        else build_weekly(store, rs, body.day)
    )
    return archive.save_report(store, brief, by=user.username).public()


def _report(store: Any, user: User, report_id: str) -> archive.ArchivedReport:
    r = archive.get_report(store, report_id)
    check_may_see(store, user, ReportScope.parse(r.scope_key))
    return r


@router.get("/reports/{report_id}", operation_id="reports_get", summary="One archived report")
def reports_get(store: StoreDep, user: Party, report_id: str) -> dict[str, Any]:
    return _report(store, user, report_id).public()


@router.get(
    "/reports/{report_id}/file/{fmt}",
    operation_id="reports_file",
    summary="The archived PDF, XLSX or HTML (zh/en) unchanged",
)
def reports_file(store: StoreDep, user: Party, report_id: str, fmt: str) -> Response:
    r = _report(store, user, report_id)
    stem = f"{r.kind}-{r.scope_key.replace(':', '-')}-{r.first_day.isoformat()}-v{r.version}"
    if fmt in ("pdf", "xlsx"):
        return download(archive.report_content(store, report_id, fmt), f"{stem}.{fmt}")
    if fmt in ("html_zh", "html_en"):
        return HTMLResponse(archive.report_content(store, report_id, fmt))
    raise NotFound(f"report format {fmt!r} not found", details={"format": fmt})


# ------------------------------------------------------------------ orders


class OrderBody(BaseModel):
    enterprise_id: str
    subject_level: str = "enterprise"
    subject_id: str
    problem_zh: str = Field(min_length=1, max_length=2000)
    problem_en: str = Field(default="", max_length=2000)
    evidence: list[str] = Field(default_factory=list, max_length=50)
    deadline: datetime


class ActionBody(BaseModel):
    note: str = Field(default="", max_length=4000)
    attachment_ids: list[str] = Field(default_factory=list, max_length=20)


def _order_out(store: Any, user: User, o: od.Order) -> dict[str, Any]:
    return {**o.public(), "allowed_actions": od.allowed_actions(o, user)}


@router.get("/oversight/orders", operation_id="orders_list", summary="Supervision orders I may see")
def orders_list(store: StoreDep, user: Party) -> list[dict[str, Any]]:
    return [_order_out(store, user, o) for o in od.list_orders(store, user)]


@router.post(
    "/oversight/orders", operation_id="orders_create", summary="Create a supervision order"
)
def orders_create(store: StoreDep, user: Regulator, body: OrderBody) -> dict[str, Any]:
    if body.enterprise_id not in visible_enterprises(store, user):
        raise NotFound(
            f"enterprise {body.enterprise_id!r} not found",
            details={"enterprise_id": body.enterprise_id},
        )
    o = od.create_order(
        store,
        enterprise_id=body.enterprise_id,
        subject_level=body.subject_level,
        subject_id=body.subject_id,
        problem_zh=body.problem_zh,
        problem_en=body.problem_en,
        evidence=body.evidence,
        deadline=body.deadline,
        by=user,
    )
    return _order_out(store, user, o)


@router.get(
    "/oversight/orders/{order_id}", operation_id="orders_get", summary="One order with its events"
)
def orders_get(store: StoreDep, user: Party, order_id: str) -> dict[str, Any]:
    o = od.visible_order(store, user, order_id)
    return {**_order_out(store, user, o), "events": od.order_events(store, order_id)}


@router.post(
    "/oversight/orders/{order_id}/attachments",
    operation_id="orders_attach",
    summary="Attach a file to an order (rectification evidence); returns its id",
)
def orders_attach(
    store: StoreDep, user: Party, order_id: str, file: UploadFile = File(...)
) -> dict[str, Any]:
    od.visible_order(store, user, order_id)
    content = file.file.read()
    aid = add_attachment(
        store,
        "order",
        order_id,
        file.filename or "file",
        file.content_type or "application/octet-stream",
        content,
        user.username,
    )
    return {"attachment_id": aid, "bytes": len(content)}


@router.post(
    "/oversight/orders/{order_id}/{action}",
    operation_id="orders_act",
    summary="Move an order: confirm, dismiss, accept, report, close, send_back, cancel",
)
def orders_act(
    store: StoreDep, user: Party, order_id: str, action: str, body: ActionBody
) -> dict[str, Any]:
    o = od.transition(
        store, order_id, action, by=user, note=body.note, attachment_ids=body.attachment_ids
    )
    return _order_out(store, user, o)


def attachment_visible(store: Any, user: User, att: dict[str, Any]) -> bool:
    if att["owner_kind"] == "order":
        try:
            od.visible_order(store, user, att["owner_id"])
        except NotFound:
            return False
        return True
    lic = lc.get_licence(store, att["owner_id"])
    return lic.enterprise_id in visible_enterprises(store, user)


@router.get(
    "/oversight/attachments/{attachment_id}",
    operation_id="attachments_get",
    summary="Download an order attachment or a licence document",
)
def attachments_get(store: StoreDep, user: Party, attachment_id: str) -> Response:
    att = get_attachment(store, attachment_id)
    if not attachment_visible(store, user, att):
        raise NotFound(
            f"attachment {attachment_id!r} not found", details={"attachment_id": attachment_id}
        )
    return download(att["content"], att["filename"])


# ------------------------------------------------------------------ licences


class LicenceBody(BaseModel):
    licence_no: str = Field(min_length=1, max_length=100)
    enterprise_id: str
    holder_name: str = Field(min_length=1, max_length=200)
    valid_from: date
    valid_to: date
    region_ids: list[str] = Field(default_factory=list)
    station_ids: list[str] = Field(default_factory=list)
    heated_area_m2: float | None = None


class LicenceStateBody(BaseModel):
    state: str
    reason: str = Field(min_length=1, max_length=2000)


def _licence_out(store: Any, lic: lc.Licence) -> dict[str, Any]:
    out = dict(lic.__dict__)
    out["state_today"] = lic.state_on(date.today())
    out["expires_soon"] = lic.expires_within(date.today())
    out["documents"] = [
        {"attachment_id": a["attachment_id"], "filename": a["filename"]}
        for a in list_attachments(store, "licence", lic.licence_id)
    ]
    for k in ("valid_from", "valid_to"):
        out[k] = out[k].isoformat()
    return out


@router.get("/oversight/licences", operation_id="licences_list", summary="Licences I may see")
def licences_list(store: StoreDep, user: Party) -> list[dict[str, Any]]:
    return [
        _licence_out(store, x) for x in lc.list_licences(store, visible_enterprises(store, user))
    ]


@router.post("/oversight/licences", operation_id="licences_add", summary="Grant a licence")
def licences_add(store: StoreDep, user: Regulator, body: LicenceBody) -> dict[str, Any]:
    if body.enterprise_id not in visible_enterprises(store, user):
        raise NotFound(
            f"enterprise {body.enterprise_id!r} not found",
            details={"enterprise_id": body.enterprise_id},
        )
    return _licence_out(store, lc.add_licence(store, by=user, **body.model_dump()))


@router.post(
    "/oversight/licences/{licence_id}/state",
    operation_id="licences_state",
    summary="Suspend, reinstate or revoke a licence",
)
def licences_state(
    store: StoreDep, user: Regulator, licence_id: str, body: LicenceStateBody
) -> dict[str, Any]:
    lic = lc.get_licence(store, licence_id)
    if lic.enterprise_id not in visible_enterprises(store, user):
        raise NotFound(f"licence {licence_id!r} not found", details={"licence_id": licence_id})
    return _licence_out(store, lc.set_state(store, licence_id, body.state, body.reason, by=user))


@router.post(
    "/oversight/licences/{licence_id}/documents",
    operation_id="licences_document",
    summary="Attach a document to a licence",
)
def licences_document(
    store: StoreDep, user: Regulator, licence_id: str, file: UploadFile = File(...)
) -> dict[str, Any]:
    lic = lc.get_licence(store, licence_id)
    if lic.enterprise_id not in visible_enterprises(store, user):
        raise NotFound(f"licence {licence_id!r} not found", details={"licence_id": licence_id})
    content = file.file.read()
    aid = add_attachment(
        store,
        "licence",
        licence_id,
        file.filename or "document",
        file.content_type or "application/octet-stream",
        content,
        user.username,
    )
    return {"attachment_id": aid, "bytes": len(content)}


# ------------------------------------------------------------------ evaluation


class EvaluationBody(BaseModel):
    scorecard_id: str
    region_id: str
    period_kind: str
    period_label: str = Field(min_length=1, max_length=50)
    first_day: date
    end_day: date


@router.get("/oversight/scorecards", operation_id="scorecards_list", summary="Scorecard versions")
def scorecards_list(store: StoreDep, user: Regulator) -> list[dict[str, Any]]:
    return list_scorecards(store)


@router.post(
    "/oversight/scorecards", operation_id="scorecards_save", summary="Save a scorecard version"
)
def scorecards_save(store: StoreDep, user: Regulator, body: dict[str, Any]) -> dict[str, Any]:
    card = save_scorecard(store, parse_scorecard(body), by=user)
    return {
        "scorecard_id": card.scorecard_id,
        "version": card.version,
        "max_points": card.max_points,
    }


@router.post("/oversight/evaluations", operation_id="evaluations_run", summary="Run an evaluation")
def evaluations_run(store: StoreDep, user: Regulator, body: EvaluationBody) -> dict[str, Any]:
    if body.region_id not in set(user.scope_ids) and not (
        set(user.scope_ids) & set(region_chain(store, body.region_id))
    ):
        raise NotFound(
            f"region {body.region_id!r} not found", details={"region_id": body.region_id}
        )
    eid = ev.run_evaluation(
        store,
        body.scorecard_id,
        body.region_id,
        period_kind=body.period_kind,
        period_label=body.period_label,
        first_day=body.first_day,
        end_day=body.end_day,
        by=user,
    )
    return ev.evaluation_results(store, eid)


@router.get(
    "/oversight/evaluations", operation_id="evaluations_list", summary="Evaluation runs I may see"
)
def evaluations_list(store: StoreDep, user: Party) -> list[dict[str, Any]]:
    mine = visible_enterprises(store, user)
    out = []
    for run in ev.list_evaluations(store):
        if ev.evaluation_results(store, run["evaluation_id"], mine)["results"]:
            out.append(run)
    return out


@router.get(
    "/oversight/evaluations/{evaluation_id}",
    operation_id="evaluations_get",
    summary="Scores of a run: a regulator all of its region, an enterprise its own",
)
def evaluations_get(store: StoreDep, user: Party, evaluation_id: str) -> dict[str, Any]:
    out = ev.evaluation_results(store, evaluation_id, visible_enterprises(store, user))
    if not out["results"]:
        raise NotFound(
            f"evaluation {evaluation_id!r} not found", details={"evaluation_id": evaluation_id}
        )
    return out


class ManualBody(BaseModel):
    scorecard_id: str
    period_label: str = Field(min_length=1, max_length=50)
    enterprise_id: str
    indicator: str = Field(min_length=1, max_length=100)
    value: float
    evidence: str = Field(min_length=1, max_length=4000)


@router.post(
    "/oversight/manual-values",
    operation_id="manual_value_set",
    summary="Enter an indicator value by hand, with its evidence",
)
def manual_value_set(store: StoreDep, user: Regulator, body: ManualBody) -> dict[str, Any]:
    if body.enterprise_id not in visible_enterprises(store, user):
        raise NotFound(
            f"enterprise {body.enterprise_id!r} not found",
            details={"enterprise_id": body.enterprise_id},
        )
    ev.set_manual_value(
        store,
        body.scorecard_id,
        body.period_label,
        body.enterprise_id,
        body.indicator,
        body.value,
        body.evidence,
        by=user,
    )
    return body.model_dump()


# ------------------------------------------------------------------ exit


class ExitRuleBody(BaseModel):
    failing_periods: int = Field(ge=1, le=100)
    period_kind: str = Field(pattern="^(month|season)$")
    unrectified_orders: int = Field(ge=1, le=1000)


@router.get("/oversight/exit-rule", operation_id="exit_rule_get", summary="The exit rule")
def exit_rule_get(store: StoreDep, user: Regulator) -> dict[str, Any]:
    return ex.load_rule(store).public()


@router.put("/oversight/exit-rule", operation_id="exit_rule_set", summary="Configure the exit rule")
def exit_rule_set(store: StoreDep, user: Regulator, body: ExitRuleBody) -> dict[str, Any]:
    return ex.save_rule(store, ex.ExitRule(**body.model_dump()), by=user).public()


class DecisionBody(BaseModel):
    decision: str
    note: str = Field(min_length=1, max_length=4000)


@router.get("/oversight/exit-flags", operation_id="exit_flags_list", summary="Exit flags")
def exit_flags_list(store: StoreDep, user: Regulator) -> list[dict[str, Any]]:
    return ex.list_flags(store, visible_enterprises(store, user))


@router.post(
    "/oversight/exit-flags/{flag_id}/decision",
    operation_id="exit_decide",
    summary="Record the regulator's decision (the licence follows)",
)
def exit_decide(
    store: StoreDep, user: Regulator, flag_id: str, body: DecisionBody
) -> dict[str, Any]:
    flag = ex.get_flag(store, flag_id)
    if flag["enterprise_id"] not in visible_enterprises(store, user):
        raise NotFound(f"exit flag {flag_id!r} not found", details={"flag_id": flag_id})
    return ex.decide(store, flag_id, body.decision, body.note, by=user)
