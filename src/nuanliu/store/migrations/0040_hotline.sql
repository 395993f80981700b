-- Heating service hotline (nuanliu.hotline): tickets routed to a household's community,
-- their timeline, on-site visits, the sensor evidence snapshot, SLA clocks with pauses and
-- escalations, and 12345 work-order imports with every rejected row kept with a reason.
-- Tickets are updated in place on non-key columns only; the 12345 order number is made
-- unique in its own insert-only table (hl_12345_orders) so re-imports create nothing.

CREATE SEQUENCE hl_ticket_seq START 1;
CREATE SEQUENCE hl_event_seq START 1;
CREATE SEQUENCE hl_visit_seq START 1;
CREATE SEQUENCE hl_escalation_seq START 1;
CREATE SEQUENCE hl_import_seq START 1;

CREATE TABLE hl_tickets (
    ticket_id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    community_id TEXT NOT NULL,  -- routed at creation: the household's community
    enterprise_id TEXT,  -- the household's enterprise at creation (queue filters)
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    channel TEXT NOT NULL,  -- hotline | resident | 12345 | api
    urgency TEXT NOT NULL,  -- normal | urgent
    description TEXT NOT NULL,
    attachments TEXT,  -- JSON list of references (file names or URLs)
    caller_name TEXT,
    caller_phone TEXT,
    order_no_12345 TEXT,  -- the 12345 work-order number when imported from 12345
    season TEXT NOT NULL,  -- e.g. 2026-2027
    season_part TEXT NOT NULL,  -- early (first days of the season) | normal
    handler_name TEXT,  -- the enterprise steward handling it
    handler_phone TEXT,
    supervisor_name TEXT,  -- the government steward supervising it
    supervisor_phone TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT,
    signed_at TIMESTAMPTZ,
    arrived_at TIMESTAMPTZ,
    measured_at TIMESTAMPTZ,
    fixed_at TIMESTAMPTZ,
    first_fixed_at TIMESTAMPTZ,
    feedback_at TIMESTAMPTZ,  -- reply sent to 12345
    closed_at TIMESTAMPTZ,
    closure TEXT,  -- confirmed | followup_failed
    resolved BOOLEAN,
    satisfaction TEXT,  -- satisfied | basic | dissatisfied (NULL: not rated)
    paused_since TIMESTAMPTZ,
    pause_reason TEXT,
    reopen_count INTEGER NOT NULL DEFAULT 0,
    false_closure BOOLEAN NOT NULL DEFAULT FALSE,
    fix_checked_at TIMESTAMPTZ,  -- the fixed_at the false-closure check has judged
    below_confirmed_at TIMESTAMPTZ,  -- first on-site measurement below the standard
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX hl_tickets_household_idx ON hl_tickets (household_id);
CREATE INDEX hl_tickets_community_idx ON hl_tickets (community_id);
CREATE INDEX hl_tickets_created_idx ON hl_tickets (created_at);

CREATE TABLE hl_12345_orders (
    order_no TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    import_id BIGINT,
    imported_at TIMESTAMPTZ NOT NULL
);

-- Every change of a ticket, in order: the timeline.
CREATE TABLE hl_events (
    event_id BIGINT PRIMARY KEY DEFAULT nextval('hl_event_seq'),
    ticket_id TEXT NOT NULL,
    event_at TIMESTAMPTZ NOT NULL,
    actor TEXT,
    actor_role TEXT,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    note TEXT,
    data TEXT  -- JSON
);
CREATE INDEX hl_events_ticket_idx ON hl_events (ticket_id);

CREATE TABLE hl_visits (
    visit_id BIGINT PRIMARY KEY DEFAULT nextval('hl_visit_seq'),
    ticket_id TEXT NOT NULL,
    visitor TEXT NOT NULL,
    visited_at TIMESTAMPTZ NOT NULL,
    bedroom_temp_c DOUBLE PRECISION,
    living_room_temp_c DOUBLE PRECISION,
    standard_temp_c DOUBLE PRECISION NOT NULL,
    below_standard BOOLEAN,
    actions TEXT,
    photos TEXT  -- JSON list of references
);
CREATE INDEX hl_visits_ticket_idx ON hl_visits (ticket_id);

-- The sensor snapshot taken when the ticket was created.
CREATE TABLE hl_evidence (
    ticket_id TEXT PRIMARY KEY,
    taken_at TIMESTAMPTZ NOT NULL,
    standard_temp_c DOUBLE PRECISION NOT NULL,
    hours_reported INTEGER NOT NULL,
    mean_72h_c DOUBLE PRECISION,
    mean_6h_c DOUBLE PRECISION,
    min_72h_c DOUBLE PRECISION,
    building_rate DOUBLE PRECISION,
    station_rate DOUBLE PRECISION,
    open_alerts INTEGER NOT NULL,
    verdict TEXT NOT NULL,  -- agrees | disagrees | no_data | not_applicable
    series TEXT NOT NULL,  -- JSON [[iso hour, mean °C], ...]
    alerts TEXT NOT NULL  -- JSON list of open alerts
);

-- One clock per ticket, step and round (a reopened ticket starts a new round).
CREATE TABLE hl_sla_clocks (
    ticket_id TEXT NOT NULL,
    step TEXT NOT NULL,  -- sign | arrive | measure | fix | followup | feedback
    round_no INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    budget_minutes INTEGER NOT NULL,
    paused_minutes DOUBLE PRECISION NOT NULL DEFAULT 0,
    paused_since TIMESTAMPTZ,
    due_at TIMESTAMPTZ NOT NULL,  -- started + budget + paused (moves on resume)
    completed_at TIMESTAMPTZ,
    breached_at TIMESTAMPTZ,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ticket_id, step, round_no)
);
CREATE INDEX hl_sla_clocks_due_idx ON hl_sla_clocks (due_at);

CREATE TABLE hl_pauses (
    ticket_id TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    reason TEXT NOT NULL,
    note TEXT,
    actor TEXT
);

CREATE TABLE hl_escalations (
    escalation_id BIGINT PRIMARY KEY DEFAULT nextval('hl_escalation_seq'),
    ticket_id TEXT NOT NULL,
    step TEXT NOT NULL,
    round_no INTEGER NOT NULL,
    level INTEGER NOT NULL,  -- 1 enterprise supervisor, 2 government steward, 3 regulator
    target_kind TEXT NOT NULL,
    target_id TEXT,
    target_name TEXT,
    escalated_at TIMESTAMPTZ NOT NULL,
    delivery_id BIGINT  -- row of mon_alert_deliveries (NULL: no webhook configured)
);
CREATE INDEX hl_escalations_ticket_idx ON hl_escalations (ticket_id);

-- Overrides of the published SLA defaults (minutes per category, season part and step).
CREATE TABLE hl_sla_policies (
    category TEXT NOT NULL,
    season_part TEXT NOT NULL,
    step TEXT NOT NULL,
    minutes INTEGER NOT NULL,
    PRIMARY KEY (category, season_part, step)
);

CREATE TABLE hl_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE hl_imports (
    import_id BIGINT PRIMARY KEY DEFAULT nextval('hl_import_seq'),
    received_at TIMESTAMPTZ NOT NULL,
    source TEXT NOT NULL,  -- file name or "api"
    actor TEXT,
    rows_received INTEGER NOT NULL,
    created INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    rejected INTEGER NOT NULL
);

CREATE TABLE hl_import_rejects (
    import_id BIGINT NOT NULL,
    line INTEGER NOT NULL,
    order_no TEXT,
    reason TEXT NOT NULL,
    raw TEXT
);
