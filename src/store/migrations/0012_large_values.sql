-- 0012: large values written in place (issue 18).
--
-- A value bound as a parameter is copied by SQLite twice while a row is inserted (the
-- bound copy and the record built from it): a 25 MiB message cost 70 MiB of heap in
-- the insert alone. From 0012 on, a message's raw bytes, its text and an attachment's
-- content larger than 64 KiB are stored in these side tables instead, reserved with
-- zeroblob(N) and written with incremental blob I/O in 1 MiB pieces. `data` is the
-- last (and only non-key) column, so SQLite never materialises the zeroblob. The
-- owning row keeps an empty value (raw = x'', body_text = NULL, content = x'').
-- Smaller values, and every row written before 0012, stay inline as before.
CREATE TABLE message_raw (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    data       BLOB NOT NULL
) STRICT;

CREATE TABLE message_text (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    data       BLOB NOT NULL                 -- UTF-8 (or the sealed armor), as body_text
) STRICT;

CREATE TABLE attachment_content (
    attachment_id INTEGER PRIMARY KEY REFERENCES attachments(id) ON DELETE CASCADE,
    data          BLOB NOT NULL
) STRICT;
