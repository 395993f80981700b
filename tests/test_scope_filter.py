"""Scope filters are conjunctive and an empty set admits nothing."""

import duckdb

from nuanliu.scope import Scope

ROWS = [
    # household, region, city, county, enterprise, community
    ("h1", "nm", "hohhot", "xincheng", "e1", "c1"),
    ("h2", "nm", "hohhot", "huimin", "e2", "c2"),
    ("h3", "nm", "baotou", "kundu", "e1", "c3"),
]


def visible(scope: Scope) -> set[str]:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE household_context (household_id TEXT, region_id TEXT, city_id TEXT,"
        " county_id TEXT, enterprise_id TEXT, community_id TEXT)"
    )
    con.executemany("INSERT INTO household_context VALUES (?, ?, ?, ?, ?, ?)", ROWS)
    where, params = scope.where("hc")
    sql = f"SELECT household_id FROM household_context hc WHERE {where}"
    return {r[0] for r in con.execute(sql, params).fetchall()}


def test_everything_sees_all() -> None:
    assert visible(Scope.everything()) == {"h1", "h2", "h3"}


def test_regulator_of_a_city_sees_only_that_city() -> None:
    assert visible(Scope(region_ids=frozenset({"hohhot"}))) == {"h1", "h2"}
    assert visible(Scope(region_ids=frozenset({"kundu"}))) == {"h3"}


def test_enterprise_never_sees_another_enterprise() -> None:
    assert visible(Scope(enterprise_ids=frozenset({"e1"}))) == {"h1", "h3"}
    both = Scope(region_ids=frozenset({"hohhot"}), enterprise_ids=frozenset({"e1"}))
    assert visible(both) == {"h1"}


def test_empty_scope_sees_nothing() -> None:
    assert visible(Scope(household_ids=frozenset())) == set()
    assert visible(Scope(community_ids=frozenset({"c9"}))) == set()
