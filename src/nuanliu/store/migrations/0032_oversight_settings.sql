-- Oversight settings (issue #9), e.g. the exit rule as JSON under key 'exit_rule'.
CREATE TABLE ov_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
