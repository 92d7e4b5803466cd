-- 0011: answering the reporter from the case, honest clocks, permanent send
-- failures, and the disclosure facts as columns (issue 17).
--
-- Before 0011 `case move` set responded_at; those values are kept (they are what
-- the operator was told then) and have no responded_by. From 0011 on, only a sent
-- reply sets responded_at, and responded_by names the outbox row that did.
ALTER TABLE outbox ADD COLUMN author TEXT;             -- who wrote a reply (NULL: triaged)
ALTER TABLE outbox ADD COLUMN template TEXT;           -- the template a reply started from
ALTER TABLE outbox ADD COLUMN failed_at INTEGER;       -- refused for good (5xx); state 'failed'
ALTER TABLE outbox ADD COLUMN told_at INTEGER;         -- the team was told of the refusal
ALTER TABLE cases ADD COLUMN responded_by INTEGER;     -- outbox id of the reply that stopped the clock
ALTER TABLE cases ADD COLUMN resolve_due INTEGER;      -- the policy's resolution deadline
ALTER TABLE cases ADD COLUMN cve_ids TEXT;             -- JSON array
ALTER TABLE cases ADD COLUMN cwe_ids TEXT;             -- JSON array
ALTER TABLE cases ADD COLUMN cvss TEXT;                -- a CVSS v3.x or v4.0 vector
ALTER TABLE cases ADD COLUMN affected TEXT;            -- e.g. "<= 2.4.1"
ALTER TABLE cases ADD COLUMN fixed_in TEXT;            -- the first fixed version
ALTER TABLE cases ADD COLUMN package TEXT;             -- the package an advisory names
ALTER TABLE cases ADD COLUMN ecosystem TEXT;           -- its OSV ecosystem (npm, PyPI, crates.io, ...)
ALTER TABLE cases ADD COLUMN embargo_until TEXT;       -- YYYY-MM-DD
ALTER TABLE cases ADD COLUMN advisory_url TEXT;
ALTER TABLE cases ADD COLUMN credit TEXT;              -- JSON: how the reporter wants to be credited
