"""A household's statement for a season: the bill, heat use against the building and
anonymised neighbours, indoor temperature over the season; as data, PDF and SVG.

Neighbours are the other households of the same building billed on a working meter;
the statement shows only their GJ/m² values, sorted, never who they are.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from nuanliu.billing.collection import Balance, balances
from nuanliu.billing.runs import latest_bills
from nuanliu.errors import NotFound
from nuanliu.store import Store

METERED_RULES = ("metered", "metered_cap", "metered_floor")
LINE_LABELS = {
    "area": ("按面积计费", "Area-based charge"),
    "basic": ("基本热费", "Basic fee"),
    "energy": ("计量热费", "Energy fee"),
    "cap": ("封顶调整（不高于面积计费）", "Cap (not above the area charge)"),
    "floor": ("保底调整", "Floor adjustment"),
    "stopped": ("报停费用", "Stopped-heating fee"),
    "compensation": ("不达标补偿", "Compensation (below standard)"),
    "relief": ("低收入减免", "Low-income relief"),
}
RULE_LABELS = {
    "area": ("按面积计费", "area-based"),
    "metered": ("两部制计量", "two-part, metered"),
    "metered_cap": ("两部制计量（封顶）", "two-part, metered, capped"),
    "metered_floor": ("两部制计量（保底）", "two-part, metered, floor"),
    "stopped": ("报停", "stopped heating"),
    "estimate_building_mean": ("表计故障：按楼栋平均单耗估算", "meter fault: building mean GJ/m²"),
    "estimate_area": ("表计故障：按面积计费", "meter fault: area-based"),
}


@dataclass
class StatementData:
    household_id: str
    season: str
    address: str
    building: str
    community: str
    area_m2: Decimal
    bill: dict[str, Any] | None  # the current bill (settlement, else advance)
    advance: dict[str, Any] | None
    lines: list[dict[str, str]]
    notes: list[str]
    balance: Balance | None
    heat_gj_m2: Decimal | None
    building_gj_m2: Decimal | None
    neighbours_gj_m2: list[Decimal] = field(default_factory=list)
    indoor_daily: list[tuple[date, float]] = field(default_factory=list)
    standard_temp_c: float = 18.0

    @property
    def rank_text(self) -> tuple[str, str] | None:
        if self.heat_gj_m2 is None or not self.neighbours_gj_m2:
            return None
        below = sum(1 for v in self.neighbours_gj_m2 if v < self.heat_gj_m2)
        n = len(self.neighbours_gj_m2)
        return (
            f"单位面积耗热高于同楼 {n} 户中的 {below} 户",
            f"Heat use per m² above {below} of {n} neighbours in the building",
        )


def statement_data(store: Store, household_id: str, season: str, *, as_of: date) -> StatementData:
    with store.read() as q:
        row = q.one(
            "SELECT h.address, h.floor_area_m2, h.building_id, b.name_zh, c.name_zh, "
            "x.standard_temp_c FROM households h LEFT JOIN buildings b ON "
            "b.building_id = h.building_id LEFT JOIN communities c ON c.community_id = "
            "b.community_id LEFT JOIN household_context x ON x.household_id = h.household_id "
            "WHERE h.household_id = ?",
            [household_id],
        )
        if row is None:
            raise NotFound(f"household {household_id} not found")
        address, area, building_id, building, community, standard = row
        neighbours = q.all(
            "SELECT b.household_id, b.energy_gj, h.floor_area_m2 FROM bills b JOIN households h "
            "ON h.household_id = b.household_id WHERE h.building_id = ? AND b.season = ? "
            "AND b.kind = 'settlement' AND b.rule IN ('metered', 'metered_cap', "
            "'metered_floor') AND b.version = (SELECT MAX(version) FROM bills b2 WHERE "
            "b2.household_id = b.household_id AND b2.season = b.season AND b2.kind = b.kind)",
            [building_id, season],
        )
        daily = q.all(
            "SELECT local_day, sum_temp_c / n FROM mon_household_daily WHERE household_id = ? "
            "AND local_day BETWEEN ? AND ? ORDER BY local_day",
            [household_id, date(int(season[:4]), 10, 1), date(int(season[:4]) + 1, 4, 30)],
        )
    bills = {b["kind"]: b for b in latest_bills(store, season, household_ids=[household_id])}
    current = bills.get("settlement") or bills.get("advance")
    doc = json.loads(current["lines"]) if current else {"lines": [], "notes": []}
    per_m2 = {
        hid: (Decimal(str(gj)) / Decimal(str(a))).quantize(Decimal("0.001"))
        for hid, gj, a in neighbours
        if gj is not None and a
    }
    own = per_m2.pop(household_id, None)
    everyone = [*per_m2.values(), *([own] if own is not None else [])]
    building_mean = (
        (sum(everyone, Decimal(0)) / len(everyone)).quantize(Decimal("0.001")) if everyone else None
    )
    bal = balances(store, season=season, as_of=as_of, household_ids=[household_id])
    return StatementData(
        household_id=household_id,
        season=season,
        address=address or "",
        building=building or "",
        community=community or "",
        area_m2=Decimal(str(area or 0)).quantize(Decimal("0.01")),
        bill=current,
        advance=bills.get("advance"),
        lines=doc["lines"],
        notes=doc.get("notes", []),
        balance=bal[0] if bal else None,
        heat_gj_m2=own,
        building_gj_m2=building_mean,
        neighbours_gj_m2=sorted(per_m2.values()),
        indoor_daily=[(d, float(t)) for d, t in daily],
        standard_temp_c=float(standard or 18.0),
    )


def temperature_svg(
    points: list[tuple[date, float]], standard_c: float, *, width: int = 640, height: int = 180
) -> str:
    """A small line chart of daily mean indoor temperature with the standard as a line."""
    if not points:
        return ""
    temps = [t for _, t in points] + [standard_c]
    lo, hi = min(temps) - 1, max(temps) + 1
    x0, x1, y0, y1 = 36, width - 8, 8, height - 20
    n = max(len(points) - 1, 1)

    def xy(i: int, t: float) -> str:
        x = x0 + (x1 - x0) * i / n
        y = y1 - (y1 - y0) * (t - lo) / (hi - lo)
        return f"{x:.1f},{y:.1f}"

    line = " ".join(xy(i, t) for i, (_, t) in enumerate(points))
    ys = xy(0, standard_c).split(",")[1]
    labels = "".join(
        f'<text x="2" y="{xy(0, v).split(",")[1]}" font-size="9">{v:.0f}°C</text>'
        for v in (lo + 1, standard_c, hi - 1)
    )
    first, last = points[0][0].isoformat(), points[-1][0].isoformat()
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="室内温度">'
        f'<line x1="{x0}" x2="{x1}" y1="{ys}" y2="{ys}" stroke="#c0392b" '
        f'stroke-dasharray="4 3"/>'
        f'<polyline fill="none" stroke="#1f6fb2" stroke-width="1.5" points="{line}"/>'
        f"{labels}"
        f'<text x="{x0}" y="{height - 4}" font-size="9">{first}</text>'
        f'<text x="{x1 - 60}" y="{height - 4}" font-size="9">{last}</text></svg>'
    )


def _money(v: Any) -> str:
    return "—" if v is None else f"{Decimal(str(v)):,.2f}"


def statement_html(s: StatementData) -> str:
    """The statement as an HTML fragment (Chinese first, English second)."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(LINE_LABELS.get(ln['code'], (ln['code'],) * 2)[0])}"
        f" / {e(LINE_LABELS.get(ln['code'], (ln['code'],) * 2)[1])}</td>"
        f"<td>{e(ln['quantity'])}</td><td class=num>{_money(ln['amount_yuan'])}</td></tr>"
        for ln in s.lines
    )
    bill = s.bill or {}
    rule = RULE_LABELS.get(bill.get("rule", ""), ("—", "—"))
    bal = s.balance
    neighbours = ", ".join(f"{v}" for v in s.neighbours_gj_m2) or "—"
    rank = s.rank_text
    return f"""
<h1>供热费用账单 Heating statement {e(s.season)}</h1>
<table>
<tr><th>户号 Household</th><td>{e(s.household_id)}</td>
<th>面积 Area</th><td class=num>{s.area_m2} m²</td></tr>
<tr><th>地址 Address</th><td colspan=3>{e(s.community)} {e(s.building)} {e(s.address)}</td></tr>
<tr><th>计费规则 Rule</th><td colspan=3>{e(rule[0])} / {e(rule[1])}</td></tr>
</table>
<h2>账单明细 Bill</h2>
<table><tr><th>项目 Item</th><th>计算 Basis</th><th>金额 Amount (元)</th></tr>{rows}
<tr><th colspan=2>合计 Total</th><td class=num><b>{_money(bill.get("total_yuan"))}</b></td></tr>
</table>
<p>{"<br>".join(e(n) for n in s.notes)}</p>
<h2>缴费 Payments</h2>
<table>
<tr><th>已缴 Paid</th><td class=num>{_money(bal.paid_yuan if bal else None)}</td>
<th>滞纳金 Late fee</th><td class=num>{_money(bal.late_fee_yuan if bal else None)}</td></tr>
<tr><th>欠费 Arrears</th><td class=num>{_money(bal.arrears_yuan if bal else None)}</td>
<th>余额 Balance</th><td class=num>{_money(bal.balance_yuan if bal else None)}</td></tr>
</table>
<h2>单位面积耗热 Heat use per m² (GJ/m²)</h2>
<table>
<tr><th>本户 Your home</th><td class=num>{s.heat_gj_m2 if s.heat_gj_m2 is not None else "—"}</td>
<th>本楼平均 Building mean</th><td class=num>{s.building_gj_m2 or "—"}</td></tr>
<tr><th>同楼邻居（匿名）Neighbours (anonymised)</th><td colspan=3>{e(neighbours)}</td></tr>
</table>
<p>{e(rank[0]) + " / " + e(rank[1]) if rank else ""}</p>
<h2>室内温度 Indoor temperature (日均 daily mean, 标准 standard {s.standard_temp_c:.0f} °C)</h2>
{temperature_svg(s.indoor_daily, s.standard_temp_c) or "<p>无数据 No data</p>"}
"""


def statement_pdf(s: StatementData) -> bytes:
    from nuanliu.documents import render_pdf

    return render_pdf(
        statement_html(s),
        header=f"暖流 Nuanliu · 供热费用账单 {s.season}",
        footer=f"{s.household_id}",
        title=f"statement {s.household_id} {s.season}",
    )


def community_xlsx(store: Store, community_id: str, season: str, *, as_of: date) -> bytes:
    """One sheet of the community's current bills and payments, one of the collection rate."""
    import pandas as pd

    from nuanliu.billing.collection import collection_rates
    from nuanliu.documents import xlsx_bytes

    with store.read() as q:
        members = [
            r[0]
            for r in q.all(
                "SELECT household_id FROM household_context WHERE community_id = ? "
                "ORDER BY household_id",
                [community_id],
            )
        ]
    bills = {
        (b["household_id"], b["kind"]): b
        for b in latest_bills(store, season, household_ids=members)
    }
    bal = {
        b.household_id: b
        for b in balances(store, season=season, as_of=as_of, household_ids=members)
    }
    rows = []
    for hid in members:
        cur = bills.get((hid, "settlement")) or bills.get((hid, "advance"))
        b = bal.get(hid)
        rows.append(
            {
                "户号 household": hid,
                "规则 rule": cur["rule"] if cur else None,
                "热量 GJ": cur["energy_gj"] if cur else None,
                "预收 advance (元)": bills[(hid, "advance")]["total_yuan"]
                if (hid, "advance") in bills
                else None,
                "结算 settlement (元)": bills[(hid, "settlement")]["total_yuan"]
                if (hid, "settlement") in bills
                else None,
                "已缴 paid (元)": b.paid_yuan if b else None,
                "滞纳金 late fee (元)": b.late_fee_yuan if b else None,
                "欠费 arrears (元)": b.arrears_yuan if b else None,
            }
        )
    stats = collection_rates(store, level="community", ids=[community_id], season=season)[0]
    summary = pd.DataFrame(
        [
            {
                "小区 community": community_id,
                "供暖季 season": season,
                "应收 billed (元)": stats.billed_yuan,
                "实收 paid (元)": stats.paid_yuan,
                "收缴率 rate": stats.rate,
            }
        ]
    )
    return xlsx_bytes({"账单 bills": pd.DataFrame(rows), "收缴率 collection": summary})
