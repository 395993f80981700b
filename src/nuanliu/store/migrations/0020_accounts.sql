-- Accounts, roles and their scope; web sessions; API tokens; login rate limiting; audit log.
-- Secrets are never stored in clear: passwords as argon2 hashes, session ids and tokens as SHA-256.

CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL
);

-- What a user may see: kind is region, enterprise, community or household.
CREATE TABLE user_scopes (
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, ref_id)
);

CREATE TABLE sessions (
    session_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    client_ip TEXT,
    user_agent TEXT
);

CREATE TABLE api_tokens (
    token_id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

-- One row per failed login; key is 'user:<name>' or 'ip:<address>'.
CREATE TABLE login_failures (
    failure_key TEXT NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX login_failures_key_idx ON login_failures (failure_key, failed_at);

CREATE TABLE audit_log (
    audit_id TEXT PRIMARY KEY,
    occurred_at TIMESTAMPTZ NOT NULL,
    user_id TEXT,
    username TEXT,
    role TEXT,
    enterprise_id TEXT,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL DEFAULT '',
    object_id TEXT NOT NULL DEFAULT '',
    before_summary TEXT,
    after_summary TEXT,
    client_ip TEXT,
    outcome TEXT NOT NULL DEFAULT 'ok'
);
