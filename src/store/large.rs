//! Large values: a message's raw bytes, its text, an attachment's content, written
//! and read in place.
//!
//! This module owns the side tables of migration 0012 (`message_raw`, `message_text`,
//! `attachment_content`). A value bound as a parameter is copied by SQLite twice while
//! the row is built (the bound copy, then the record), so a 25 MiB message cost three
//! times its size in the insert alone. A value above [`INLINE_MAX`] is instead reserved
//! with `zeroblob(N)` as the last column of its side-table row (which SQLite never
//! materialises) and written, then read, through incremental blob I/O a piece at a
//! time: the store adds a constant to the memory a large message costs, not a multiple.

use std::io::{Read, Write};

use super::Cached;
use super::exec;
use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};

/// Values up to this size stay inline in their row (as before 0012).
pub(crate) const INLINE_MAX: usize = 64 * 1024;

/// Piece written or read at a time.
const PIECE: usize = 1024 * 1024;

/// A side table: its name and the column naming the owning row (its rowid).
#[derive(Clone, Copy)]
pub(crate) enum Side {
    MessageRaw,
    MessageText,
    AttachmentContent,
}

impl Side {
    fn table(self) -> &'static str {
        match self {
            Side::MessageRaw => "message_raw",
            Side::MessageText => "message_text",
            Side::AttachmentContent => "attachment_content",
        }
    }

    fn owner(self) -> &'static str {
        match self {
            Side::MessageRaw | Side::MessageText => "message_id",
            Side::AttachmentContent => "attachment_id",
        }
    }
}

/// True when a value of this size goes to a side table.
pub(crate) fn is_large(len: usize) -> bool {
    len > INLINE_MAX
}

/// Stores `data` for row `owner` (replacing an earlier value), a piece at a time.
pub(crate) fn put(conn: &Connection, side: Side, owner: i64, data: &[u8]) -> Result<()> {
    let (table, col) = (side.table(), side.owner());
    exec(
        conn,
        &format!("INSERT OR REPLACE INTO {table} ({col}, data) VALUES (?1, zeroblob(?2))"),
        params![owner, i64::try_from(data.len()).unwrap_or(i64::MAX)],
    )
    .with_context(|| format!("reserving {} bytes in {table}", data.len()))?;
    let mut blob = conn
        .blob_open(rusqlite::MAIN_DB, table, "data", owner, false)
        .with_context(|| format!("opening {table} row {owner} for writing"))?;
    for piece in data.chunks(PIECE) {
        blob.write_all(piece)
            .with_context(|| format!("writing {table} row {owner}"))?;
    }
    Ok(())
}

/// Stores `len` bytes read from `r` for row `owner`, a piece at a time: a value that is
/// in a file (a message read as a stream) is never held. Fails when `r` ends early.
pub(crate) fn put_reader(
    conn: &Connection,
    side: Side,
    owner: i64,
    mut r: impl Read,
    len: u64,
) -> Result<()> {
    let (table, col) = (side.table(), side.owner());
    exec(
        conn,
        &format!("INSERT OR REPLACE INTO {table} ({col}, data) VALUES (?1, zeroblob(?2))"),
        params![owner, i64::try_from(len).unwrap_or(i64::MAX)],
    )
    .with_context(|| format!("reserving {len} bytes in {table}"))?;
    let mut blob = conn
        .blob_open(rusqlite::MAIN_DB, table, "data", owner, false)
        .with_context(|| format!("opening {table} row {owner} for writing"))?;
    let mut piece = vec![0u8; PIECE];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left.min(PIECE as u64)).unwrap_or(PIECE);
        let buf = piece.get_mut(..want).unwrap_or_default();
        r.read_exact(buf).with_context(|| {
            format!("reading the value for {table} row {owner} ({left} of {len} bytes left)")
        })?;
        blob.write_all(buf)
            .with_context(|| format!("writing {table} row {owner}"))?;
        left -= want as u64;
    }
    Ok(())
}

/// Removes the side value of row `owner`, if any (the value became small or inline).
pub(crate) fn remove(conn: &Connection, side: Side, owner: i64) -> Result<()> {
    let (table, col) = (side.table(), side.owner());
    exec(
        conn,
        &format!("DELETE FROM {table} WHERE {col} = ?1"),
        [owner],
    )
    .with_context(|| format!("removing {table} row {owner}"))?;
    Ok(())
}

/// At most `limit` bytes of the side value of row `owner` (None: the value is inline).
pub(crate) fn get(
    conn: &Connection,
    side: Side,
    owner: i64,
    limit: usize,
) -> Result<Option<Vec<u8>>> {
    let (table, col) = (side.table(), side.owner());
    let exists: Option<i64> = conn
        .cached_row(
            &format!("SELECT {col} FROM {table} WHERE {col} = ?1"),
            [owner],
            |r| r.get(0),
        )
        .optional()
        .with_context(|| format!("looking up {table} row {owner}"))?;
    if exists.is_none() {
        return Ok(None);
    }
    let mut blob = conn
        .blob_open(rusqlite::MAIN_DB, table, "data", owner, true)
        .with_context(|| format!("opening {table} row {owner} for reading"))?;
    let n = blob.len().min(limit);
    let mut out = Vec::with_capacity(n);
    (&mut blob)
        .take(n as u64)
        .read_to_end(&mut out)
        .with_context(|| format!("reading {table} row {owner}"))?;
    Ok(Some(out))
}

/// Text read from a side value: the longest valid UTF-8 prefix (a value cut at `limit`
/// may end inside a character; whole values are valid UTF-8 as they were stored).
pub(crate) fn text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let mut b = e.into_bytes();
            b.truncate(valid);
            String::from_utf8(b).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> crate::store::Store {
        crate::store::Store::open_in_memory().expect("in-memory store")
    }

    #[test]
    fn a_large_value_round_trips_and_is_read_up_to_a_limit() {
        let st = db();
        let c = &st.conn;
        c.execute_batch(
            "INSERT INTO cases (public_id, year, seq, state, mailbox, policy, signature, arrived_at, created_at, updated_at, ack_due) \
             VALUES ('SEC-2026-0001', 2026, 1, 'new', 'm', 'default', 'unsigned', 0, 0, 0, 0);
             INSERT INTO messages (case_id, sha256, mailbox, arrived_at, received_at, size, raw, encryption, status, signature, signatures, processed_at) \
             VALUES (1, 'x', 'm', 0, 0, 0, x'', 'none', 'ok', 'unsigned', '[]', 0);",
        )
        .expect("rows");
        let data: Vec<u8> = (0..3 * PIECE + 17).map(|i| (i % 251) as u8).collect();
        put(c, Side::MessageRaw, 1, &data).expect("put");
        assert_eq!(
            get(c, Side::MessageRaw, 1, usize::MAX).expect("get"),
            Some(data.clone())
        );
        assert_eq!(
            get(c, Side::MessageRaw, 1, 10).expect("get"),
            Some(data[..10].to_vec())
        );
        // Replacing keeps one row with the new value.
        put(c, Side::MessageRaw, 1, b"short").expect("put again");
        assert_eq!(
            get(c, Side::MessageRaw, 1, usize::MAX).expect("get"),
            Some(b"short".to_vec())
        );
        assert_eq!(get(c, Side::MessageText, 1, 10).expect("get"), None);
        // From a reader, in pieces; a reader that ends early is an error.
        put_reader(c, Side::MessageRaw, 1, &data[..], data.len() as u64).expect("put_reader");
        assert_eq!(
            get(c, Side::MessageRaw, 1, usize::MAX).expect("get"),
            Some(data.clone())
        );
        assert!(put_reader(c, Side::MessageRaw, 1, &data[..10], 11).is_err());
        remove(c, Side::MessageRaw, 1).expect("remove");
        assert_eq!(get(c, Side::MessageRaw, 1, 10).expect("get"), None);
    }

    #[test]
    fn a_cut_inside_a_character_keeps_the_whole_characters_before_it() {
        assert_eq!(text("aé".as_bytes()[..2].to_vec()), "a");
        assert_eq!(text("aé".as_bytes().to_vec()), "aé");
    }
}
