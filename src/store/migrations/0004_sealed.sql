-- 0004: encryption at rest (store.encrypt_at_rest). 1 = the value is an OpenPGP
-- message to the team key: messages.body_text (armored), messages.raw when the report
-- arrived unencrypted (binary), attachments.content (binary).
ALTER TABLE messages ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN raw_sealed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attachments ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
