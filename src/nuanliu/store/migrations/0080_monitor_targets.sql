-- The compliance target (室温达标率目标, percent) a city's regulator holds its heating
-- enterprises to; a city without a row uses its region's row, then 98 %.
-- Read by nuanliu.monitor.standard (KPI colours, chart target line, compliance alerts).
CREATE TABLE mon_compliance_targets (
    region_id TEXT PRIMARY KEY,
    compliance_target_pct DOUBLE PRECISION NOT NULL
);
