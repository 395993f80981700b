"""One message catalog for every user-facing string, in Simplified Chinese and English.

The catalog maps a key to ``{"zh": ..., "en": ...}``: ``catalog.json`` holds the core
pages' strings and ``catalogs/<capability>.json`` each capability's own (a key defined
twice is an error). Chinese is the default; ``?lang=en`` switches and is remembered in
a cookie.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request

from nuanliu.errors import InvalidInput

LANGS: tuple[str, ...] = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_COOKIE = "nuanliu_lang"
CATALOG_PATH = Path(__file__).resolve().parent / "catalog.json"
CATALOGS_DIR = CATALOG_PATH.parent / "catalogs"


def catalog_files() -> list[Path]:
    return [CATALOG_PATH, *sorted(CATALOGS_DIR.glob("*.json"))]


@lru_cache(maxsize=1)
def load_catalog() -> dict[str, dict[str, str]]:
    """The catalog, checked on load: every key must have a string in every language."""
    raw: dict[str, dict[str, str]] = {}
    twice: list[str] = []
    for path in catalog_files():
        part: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
        twice += [f"{path.name}:{key}" for key in part if key in raw]
        raw.update(part)
    if twice:
        raise InvalidInput("message catalog: keys defined twice", details={"keys": twice})
    missing = [f"{key}:{lang}" for key, v in raw.items() for lang in LANGS if not v.get(lang)]
    if missing:
        raise InvalidInput(
            "message catalog: keys without a translation", details={"missing": missing}
        )
    return raw


def translate(key: str, lang: str, **values: Any) -> str:
    """The text of ``key`` in ``lang``; ``{name}`` fields are filled from ``values``.

    An unknown key is a programming error that the catalog test catches; at run time it
    shows the key itself rather than breaking the page.
    """
    entry = load_catalog().get(key)
    text = entry.get(lang, entry[DEFAULT_LANG]) if entry else key
    return text.format(**values) if values else text


def choose_lang(request: Request) -> tuple[str, bool]:
    """The request's language and whether it was chosen now (so the cookie must be set)."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked, asked != request.cookies.get(LANG_COOKIE)
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGS:
        return cookie, False
    return DEFAULT_LANG, False


def local_name(row: Any, lang: str, prefix: str = "name") -> str:
    """A registry row's name in ``lang`` (``name_zh`` / ``name_en``), falling back to the other."""
    get = row.get if hasattr(row, "get") else lambda k, d=None: getattr(row, k, d)
    first, second = (
        (f"{prefix}_en", f"{prefix}_zh")
        if lang == "en"
        else (
            f"{prefix}_zh",
            f"{prefix}_en",
        )
    )
    value = get(first) or get(second)
    return str(value) if value else ""


def enum_label(prefix: str, value: Any, lang: str) -> str:
    """A coded value shown translated (``room.living_room`` → 客厅); free text as is."""
    text = "" if value is None else str(value)
    if f"{prefix}.{text}" in load_catalog():
        return translate(f"{prefix}.{text}", lang)
    return text
