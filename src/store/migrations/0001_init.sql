-- 0001: the initial schema. Migrations are linear and numbered; each runs in
-- one transaction and bumps PRAGMA user_version. Never edit a shipped file:
-- add a new one.

-- Per-mailbox intake bookkeeping (IMAP: UIDVALIDITY and the highest committed UID).
CREATE TABLE mailboxes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    uidvalidity INTEGER,
    last_uid    INTEGER,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE cases (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id     TEXT NOT NULL UNIQUE,          -- SEC-YYYY-NNNN
    year          INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    state         TEXT NOT NULL,
    state_reason  TEXT,
    reporter      TEXT,                          -- address, lower case
    reporter_name TEXT,
    subject       TEXT,                          -- the subject a reader sees (protected header when present)
    mailbox       TEXT NOT NULL,
    policy        TEXT NOT NULL,
    signature     TEXT NOT NULL,                 -- of the first message: good|bad|unknown-key|invalid-key|unsigned
    severity      TEXT,
    arrived_at    INTEGER NOT NULL,              -- unix seconds; the SLA clock starts here
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    ack_due       INTEGER,
    followup_due  INTEGER,
    acked_at      INTEGER,
    responded_at  INTEGER,
    UNIQUE (year, seq)
) STRICT;
CREATE INDEX cases_state ON cases(state);
CREATE INDEX cases_reporter ON cases(reporter);

-- Every message as received. raw is never modified.
CREATE TABLE messages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id        INTEGER NOT NULL REFERENCES cases(id),
    sha256         TEXT NOT NULL UNIQUE,
    message_id     TEXT,
    mailbox        TEXT NOT NULL,
    source_pos     TEXT,                         -- Maildir file name, or UIDVALIDITY:UID
    arrived_at     INTEGER NOT NULL,
    received_at    INTEGER NOT NULL,
    size           INTEGER NOT NULL,
    raw            BLOB NOT NULL,
    from_addr      TEXT,
    outer_subject  TEXT,
    subject        TEXT,
    in_reply_to    TEXT,                         -- JSON array
    refs           TEXT,                         -- JSON array
    encryption     TEXT NOT NULL,                -- none|pgp-mime|inline|attachment
    status         TEXT NOT NULL,                -- ok|undecryptable|unparseable
    status_reason  TEXT,
    signature      TEXT NOT NULL,
    signatures     TEXT NOT NULL,                -- JSON array of {status, signer, user_id, detail}
    team_key       TEXT,
    body_text      TEXT,
    notes          TEXT,                         -- JSON array
    processed_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_case ON messages(case_id);
CREATE INDEX messages_msgid ON messages(message_id);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    name         TEXT,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    encrypted    INTEGER NOT NULL,
    content      BLOB NOT NULL
) STRICT;
CREATE INDEX attachments_message ON attachments(message_id);

-- Reporter public keys seen with a case (attached, inline, Autocrypt, keyring).
CREATE TABLE reporter_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    fingerprint TEXT NOT NULL,
    user_ids    TEXT NOT NULL,                   -- JSON array
    source      TEXT NOT NULL,
    armored     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (case_id, fingerprint)
) STRICT;

-- Classification results, each with its evidence (JSON).
CREATE TABLE findings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    INTEGER NOT NULL REFERENCES cases(id),
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    evidence   TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX findings_case ON findings(case_id);

-- The audit trail: who did what, when, and why.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER REFERENCES cases(id),
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    detail  TEXT
) STRICT;
CREATE INDEX events_case ON events(case_id);

-- Outgoing mail, one row per intent; unique per (case, trigger, kind).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id         INTEGER NOT NULL REFERENCES cases(id),
    trigger_message INTEGER REFERENCES messages(id),
    kind            TEXT NOT NULL,               -- ack|rejection|escalation|digest
    recipient       TEXT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    subject         TEXT NOT NULL,
    body            BLOB NOT NULL,
    state           TEXT NOT NULL,               -- queued|sent|failed|suppressed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    server_reply    TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    UNIQUE (case_id, trigger_message, kind)
) STRICT;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
