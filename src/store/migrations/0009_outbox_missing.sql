-- 0009: what an ack said was missing, as a column (it was parsed back from the
-- text of the last `ack-queued` event: the audit log is not state). A follow-up
-- gets a new ack only when this changes. Rows from before carry NULL, which never
-- equals a new verdict's list: at most one extra ack for a case acked before 0009.
ALTER TABLE outbox ADD COLUMN missing TEXT;
