-- 0008: what protected each content part of a message (src/mime.rs, PartCover):
-- JSON list of {part, bytes, encrypted, signed}. A message that is only partly
-- signed or partly encrypted is summarised as `partial` in messages.signature /
-- messages.encryption; this column says which parts.
ALTER TABLE messages ADD COLUMN coverage TEXT;
