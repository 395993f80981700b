"""Display names of the hotline's coded values, in the page's language.

Each key is spelled out (not built from a prefix) so the catalog test sees it used.
"""

from __future__ import annotations

from collections.abc import Callable

from nuanliu.web.i18n import translate

Label = Callable[[str], str]


LABELS: dict[str, dict[str, Label]] = {
    "action": {
        "arrive": lambda lang: translate("hotline.action.arrive", lang),
        "confirm": lambda lang: translate("hotline.action.confirm", lang),
        "create": lambda lang: translate("hotline.action.create", lang),
        "false_closure": lambda lang: translate("hotline.action.false_closure", lang),
        "feedback": lambda lang: translate("hotline.action.feedback", lang),
        "fix": lambda lang: translate("hotline.action.fix", lang),
        "followup_failed": lambda lang: translate("hotline.action.followup_failed", lang),
        "measure": lambda lang: translate("hotline.action.measure", lang),
        "note": lambda lang: translate("hotline.action.note", lang),
        "pause": lambda lang: translate("hotline.action.pause", lang),
        "reassign": lambda lang: translate("hotline.action.reassign", lang),
        "reject": lambda lang: translate("hotline.action.reject", lang),
        "resume": lambda lang: translate("hotline.action.resume", lang),
        "sign": lambda lang: translate("hotline.action.sign", lang),
    },
    "cat": {
        "attitude": lambda lang: translate("hotline.cat.attitude", lang),
        "billing": lambda lang: translate("hotline.cat.billing", lang),
        "leak": lambda lang: translate("hotline.cat.leak", lang),
        "no_heat": lambda lang: translate("hotline.cat.no_heat", lang),
        "noise": lambda lang: translate("hotline.cat.noise", lang),
        "other": lambda lang: translate("hotline.cat.other", lang),
        "temp_low": lambda lang: translate("hotline.cat.temp_low", lang),
    },
    "channel": {
        "12345": lambda lang: translate("hotline.channel.12345", lang),
        "api": lambda lang: translate("hotline.channel.api", lang),
        "hotline": lambda lang: translate("hotline.channel.hotline", lang),
        "resident": lambda lang: translate("hotline.channel.resident", lang),
    },
    "closure": {
        "confirmed": lambda lang: translate("hotline.closure.confirmed", lang),
        "followup_failed": lambda lang: translate("hotline.closure.followup_failed", lang),
    },
    "level": {
        "city": lambda lang: translate("hotline.level.city", lang),
        "community": lambda lang: translate("hotline.level.community", lang),
        "county": lambda lang: translate("hotline.level.county", lang),
        "enterprise": lambda lang: translate("hotline.level.enterprise", lang),
        "region": lambda lang: translate("hotline.level.region", lang),
        "station": lambda lang: translate("hotline.level.station", lang),
    },
    "pause": {
        "resident_not_home": lambda lang: translate("hotline.pause.resident_not_home", lang),
        "resident_refused_entry": lambda lang: translate(
            "hotline.pause.resident_refused_entry", lang
        ),
        "resident_rescheduled": lambda lang: translate("hotline.pause.resident_rescheduled", lang),
    },
    "sat": {
        "basic": lambda lang: translate("hotline.sat.basic", lang),
        "dissatisfied": lambda lang: translate("hotline.sat.dissatisfied", lang),
        "satisfied": lambda lang: translate("hotline.sat.satisfied", lang),
    },
    "state": {
        "closed": lambda lang: translate("hotline.state.closed", lang),
        "fixed": lambda lang: translate("hotline.state.fixed", lang),
        "measured": lambda lang: translate("hotline.state.measured", lang),
        "new": lambda lang: translate("hotline.state.new", lang),
        "on_site": lambda lang: translate("hotline.state.on_site", lang),
        "reopened": lambda lang: translate("hotline.state.reopened", lang),
        "signed": lambda lang: translate("hotline.state.signed", lang),
    },
    "step": {
        "arrive": lambda lang: translate("hotline.step.arrive", lang),
        "feedback": lambda lang: translate("hotline.step.feedback", lang),
        "fix": lambda lang: translate("hotline.step.fix", lang),
        "followup": lambda lang: translate("hotline.step.followup", lang),
        "measure": lambda lang: translate("hotline.step.measure", lang),
        "sign": lambda lang: translate("hotline.step.sign", lang),
    },
    "target": {
        "enterprise": lambda lang: translate("hotline.target.enterprise", lang),
        "government_steward": lambda lang: translate("hotline.target.government_steward", lang),
        "regulator": lambda lang: translate("hotline.target.regulator", lang),
    },
    "urgency": {
        "normal": lambda lang: translate("hotline.urgency.normal", lang),
        "urgent": lambda lang: translate("hotline.urgency.urgent", lang),
    },
    "verdict": {
        "agrees": lambda lang: translate("hotline.verdict.agrees", lang),
        "disagrees": lambda lang: translate("hotline.verdict.disagrees", lang),
        "no_data": lambda lang: translate("hotline.verdict.no_data", lang),
        "not_applicable": lambda lang: translate("hotline.verdict.not_applicable", lang),
    },
    "role": {
        "gov_steward": lambda lang: translate("role.gov_steward", lang),
        "hotline_operator": lambda lang: translate("role.hotline_operator", lang),
    },
}


def labels(lang: str) -> dict[str, dict[str, str]]:
    """Every group as ``{code: text}`` in ``lang`` (templates: ``L.cat[t.category]``)."""
    return {g: {code: fn(lang) for code, fn in group.items()} for g, group in LABELS.items()}
