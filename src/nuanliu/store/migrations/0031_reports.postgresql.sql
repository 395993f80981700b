-- Archived reports (issue #9): each generated daily/weekly report is kept unchanged
-- (web page HTML, PDF, XLSX) with the time of its data. Attachments of supervision
-- orders and licences. Binary columns differ per engine (BLOB / BYTEA).

CREATE TABLE rep_reports (
    report_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,  -- daily | weekly
    scope_key TEXT NOT NULL,  -- region:IM, city:HH, enterprise:E1
    first_day DATE NOT NULL,
    end_day DATE NOT NULL,  -- exclusive
    version INTEGER NOT NULL,
    data_time TIMESTAMPTZ NOT NULL,
    generated_at TIMESTAMPTZ NOT NULL,
    generated_by TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    summary TEXT NOT NULL,
    html_zh TEXT NOT NULL,
    html_en TEXT NOT NULL,
    pdf BYTEA NOT NULL,
    xlsx BYTEA NOT NULL,
    UNIQUE (kind, scope_key, first_day, version)
);

CREATE TABLE ov_attachments (
    attachment_id TEXT PRIMARY KEY,
    owner_kind TEXT NOT NULL,  -- order | licence
    owner_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    media_type TEXT NOT NULL,
    content BYTEA NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL
);
