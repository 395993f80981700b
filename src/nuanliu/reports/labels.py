"""Column headers of the report tables, with units, in Chinese and English.

One table for the web page, the PDF and the XLSX, so the three show the same columns.
"""

from __future__ import annotations

COLUMNS: dict[str, tuple[str, str]] = {
    "level": ("层级", "Level"),
    "unit_id": ("编号", "ID"),
    "name_zh": ("名称", "Name"),
    "name_en": ("名称（英文）", "Name"),
    "households": ("户数", "Households"),
    "reporting_households": ("上报户数", "Reporting households"),
    "rate_pct": ("达标率 (%)", "Compliance (%)"),
    "rate_prev_pct": ("前一日达标率 (%)", "Day before (%)"),
    "delta_prev_pp": ("较前一日 (百分点)", "Change on day before (pp)"),
    "rate_week_pct": ("上周同日达标率 (%)", "Same day last week (%)"),
    "delta_week_pp": ("较上周同日 (百分点)", "Change on last week (pp)"),
    "hour_rate_pct": ("小时达标率 (%)", "Hour rate (%)"),
    "hour_rate_prev_pct": ("前一日小时达标率 (%)", "Hour rate day before (%)"),
    "hour_rate_week_pct": ("上周同日小时达标率 (%)", "Hour rate last week (%)"),
    "mean_temp_c": ("平均室温 (°C)", "Mean temperature (°C)"),
    "min_temp_c": ("最低室温 (°C)", "Minimum temperature (°C)"),
    "max_temp_c": ("最高室温 (°C)", "Maximum temperature (°C)"),
    "cold_households": ("低温户数", "Cold households"),
    "overheated_households": ("过热户数", "Overheated households"),
    "station_id": ("换热站", "Station"),
    "building_id": ("楼栋", "Building"),
    "enterprise_id": ("供热企业", "Enterprise"),
    "household_id": ("住户", "Household"),
    "address": ("地址", "Address"),
    "low_days": ("连续低于标准天数 (天)", "Days below in a row (d)"),
    "longest_run_h": ("最长持续 (小时)", "Longest run (h)"),
    "hours": ("累计 (小时)", "Hours in total (h)"),
    "since": ("开始时间", "Since"),
    "households_with_sensor": ("已装测温户数", "Households with a sensor"),
    "coverage_pct": ("覆盖率 (%)", "Coverage (%)"),
    "quota_pct": ("要求覆盖率 (%)", "Required coverage (%)"),
    "sensors": ("测温设备数", "Sensors"),
    "offline_sensors": ("离线设备数", "Offline sensors"),
    "online_pct": ("在线率 (%)", "Online rate (%)"),
    "licence_state": ("经营许可", "Licence"),
    "licence_valid_to": ("许可有效期至", "Licence valid to"),
    "rule_id": ("规则", "Rule"),
    "rule_name_zh": ("规则名称", "Rule name"),
    "rule_name_en": ("规则名称（英文）", "Rule name"),
    "severity": ("级别", "Severity"),
    "raised": ("当日新增", "Raised"),
    "open": ("未解除", "Open"),
    "opened": ("新增投诉", "Opened"),
    "closed": ("办结", "Closed"),
    "overdue": ("超期", "Overdue"),
    "satisfaction_pct": ("满意率 (%)", "Satisfaction (%)"),
    "per_10k_m2": ("每万平方米投诉 (件)", "Complaints per 10,000 m²"),
    "day": ("日期", "Day"),
    "hdh_c_h": ("采暖度时数 (°C·h)", "Heating degree-hours (°C·h)"),
    "no": ("序号", "No."),
    "rule": ("规则", "Rule"),
    "value": ("数值", "Value"),
    "text_zh": ("发现", "Finding (Chinese)"),
    "text_en": ("发现（英文）", "Finding"),
    "rank": ("排名", "Rank"),
    "rate_last_week_pct": ("上周达标率 (%)", "Last week (%)"),
    "delta_last_week_pp": ("较上周 (百分点)", "Change on last week (pp)"),
    "order_id": ("督办单号", "Order"),
    "subject_id": ("对象", "Subject"),
    "problem": ("问题", "Problem"),
    "state": ("状态", "State"),
    "deadline": ("期限", "Deadline"),
    "escalation_level": ("升级次数", "Escalations"),
    "compliant_households": ("达标户数", "Compliant households"),
}

# Table name -> (section title zh, en); also the XLSX sheet names.
TABLES: dict[str, tuple[str, str]] = {
    "findings": ("研判发现", "Findings"),
    "units": ("达标率（城市—企业—换热站）", "Compliance by city, enterprise, station"),
    "trend": ("每日趋势", "Daily trend"),
    "ranking_enterprises": ("企业排名", "Enterprise ranking"),
    "ranking_stations": ("换热站排名（末位在前）", "Station ranking (worst first)"),
    "carried_over": ("上周遗留问题", "Carried over from last week"),
    "orders": ("督办单", "Supervision orders"),
    "worst_stations": ("最差换热站", "Worst stations"),
    "worst_buildings": ("最差楼栋", "Worst buildings"),
    "cold_homes": ("低温住户", "Cold homes"),
    "overheated_homes": ("过热住户", "Overheated homes"),
    "coverage": ("测温覆盖与在线", "Sensor coverage and online rate"),
    "alerts": ("告警", "Alerts"),
    "complaints": ("投诉", "Complaints"),
    "weather": ("天气与采暖度时数", "Weather and heating degree-hours"),
}

# Columns not shown in a language (the other language's names).
HIDDEN = {
    "zh": {"name_en", "rule_name_en", "text_en"},
    "en": {"name_zh", "rule_name_zh", "text_zh"},
}


# Coded values shown as words (page, PDF and XLSX alike).
VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "level": {
        "region": ("自治区", "region"),
        "city": ("城市", "city"),
        "county": ("区县", "county"),
        "enterprise": ("企业", "enterprise"),
        "station": ("换热站", "station"),
        "building": ("楼栋", "building"),
    },
    "licence_state": {
        "valid": ("有效", "valid"),
        "suspended": ("暂停", "suspended"),
        "revoked": ("吊销", "revoked"),
        "expired": ("过期", "expired"),
        "none": ("无许可", "no licence"),
    },
    "severity": {
        "info": ("提示", "info"),
        "warning": ("警告", "warning"),
        "critical": ("严重", "critical"),
    },
    "state": {
        "proposed": ("待确认", "proposed"),
        "issued": ("已下发", "issued"),
        "accepted": ("已签收", "accepted"),
        "reported": ("已报整改", "reported"),
        "returned": ("已退回", "sent back"),
        "closed": ("已办结", "closed"),
    },
}


def value_label(column: str, value: object, lang: str) -> object:
    """The word for a coded value (unchanged when the column or value has none)."""
    names = VALUES.get(column)
    if names is None or not isinstance(value, str) or value not in names:
        return value
    zh, en = names[value]
    return en if lang == "en" else zh


def header(column: str, lang: str) -> str:
    zh, en = COLUMNS.get(column, (column, column))
    return en if lang == "en" else zh


def title(table: str, lang: str) -> str:
    zh, en = TABLES.get(table, (table, table))
    return en if lang == "en" else zh


def visible_columns(columns: list[str], lang: str) -> list[str]:
    return [c for c in columns if c not in HIDDEN[lang]]
