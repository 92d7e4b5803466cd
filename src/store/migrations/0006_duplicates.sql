-- 0006: the duplicate index (src/duplicates.rs). Keys are looked up by (kind, key):
-- "id" (CVE/GHSA), "path" (an endpoint named in the report), "band" (one of 8 LSH
-- bands of the MinHash signature). dup_sigs holds each case's features for scoring.
CREATE TABLE dup_keys (
    case_id INTEGER NOT NULL REFERENCES cases(id),
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    PRIMARY KEY (case_id, kind, key)
) STRICT;
CREATE INDEX dup_keys_lookup ON dup_keys(kind, key);
CREATE TABLE dup_sigs (
    case_id INTEGER PRIMARY KEY REFERENCES cases(id),
    sig     TEXT NOT NULL,
    classes TEXT NOT NULL,
    paths   TEXT NOT NULL,
    ids      TEXT NOT NULL,
    products TEXT NOT NULL
) STRICT;
