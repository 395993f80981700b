"""Oversight pages over HTTP (bearer logins of tests/api): who may open which page, and
the regulator's forms — load a scorecard file, run an evaluation, enter a value by hand,
set the exit rule — in both languages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from nuanliu.oversight.exit import load_rule
from nuanliu.oversight.scorecard import EXAMPLES_DIR, list_scorecards
from tests.api.conftest import World, duck_world

__all__ = ["duck_world"]

PAGES = ["/reports", "/oversight/orders", "/oversight/licences", "/oversight/evaluations"]


@pytest.mark.parametrize("persona", ["regulator", "admin_a", "operator_b"])
def test_staff_open_the_pages(duck_world: World, persona: str) -> None:
    for path in PAGES:
        for lang in ("zh", "en"):
            r = duck_world.client.get(f"{path}?lang={lang}", headers=duck_world.auth(persona))
            assert r.status_code == 200, (persona, path, r.text[:200])
    exit_page = duck_world.client.get("/oversight/exit", headers=duck_world.auth(persona))
    assert exit_page.status_code == (200 if persona == "regulator" else 403)


@pytest.mark.parametrize("persona", ["steward_a", "resident_a"])
def test_steward_and_resident_see_none_of_it(duck_world: World, persona: str) -> None:
    for path in [*PAGES, "/oversight/exit", "/reports/today"]:
        r = duck_world.client.get(path, headers=duck_world.auth(persona))
        assert r.status_code == 403, (persona, path)


def test_regulator_forms(duck_world: World) -> None:
    w, auth = duck_world, duck_world.auth("regulator")
    toml = (EXAMPLES_DIR / "province_200_example.toml").read_bytes()
    r = w.client.post(
        "/oversight/scorecards",
        headers=auth,
        follow_redirects=False,
        files={"file": ("province.toml", toml, "application/toml")},
    )
    assert r.status_code == 303
    (card,) = list_scorecards(w.store)
    bad = w.client.post(
        "/oversight/scorecards",
        headers=auth,
        files={"file": ("bad.toml", b"name_zh = ", "application/toml")},
    )
    assert bad.status_code == 422 and "bad.toml" in bad.text
    manual = {
        "scorecard_id": card["scorecard_id"],
        "period_label": "2026-11",
        "enterprise_id": w.ids["enterprise_a"],
        "indicator": "safety_incidents",
        "value": "0",
        "evidence": "安监通报",
    }
    r = w.client.post(
        "/oversight/evaluations/manual", headers=auth, data=manual, follow_redirects=False
    )
    assert r.status_code == 303
    today = date.today()
    run = {
        "scorecard_id": card["scorecard_id"],
        "region_id": w.ids["city_a"],
        "period_kind": "month",
        "period_label": "2026-11",
        "first_day": (today - timedelta(days=7)).isoformat(),
        "end_day": today.isoformat(),
    }
    r = w.client.post("/oversight/evaluations/run", headers=auth, data=run, follow_redirects=False)
    assert r.status_code == 303 and "?id=EV-" in r.headers["location"]
    page = w.client.get(r.headers["location"] + "&lang=en", headers=auth).text
    assert "Basis" in page and "safety_incidents" in page and "manual" in page
    r = w.client.post(
        "/oversight/exit/rule",
        headers=auth,
        follow_redirects=False,
        data={"failing_periods": "3", "period_kind": "season", "unrectified_orders": "4"},
    )
    assert r.status_code == 303
    assert load_rule(w.store).public() == {
        "failing_periods": 3,
        "period_kind": "season",
        "unrectified_orders": 4,
    }
    # an enterprise may not run anything
    r = w.client.post("/oversight/evaluations/run", headers=w.auth("admin_a"), data=run)
    assert r.status_code == 403
