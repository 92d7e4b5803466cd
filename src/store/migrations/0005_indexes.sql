-- Indexes found by the benchmarks (BENCHMARKS.md): without them the per-sender rate
-- limit, "the last ack of this case" and the SLA sweep scanned the whole outbox for
-- every message, which made a backlog quadratic.
CREATE INDEX outbox_case ON outbox(case_id, kind);
CREATE INDEX outbox_recipient ON outbox(recipient, created_at);
CREATE INDEX events_case_kind ON events(case_id, kind);
