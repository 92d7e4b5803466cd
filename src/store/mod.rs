//! The SQLite store: schema, migrations and typed queries.
//!
//! This module owns the database file: it is created mode 0600, opened in WAL
//! mode with `synchronous=FULL` (the messages and outbox tables are a ledger:
//! a commit that returned must survive power loss), foreign keys on and a busy
//! timeout so CLI commands and the daemon can share it. Migrations are the
//! numbered files in `src/store/migrations/`, applied in order at open; a
//! database newer than this binary is refused. No business rules live here.

use std::path::Path;

mod disclosure;
mod duplicates;
mod intake;
mod large;
mod outbox;
pub(crate) use disclosure::{disclosure_of, later_clocks, set_disclosure};
pub(crate) use duplicates::{duplicate_candidates, index_duplicate, live_candidates};
pub(crate) use intake::{
    NewAttachment, NewCase, NewMessage, RawBytes, RereadMessage, add_reporter_key, clear_clocks,
    create_case, insert_message, lift_quarantine, note_duplicate, record_session_key,
    replace_attachments, session_key_seen, set_case_verdict, touch_case, update_reread_message,
};

pub(crate) use outbox::{
    Due, NewOutgoing, acks_to_since, breaches_since, case_has_event, case_has_mail,
    closed_on_arrival_since, deadlines_between, due_rows, feedback_since, last_ack_missing,
    last_reporter_message_id, mark_refusal_told, open_counts_by_state, own_mail_by_message_id,
    queue_mail, queued_with_subject, record_bounce, record_copied, record_refused,
    record_send_failure, record_sent, refused_untold, reporter_keys_of_address, sweep_clocks,
    thread_message_ids,
};

pub use crate::domain::time::now;
pub(crate) use crate::domain::time::rfc3339;
use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Numbered migrations, applied in order. Append only.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_outbox_without_case.sql")),
    (3, include_str!("migrations/0003_assignee_merge.sql")),
    (4, include_str!("migrations/0004_sealed.sql")),
    (5, include_str!("migrations/0005_indexes.sql")),
    (6, include_str!("migrations/0006_duplicates.sql")),
    (7, include_str!("migrations/0007_session_keys.sql")),
    (8, include_str!("migrations/0008_coverage.sql")),
    (9, include_str!("migrations/0009_outbox_missing.sql")),
    (10, include_str!("migrations/0010_duplicate_noted.sql")),
    (11, include_str!("migrations/0011_reply_disclosure.sql")),
    (12, include_str!("migrations/0012_large_values.sql")),
    (13, include_str!("migrations/0013_lean_indexes.sql")),
];

/// Runs one statement through the connection's prepared-statement cache: intake runs
/// the same few dozen statements for every message, and preparing each anew cost
/// about 5 % of a backlog's CPU (perf).
pub(crate) fn exec<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// `query_row` and `execute` through the prepared-statement cache, for every statement
/// in `store/` (a statement with a constant text; SQL built at run time uses `prepare`).
/// Uncached, parsing the SQL again cost 9 % of the writer thread's CPU in a backlog
/// (`case_by_id` alone 4 %: perf, third session of 2026-12-02).
pub(crate) trait Cached {
    fn cached_row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
    fn cached_exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
}

impl Cached for Connection {
    fn cached_row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
    fn cached_exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        exec(self, sql, params)
    }
}

pub const SCHEMA_VERSION: i64 = match MIGRATIONS.last() {
    Some(m) => m.0,
    None => 0,
};

/// The database. Its connection is private: SQL runs only in `store/`, through the
/// named functions here, which take a [`Db`] handle.
pub struct Store {
    conn: Connection,
}

/// A handle on the database (or on the transaction in progress) for the named store
/// functions. Outside `store/` it cannot run SQL: the connection inside is private.
#[derive(Clone, Copy)]
pub struct Db<'a>(&'a Connection);

/// The query planner stability guarantee (QPSG): a cached statement keeps its plan
/// whatever is bound to it. Without it SQLite re-prepares a statement each time a new
/// value is bound to a `LIMIT ?` (and to a few other parameters it could plan around):
/// five parses per stored report, 10 % of the writer's instructions, for plans that
/// would not change (no partial indexes, no `LIKE ?`, no ANALYZE statistics here).
fn stable_plans(conn: &Connection) -> Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .context("enabling the query planner stability guarantee")?;
    Ok(())
}

impl Store {
    /// A handle for reads and single-statement writes (autocommit).
    pub fn db(&self) -> Db<'_> {
        Db(&self.conn)
    }

    /// Runs `f` in one IMMEDIATE transaction (the write lock is taken up front, so a
    /// concurrent writer makes us wait, within the busy timeout, instead of failing on
    /// a read-to-write upgrade). Commits when `f` returns Ok, rolls back otherwise.
    pub fn write<T>(&mut self, what: &str, f: impl FnOnce(Db<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .with_context(|| format!("starting the {what} transaction"))?;
        let out = f(Db(&tx))?;
        tx.commit()
            .with_context(|| format!("committing the {what} transaction"))?;
        Ok(out)
    }

    /// [`Store::write`] committed with `synchronous=NORMAL` (WAL): a killed process loses
    /// nothing, an OS crash or power loss may forget the last few such commits. For
    /// records whose loss only repeats an idempotent action (the outbox's "sent" rows:
    /// the mail is sent again with the same Message-ID). FULL is restored afterwards,
    /// whatever `f` returned.
    pub(crate) fn write_relaxed<T>(
        &mut self,
        what: &str,
        f: impl FnOnce(Db<'_>) -> Result<T>,
    ) -> Result<T> {
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .with_context(|| format!("relaxing fsync for the {what} transaction"))?;
        let out = self.write(what, f);
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .context("restoring synchronous=FULL")?;
        out
    }

    /// Opens (creating if needed, mode 0600) and migrates the database.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the store directory {}", dir.display()))?;
        }
        if !path.exists() {
            create_private(path)?;
        }
        let conn = Connection::open(path).with_context(|| {
            format!(
                "cannot open the database {}{}",
                path.display(),
                disk_hint(path)
            )
        })?;
        // Enough for every statement intake and the sender run (see `exec`).
        conn.set_prepared_statement_cache_capacity(256);
        stable_plans(&conn)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .context("setting the busy timeout")?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .with_context(|| format!("enabling WAL on {}{}", path.display(), disk_hint(path)))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .context("setting synchronous=FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .context("enabling foreign keys")?;
        let mut store = Store { conn };
        store
            .migrate()
            .with_context(|| format!("migrating the database {}", path.display()))?;
        Ok(store)
    }

    /// An in-memory store (unit tests).
    #[cfg(test)]
    pub(crate) fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory().context("opening an in-memory database")?;
        stable_plans(&conn)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .context("enabling foreign keys")?;
        let mut store = Store { conn };
        store.migrate()?;
        Ok(store)
    }

    /// SQLite's own page check (`PRAGMA quick_check`, at most 20 problems): `["ok"]`
    /// for a sound file.
    pub fn quick_check(&self) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare_cached("PRAGMA quick_check(20)")
            .context("preparing quick_check")?;
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))
            .context("running quick_check")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .context("reading quick_check")?;
        Ok(rows)
    }

    /// A trivial query: the database answers (the watchdog's health check).
    pub(crate) fn ping(&self) -> Result<()> {
        self.conn
            .cached_row("SELECT 1", [], |r| r.get::<_, i64>(0))
            .context("the database does not answer")?;
        Ok(())
    }

    /// An operator moves a case (the transition was checked by the caller): state,
    /// reason and the event, in one transaction. Moving stops no clock: only a reply
    /// the reporter was actually sent does (`record_sent`).
    pub(crate) fn move_case(
        &mut self,
        case_id: i64,
        from: crate::domain::case::State,
        to: crate::domain::case::State,
        note: Option<&str>,
        actor: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .context("starting the move")?;
        set_case_state(Db(&tx), case_id, to, note)?;
        event(
            Db(&tx),
            Some(case_id),
            actor,
            crate::domain::status::EventKind::State,
            Some(&format!(
                "{from} -> {to}{}",
                note.map(|n| format!(": {n}")).unwrap_or_default()
            )),
        )?;
        tx.commit().context("committing the move")
    }

    /// Assigns a case to a person, with its event.
    pub(crate) fn assign_case(&mut self, case_id: i64, to: &str, actor: &str) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .context("starting the assignment")?;
        tx.cached_exec(
            "UPDATE cases SET assignee = ?2, updated_at = ?3 WHERE id = ?1",
            params![case_id, to, now()],
        )
        .context("assigning the case")?;
        event(
            Db(&tx),
            Some(case_id),
            actor,
            crate::domain::status::EventKind::Assigned,
            Some(to),
        )?;
        tx.commit().context("committing the assignment")
    }

    /// Marks `case` a duplicate of `target` (the transition was checked by the caller),
    /// with an event on both cases, in one transaction.
    pub(crate) fn merge_case(
        &mut self,
        case: &CaseRow,
        from: crate::domain::case::State,
        target: &CaseRow,
        actor: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .context("starting the merge")?;
        tx.cached_exec(
            "UPDATE cases SET state = 'duplicate', state_reason = ?2, merged_into = ?3, updated_at = ?4 WHERE id = ?1",
            params![case.id, format!("duplicate of {}", target.id_public), target.id_public, now()],
        )
        .context("merging")?;
        event(
            Db(&tx),
            Some(case.id),
            actor,
            crate::domain::status::EventKind::Merged,
            Some(&format!("{} -> duplicate of {}", from, target.id_public)),
        )?;
        event(
            Db(&tx),
            Some(target.id),
            actor,
            crate::domain::status::EventKind::DuplicateMerged,
            Some(&format!("{} was merged into this case", case.id_public)),
        )?;
        tx.commit().context("committing the merge")
    }

    pub fn schema_version(&self) -> Result<i64> {
        self.conn
            .cached_row("PRAGMA user_version", [], |r| r.get(0))
            .context("reading the schema version")
    }

    fn migrate(&mut self) -> Result<()> {
        let current = self.schema_version()?;
        if current > SCHEMA_VERSION {
            bail!(
                "the database has schema version {current}, but this triaged knows only up to {SCHEMA_VERSION}: \
                 it was written by a newer triaged. Upgrade triaged, or restore the backup taken before the upgrade"
            );
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            let tx = self.conn.transaction().context("starting a migration")?;
            tx.execute_batch(sql)
                .with_context(|| format!("applying migration {version:04}"))?;
            tx.pragma_update(None, "user_version", version)
                .context("recording the schema version")?;
            tx.commit()
                .with_context(|| format!("committing migration {version:04}"))?;
        }
        Ok(())
    }
}

/// Free bytes on the file system holding `path` (statvfs).
pub(crate) fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = if path.is_dir() { path } else { path.parent()? };
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid NUL-terminated path and st a properly sized out-parameter.
    let r = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (r == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
}

/// ": the disk holding X is full (N bytes free)" when that is the likely cause, else "".
pub(crate) fn disk_hint(path: &Path) -> String {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let writable = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_encoded_bytes())
            .is_ok_and(|c| unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0)
    };
    if dir.exists() && !writable(dir) {
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        return format!(
            ": the directory {} is not writable by this user (uid {uid}); SQLite's write-ahead log needs to create {}-wal and -shm beside the database, even to read\n  fix: run triaged as the service user (e.g. `sudo -u triaged triaged ...`) or give this user write access to {}",
            dir.display(),
            path.display(),
            dir.display()
        );
    }
    if path.exists() && !writable(path) {
        return format!(
            ": {} is not writable by this user\n  fix: run triaged as the service user, or `chmod u+w` the file",
            path.display()
        );
    }
    match free_bytes(path) {
        Some(free) if free < 1024 * 1024 => format!(
            ": the disk holding {} is full ({free} bytes free); triaged takes no mail and marks nothing processed until there is space",
            path.parent().unwrap_or(path).display()
        ),
        _ => String::new(),
    }
}

fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the database {}", path.display()))?;
    Ok(())
}

/// A case as stored.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub id: i64,
    pub id_public: String,
    pub state: crate::domain::case::State,
    pub state_reason: Option<String>,
    pub reporter: Option<String>,
    pub reporter_name: Option<String>,
    /// None while sealed at rest (`subject_sealed`); [`CaseRow::open`] fills it in.
    pub subject: Option<String>,
    /// The subject is encrypted at rest and was not opened.
    pub subject_sealed: bool,
    sealed_subject: Option<String>,
    pub mailbox: String,
    pub policy: String,
    pub signature: crate::domain::status::SigStatus,
    pub severity: Option<crate::domain::status::Severity>,
    pub arrived_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub ack_due: Option<i64>,
    pub followup_due: Option<i64>,
    pub acked_at: Option<i64>,
    pub responded_at: Option<i64>,
    /// The outbox row (a reply) whose sending stopped the response clock.
    pub responded_by: Option<i64>,
    pub resolve_due: Option<i64>,
    pub messages: i64,
    pub encryption: Option<crate::domain::status::Encryption>,
    pub assignee: Option<String>,
    pub merged_into: Option<String>,
    /// A likely duplicate found at intake: `{"case": "SEC-…", "score": 0.8}`.
    pub possible_duplicate_of: Option<serde_json::Value>,
}

const CASE_COLS: &str = "c.id, c.public_id, c.state, c.state_reason, c.reporter, c.reporter_name, c.subject, \
     c.mailbox, c.policy, c.signature, c.severity, c.arrived_at, c.created_at, c.updated_at, c.ack_due, \
     c.followup_due, c.acked_at, c.responded_at, (SELECT COUNT(*) FROM messages m WHERE m.case_id = c.id), \
     (SELECT encryption FROM messages m WHERE m.case_id = c.id ORDER BY m.id LIMIT 1), c.assignee, c.merged_into, \
     (SELECT value FROM findings f WHERE f.case_id = c.id AND f.kind = 'duplicate' LIMIT 1), c.responded_by, c.resolve_due";

/// Splits a stored subject into (clear, sealed armor).
fn subject_field(v: Option<String>) -> (Option<String>, Option<String>) {
    match v {
        Some(s) if s.starts_with(crate::domain::seal::SEALED) => (None, Some(s)),
        v => (v, None),
    }
}

impl CaseRow {
    /// Decrypts a subject sealed at rest (`store.encrypt_at_rest`) with the team key.
    pub fn open(&mut self, keys: &dyn crate::domain::seal::Opener) -> Result<()> {
        if let Some(s) = self.sealed_subject.take() {
            self.subject = Some(keys.open_field(&s)?);
            self.subject_sealed = false;
        }
        Ok(())
    }

    /// The next open deadline: the acknowledgment's until an ack went out, then the
    /// detailed response's until a person answered.
    pub fn next_due(&self) -> Option<i64> {
        match (
            self.acked_at,
            self.ack_due,
            self.responded_at,
            self.followup_due,
        ) {
            (None, Some(d), _, _) => Some(d),
            (_, _, None, Some(d)) => Some(d),
            _ => None,
        }
    }
}

impl MessageRow {
    /// Decrypts a subject sealed at rest with the team key.
    pub fn open(&mut self, keys: &dyn crate::domain::seal::Opener) -> Result<()> {
        if let Some(s) = self.sealed_subject.take() {
            self.subject = Some(keys.open_field(&s)?);
            self.subject_sealed = false;
        }
        Ok(())
    }
}

fn case_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseRow> {
    let (subject, sealed_subject) = subject_field(r.get(6)?);
    Ok(CaseRow {
        subject_sealed: sealed_subject.is_some(),
        sealed_subject,
        id: r.get(0)?,
        id_public: r.get(1)?,
        state: r.get(2)?,
        state_reason: r.get(3)?,
        reporter: r.get(4)?,
        reporter_name: r.get(5)?,
        subject,
        mailbox: r.get(7)?,
        policy: r.get(8)?,
        signature: r.get(9)?,
        severity: r.get(10)?,
        arrived_at: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
        ack_due: r.get(14)?,
        followup_due: r.get(15)?,
        acked_at: r.get(16)?,
        responded_at: r.get(17)?,
        messages: r.get(18)?,
        encryption: r.get(19)?,
        assignee: r.get(20)?,
        merged_into: r.get(21)?,
        responded_by: r.get(23)?,
        resolve_due: r.get(24)?,
        possible_duplicate_of: r
            .get::<_, Option<String>>(22)?
            .and_then(|v| serde_json::from_str(&v).ok()),
    })
}

/// A stored message (without its raw bytes).
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: i64,
    pub sha256: String,
    pub message_id: Option<String>,
    pub mailbox: String,
    pub source_pos: Option<String>,
    pub arrived_at: i64,
    pub size: i64,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub subject_sealed: bool,
    sealed_subject: Option<String>,
    pub encryption: crate::domain::status::Encryption,
    pub status: crate::domain::status::ReadStatus,
    pub status_reason: Option<String>,
    pub signature: crate::domain::status::SigStatus,
    pub signatures: Vec<crate::domain::status::SigResult>,
    pub team_key: Option<String>,
    pub notes: serde_json::Value,
    /// What protected each content part (`[{part, bytes, encrypted, signed}]`).
    pub coverage: serde_json::Value,
    pub attachments: Vec<AttachmentRow>,
}

#[derive(Debug, Clone)]
pub struct AttachmentRow {
    pub name: Option<String>,
    pub content_type: String,
    pub size: i64,
    pub encrypted: bool,
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub at: i64,
    pub actor: String,
    pub kind: crate::domain::status::EventKind,
    pub detail: Option<String>,
}

#[derive(Debug, Clone)]
pub struct KeyRow {
    pub fingerprint: String,
    pub user_ids: Vec<String>,
    pub source: crate::domain::status::KeySource,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    pub kind: crate::domain::status::FindingKind,
    pub value: serde_json::Value,
    pub evidence: serde_json::Value,
}

/// Records an event in the audit trail.
pub fn event(
    conn: Db<'_>,
    case_id: Option<i64>,
    actor: &str,
    kind: crate::domain::status::EventKind,
    detail: Option<&str>,
) -> Result<()> {
    let conn = conn.0;
    exec(
        conn,
        "INSERT INTO events (case_id, at, actor, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![case_id, now(), actor, kind, detail],
    )
    .with_context(|| format!("recording the event {kind}"))?;
    Ok(())
}

/// The case (public id) that already holds a message with these bytes.
pub(crate) fn case_of_sha(conn: Db<'_>, sha: &str) -> Result<Option<String>> {
    let conn = conn.0;
    conn.cached_row(
        "SELECT c.public_id FROM messages m JOIN cases c ON c.id = m.case_id WHERE m.sha256 = ?1",
        [sha],
        |r| r.get(0),
    )
    .optional()
    .context("looking up a message by hash")
}

pub(crate) fn case_by_public_id(conn: Db<'_>, public_id: &str) -> Result<Option<CaseRow>> {
    let conn = conn.0;
    conn.cached_row(
        &format!("SELECT {CASE_COLS} FROM cases c WHERE c.public_id = ?1"),
        [public_id.to_ascii_uppercase()],
        case_from_row,
    )
    .optional()
    .context("looking up a case")
}

pub(crate) fn case_by_id(conn: Db<'_>, id: i64) -> Result<CaseRow> {
    let conn = conn.0;
    conn.cached_row(
        &format!("SELECT {CASE_COLS} FROM cases c WHERE c.id = ?1"),
        [id],
        case_from_row,
    )
    .context("loading a case")
}

/// The case that one of these Message-IDs (ours or the reporter's) belongs to.
pub(crate) fn case_by_message_ids(conn: Db<'_>, ids: &[String]) -> Result<Option<i64>> {
    let conn = conn.0;
    for id in ids {
        let id = id.trim_matches(['<', '>', ' ']);
        if id.is_empty() {
            continue;
        }
        let found: Option<i64> = conn
            .cached_row(
                "SELECT case_id FROM messages WHERE message_id = ?1 \
                 UNION ALL SELECT case_id FROM outbox WHERE message_id = ?1 LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .context("looking up a thread by Message-ID")?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Lists cases, newest first, optionally filtered by state.
pub(crate) fn list_cases(
    conn: Db<'_>,
    state: Option<crate::domain::case::State>,
) -> Result<Vec<CaseRow>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {CASE_COLS} FROM cases c WHERE (?1 IS NULL OR c.state = ?1) ORDER BY c.year, c.seq"
        ))
        .context("preparing the case list")?;
    let rows = stmt
        .query_map([state], case_from_row)
        .context("listing cases")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading cases")?;
    Ok(rows)
}

/// Cases in arrival order; with `newest`, only the newest that many (still in arrival order).
pub(crate) fn list_cases_newest(
    conn: Db<'_>,
    state: Option<crate::domain::case::State>,
    newest: Option<usize>,
) -> Result<Vec<CaseRow>> {
    let conn = conn.0;
    let Some(n) = newest else {
        return list_cases(Db(conn), state);
    };
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {CASE_COLS} FROM cases c WHERE (?1 IS NULL OR c.state = ?1) ORDER BY c.year DESC, c.seq DESC LIMIT ?2"
        ))
        .context("preparing the case list")?;
    let mut rows = stmt
        .query_map(params![state, n as i64], case_from_row)
        .context("listing cases")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading cases")?;
    rows.reverse();
    Ok(rows)
}

/// How many cases there are (in one state, or all).
pub(crate) fn count_cases(
    conn: Db<'_>,
    state: Option<crate::domain::case::State>,
) -> Result<usize> {
    let conn = conn.0;
    let n: i64 = conn
        .cached_row(
            "SELECT COUNT(*) FROM cases WHERE (?1 IS NULL OR state = ?1)",
            [state],
            |r| r.get(0),
        )
        .context("counting cases")?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// A case's SLA clock fields (for `triaged sla`).
pub struct ClockRow {
    pub public_id: String,
    pub state: crate::domain::case::State,
    pub ack_due: Option<i64>,
    pub acked_at: Option<i64>,
    pub followup_due: Option<i64>,
    pub responded_at: Option<i64>,
}

/// The clocks of every case whose clocks run (not closed, not imported): one indexed
/// query, no per-case subqueries.
fn open_clocks_sql() -> String {
    let stopped: Vec<String> = crate::domain::case::ALL_STATES
        .iter()
        .filter(|s| s.is_closed() || **s == crate::domain::case::State::Imported)
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!(
        "SELECT public_id, state, ack_due, acked_at, followup_due, responded_at FROM cases \
         WHERE state NOT IN ({})",
        stopped.join(", ")
    )
}

/// The statements behind `case list --limit 0` (every case) and `sla` (every open
/// clock), as text: `scripts/bench` runs them in the sqlite3 shell beside triaged, to
/// compare triaged's whole command with SQLite's own time to read the same rows.
pub fn cli_queries() -> [(&'static str, String); 2] {
    [
        (
            "case list --limit 0",
            format!(
                "SELECT {CASE_COLS} FROM cases c WHERE (NULL IS NULL OR c.state = NULL) ORDER BY c.year, c.seq"
            ),
        ),
        ("sla --json", open_clocks_sql()),
    ]
}

/// The open clocks, each passed through `keep` as it is read (no list of every row
/// first: `sla` over 100,000 cases keeps only what it shows).
pub(crate) fn open_clocks<T>(
    conn: Db<'_>,
    mut keep: impl FnMut(ClockRow) -> Option<T>,
) -> Result<Vec<T>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare(&open_clocks_sql())
        .context("preparing the SLA query")?;
    let mut rows = stmt.query([]).context("reading SLA clocks")?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().context("reading SLA clocks")? {
        let row = ClockRow {
            public_id: r.get(0).context("reading SLA clocks: public_id")?,
            state: r.get(1).context("reading SLA clocks: state")?,
            ack_due: r.get(2).context("reading SLA clocks: ack_due")?,
            acked_at: r.get(3).context("reading SLA clocks: acked_at")?,
            followup_due: r.get(4).context("reading SLA clocks: followup_due")?,
            responded_at: r.get(5).context("reading SLA clocks: responded_at")?,
        };
        out.extend(keep(row));
    }
    Ok(out)
}

/// Allocates the next public id for `year` (call inside the creating transaction).
pub(crate) fn next_public_id(conn: Db<'_>, year: i32) -> Result<(i64, String)> {
    let conn = conn.0;
    let seq: i64 = conn
        .cached_row(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM cases WHERE year = ?1",
            [year],
            |r| r.get(0),
        )
        .context("allocating a case id")?;
    Ok((seq, crate::domain::case::format_id(year, seq)))
}

pub(crate) fn messages_of(conn: Db<'_>, case_id: i64) -> Result<Vec<MessageRow>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, sha256, message_id, mailbox, source_pos, arrived_at, size, from_addr, subject, \
             encryption, status, status_reason, signature, signatures, team_key, notes, coverage \
             FROM messages WHERE case_id = ?1 ORDER BY arrived_at, id",
        )
        .context("preparing the message list")?;
    let mut rows = stmt
        .query_map([case_id], |r| {
            let sigs: String = r.get(13)?;
            let notes: Option<String> = r.get(15)?;
            let (subject, sealed_subject) = subject_field(r.get(8)?);
            Ok(MessageRow {
                subject,
                subject_sealed: sealed_subject.is_some(),
                sealed_subject,
                id: r.get(0)?,
                sha256: r.get(1)?,
                message_id: r.get(2)?,
                mailbox: r.get(3)?,
                source_pos: r.get(4)?,
                arrived_at: r.get(5)?,
                size: r.get(6)?,
                from: r.get(7)?,
                encryption: r.get(9)?,
                status: r.get(10)?,
                status_reason: r.get(11)?,
                signature: r.get(12)?,
                signatures: serde_json::from_str(&sigs).unwrap_or_default(),
                team_key: r.get(14)?,
                notes: notes
                    .and_then(|n| serde_json::from_str(&n).ok())
                    .unwrap_or_else(|| serde_json::json!([])),
                coverage: r
                    .get::<_, Option<String>>(16)?
                    .and_then(|n| serde_json::from_str(&n).ok())
                    .unwrap_or_else(|| serde_json::json!([])),
                attachments: Vec::new(),
            })
        })
        .context("listing messages")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading messages")?;
    let mut astmt = conn
        .prepare_cached(
            "SELECT name, content_type, size, encrypted FROM attachments WHERE message_id = ?1 ORDER BY id",
        )
        .context("preparing the attachment list")?;
    for m in &mut rows {
        m.attachments = astmt
            .query_map([m.id], |r| {
                Ok(AttachmentRow {
                    name: r.get(0)?,
                    content_type: r.get(1)?,
                    size: r.get(2)?,
                    encrypted: r.get::<_, i64>(3)? != 0,
                })
            })
            .context("listing attachments")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .context("reading attachments")?;
    }
    Ok(rows)
}

/// Raw bytes of every message of a case, oldest first: (message row id, raw).
pub(crate) fn raw_messages_of(
    conn: Db<'_>,
    case_id: i64,
    keys: &dyn crate::domain::seal::Opener,
) -> Result<Vec<(i64, Vec<u8>)>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached(
            "SELECT m.id, COALESCE(r.data, m.raw), m.raw_sealed FROM messages m \
             LEFT JOIN message_raw r ON r.message_id = m.id WHERE m.case_id = ?1 ORDER BY m.arrived_at, m.id",
        )
        .context("preparing the raw message query")?;
    let rows: Vec<(i64, Vec<u8>, i64)> = stmt
        .query_map([case_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .context("reading raw messages")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading raw messages")?;
    rows.into_iter()
        .map(|(id, raw, sealed)| {
            if sealed != 0 {
                Ok((
                    id,
                    keys.open_bytes(&raw)
                        .context("decrypting a stored message")?,
                ))
            } else {
                Ok((id, raw))
            }
        })
        .collect()
}

pub(crate) fn events_of(conn: Db<'_>, case_id: i64) -> Result<Vec<EventRow>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached("SELECT at, actor, kind, detail FROM events WHERE case_id = ?1 ORDER BY id")
        .context("preparing the event list")?;
    let rows = stmt
        .query_map([case_id], |r| {
            Ok(EventRow {
                at: r.get(0)?,
                actor: r.get(1)?,
                kind: r.get(2)?,
                detail: r.get(3)?,
            })
        })
        .context("listing events")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading events")?;
    Ok(rows)
}

pub(crate) fn keys_of(conn: Db<'_>, case_id: i64) -> Result<Vec<KeyRow>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached("SELECT fingerprint, user_ids, source FROM reporter_keys WHERE case_id = ?1 ORDER BY id")
        .context("preparing the key list")?;
    let rows = stmt
        .query_map([case_id], |r| {
            let u: String = r.get(1)?;
            Ok(KeyRow {
                fingerprint: r.get(0)?,
                user_ids: serde_json::from_str(&u).unwrap_or_default(),
                source: r.get(2)?,
            })
        })
        .context("listing reporter keys")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading reporter keys")?;
    Ok(rows)
}

pub(crate) fn findings_of(conn: Db<'_>, case_id: i64) -> Result<Vec<FindingRow>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached("SELECT kind, value, evidence FROM findings WHERE case_id = ?1 ORDER BY id")
        .context("preparing the finding list")?;
    let rows = stmt
        .query_map([case_id], |r| {
            let v: String = r.get(1)?;
            let e: String = r.get(2)?;
            Ok(FindingRow {
                kind: r.get(0)?,
                value: serde_json::from_str(&v).unwrap_or(serde_json::Value::Null),
                evidence: serde_json::from_str(&e).unwrap_or(serde_json::Value::Null),
            })
        })
        .context("listing findings")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading findings")?;
    Ok(rows)
}

/// The subject, all text and all attachments of a case's thread (oldest first), for classification.
#[allow(clippy::type_complexity)]
pub(crate) fn thread_content(
    conn: Db<'_>,
    case_id: i64,
    keys: &dyn crate::domain::seal::Opener,
    cap: usize,
) -> Result<(String, String, Vec<(Option<String>, String, Vec<u8>)>)> {
    let conn = conn.0;
    // `cap`: at most this many characters of each text and bytes of each attachment
    // are read (sealed ones are cut after decryption).
    let cap = i64::try_from(cap).unwrap_or(i64::MAX);
    let mut stmt = conn
        .prepare_cached("SELECT id, subject, CASE WHEN sealed = 1 THEN 'sealed:' || body_text ELSE substr(body_text, 1, ?2) END, sealed FROM messages WHERE case_id = ?1 AND status = 'ok' ORDER BY arrived_at, id")
        .context("preparing the thread query")?;
    let mut msgs = stmt
        .query_map(params![case_id, cap], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, i64>(3)? != 0,
            ))
        })
        .context("reading the thread")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading the thread")?;
    // A large text is in message_text: a sealed one is read whole (it is opened, then
    // cut), a plain one only up to `cap` bytes (the same prefix substr gives once the
    // caller cuts the thread at `cap` bytes).
    for m in &mut msgs {
        let limit = if m.3 {
            usize::MAX
        } else {
            usize::try_from(cap).unwrap_or(usize::MAX)
        };
        if let Some(b) = large::get(conn, large::Side::MessageText, m.0, limit)? {
            let t = large::text(b);
            m.2 = Some(if m.3 { format!("sealed:{t}") } else { t });
        }
    }
    let subject = match msgs.first().and_then(|m| m.1.as_deref()) {
        Some(s) => keys.open_field(s)?,
        None => String::new(),
    };
    let mut texts = Vec::new();
    for m in &msgs {
        if let Some(t) = &m.2 {
            texts.push(match t.strip_prefix("sealed:") {
                Some(armored) => keys
                    .open_text(armored)
                    .context("decrypting a stored text")?,
                None => t.clone(),
            });
        }
    }
    let text = texts.join("\n\n");
    let mut astmt = conn
        .prepare_cached(
            "SELECT name, content_type, CASE WHEN sealed = 1 THEN content ELSE substr(content, 1, ?2) END, sealed, id FROM attachments WHERE message_id = ?1 ORDER BY id",
        )
        .context("preparing the attachment query")?;
    let mut atts = Vec::new();
    for (id, _, _, _) in &msgs {
        let rows: Vec<(Option<String>, String, Vec<u8>, i64, i64)> = astmt
            .query_map(params![id, cap], |r| {
                // substr of an empty value (a large one is in attachment_content) is NULL.
                let d: Option<Vec<u8>> = r.get(2)?;
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    d.unwrap_or_default(),
                    r.get(3)?,
                    r.get(4)?,
                ))
            })
            .context("reading attachments")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .context("reading attachments")?;
        for (n, t, d, sealed, att_id) in rows {
            let limit = if sealed != 0 {
                usize::MAX
            } else {
                usize::try_from(cap).unwrap_or(usize::MAX)
            };
            let d = large::get(conn, large::Side::AttachmentContent, att_id, limit)?.unwrap_or(d);
            let d = if sealed != 0 {
                keys.open_bytes(&d)
                    .context("decrypting a stored attachment")?
            } else {
                d
            };
            atts.push((n, t, d));
        }
    }
    Ok((subject, text, atts))
}

/// Replaces a case's findings: one row per finding kind, evidence kept apart, plus the policy verdict.
/// Adds one finding (kept until the case is classified again).
pub(crate) fn add_finding(
    conn: Db<'_>,
    case_id: i64,
    kind: crate::domain::status::FindingKind,
    value: &serde_json::Value,
    evidence: &serde_json::Value,
) -> Result<()> {
    let conn = conn.0;
    exec(conn,
        "INSERT INTO findings (case_id, kind, value, evidence, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![case_id, kind, value.to_string(), evidence.to_string(), now()],
    )
    .with_context(|| format!("storing the finding {kind}"))?;
    Ok(())
}

pub(crate) fn replace_findings(
    conn: Db<'_>,
    case_id: i64,
    findings: &crate::domain::findings::Findings,
    verdict: &crate::domain::verdict::Verdict,
) -> Result<()> {
    let conn = conn.0;
    exec(conn, "DELETE FROM findings WHERE case_id = ?1", [case_id])
        .context("clearing old findings")?;
    let v = serde_json::to_value(findings).context("serialising findings")?;
    let insert = |kind: crate::domain::status::FindingKind,
                  mut value: serde_json::Value,
                  mut evidence: serde_json::Value|
     -> Result<()> {
        // Findings stay queryable without the team key: no credentials in them.
        crate::domain::redact::json(&mut value);
        crate::domain::redact::json(&mut evidence);
        exec(conn,
            "INSERT INTO findings (case_id, kind, value, evidence, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![case_id, kind, value.to_string(), evidence.to_string(), now()],
        )
        .with_context(|| format!("storing the finding {kind}"))?;
        Ok(())
    };
    if let serde_json::Value::Object(map) = v {
        for (kind, mut value) in map {
            let evidence = match &mut value {
                serde_json::Value::Object(o) => {
                    o.remove("evidence").unwrap_or(serde_json::json!([]))
                }
                _ => serde_json::json!([]),
            };
            let kind: crate::domain::status::FindingKind = kind
                .parse()
                .map_err(|e: String| anyhow::anyhow!("a finding the store has no kind for: {e}"))?;
            insert(kind, value, evidence)?;
        }
    }
    let pv = serde_json::to_value(verdict).context("serialising the verdict")?;
    insert(
        crate::domain::status::FindingKind::Policy,
        pv,
        serde_json::json!([]),
    )?;
    Ok(())
}

/// IMAP bookkeeping of one mailbox: (UIDVALIDITY, highest committed UID).
pub(crate) fn mailbox_state(conn: Db<'_>, name: &str) -> Result<Option<(u32, u32)>> {
    let conn = conn.0;
    conn.cached_row(
        "SELECT uidvalidity, last_uid FROM mailboxes WHERE name = ?1 AND uidvalidity IS NOT NULL",
        [name],
        |r| {
            Ok((
                r.get::<_, i64>(0)? as u32,
                r.get::<_, Option<i64>>(1)?.unwrap_or(0) as u32,
            ))
        },
    )
    .optional()
    .context("reading mailbox bookkeeping")
}

pub(crate) fn set_mailbox_state(
    conn: Db<'_>,
    name: &str,
    kind: &str,
    uidvalidity: u32,
    last_uid: u32,
) -> Result<()> {
    let conn = conn.0;
    exec(conn,
        "INSERT INTO mailboxes (name, kind, uidvalidity, last_uid, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT(name) DO UPDATE SET kind = ?2, uidvalidity = ?3, last_uid = ?4, updated_at = ?5",
        params![name, kind, i64::from(uidvalidity), i64::from(last_uid), now()],
    )
    .context("recording mailbox bookkeeping")?;
    Ok(())
}

pub(crate) fn set_case_state(
    conn: Db<'_>,
    case_id: i64,
    state: crate::domain::case::State,
    reason: Option<&str>,
) -> Result<()> {
    let conn = conn.0;
    exec(
        conn,
        "UPDATE cases SET state = ?2, state_reason = ?3, updated_at = ?4 WHERE id = ?1",
        params![case_id, state, reason, now()],
    )
    .context("updating the case state")?;
    Ok(())
}

/// SLA breaches recorded so far (events `breach-*`).
pub(crate) fn count_breaches(conn: Db<'_>) -> Result<i64> {
    let conn = conn.0;
    conn.cached_row(
        "SELECT COUNT(*) FROM events WHERE kind LIKE 'breach-%'",
        [],
        |r| r.get(0),
    )
    .context("counting breaches")
}

/// Outgoing mail by state, every state present (zero when none).
pub(crate) fn outbox_counts(
    conn: Db<'_>,
) -> Result<Vec<(crate::domain::status::OutboxState, i64)>> {
    use crate::domain::status::OutboxState;
    OutboxState::ALL
        .iter()
        .map(|&st| {
            conn.0
                .cached_row(
                    "SELECT COUNT(*) FROM outbox WHERE state = ?1",
                    [st.as_str()],
                    |r| r.get(0),
                )
                .map(|n| (st, n))
                .context("counting outgoing mail by state")
        })
        .collect()
}

/// Every reporter key seen: (fingerprint, user ids as JSON, source, number of cases).
/// One reporter key over all cases: for `keys list`.
#[derive(Debug, Clone, Serialize)]
pub struct ReporterKeySummary {
    pub fingerprint: String,
    pub user_ids: Vec<String>,
    pub source: crate::domain::status::KeySource,
    pub cases: i64,
}

pub(crate) fn reporter_key_summary(conn: Db<'_>) -> Result<Vec<ReporterKeySummary>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached("SELECT k.fingerprint, k.user_ids, k.source, COUNT(DISTINCT k.case_id) FROM reporter_keys k GROUP BY k.fingerprint ORDER BY k.fingerprint")
        .context("listing reporter keys")?;
    let rows = stmt
        .query_map([], |r| {
            let u: String = r.get(1)?;
            Ok(ReporterKeySummary {
                fingerprint: r.get(0)?,
                user_ids: serde_json::from_str(&u).unwrap_or_default(),
                source: r.get(2)?,
                cases: r.get(3)?,
            })
        })
        .context("listing reporter keys")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("listing reporter keys")?;
    Ok(rows)
}

/// One message of a case as exported.
#[derive(Debug, Clone)]
pub struct ExportedMessage {
    pub from: Option<String>,
    pub arrived_at: i64,
    /// Maybe sealed (`sealed:` prefix).
    pub subject: Option<String>,
    pub message_id: Option<String>,
    /// The text, `sealed:`-prefixed when sealed at rest.
    pub body: Option<String>,
    pub status: crate::domain::status::ReadStatus,
    pub status_reason: Option<String>,
}

/// A case's messages for `case export`, oldest first.
pub(crate) fn thread_for_export(conn: Db<'_>, case_id: i64) -> Result<Vec<ExportedMessage>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached("SELECT m.from_addr, m.arrived_at, m.subject, m.message_id, \
                  CASE WHEN m.sealed = 1 THEN 'sealed:' || COALESCE(CAST(t.data AS TEXT), m.body_text) ELSE COALESCE(CAST(t.data AS TEXT), m.body_text) END, \
                  m.status, m.status_reason FROM messages m LEFT JOIN message_text t ON t.message_id = m.id \
                  WHERE m.case_id = ?1 ORDER BY m.arrived_at, m.id")
        .context("reading the thread")?;
    let rows = stmt
        .query_map([case_id], |r| {
            Ok(ExportedMessage {
                from: r.get(0)?,
                arrived_at: r.get(1)?,
                subject: r.get(2)?,
                message_id: r.get(3)?,
                body: r.get(4)?,
                status: r.get(5)?,
                status_reason: r.get(6)?,
            })
        })
        .context("reading the thread")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading the thread")?;
    Ok(rows)
}

/// A mail triaged queued or sent for a case.
#[derive(Debug, Clone)]
pub struct SentRow {
    pub outbox_id: i64,
    pub recipient: String,
    /// Sent at, or queued at while not sent.
    pub at: i64,
    pub subject: String,
    pub message_id: String,
    pub kind: crate::domain::status::OutboxKind,
    pub state: crate::domain::status::OutboxState,
    /// Who wrote it (replies); None for triaged's own mail.
    pub author: Option<String>,
    /// The last error (a refusal for failed rows).
    pub last_error: Option<String>,
    /// The message as sent, for replies (signed, maybe encrypted to reporter and team).
    pub original: Option<Vec<u8>>,
}

/// What was queued or sent for a case.
pub(crate) fn sent_of(conn: Db<'_>, case_id: i64) -> Result<Vec<SentRow>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached("SELECT recipient, COALESCE(sent_at, created_at), subject, message_id, kind, state, author, last_error, CASE WHEN kind = 'reply' THEN body END, id FROM outbox WHERE case_id = ?1 ORDER BY id")
        .context("reading sent mail")?;
    let rows = stmt
        .query_map([case_id], |r| {
            Ok(SentRow {
                recipient: r.get(0)?,
                at: r.get(1)?,
                subject: r.get(2)?,
                message_id: r.get(3)?,
                kind: r.get(4)?,
                state: r.get(5)?,
                author: r.get(6)?,
                last_error: r.get(7)?,
                original: r.get(8)?,
                outbox_id: r.get(9)?,
            })
        })
        .context("reading sent mail")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading sent mail")?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How often a cached `LIMIT ?` query was re-prepared over ten executions with
    /// different limits.
    fn reprepares(conn: &Connection) -> i32 {
        let mut st = conn
            .prepare_cached("SELECT id FROM cases ORDER BY id LIMIT ?1")
            .unwrap();
        for n in 1..=10 {
            st.query_map([n], |r| r.get::<_, i64>(0))
                .unwrap()
                .for_each(drop);
        }
        st.get_status(rusqlite::StatementStatus::RePrepare)
    }

    #[test]
    fn cached_statements_keep_their_plan_whatever_limit_is_bound() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("t.db")).unwrap();
        assert_eq!(reprepares(&s.conn), 0);
        assert_eq!(reprepares(&Store::open_in_memory().unwrap().conn), 0);
        // What the setting prevents: the same connection without it re-prepares.
        s.conn
            .set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
                false,
            )
            .unwrap();
        s.conn.flush_prepared_statement_cache();
        assert!(reprepares(&s.conn) >= 9);
    }

    #[test]
    fn migrates_fresh_db() {
        let s = Store::open_in_memory().unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn migration_13_keeps_duplicate_keys_and_session_keys_and_leaves_lookups_covered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let conn = Connection::open(&path).unwrap();
            for (v, sql) in MIGRATIONS.iter().filter(|(v, _)| *v < 13) {
                conn.execute_batch(sql).unwrap();
                conn.pragma_update(None, "user_version", v).unwrap();
            }
            conn.execute_batch(
                "INSERT INTO cases (public_id, year, seq, state, mailbox, policy, signature, arrived_at, created_at, updated_at) \
                 VALUES ('SEC-2026-0001', 2026, 1, 'new', 'm', 'default', 'unsigned', 1, 1, 1); \
                 INSERT INTO messages (case_id, sha256, mailbox, arrived_at, received_at, size, raw, encryption, status, signature, signatures, processed_at) \
                 VALUES (1, 'aa', 'm', 1, 1, 1, x'00', 'none', 'ok', 'unsigned', '[]', 1); \
                 INSERT INTO dup_keys VALUES (1, 'band', '0:ab'), (1, 'id', 'CVE-2026-1'); \
                 INSERT INTO session_keys VALUES ('h1', 1, 1, 'r@example.net');",
            )
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        let keys: Vec<(i64, String, String)> = s
            .conn
            .prepare("SELECT case_id, kind, key FROM dup_keys ORDER BY kind")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            keys,
            vec![
                (1, "band".into(), "0:ab".into()),
                (1, "id".into(), "CVE-2026-1".into())
            ]
        );
        let from: String = s
            .conn
            .cached_row(
                "SELECT from_addr FROM session_keys WHERE hash = 'h1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(from, "r@example.net");
        // The candidate lookup reads the index alone; events by case use the
        // remaining (case_id, kind) index.
        let plan = |sql: &str| -> String {
            s.conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<Vec<_>>>()
                .unwrap()
                .join("; ")
        };
        let p = plan(
            "SELECT case_id FROM dup_keys WHERE kind = 'band' AND key = 'x' AND case_id != 1 LIMIT 50",
        );
        assert!(p.contains("COVERING INDEX dup_keys_lookup"), "{p}");
        let p = plan("SELECT id FROM events WHERE case_id = 1");
        assert!(p.contains("events_case_kind"), "{p}");
        // Every table stays STRICT.
        let loose: Vec<String> = s
            .conn
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE '%STRICT%'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(loose.is_empty(), "tables without STRICT: {loose:?}");
    }

    #[test]
    fn migrates_a_version_1_db_with_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0].1).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute_batch(
                "INSERT INTO cases (public_id, year, seq, state, mailbox, policy, signature, arrived_at, created_at, updated_at) \
                 VALUES ('SEC-2026-0001', 2026, 1, 'new', 'm', 'default', 'unsigned', 1, 1, 1); \
                 INSERT INTO outbox (case_id, kind, recipient, message_id, subject, body, state, next_attempt_at, created_at) \
                 VALUES (1, 'ack', 'r@example.net', 'm1@x', 's', x'00', 'sent', 0, 1);",
            )
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        let (n, mid): (i64, String) = s
            .conn
            .cached_row("SELECT COUNT(*), MAX(message_id) FROM outbox", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((n, mid.as_str()), (1, "m1@x"));
        // A digest row without a case is now possible.
        s.conn
            .cached_exec(
                "INSERT INTO outbox (case_id, kind, recipient, message_id, subject, body, state, next_attempt_at, created_at) \
                 VALUES (NULL, 'digest', 't@example.net', 'd1@x', 's', x'00', 'queued', 0, 1)",
                [],
            )
            .unwrap();
    }
}
