-- 0002: outbox rows that belong to no case (the daily digest to the team), and a
-- record of the copy appended to the team's Sent folder.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id         INTEGER REFERENCES cases(id),
    trigger_message INTEGER REFERENCES messages(id),
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    subject         TEXT NOT NULL,
    body            BLOB NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    server_reply    TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    copied_at       INTEGER,
    UNIQUE (case_id, trigger_message, kind)
) STRICT;
INSERT INTO outbox_new (id, case_id, trigger_message, kind, recipient, message_id, subject, body, state,
    attempts, next_attempt_at, last_error, server_reply, created_at, sent_at)
  SELECT id, case_id, trigger_message, kind, recipient, message_id, subject, body, state,
    attempts, next_attempt_at, last_error, server_reply, created_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
