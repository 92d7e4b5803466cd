-- 0003: who owns a case, and which case a duplicate was merged into.
ALTER TABLE cases ADD COLUMN assignee TEXT;
ALTER TABLE cases ADD COLUMN merged_into TEXT;
