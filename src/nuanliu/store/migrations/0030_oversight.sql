-- Regulator oversight (issue #9): supervision orders (督办单), heating operating licences
-- (供热经营许可), scorecards and evaluations (考核评价), exit flags and decisions (退出).
-- JSON-valued columns are TEXT (portable); every transition also goes to audit_log.

-- state: proposed | issued | accepted | reported | returned | closed | dismissed | cancelled.
-- issuer_region_id: the regulator region that created it; handler_region_id: the level
-- that currently handles it (moves to the parent region when an overdue order escalates).
CREATE TABLE ov_orders (
    order_id TEXT PRIMARY KEY,
    enterprise_id TEXT NOT NULL,
    issuer_region_id TEXT NOT NULL,
    handler_region_id TEXT NOT NULL,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    subject_level TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    problem_zh TEXT NOT NULL,
    problem_en TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '[]',
    deadline TIMESTAMPTZ NOT NULL,
    state TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'manual',
    rule_key TEXT,
    overdue BOOLEAN NOT NULL DEFAULT FALSE,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ,
    rectified_on_time BOOLEAN
);

CREATE TABLE ov_order_events (
    event_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    note TEXT NOT NULL DEFAULT '',
    attachment_ids TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX ov_order_events_order_idx ON ov_order_events (order_id, occurred_at);

-- state as decided: valid | suspended | revoked; 'expired' is derived from valid_to.
CREATE TABLE ov_licences (
    licence_id TEXT PRIMARY KEY,
    licence_no TEXT NOT NULL UNIQUE,
    enterprise_id TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    region_ids TEXT NOT NULL DEFAULT '[]',
    station_ids TEXT NOT NULL DEFAULT '[]',
    heated_area_m2 DOUBLE PRECISION,
    valid_from DATE NOT NULL,
    valid_to DATE NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE ov_licence_events (
    event_id TEXT PRIMARY KEY,
    licence_id TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);

-- A scorecard version: body is the validated JSON (indicators, vetoes, grade bands).
CREATE TABLE ov_scorecards (
    scorecard_id TEXT PRIMARY KEY,
    season TEXT NOT NULL,
    version INTEGER NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (season, version)
);

-- Indicator values entered by hand with their evidence (e.g. safety incidents).
CREATE TABLE ov_manual_values (
    scorecard_id TEXT NOT NULL,
    period_label TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    indicator TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    evidence TEXT NOT NULL,
    entered_by TEXT NOT NULL,
    entered_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scorecard_id, period_label, enterprise_id, indicator)
);

CREATE TABLE ov_evaluations (
    evaluation_id TEXT PRIMARY KEY,
    scorecard_id TEXT NOT NULL,
    region_id TEXT NOT NULL,
    period_kind TEXT NOT NULL,  -- month | season
    period_label TEXT NOT NULL,
    first_day DATE NOT NULL,
    end_day DATE NOT NULL,  -- exclusive
    run_at TIMESTAMPTZ NOT NULL,
    run_by TEXT NOT NULL
);

CREATE TABLE ov_evaluation_results (
    evaluation_id TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    total_points DOUBLE PRECISION NOT NULL,
    max_points DOUBLE PRECISION NOT NULL,
    grade TEXT NOT NULL,
    vetoed BOOLEAN NOT NULL,
    veto_reasons TEXT NOT NULL DEFAULT '[]',
    passed BOOLEAN NOT NULL,
    rank INTEGER NOT NULL,
    PRIMARY KEY (evaluation_id, enterprise_id)
);

-- value: the indicator's number; source: data | manual | missing; basis: the numbers
-- and the query behind it (JSON).
CREATE TABLE ov_evaluation_items (
    evaluation_id TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    indicator TEXT NOT NULL,
    value DOUBLE PRECISION,
    points DOUBLE PRECISION NOT NULL,
    source TEXT NOT NULL,
    basis TEXT NOT NULL,
    PRIMARY KEY (evaluation_id, enterprise_id, indicator)
);

-- state: open | decided; decision: warning | suspension | revocation | none.
CREATE TABLE ov_exit_flags (
    flag_id TEXT PRIMARY KEY,
    enterprise_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    evidence TEXT NOT NULL,
    raised_at TIMESTAMPTZ NOT NULL,
    state TEXT NOT NULL,
    decision TEXT,
    decision_note TEXT,
    decided_by TEXT,
    decided_at TIMESTAMPTZ
);
