-- 0013: fewer B-trees written per report (issue 18). Every new case inserts about 30
-- rows; each index on a table is one more B-tree insert per row.
--
-- events_case(case_id) is a prefix of events_case_kind(case_id, kind), which serves
-- every lookup by case as well: dropped.
DROP INDEX IF EXISTS events_case;

-- dup_keys and session_keys are looked up only by their keys, never by a rowid: as
-- WITHOUT ROWID tables the primary key is the table itself (one B-tree instead of a
-- table plus its key's index), and dup_keys_lookup(kind, key) then carries case_id
-- (the key's remaining column), so a candidate lookup reads the index alone.
CREATE TABLE dup_keys_0013 (
    case_id INTEGER NOT NULL REFERENCES cases(id),
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    PRIMARY KEY (case_id, kind, key)
) STRICT, WITHOUT ROWID;
INSERT INTO dup_keys_0013 (case_id, kind, key) SELECT case_id, kind, key FROM dup_keys;
DROP TABLE dup_keys;
ALTER TABLE dup_keys_0013 RENAME TO dup_keys;
CREATE INDEX dup_keys_lookup ON dup_keys(kind, key);

CREATE TABLE session_keys_0013 (
    hash       TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    case_id    INTEGER NOT NULL REFERENCES cases(id),
    from_addr  TEXT,
    PRIMARY KEY (hash, message_id)
) STRICT, WITHOUT ROWID;
INSERT INTO session_keys_0013 (hash, message_id, case_id, from_addr)
    SELECT hash, message_id, case_id, from_addr FROM session_keys;
DROP TABLE session_keys;
ALTER TABLE session_keys_0013 RENAME TO session_keys;
