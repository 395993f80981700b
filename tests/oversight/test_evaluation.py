"""Scorecards (weights, a veto, grade bands) against hand computations on the town,
the exit flag after N failing periods, licences (both engines)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from nuanliu import seams
from nuanliu.errors import Conflict, IllegalTransition, InvalidInput
from nuanliu.oversight.evaluation import evaluation_results, run_evaluation, set_manual_value
from nuanliu.oversight.exit import ExitRule, check_exit, decide
from nuanliu.oversight.licences import add_licence, expiring, licence_states, set_state
from nuanliu.oversight.scorecard import (
    EXAMPLES_DIR,
    load_scorecard_file,
    parse_scorecard,
    save_scorecard,
)
from tests.oversight.conftest import CITY_REGULATOR
from tests.reports.town import D

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
CARD = {
    "name_zh": "测试",
    "season": "2026-2027",
    "pass_grades": ["A", "B"],
    "indicators": [
        {"key": "compliance_rate", "points": 50, "weight": 2, "tiers": [[0.98, 1.0], [0.80, 0.5]]},
        {"key": "sensor_coverage", "points": 20, "tiers": [[0.95, 1.0]]},
        {"key": "safety_incidents", "points": 30, "direction": "lower", "tiers": [[1, 1.0]]},
    ],
    "vetoes": [{"indicator": "compliance_rate", "below": 0.90}],
    "grades": [
        {"grade": "C", "min_points": 0},
        {"grade": "A", "min_points": 140},
        {"grade": "B", "min_points": 100},
    ],
}


def _run(store: Any, sid: str, label: str, first: date) -> str:
    return run_evaluation(
        store,
        sid,
        "C",
        period_kind="month",
        period_label=label,
        first_day=first,
        end_day=first + timedelta(days=7),
        by=CITY_REGULATOR,
        now=NOW,
    )


def test_scorecard_weights_veto_and_grades_by_hand(town: Any) -> None:
    card = save_scorecard(town, parse_scorecard(CARD), by=CITY_REGULATOR)
    assert card.max_points == 150 and card.version == 1
    set_manual_value(
        town,
        card.scorecard_id,
        "w48",
        "E1",
        "safety_incidents",
        0,
        "安监通报 2026-11",
        by=CITY_REGULATOR,
    )
    set_manual_value(
        town,
        card.scorecard_id,
        "w48",
        "E2",
        "safety_incidents",
        2,
        "事故报告 No.7",
        by=CITY_REGULATOR,
    )
    ev = _run(town, card.scorecard_id, "w48", D - timedelta(days=6))
    out = evaluation_results(town, ev)
    res = {r["enterprise_id"]: r for r in out["results"]}
    # compliance over the week: E1 28/28, E2 23/28 = 0.821, E3 13/20 = 0.65
    assert (res["E1"]["total_points"], res["E2"]["total_points"], res["E3"]["total_points"]) == (
        150,
        70,
        0,
    )
    assert (res["E1"]["grade"], res["E1"]["passed"], res["E1"]["rank"]) == ("A", True, 1)
    assert res["E2"]["vetoed"] and res["E2"]["grade"] == "C" and not res["E2"]["passed"]
    assert res["E2"]["veto_reasons"][0]["value"] == pytest.approx(23 / 28)
    items = {(i["enterprise_id"], i["indicator"]): i for i in out["items"]}
    comp = items[("E2", "compliance_rate")]
    assert comp["basis"]["compliant_days"] == 23 and comp["basis"]["reporting_days"] == 28
    assert comp["basis"]["function"].endswith("drilldown") and comp["points"] == 50
    assert (
        items[("E3", "sensor_coverage")]["value"] == 0.75
        and items[("E3", "sensor_coverage")]["points"] == 0
    )
    assert items[("E3", "safety_incidents")]["source"] == "missing"
    assert items[("E1", "safety_incidents")]["source"] == "manual"
    assert items[("E1", "safety_incidents")]["basis"]["evidence"] == "安监通报 2026-11"
    # a second version of the season's scorecard keeps the first
    assert save_scorecard(town, parse_scorecard(CARD)).version == 2


def test_complaint_indicators_need_a_provider(town: Any) -> None:
    card = save_scorecard(town, load_scorecard_file(EXAMPLES_DIR / "tiers_example.toml"))
    with seams.override("complaints", None):
        out = evaluation_results(town, _run(town, card.scorecard_id, "m1", D - timedelta(days=6)))
    items = {(i["enterprise_id"], i["indicator"]): i for i in out["items"]}
    assert items[("E1", "satisfaction_rate")]["source"] == "missing"
    assert items[("E1", "satisfaction_rate")]["value"] is None

    def fake(store: Any, *, level: str, ids: Any, start: Any, end: Any) -> list:
        return [seams.ComplaintStats("enterprise", "E1", 4, 4, 0, 1.0, 1.0, 0.96, 0.5, 25.0)]

    with seams.override("complaints", fake):
        out = evaluation_results(town, _run(town, card.scorecard_id, "m2", D - timedelta(days=6)))
    items = {(i["enterprise_id"], i["indicator"]): i for i in out["items"]}
    # mean 22.0 °C → 40; satisfaction 96 % → 30; 2.5 complaints per 100 households → 30
    assert items[("E1", "mean_temp_c")]["points"] == 40
    assert items[("E1", "satisfaction_rate")]["points"] == 30
    assert items[("E1", "complaint_rate_pct")]["value"] == 2.5
    res = {r["enterprise_id"]: r for r in out["results"]}
    assert res["E1"]["total_points"] == 100 and res["E1"]["grade"] == "A"


def test_fee_collection_comes_through_the_billing_seam(town: Any) -> None:
    card = save_scorecard(
        town,
        parse_scorecard(
            {
                **CARD,
                "indicators": [{"key": "fee_collection", "points": 10, "tiers": [[0.95, 1.0]]}],
                "vetoes": [],
            }
        ),
    )

    def rates(store: Any, *, level: str, ids: Any, season: str) -> list:
        assert season == "2026-2027"
        return [
            seams.CollectionStats("enterprise", "E1", season, Decimal("100"), Decimal("96"), 0.96)
        ]

    with seams.override("collection", rates):
        out = evaluation_results(town, _run(town, card.scorecard_id, "fee", D - timedelta(days=6)))
    items = {(i["enterprise_id"], i["indicator"]): i for i in out["items"]}
    assert items[("E1", "fee_collection")]["points"] == 10
    assert items[("E1", "fee_collection")]["basis"]["paid_yuan"] == "96"
    assert items[("E2", "fee_collection")]["source"] == "missing"


def test_example_scorecards_load() -> None:
    prov = load_scorecard_file(EXAMPLES_DIR / "province_200_example.toml")
    assert prov.max_points == 200 and [g for g, _ in prov.grades] == ["red", "yellow", "black"]
    assert prov.grade(175, False) == "red" and prov.grade(174.9, False) == "yellow"
    assert prov.grade(119, False) == "black" and prov.grade(199, True) == "black"
    assert "example" in prov.source.lower()
    with pytest.raises(InvalidInput, match="missing 'points'"):
        parse_scorecard({**CARD, "indicators": [{"key": "x", "tiers": []}]})


def test_exit_flag_after_n_failing_periods_and_the_decision(town: Any) -> None:
    lic = add_licence(
        town,
        licence_no="L-E2",
        enterprise_id="E2",
        holder_name="热力2",
        valid_from=D - timedelta(days=100),
        valid_to=D + timedelta(days=30),
        by=CITY_REGULATOR,
    )
    card = save_scorecard(town, parse_scorecard(CARD))
    rule = ExitRule(failing_periods=2, period_kind="month", unrectified_orders=5)
    _run(town, card.scorecard_id, "2026-10", D - timedelta(days=6))
    assert check_exit(town, "E2", rule, now=NOW) is None  # one failing period
    _run(town, card.scorecard_id, "2026-11", D - timedelta(days=6))
    flag = check_exit(town, "E2", rule, now=NOW)
    assert flag is not None and flag["state"] == "open"
    assert [e["period"] for e in flag["evidence"]["failed_in_a_row"]] == ["2026-10", "2026-11"]
    assert check_exit(town, "E1", rule, now=NOW) is None  # passed both
    assert check_exit(town, "E2", rule, now=NOW)["flag_id"] == flag["flag_id"]  # not twice
    decided = decide(town, flag["flag_id"], "suspension", "连续两期考核不合格", by=CITY_REGULATOR)
    assert decided["decision"] == "suspension"
    assert licence_states(town, ["E2"], D) == {"E2": "suspended"}
    with pytest.raises(IllegalTransition):
        decide(town, flag["flag_id"], "revocation", "again", by=CITY_REGULATOR)
    assert lic.licence_id


def test_licences_states_history_and_expiry(town: Any) -> None:
    a = add_licence(
        town,
        licence_no="L-1",
        enterprise_id="E1",
        holder_name="热力1",
        valid_from=D - timedelta(days=300),
        valid_to=D + timedelta(days=20),
    )
    add_licence(
        town,
        licence_no="L-3",
        enterprise_id="E3",
        holder_name="热力3",
        valid_from=D - timedelta(days=400),
        valid_to=D - timedelta(days=1),
    )
    assert licence_states(town, ["E1", "E2", "E3"], D) == {
        "E1": "valid",
        "E2": "none",
        "E3": "expired",
    }
    assert [x.licence_no for x in expiring(town, D)] == ["L-1"]
    with pytest.raises(Conflict):
        add_licence(
            town, licence_no="L-1", enterprise_id="E1", holder_name="x", valid_from=D, valid_to=D
        )
    with pytest.raises(InvalidInput, match="needs a reason"):
        set_state(town, a.licence_id, "suspended", " ")
    set_state(town, a.licence_id, "suspended", "整改期间")
    set_state(town, a.licence_id, "revoked", "拒不整改")
    with pytest.raises(Conflict, match="cannot go from revoked"):
        set_state(town, a.licence_id, "valid", "申诉")
    assert licence_states(town, ["E1"], D) == {"E1": "revoked"}
