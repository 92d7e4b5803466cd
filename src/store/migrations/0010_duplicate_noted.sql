-- 0010: the likely duplicate already recorded for a case (its public id), as a column:
-- "was this one noted before?" was answered by matching the text of earlier
-- `possible-duplicate` events (the audit log is not state). Filled from those events
-- for existing cases.
ALTER TABLE cases ADD COLUMN duplicate_noted TEXT;
UPDATE cases SET duplicate_noted = (
    SELECT substr(e.detail, 4, instr(substr(e.detail, 4), ' ') - 1)
    FROM events e
    WHERE e.case_id = cases.id AND e.kind = 'possible-duplicate' AND e.detail LIKE 'of % %'
    ORDER BY e.id DESC LIMIT 1
);
