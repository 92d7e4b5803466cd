-- 0007: session-key hashes of every decrypted message (src/crypto.rs, Decrypted::
-- session_key_hash). The same ciphertext pasted into someone else's mail opens with
-- the same session key: intake looks the hash up before it answers anyone.
CREATE TABLE session_keys (
    hash       TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    case_id    INTEGER NOT NULL REFERENCES cases(id),
    from_addr  TEXT,
    PRIMARY KEY (hash, message_id)
) STRICT;
