"""Scorecards (考核评价办法) the regulator configures: indicators with weights, points and
tier thresholds, automatic fails (一票否决) and grade bands; versioned per season.

A scorecard file is TOML (see ``scorecards/*.toml``)::

    name_zh = "…"; name_en = "…"; season = "2026-2027"; source = "…"
    pass_grades = ["red", "yellow"]
    [[indicators]]  key, name_zh, name_en, points, weight (1), direction (higher|lower),
                    tiers = [[threshold, share of points], …] (first met wins, else 0)
    [[vetoes]]      indicator, below | at_least (a value that fails the enterprise)
    [[grades]]      grade, min_points (highest band first; a vetoed enterprise gets the last)

Indicator keys computed from the data are ``nuanliu.oversight.indicators.COMPUTED``;
any other key is entered by hand with evidence.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nuanliu.errors import InvalidInput, NotFound
from nuanliu.oversight.records import audit

EXAMPLES_DIR = Path(__file__).resolve().parent / "scorecards"


@dataclass(frozen=True)
class Indicator:
    key: str
    name_zh: str
    name_en: str
    points: float
    weight: float
    direction: str  # higher | lower
    tiers: tuple[tuple[float, float], ...]  # (threshold, share of points)

    @property
    def max_points(self) -> float:
        return self.points * self.weight

    def score(self, value: float | None) -> float:
        """Points for ``value``: the first tier met (≥ for higher, < for lower), else 0."""
        if value is None:
            return 0.0
        for threshold, share in self.tiers:
            met = value >= threshold if self.direction == "higher" else value < threshold
            if met:
                return round(self.points * share * self.weight, 6)
        return 0.0


@dataclass(frozen=True)
class Veto:
    indicator: str
    below: float | None = None
    at_least: float | None = None

    def fails(self, value: float | None) -> bool:
        if value is None:
            return False
        return (self.below is not None and value < self.below) or (
            self.at_least is not None and value >= self.at_least
        )


@dataclass(frozen=True)
class Scorecard:
    name_zh: str
    name_en: str
    season: str
    source: str
    indicators: tuple[Indicator, ...]
    vetoes: tuple[Veto, ...]
    grades: tuple[tuple[str, float], ...]  # (grade, min points), highest first
    pass_grades: tuple[str, ...]
    scorecard_id: str = ""
    version: int = 0

    @property
    def max_points(self) -> float:
        return sum(i.max_points for i in self.indicators)

    def grade(self, total: float, vetoed: bool) -> str:
        if vetoed:
            return self.grades[-1][0]
        for grade, lowest in self.grades:
            if total >= lowest:
                return grade
        return self.grades[-1][0]

    def to_json(self) -> str:
        body = asdict(self)
        body.pop("scorecard_id")
        body.pop("version")
        return json.dumps(body, ensure_ascii=False, sort_keys=True)


def _need(d: dict[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise InvalidInput(
            f"scorecard {where}: missing {key!r}", details={"field": f"{where}.{key}"}
        )
    return d[key]


def parse_scorecard(data: dict[str, Any]) -> Scorecard:
    """Validate a scorecard document (from TOML or JSON)."""
    inds = []
    for i, raw in enumerate(_need(data, "indicators", "document")):
        where = f"indicators[{i}]"
        direction = raw.get("direction", "higher")
        if direction not in ("higher", "lower"):
            raise InvalidInput(
                f"scorecard {where}.direction {direction!r} is not higher or lower",
                details={"field": f"{where}.direction", "value": direction},
            )
        tiers = tuple((float(t), float(s)) for t, s in _need(raw, "tiers", where))
        for _, s in tiers:
            if not 0.0 <= s <= 1.0:
                raise InvalidInput(
                    f"scorecard {where}.tiers: share {s} is not within 0..1",
                    details={"field": f"{where}.tiers", "value": s},
                )
        points, weight = float(_need(raw, "points", where)), float(raw.get("weight", 1.0))
        if points < 0 or weight < 0:
            raise InvalidInput(
                f"scorecard {where}: points and weight must not be negative",
                details={"field": where},
            )
        inds.append(
            Indicator(
                str(_need(raw, "key", where)),
                str(raw.get("name_zh", raw["key"])),
                str(raw.get("name_en", raw["key"])),
                points,
                weight,
                direction,
                tiers,
            )
        )
    keys = [i.key for i in inds]
    if len(set(keys)) != len(keys):
        raise InvalidInput("scorecard: an indicator key appears twice", details={"keys": keys})
    vetoes = tuple(
        Veto(str(_need(v, "indicator", f"vetoes[{i}]")), v.get("below"), v.get("at_least"))
        for i, v in enumerate(data.get("vetoes", []))
    )
    grades = tuple(
        sorted(
            ((str(g["grade"]), float(g["min_points"])) for g in _need(data, "grades", "document")),
            key=lambda g: -g[1],
        )
    )
    if not grades:
        raise InvalidInput(
            "scorecard: at least one grade band is needed", details={"field": "grades"}
        )
    return Scorecard(
        name_zh=str(_need(data, "name_zh", "document")),
        name_en=str(data.get("name_en", data["name_zh"])),
        season=str(_need(data, "season", "document")),
        source=str(data.get("source", "")),
        indicators=tuple(inds),
        vetoes=vetoes,
        grades=grades,
        pass_grades=tuple(data.get("pass_grades", [grades[0][0]])),
    )


def load_scorecard_file(path: str | Path) -> Scorecard:
    p = Path(path)
    try:
        data = (
            tomllib.loads(p.read_text(encoding="utf-8"))
            if p.suffix == ".toml"
            else json.loads(p.read_text(encoding="utf-8"))
        )
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"scorecard file {p}: {exc}", details={"file": str(p)}) from exc
    return parse_scorecard(data)


def save_scorecard(store: Any, card: Scorecard, *, by: Any = "system") -> Scorecard:
    """Store ``card`` as the next version for its season."""
    now = datetime.now(UTC)
    with store.write() as w:
        row = w.one("SELECT MAX(version) FROM ov_scorecards WHERE season = ?", [card.season])
        version = int(row[0] or 0) + 1 if row else 1
        sid = f"SC-{card.season}-v{version}"
        w.execute(
            "INSERT INTO ov_scorecards VALUES (?,?,?,?,?,?,?,?)",
            [
                sid,
                card.season,
                version,
                card.name_zh,
                card.name_en,
                card.to_json(),
                now,
                str(getattr(by, "username", by)),
            ],
        )
    audit(
        store,
        by,
        "scorecard_save",
        "scorecard",
        sid,
        None,
        {"season": card.season, "version": version},
    )
    return get_scorecard(store, sid)


def get_scorecard(store: Any, scorecard_id: str) -> Scorecard:
    with store.read() as q:
        row = q.one(
            "SELECT body, version FROM ov_scorecards WHERE scorecard_id = ?", [scorecard_id]
        )
    if row is None:
        raise NotFound(
            f"scorecard {scorecard_id!r} not found", details={"scorecard_id": scorecard_id}
        )
    data = json.loads(row[0])
    data["indicators"] = [{**i, "tiers": [list(t) for t in i["tiers"]]} for i in data["indicators"]]
    data["grades"] = [{"grade": g, "min_points": m} for g, m in data["grades"]]
    card = parse_scorecard(data)
    return Scorecard(**{**card.__dict__, "scorecard_id": scorecard_id, "version": int(row[1])})


def list_scorecards(store: Any) -> list[dict[str, Any]]:
    with store.read() as q:
        return q.dicts(
            "SELECT scorecard_id, season, version, name_zh, name_en, created_at, created_by"
            " FROM ov_scorecards ORDER BY season DESC, version DESC"
        )
