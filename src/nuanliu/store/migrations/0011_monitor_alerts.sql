-- Alert rules, alerts with their lifecycle (raised -> acknowledged -> cleared) and the
-- webhook outbox with a record of every delivery attempt.

CREATE SEQUENCE mon_alert_seq START 1;
CREATE SEQUENCE mon_delivery_seq START 1;

-- metric: household_temp_below | household_temp_above | sensor_offline | compliance_below.
-- threshold: degC for temperatures, a share 0..1 for compliance, unused for offline.
-- subject_level: for compliance_below the unit level (city, enterprise, station, ...).
-- scope_level / scope_id: restrict the rule to one unit (NULL = everything).
CREATE TABLE mon_alert_rules (
    rule_id TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    metric TEXT NOT NULL,
    threshold DOUBLE PRECISION,
    duration_minutes INTEGER NOT NULL,
    subject_level TEXT,
    scope_level TEXT,
    scope_id TEXT,
    severity TEXT NOT NULL DEFAULT 'warning',
    webhook_url TEXT,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL
);

-- One open alert (cleared_at IS NULL) per rule and subject; evaluate_alerts keeps it so.
CREATE TABLE mon_alerts (
    alert_id BIGINT PRIMARY KEY DEFAULT nextval('mon_alert_seq'),
    rule_id TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    state TEXT NOT NULL,
    raised_at TIMESTAMPTZ NOT NULL,
    raised_value DOUBLE PRECISION,
    last_value DOUBLE PRECISION,
    last_evaluated_at TIMESTAMPTZ NOT NULL,
    acknowledged_at TIMESTAMPTZ,
    acknowledged_by TEXT,
    cleared_at TIMESTAMPTZ,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL
);
CREATE INDEX mon_alerts_rule_subject_idx ON mon_alerts (rule_id, subject_id);

-- Webhook outbox: written in the evaluation transaction, delivered after commit.
CREATE TABLE mon_alert_deliveries (
    delivery_id BIGINT PRIMARY KEY DEFAULT nextval('mon_delivery_seq'),
    alert_id BIGINT NOT NULL,
    event TEXT NOT NULL,
    url TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at TIMESTAMPTZ,
    last_status INTEGER,
    last_error TEXT,
    last_attempt_at TIMESTAMPTZ
);
