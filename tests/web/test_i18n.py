"""Every user-facing string goes through one catalog, complete in both languages."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from nuanliu.web.i18n import LANGS, load_catalog, translate
from nuanliu.web.nav import NAV_ITEMS

WEB = Path(__file__).resolve().parents[2] / "src" / "nuanliu" / "web"
TEMPLATES = sorted((WEB / "templates").rglob("*.html"))
# Page code of every capability, not only the web package's own.
PY_FILES = sorted(WEB.parent.rglob("*.py"))

# Keys built at run time from a known set of values: prefix -> values.
DYNAMIC = {
    "admin.import.kind.": [
        "regions",
        "enterprises",
        "stations",
        "communities",
        "buildings",
        "households",
        "sensors",
    ],
    "room.": ["living_room", "master_bedroom", "second_bedroom", "bedroom", "kitchen", "study"],
    "col.": ["region", "city", "enterprise", "station", "building", "household"],
    "level.": ["region", "city", "enterprise", "station", "building", "household"],
    "drill.children_": ["region", "city", "enterprise", "station", "building", "household"],
    "overview.by_": ["region", "city", "enterprise", "station", "building"],
    "role.": [
        "regulator",
        "enterprise_admin",
        "enterprise_operator",
        "steward",
        "resident",
        "gateway",
    ],
    "status.": ["ok", "low", "cold", "overheated", "offline"],
    "range.": ["today", "7d", "30d", "season"],
    "building.band_": ["cold", "low", "ok", "warm", "hot", "none"],
    "lists.households_": ["below", "ok", "low", "cold", "overheated", "offline"],
    "severity.": ["info", "warning", "critical"],
    "error.": ["not_found", "forbidden"],
    "scope.": ["region", "enterprise", "community", "household"],
    "solver.": ["converged", "not_converged", "time_limit", "other"],
}


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in TEMPLATES:
        found = re.findall(r"\bt\('([a-z0-9_.]+)'", path.read_text(encoding="utf-8"))
        keys |= {k for k in found if not k.endswith((".", "_"))}  # prefixes: see DYNAMIC
    for path in PY_FILES:
        keys |= set(re.findall(r'translate\(\s*"([a-z0-9_.]+)"', path.read_text(encoding="utf-8")))
    keys |= {item.label for item in NAV_ITEMS}
    for prefix, values in DYNAMIC.items():
        keys |= {prefix + v for v in values}
    return keys


def test_every_key_has_both_languages_with_the_same_placeholders() -> None:
    catalog = load_catalog()
    assert len(catalog) > 100
    fields = string.Formatter()
    for key, entry in catalog.items():
        assert set(entry) >= set(LANGS), key
        names = [{f for _, f, _, _ in fields.parse(entry[lang]) if f} for lang in LANGS]
        assert names[0] == names[1], f"{key}: placeholders differ between languages"
        assert entry["zh"] != "" and entry["en"] != ""


def test_every_key_used_exists_and_chinese_is_chinese() -> None:
    catalog = load_catalog()
    missing = sorted(k for k in used_keys() if k not in catalog)
    assert not missing, f"keys used but not in catalog.json: {missing}"
    for key in used_keys():
        zh = catalog[key]["zh"]
        # The Chinese text has Chinese characters unless it is a name or unit shown as is.
        if key not in {"lang.en", "chart.rate"} and re.search(r"[A-Za-z]{4,}", zh):
            assert re.search(r"[\u4e00-\u9fff]", zh), f"{key}: Chinese text looks English: {zh}"


def test_no_key_in_the_catalog_is_unused() -> None:
    unused = sorted(set(load_catalog()) - used_keys())
    assert not unused, f"catalog keys nobody uses: {unused}"


JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)
TAG = re.compile(r"<[^>]+>", re.S)
VISIBLE_ATTRS = re.compile(r'\b(?:title|placeholder|aria-label|alt|value)="([^"]*)"')


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_have_no_untranslated_literal_text(path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    text = JINJA.sub(" ", SCRIPT.sub(" ", raw))
    attrs = [a for a in VISIBLE_ATTRS.findall(text) if a.strip()]
    body = TAG.sub(" ", text)
    # Whatever is left must be whitespace, punctuation or symbols: no words.
    words = re.findall(r"[A-Za-z\u4e00-\u9fff]+", body)
    assert not words, f"{path.name}: literal text outside the catalog: {words}"
    hidden_ok = {"/login"}  # form field values that are not shown
    assert not [a for a in attrs if re.search(r"[A-Za-z\u4e00-\u9fff]", a) and a not in hidden_ok]


def test_translate_fills_fields_and_falls_back_to_the_key() -> None:
    assert translate("kpi.of_monitored", "en", total=12) == "of 12 monitored"
    assert "12" in translate("kpi.of_monitored", "zh", total=12)
    assert translate("no.such.key", "en") == "no.such.key"
