"""What every dashboard page needs: the logged-in user, labels of registry entities,
breadcrumbs built only from entities on the path to a household the user may see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
from fastapi import Request

from nuanliu.api.deps import csrf_token
from nuanliu.config import Settings, load_settings
from nuanliu.web.data import CHAIN, Thresholds, ancestors, household_labels, names, now_utc
from nuanliu.web.i18n import choose_lang, local_name, translate
from nuanliu.web.nav import nav_for


def settings_of(request: Request) -> Settings:
    found = getattr(request.app.state, "settings", None)
    return found if isinstance(found, Settings) else load_settings()


def thresholds(request: Request) -> Thresholds:
    s = settings_of(request)
    extra = s.extra or {}
    return Thresholds(
        standard_temp_c=s.standard_temp_c,
        cold_temp_c=float(extra.get("cold_temp_c", 16.0)),
        overheat_temp_c=s.overheat_temp_c,
        offline_after=timedelta(minutes=float(extra.get("offline_after_min", 120))),
    )


def base_context(request: Request, user: Any, nav: str) -> dict[str, Any]:
    from nuanliu.web.twin import ensure_warm

    ensure_warm(request.app)  # the twin is solved in the background from the first page on
    lang, _ = choose_lang(request)
    role = str(user.role)
    th = thresholds(request)
    return {
        "user": user,
        "role": role,
        "user_label": user.display_name or user.username,
        "is_resident": role == "resident",
        "csrf": csrf_token(request),
        "nav": nav,
        "nav_items": nav_for(role),
        "now": now_utc(),
        "standard": th.standard_temp_c,
        "cold_limit": th.cold_temp_c,
        "overheat": th.overheat_temp_c,
        "offline_min": int(th.offline_after.total_seconds() // 60),
        "lang": lang,
    }


def export_base(request: Request) -> str:
    """This page's URL ready for ``format=csv|xlsx`` (its filters kept, language dropped)."""
    from urllib.parse import urlencode

    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("format", "lang")]
    return request.url.path + "?" + (urlencode(params) + "&" if params else "")


def unit_query(level: str | None, entity_id: str | None) -> str:
    """``&level=…&id=…`` for links to lists of one unit ('' for the whole scope)."""
    from urllib.parse import urlencode

    return "&" + urlencode({"level": level, "id": entity_id}) if level else ""


def label(store: Any, level: str, entity_id: Any, lang: str) -> str:
    """Display name of a registry entity (its id when it has no name)."""
    if entity_id is None or (isinstance(entity_id, float) and pd.isna(entity_id)):
        return translate("common.unassigned", lang)
    reg = names(store)
    table = {
        "region": "regions",
        "city": "regions",
        "county": "regions",
        "enterprise": "enterprises",
        "station": "stations",
        "building": "buildings",
        "community": "communities",
    }.get(level)
    if table is None:
        return str(entity_id)
    row = reg[table].get(str(entity_id))
    return (local_name(row, lang) or str(entity_id)) if row else str(entity_id)


def href(level: str, entity_id: str) -> str:
    if level == "station":
        return f"/stations/{entity_id}"
    if level == "household":
        return f"/households/{entity_id}"
    return f"/drill/{level}/{entity_id}"


def breadcrumbs(
    store: Any, scope: Any, level: str, entity_id: str, lang: str
) -> list[tuple[str, str | None]]:
    """Root → … → the unit, through the chain above it that the user may see."""
    chain = ancestors(store, scope, level, entity_id)
    crumbs: list[tuple[str, str | None]] = [(translate("drill.root", lang), "/drill")]
    for lv in CHAIN[: CHAIN.index(level) + 1]:
        unit = chain.get(lv)
        if unit is None:
            continue
        text = (
            household_labels(store, lang).get(str(unit), {}).get("label", str(unit))
            if lv == "household"
            else label(store, lv, unit, lang)
        )
        crumbs.append((text, href(lv, str(unit))))
    return crumbs


def scope_label(user: Any, store: Any, lang: str) -> str:
    """What the user is looking at, e.g. the enterprise's name for its operator."""
    kind = user.scope_kind
    names = [label(store, kind, i, lang) for i in user.scope_ids] if kind != "household" else []
    text = "、".join(names) if lang == "zh" else ", ".join(names)
    return translate(f"scope.{kind}", lang, names=text)
