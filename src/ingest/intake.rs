//! Intake: the per-message transaction.
//!
//! This module owns what happens to one message between its source and the
//! store: hash it, skip it if the same bytes are already stored, read it
//! (decrypt, verify, parse: [`crate::read::mime`]) outside any lock, then in one
//! SQLite transaction store the raw bytes, open a case or attach the message
//! to its thread, and record events. A message that cannot be decrypted or
//! parsed still becomes a case whose state says why; `retry` re-reads stored
//! bytes later (e.g. after the right key was added). It knows neither IMAP nor
//! SMTP.

use anyhow::{Context, Result};

use crate::config::Config;
use crate::domain::case::{self, State};
use crate::domain::status::ReadStatus;
use crate::ingest::source::Incoming;
use crate::judge::classify;
use crate::judge::policy::{self, Verdict};
use crate::read::crypto::TeamKeys;
use crate::read::mime::{Analysis, Report, Status};
use crate::read::reader::Reader;
use crate::reply::outbox;
use crate::store::{self, Store};

/// What intake did with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new case was opened in this state.
    Created { case: String, state: State },
    /// The message joined an existing case's thread.
    FollowUp { case: String },
    /// The same bytes were already stored; nothing changed.
    Duplicate { case: String },
    /// A copy of mail we sent (its Message-ID is in the outbox) came back through the
    /// mailbox: a Cc, a Bcc to the team list, a watched Sent folder. Recorded on its
    /// case, never a case of its own.
    OwnCopy { case: Option<String> },
    /// A delivery report (a bounce or a delay warning) about mail we sent: recorded on
    /// that mail's case (a bounce marks the mail failed and the team is told), never a
    /// case of its own.
    DeliveryReport { case: Option<String> },
}

/// What a pass did with its messages, counted the same way for every source.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Counts {
    pub created: usize,
    pub follow_ups: usize,
    pub duplicates: usize,
    pub quarantined: usize,
    pub own_copies: usize,
    /// Delivery reports about our own mail (bounces, delay warnings).
    pub delivery_reports: usize,
}

impl Counts {
    /// Adds another pass's counts.
    pub fn merge(&mut self, o: &Counts) {
        self.created += o.created;
        self.follow_ups += o.follow_ups;
        self.duplicates += o.duplicates;
        self.quarantined += o.quarantined;
        self.own_copies += o.own_copies;
        self.delivery_reports += o.delivery_reports;
    }

    /// Counts and logs one outcome; `at` says where the message was (a UID, a file).
    pub fn add(&mut self, outcome: &Outcome, mailbox: &str, at: &str) {
        match outcome {
            Outcome::Created { case, state } => {
                self.created += 1;
                if state.is_quarantine() {
                    self.quarantined += 1;
                }
                tracing::info!(case = %case, mailbox, at, state = %state, "case opened");
            }
            Outcome::FollowUp { case } => {
                self.follow_ups += 1;
                tracing::info!(case = %case, mailbox, at, "follow-up added");
            }
            Outcome::Duplicate { case } => {
                self.duplicates += 1;
                tracing::debug!(case = %case, mailbox, at, "already stored");
            }
            Outcome::OwnCopy { case } => {
                self.own_copies += 1;
                tracing::info!(
                    case = case.as_deref().unwrap_or("-"),
                    mailbox,
                    at,
                    "a copy of our own mail"
                );
            }
            Outcome::DeliveryReport { case } => {
                self.delivery_reports += 1;
                tracing::info!(
                    case = case.as_deref().unwrap_or("-"),
                    mailbox,
                    at,
                    "a delivery report about our own mail"
                );
            }
        }
    }
}

use crate::read::sha256_hex;

fn state_for(status: &Status) -> (State, Option<String>) {
    match status {
        Status::Ok => (State::New, None),
        Status::Undecryptable(r) => (State::Undecryptable, Some(r.clone())),
        Status::Oversize(r) => (State::Oversize, Some(r.clone())),
        Status::Unparseable(r) => (State::Unparseable, Some(r.clone())),
    }
}

fn status_word(status: &Status) -> (ReadStatus, Option<&str>) {
    match status {
        Status::Ok => (ReadStatus::Ok, None),
        Status::Undecryptable(r) => (ReadStatus::Undecryptable, Some(r)),
        // Stored as unparseable (the case state says oversize), as before the variant.
        Status::Unparseable(r) | Status::Oversize(r) => (ReadStatus::Unparseable, Some(r)),
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// A message read (parsed, decrypted, verified) but not yet written: the CPU-heavy
/// half of intake, which needs no database and runs in parallel for a batch.
pub struct Prepared {
    sha: String,
    analysis: Analysis,
    /// The classification of the message as the first of a thread, made in the read
    /// phase (on a worker thread, outside the write transaction, while the reading
    /// thread reads its next message); used when it opens a case.
    judged: Option<crate::ingest::workers::Pending<Judged>>,
}

impl Prepared {
    /// Bytes this read result holds in memory (text and attachments).
    pub fn held_bytes(&self) -> u64 {
        held_bytes(&self.analysis)
    }
}

fn held_bytes(a: &Analysis) -> u64 {
    let r = &a.report;
    (r.text.len() + r.attachments.iter().map(|a| a.data.len()).sum::<usize>()) as u64
}

/// Messages committed together at least (unless the batch ends first or the bytes
/// read reach `limits.batch_bytes`): while one group is written, the next is read.
const MIN_COMMIT: usize = 16;

/// Most read messages waiting for the writer, per reader thread (the bytes they hold
/// are bounded by [`Held`]).
const AHEAD_PER_READER: usize = 16;

/// The bytes read but not yet committed (sent, waiting for their turn, or in the group
/// being written), bounded by `limits.batch_bytes`. Readers wait here rather than on
/// the channel's length alone, so they can run far ahead with small messages (the
/// writer is the pipeline's one serial stage: with a channel of 2 per reader, a
/// reader waited while the other core sat idle) and not with large ones. The message
/// the writer needs next always passes, so waiting never deadlocks.
struct Held {
    state: std::sync::Mutex<HeldState>,
    changed: std::sync::Condvar,
    budget: u64,
}

#[derive(Default)]
struct HeldState {
    bytes: u64,
    /// The index the writer needs next, in the batch's order.
    next: usize,
    /// The writer stopped (error or shutdown): nobody waits any more.
    closed: bool,
}

impl Held {
    fn new(budget: u64) -> Held {
        Held {
            state: Default::default(),
            changed: Default::default(),
            budget,
        }
    }

    /// Waits until message `i` of `n` bytes may be held; false once the writer stopped.
    fn take(&self, i: usize, n: u64) -> bool {
        let Ok(mut st) = self.state.lock() else {
            return false;
        };
        while !st.closed && st.bytes > 0 && st.bytes + n > self.budget && i > st.next {
            st = match self.changed.wait(st) {
                Ok(st) => st,
                Err(_) => return false,
            };
        }
        st.bytes += n;
        !st.closed
    }

    /// The writer committed `n` bytes and now needs message `next`.
    fn give_back(&self, n: u64, next: usize) {
        if let Ok(mut st) = self.state.lock() {
            st.bytes = st.bytes.saturating_sub(n);
            st.next = next;
        }
        self.changed.notify_all();
    }

    /// The writer needs message `next` (nothing was committed).
    fn need(&self, next: usize) {
        if let Ok(mut st) = self.state.lock() {
            st.next = next;
        }
        self.changed.notify_all();
    }

    fn close(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.closed = true;
        }
        self.changed.notify_all();
    }
}

/// Reads and stores a batch as a pipeline: `reader.parallelism()` threads read (parse,
/// decrypt, verify, classify) one message after another, while this thread writes what
/// was read, in the batch's order, one transaction per group. A group is committed
/// when at least [`MIN_COMMIT`] messages are ready in order (more when writing is
/// slower than reading), when the bytes held reach `limits.batch_bytes`, or at the end.
/// The store is locked only while writing, so readers never hold it. Returns an outcome
/// per message, in order; on error (or shutdown) nothing after the last commit is
/// stored, and the caller must not mark anything: the batch is read again, and what
/// was committed turns into `Duplicate`.
pub fn ingest_batch(
    store: &std::sync::Mutex<Store>,
    cfg: &Config,
    keys: &TeamKeys,
    reader: &Reader,
    incs: &[Incoming],
) -> Result<Vec<Outcome>> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let threads = reader.parallelism(cfg).max(1).min(incs.len().max(1));
    let budget = cfg.limits.batch_bytes.0.max(1);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let commit = |from: usize, held: Vec<Prepared>, out: &mut Vec<Outcome>| -> Result<()> {
        // Reads cut short by a shutdown must not become cases: nothing is committed
        // once it began (the batch is read again at the next start).
        if crate::read::reader::shutting_down() {
            anyhow::bail!("shutting down: the rest of the batch is read at the next start");
        }
        let n = held.len();
        let mut st = store
            .lock()
            .map_err(|_| anyhow::anyhow!("store lock poisoned"))?;
        out.extend(commit_batch(
            &mut st,
            cfg,
            keys,
            incs.get(from..from + n).unwrap_or_default(),
            held,
        )?);
        Ok(())
    };
    let held = Held::new(budget);
    std::thread::scope(|s| {
        // Bounded: readers wait when the writer is behind, so what is held stays within
        // the budget (see `Held`).
        let (tx, rx) =
            std::sync::mpsc::sync_channel::<(usize, Prepared)>(threads * AHEAD_PER_READER);
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, stop, held) = (&next, &stop, &held);
            s.spawn(move || {
                while !stop.load(Ordering::SeqCst) && !crate::read::reader::shutting_down() {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(inc) = incs.get(i) else { break };
                    let p = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        prepare(cfg, keys, reader, inc)
                    }))
                    .unwrap_or_else(|_| Prepared {
                        judged: None,
                        sha: sha_of(inc),
                        analysis: crate::read::reader::headers_only(
                            &head_of(inc),
                            cfg,
                            Status::Unparseable(
                                "internal error while reading the message (reader panic)".into(),
                            ),
                        ),
                    });
                    if !held.take(i, p.held_bytes()) || tx.send((i, p)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut out = Vec::with_capacity(incs.len());
        let result = (|| -> Result<()> {
            let mut waiting: std::collections::BTreeMap<usize, Prepared> = Default::default();
            let (mut ready, mut ready_bytes, mut from) = (Vec::new(), 0u64, 0usize);
            for (i, p) in rx {
                waiting.insert(i, p);
                let before = ready.len();
                while let Some(p) = waiting.remove(&(from + ready.len())) {
                    ready_bytes += p.held_bytes();
                    ready.push(p);
                }
                if ready.len() >= MIN_COMMIT || ready_bytes >= budget {
                    let n = ready.len();
                    commit(from, std::mem::take(&mut ready), &mut out)?;
                    held.give_back(ready_bytes, from + n);
                    (from, ready_bytes) = (from + n, 0);
                } else if ready.len() != before {
                    held.need(from + ready.len());
                }
            }
            if from + ready.len() != incs.len() {
                // The readers stopped early: a shutdown.
                anyhow::bail!("shutting down: the rest of the batch is read at the next start");
            }
            if !ready.is_empty() {
                commit(from, ready, &mut out)?;
            }
            Ok(())
        })();
        // On error the channel is gone (the loop above owned it): readers stop.
        stop.store(true, Ordering::SeqCst);
        held.close();
        result.map(|()| out)
    })
}

/// The message's SHA-256 (hex): of the held bytes, or of its spool file (as written,
/// or read again for a Maildir file; a file that cannot be read hashes as its name, and
/// storing it then fails the pass, which is retried).
fn sha_of(inc: &Incoming) -> String {
    match &inc.spool {
        Some(sp) => sp.sha.clone().unwrap_or_else(|| {
            crate::ingest::spool::sha256_file(&sp.path)
                .unwrap_or_else(|_| sha256_hex(sp.path.as_os_str().as_encoded_bytes()))
        }),
        None => sha256_hex(&inc.raw),
    }
}

/// The start of the raw message (its headers), for reading what can be read without
/// decrypting.
fn head_of(inc: &Incoming) -> std::borrow::Cow<'_, [u8]> {
    match &inc.spool {
        Some(sp) => std::borrow::Cow::Owned(crate::read::stream::file_head(&sp.path)),
        None => std::borrow::Cow::Borrowed(&inc.raw),
    }
}

/// Reads one message (no database access).
pub fn prepare(cfg: &Config, keys: &TeamKeys, reader: &Reader, inc: &Incoming) -> Prepared {
    let sha = sha_of(inc);
    let analysis = match (&inc.spool, inc.oversize) {
        (Some(sp), _) => reader.read_file(&sp.path, cfg, keys),
        (None, oversize) => match oversize {
            Some(size) => crate::read::reader::headers_only(
                &inc.raw,
                cfg,
                Status::Oversize(format!(
                    "oversize: {size} bytes exceeds limits.max_message_size ({} bytes); headers kept, body not fetched",
                    cfg.limits.max_message_size.0
                )),
            ),
            None => reader.read(&inc.raw, cfg, keys),
        },
    };
    // Most messages open a case: classify them here, on the reading threads, from the
    // same input the store gives back for a one-message thread. A follow-up is
    // classified again with its whole thread in the transaction (this is then unused).
    // A large message is classified there too, after its bodies are stored and
    // released: the classifier's working memory is not added to a large message's.
    let cap = cfg.limits.classify_bytes.0;
    let small = held_bytes(&analysis) <= cap.saturating_mul(2);
    // On the long-lived worker threads (their regex caches are built once), while this
    // thread reads its next message: the reader processes stay busy. The writer waits
    // for the answer; None if the job was lost, and the transaction classifies from the
    // store instead.
    let judged = (analysis.status == Status::Ok && small).then(|| {
        crate::ingest::workers::spawn(
            first_message_input(&analysis.report, cap as usize),
            |(subject, text, atts)| judge(subject, text, atts),
        )
    });
    Prepared {
        sha,
        analysis,
        judged,
    }
}

/// The classification input of a thread whose only message is `r`, exactly as
/// [`store::thread_content`] reads it back once stored and [`classify_case`] cuts it:
/// the subject, the text's first `cap` bytes (at a character boundary), each
/// attachment's first `cap` bytes. (`classify_case` checks the equality in debug builds.)
fn first_message_input(r: &Report, cap: usize) -> ThreadInput {
    let text = prefix_at_char(&r.text, cap).to_string();
    let atts = r
        .attachments
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                a.content_type.clone(),
                a.data
                    .get(..a.data.len().min(cap))
                    .unwrap_or_default()
                    .to_vec(),
            )
        })
        .collect();
    (r.subject.clone().unwrap_or_default(), text, atts)
}

/// A thread as the classifier reads it: subject, text, attachments (name, type, bytes).
type ThreadInput = (String, String, Vec<(Option<String>, String, Vec<u8>)>);

/// What the classifier made of a thread, before anything is written.
pub(crate) struct Judged {
    findings: classify::Findings,
    /// The classifier panicked: nothing is claimed about the content.
    failed: bool,
    features: crate::judge::duplicates::Features,
}

/// Classifies a thread and computes its duplicate features: pure, no store.
fn judge(subject: &str, text: &str, atts: &[(Option<String>, String, Vec<u8>)]) -> Judged {
    let input = classify::Input {
        subject,
        text,
        attachments: atts
            .iter()
            .map(|(n, t, d)| classify::AttachmentIn {
                name: n.as_deref(),
                content_type: t,
                data: d,
            })
            .collect(),
    };
    // A classifier bug must not turn one hostile report into a crash loop: the case is
    // kept, nothing is claimed about its content, and a person is asked to read it.
    let classified =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| classify::classify(&input)));
    let failed = classified.is_err();
    let findings = classified.unwrap_or_else(|_| {
        classify::classify(&classify::Input {
            subject: "",
            text: "",
            attachments: Vec::new(),
        })
    });
    let features = crate::judge::duplicates::features(subject, text, &findings);
    Judged {
        findings,
        failed,
        features,
    }
}

/// Writes prepared messages in ONE transaction (one durable commit for the batch:
/// group commit). Nothing may be marked processed at the source before this returns
/// Ok; on error nothing of the batch is stored and the whole batch is read again.
pub fn commit_batch(
    store: &mut Store,
    cfg: &Config,
    keys: &TeamKeys,
    incs: &[Incoming],
    prepared: Vec<Prepared>,
) -> Result<Vec<Outcome>> {
    if incs.len() != prepared.len() {
        anyhow::bail!(
            "intake: {} messages but {} read",
            incs.len(),
            prepared.len()
        );
    }
    // IMMEDIATE: take the write lock up front, so a concurrent writer (a CLI command)
    // makes us wait (busy timeout) instead of failing on a read-to-write upgrade.
    store.write("intake", |tx| {
        let mut out = Vec::with_capacity(incs.len());
        for (inc, p) in incs.iter().zip(prepared) {
            out.push(write_one(tx, cfg, keys, inc, p)?);
        }
        Ok(out)
    })
}

fn write_one(
    tx: store::Db<'_>,
    cfg: &Config,
    keys: &TeamKeys,
    inc: &Incoming,
    p: Prepared,
) -> Result<Outcome> {
    let Prepared {
        sha,
        mut analysis,
        judged,
    } = p;
    // Another process (or an earlier message of this batch) may have stored the same bytes.
    if let Some(case) = store::case_of_sha(tx, &sha)? {
        return Ok(Outcome::Duplicate { case });
    }
    if let Some(o) = own_copy(tx, cfg, inc, &analysis.report)? {
        return Ok(o);
    }
    if let Some(o) = delivery_report(tx, inc, &analysis.report)? {
        return Ok(o);
    }
    // Through the team's own mailing list or a web form: read as mail to the team, from
    // the sender the relay names (before threading and the ack look at From).
    if let Some(mb) = cfg.mailboxes.iter().find(|m| m.name == inc.mailbox) {
        crate::ingest::list::through_relays(&mut analysis.report, mb);
    }
    let w = Write {
        tx,
        cfg,
        keys,
        inc,
        sha: &sha,
    };
    match find_thread(tx, &analysis.report)? {
        Some(case_id) => write_follow_up(&w, analysis, case_id),
        None => write_new_case(&w, analysis, judged.and_then(|j| j.wait())),
    }
}

/// Mail we sent that came back (Cc or Bcc to the team, a Sent folder that is read):
/// its Message-ID is one of our outbox rows and its From is our address. The copy is
/// recorded on the case and stays in the mailbox; it opens no case and is never
/// answered. (A reporter could give a message our ack's Message-ID and our address:
/// only their own mail would be set aside, and the event says so.)
fn own_copy(
    tx: store::Db<'_>,
    cfg: &Config,
    inc: &Incoming,
    r: &Report,
) -> Result<Option<Outcome>> {
    let (Some(mid), Some(from)) = (&r.message_id, &r.from_addr) else {
        return Ok(None);
    };
    let ours = cfg
        .outbox
        .from
        .iter()
        .chain(cfg.outbox.team.iter())
        .any(|a| same_address(a, from));
    if !ours {
        return Ok(None);
    }
    let Some((case_id, kind)) = store::own_mail_by_message_id(tx, mid)? else {
        return Ok(None);
    };
    let case = match case_id {
        Some(id) => {
            store::event(
                tx,
                Some(id),
                "triaged",
                crate::domain::status::EventKind::OwnCopy,
                Some(&format!(
                    "a copy of our {kind} <{}> came back through mailbox {} (kept there, not a report)",
                    mid.trim_matches(['<', '>']),
                    inc.mailbox
                )),
            )?;
            Some(store::case_by_id(tx, id)?.id_public)
        }
        None => None,
    };
    Ok(Some(Outcome::OwnCopy { case }))
}

/// A delivery status notification (RFC 3464) about mail we sent: the returned
/// message's Message-ID is one of our outbox rows. A failure marks that row `failed`
/// (the SLA sweep then tells the team, as for a `5xx` at sending) and records a
/// `bounced` event; a delay records `delivery-delayed`; a read receipt (RFC 8098)
/// records `read-receipt`. The report opens no case and is
/// never answered; it stays in the mailbox. Only someone who received that Message-ID
/// (the recipient, or a server on the way) can name it in a forged report, and all it
/// can do is tell the team that their mail did not arrive. A report about mail we did
/// not send is read like any other message.
fn delivery_report(tx: store::Db<'_>, inc: &Incoming, r: &Report) -> Result<Option<Outcome>> {
    let Some(d) = &r.delivery else {
        return Ok(None);
    };
    let Some((mid, case_id, kind)) = d
        .original_message_ids
        .iter()
        .map(|m| Ok((m, store::own_mail_by_message_id(tx, m)?)))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .find_map(|(m, found)| found.map(|(c, k)| (m, c, k)))
    else {
        return Ok(None);
    };
    let from = r.from_addr.as_deref().unwrap_or("an unknown sender");
    let summary = d.summary();
    let event = match (&d.feedback, d.action()) {
        (Some(f), _) => Some((
            crate::domain::status::EventKind::FeedbackReport,
            format!(
                "our {kind} <{mid}>: {summary}; {} from {from} in mailbox {}{}",
                d.kind_words(),
                inc.mailbox,
                match f.feedback_type.as_str() {
                    "auth-failure" =>
                        ": the receiver could not authenticate it as the team's mail; check the SPF and DKIM records of outbox.from's domain for the relay that sent it",
                    "not-spam" => "",
                    _ =>
                        ": the recipient or their provider marked it as spam, so later mail to them may not be seen",
                }
            ),
        )),
        (None, Some("failed") | None) => {
            let why = format!("bounced: {summary} (delivery report from {from})");
            store::record_bounce(tx, mid, &why)?.map(|_| {
                (
                    crate::domain::status::EventKind::Bounced,
                    format!(
                        "our {kind} <{mid}> could not be delivered: {summary}; delivery report from {from} in mailbox {} (the team is told)",
                        inc.mailbox
                    ),
                )
            })
        }
        (None, Some("delayed")) => Some((
            crate::domain::status::EventKind::DeliveryDelayed,
            format!(
                "our {kind} <{mid}> is delayed: {summary}; delivery report from {from} in mailbox {}",
                inc.mailbox
            ),
        )),
        (None, Some(_)) if d.is_read_receipt() => Some((
            crate::domain::status::EventKind::ReadReceipt,
            format!(
                "our {kind} <{mid}>: {summary}; read receipt (RFC 8098) from {from} in mailbox {}",
                inc.mailbox
            ),
        )),
        (None, Some(_)) => None,
    };
    let case = match case_id {
        Some(id) => {
            if let Some((k, detail)) = event {
                store::event(tx, Some(id), "triaged", k, Some(&detail))?;
            }
            Some(store::case_by_id(tx, id)?.id_public)
        }
        None => None,
    };
    Ok(Some(Outcome::DeliveryReport { case }))
}

/// What every write of one message needs.
struct Write<'a> {
    tx: store::Db<'a>,
    cfg: &'a Config,
    keys: &'a TeamKeys,
    inc: &'a Incoming,
    sha: &'a str,
}

/// Once stored, a message's text and attachment contents are read back from the store
/// (classification reads a bounded prefix of them): the copies the reader returned are
/// released before classification, so a large report is not held twice meanwhile.
fn release_bodies(report: &mut Report) {
    report.text = String::new();
    for a in &mut report.attachments {
        a.data = Vec::new();
    }
}

/// Nothing decrypted is echoed to a sender who may not have written it (replayed
/// ciphertext): the subject and who signed are forgotten before the ack is composed.
fn forget_decrypted(report: &mut Report) {
    report.subject = None;
    for s in &mut report.signatures {
        s.user_id = None;
        s.signer = None;
    }
}

/// A message that joins an existing case: stored, the thread re-classified, the ack
/// updated when what is missing changed, `needs-info` → `triaged` when complete.
fn write_follow_up(w: &Write<'_>, mut analysis: Analysis, case_id: i64) -> Result<Outcome> {
    let Write {
        tx,
        cfg,
        keys,
        inc,
        sha,
    } = *w;
    let seal = cfg.store.encrypt_at_rest.then_some(keys);
    let c = store::case_by_id(tx, case_id)?;
    let msg_row = insert_message(tx, cfg, case_id, sha, inc, &analysis, seal)?;
    release_bodies(&mut analysis.report);
    let replay = replay_check(tx, case_id, msg_row, &analysis.report)?;
    store::event(
        tx,
        Some(case_id),
        "triaged",
        crate::domain::status::EventKind::FollowUp,
        Some(&format!(
            "message {} ({} bytes) joined the thread",
            short(sha),
            inc.size()
        )),
    )?;
    let st: State = c.state;
    if analysis.status == Status::Ok && !st.is_quarantine() {
        // Re-read the whole thread: the follow-up may add what was missing.
        let v = classify_case(tx, cfg, keys, case_id)?;
        if !st.is_closed() {
            if replay.is_some() {
                forget_decrypted(&mut analysis.report);
            }
            outbox::enqueue_ack(
                tx,
                cfg,
                keys,
                &outbox::AckRequest {
                    case_id,
                    message_row: msg_row,
                    report: &analysis.report,
                    verdict: if replay.is_some() { None } else { Some(&v) },
                    undecryptable: false,
                },
            )?;
        }
        if st == State::NeedsInfo {
            if v.next_state == State::Triaged {
                store::set_case_state(
                    tx,
                    case_id,
                    State::Triaged,
                    Some("the reporter sent what was missing"),
                )?;
                store::event(
                    tx,
                    Some(case_id),
                    "triaged",
                    crate::domain::status::EventKind::State,
                    Some("needs-info -> triaged: the follow-up completed the report"),
                )?;
            } else {
                store::event(
                    tx,
                    Some(case_id),
                    "triaged",
                    crate::domain::status::EventKind::StillMissing,
                    Some(&format!(
                        "after the follow-up still missing: {}",
                        v.missing.join(", ")
                    )),
                )?;
            }
        }
    }
    if st.is_quarantine() && analysis.status == Status::Ok {
        tracing::info!(case = %c.id_public, "a readable follow-up arrived for a quarantined case; run `triaged case retry` after fixing keys");
    }
    store::touch_case(tx, case_id)?;
    Ok(Outcome::FollowUp { case: c.id_public })
}

/// A message that starts a case: the case (quarantined when unreadable), its message,
/// the classification and verdict, and the ack.
fn write_new_case(
    w: &Write<'_>,
    mut analysis: Analysis,
    judged: Option<Judged>,
) -> Result<Outcome> {
    let Write {
        tx,
        cfg,
        keys,
        inc,
        sha,
    } = *w;
    let seal = cfg.store.encrypt_at_rest.then_some(keys);
    let r = &analysis.report;
    let (state, reason) = state_for(&analysis.status);
    let (policy_name, policy) = cfg.policy_for(&inc.mailbox);
    let year = chrono::DateTime::from_timestamp(inc.arrived_at, 0)
        .map(|d| chrono::Datelike::year(&d))
        .unwrap_or(2026);
    let (seq, public_id) = store::next_public_id(tx, year)?;
    let subject = match state {
        State::New => r.subject.as_deref(),
        _ => r.outer_subject.as_deref(),
    };
    // Encryption at rest covers the subject too (it is the report's first line).
    let subject = match seal {
        Some(k) => k
            .seal_field(subject)
            .context("encrypting the case subject at rest")?,
        None => subject.map(str::to_string),
    };
    let case_id = store::create_case(
        tx,
        &store::NewCase {
            public_id: &public_id,
            year,
            seq,
            state,
            state_reason: reason.as_deref(),
            reporter: r.from_addr.as_deref(),
            reporter_name: r.from_name.as_deref(),
            subject: subject.as_deref(),
            mailbox: &inc.mailbox,
            policy: &policy_name,
            signature: r.signature_status(),
            arrived_at: inc.arrived_at,
            ack_due: policy.ack_within.after(inc.arrived_at),
            followup_due: policy.followup_within.map(|d| d.after(inc.arrived_at)),
        },
    )?;
    store::event(
        tx,
        Some(case_id),
        "triaged",
        crate::domain::status::EventKind::Created,
        Some(&format!(
            "from mailbox {} ({}), message {}, {} bytes, encryption {}, signature {}",
            inc.mailbox,
            inc.position,
            short(sha),
            inc.size(),
            r.encryption,
            r.signature_status()
        )),
    )?;
    if let Some(reason) = &reason {
        store::event(
            tx,
            Some(case_id),
            "triaged",
            crate::domain::status::EventKind::Quarantined,
            Some(reason),
        )?;
    }
    let msg_row = insert_message(tx, cfg, case_id, sha, inc, &analysis, seal)?;
    let cap = cfg.limits.classify_bytes.0 as usize;
    // Debug builds (every test) check the replayability invariant below.
    let fresh = (cfg!(debug_assertions) && judged.is_some())
        .then(|| first_message_input(&analysis.report, cap));
    release_bodies(&mut analysis.report);
    let replay = replay_check(tx, case_id, msg_row, &analysis.report)?;
    if replay.is_some() {
        forget_decrypted(&mut analysis.report);
    }
    let mut final_state = state;
    if state == State::New {
        let v = match judged {
            Some(j) => {
                if let Some(fresh) = &fresh {
                    // The replayability invariant: what was classified before the rows
                    // existed is what `case retry` reads back from them.
                    let stored = stored_input(tx, keys, case_id, cap)?;
                    debug_assert!(
                        &stored == fresh,
                        "the classification input differs from the stored thread"
                    );
                }
                record_judgement(tx, cfg, case_id, j)?
            }
            None => classify_case(tx, cfg, keys, case_id)?,
        };
        // Old mail at first contact: recorded and classified, but left to the
        // operator (no automatic ack for a mailbox's history).
        // A delivery report about mail triaged did not send (`delivery_report` took
        // every one about ours): backscatter from spam that forged this address, or
        // mail someone sent by hand. Kept, but closed: no ack or clock is owed, and a
        // flood of them must not page the team.
        // A machine report about the domain's mail (DMARC aggregate or TLS reports
        // from every large receiver, daily, when the domain names this address for
        // them): kept, closed the same way.
        let backscatter = analysis
            .report
            .delivery
            .as_ref()
            .map(|d| {
                (d.nothing_owed(), format!(
                    "{} about mail triaged did not send ({}): backscatter from mail that forged this address, or mail sent by hand; closed, nothing is owed (`case move {public_id} triaged` reopens it)",
                    d.kind_words(),
                    d.summary()
                ))
            })
            .or_else(|| {
                analysis.report.machine.as_ref().map(|m| {
                    (m.nothing_owed(), format!(
                        "{}: machine-written mail about the domain's mail, not a vulnerability report; closed, nothing is owed (`case move {public_id} triaged` reopens it)",
                        m.describe()
                    ))
                })
            });
        let (next, reason) = if inc.imported {
            (
                State::Imported,
                "older than the mailbox's import horizon at first contact: no automatic ack"
                    .to_string(),
            )
        } else if let Some((what, why)) = backscatter {
            store::clear_clocks(tx, case_id)?;
            store::event(
                tx,
                Some(case_id),
                "triaged",
                crate::domain::status::EventKind::ClosedOnArrival,
                Some(what.as_str()),
            )?;
            (State::Closed, why)
        } else {
            (v.next_state, v.reasons.join("; "))
        };
        store::set_case_state(tx, case_id, next, Some(&reason))?;
        store::event(
            tx,
            Some(case_id),
            "triaged",
            crate::domain::status::EventKind::State,
            Some(&format!("new -> {next}")),
        )?;
        final_state = next;
        if next == State::Closed {
            return Ok(Outcome::Created {
                case: public_id,
                state: final_state,
            });
        }
        outbox::enqueue_ack(
            tx,
            cfg,
            keys,
            &outbox::AckRequest {
                case_id,
                message_row: msg_row,
                report: &analysis.report,
                verdict: if replay.is_some() { None } else { Some(&v) },
                undecryptable: false,
            },
        )?;
    } else if state == State::Undecryptable {
        // Tell the reporter we could not read it (and which key to use).
        outbox::enqueue_ack(
            tx,
            cfg,
            keys,
            &outbox::AckRequest {
                case_id,
                message_row: msg_row,
                report: &analysis.report,
                verdict: None,
                undecryptable: true,
            },
        )?;
    }
    Ok(Outcome::Created {
        case: public_id,
        state: final_state,
    })
}

/// Classifies the whole thread of a case, stores the findings and the policy
/// verdict (replacing earlier ones), records an event, and returns the verdict.
pub fn classify_case(
    tx: store::Db<'_>,
    cfg: &Config,
    keys: &TeamKeys,
    case_id: i64,
) -> Result<Verdict> {
    let cap = cfg.limits.classify_bytes.0 as usize;
    let (subject, text, atts) = stored_input(tx, keys, case_id, cap)?;
    record_judgement(tx, cfg, case_id, judge(&subject, &text, &atts))
}

/// A case's thread as the classifier reads it from the store. Classification and
/// duplicate features read a bounded prefix: what a report says about PoC, versions
/// and impact is in its first pages, and a 60 MiB decompressed body must not cost the
/// daemon minutes and hundreds of MiB (the text itself is stored whole).
fn stored_input(
    tx: store::Db<'_>,
    keys: &TeamKeys,
    case_id: i64,
    cap: usize,
) -> Result<ThreadInput> {
    let (subject, mut text, mut atts) = store::thread_content(tx, case_id, keys, cap)?;
    truncate_at_char(&mut text, cap);
    for (_, _, data) in &mut atts {
        data.truncate(cap);
    }
    Ok((subject, text, atts))
}

/// Writes what the classifier made of a case's thread: the findings and the policy
/// verdict (replacing earlier ones), a likely duplicate, the duplicate index, the
/// severity, deadlines and credit, and an event. Returns the verdict.
fn record_judgement(
    tx: store::Db<'_>,
    cfg: &Config,
    case_id: i64,
    judged: Judged,
) -> Result<Verdict> {
    let c = store::case_by_id(tx, case_id)?;
    let Judged {
        findings,
        failed,
        features: feats,
    } = judged;
    let policy = cfg.policy.get(&c.policy).cloned().unwrap_or_default();
    let mut verdict = policy::evaluate(&c.policy, &policy, &findings, c.arrived_at);
    if failed {
        verdict.missing.clear();
        verdict.poc_claimed_not_included = false;
        verdict.low_effort = false;
        verdict.next_state = State::New;
        verdict.reasons = vec![
            "the classifier failed on this report (internal error): a person must read it".into(),
        ];
        tracing::error!(case = %c.id_public, "the classifier panicked on this report; case kept for a person to read");
        store::event(
            tx,
            Some(case_id),
            "triaged",
            crate::domain::status::EventKind::ClassifyFailed,
            Some(
                "internal error in the classifier; findings left empty, nothing claimed in the ack",
            ),
        )?;
    }
    store::replace_findings(tx, case_id, &findings, &verdict)?;
    // Likely duplicates of open and recent cases: a finding and an event, never a merge,
    // and nothing of it in the ack (the reporter must not learn of another reporter).
    if let Some(m) = find_duplicate(tx, case_id, &feats, store::now())? {
        store::add_finding(
            tx,
            case_id,
            crate::domain::status::FindingKind::Duplicate,
            &serde_json::json!({"case": m.case, "score": m.score}),
            &serde_json::json!(m.reasons),
        )?;
        let detail = format!(
            "of {} (score {:.2}: {})",
            m.case,
            m.score,
            m.reasons.join("; ")
        );
        if store::note_duplicate(tx, case_id, &m.case)? {
            store::event(
                tx,
                Some(case_id),
                "triaged",
                crate::domain::status::EventKind::PossibleDuplicate,
                Some(&detail),
            )?;
        }
    }
    store::index_duplicate(
        tx,
        case_id,
        &feats,
        &crate::judge::duplicates::keys_of(&feats),
    )?;
    let credit = findings
        .credit
        .as_ref()
        .map(|c| crate::domain::disclosure::Credit::asked(c.name.as_deref(), c.anonymous));
    store::set_case_verdict(
        tx,
        case_id,
        findings.impact.severity,
        (verdict.ack_due, verdict.followup_due, verdict.resolve_due),
        credit.as_ref(),
    )?;
    store::event(
        tx,
        Some(case_id),
        "triaged",
        crate::domain::status::EventKind::Classified,
        Some(&summary(&findings, &verdict)),
    )?;
    Ok(verdict)
}

/// One line for the audit trail (no report text beyond short labels).
pub fn summary(f: &classify::Findings, v: &Verdict) -> String {
    format!(
        "poc {}, versions {}, impact {} ({}{}), severity {} ({}); policy {}: missing [{}], version {}, -> {}",
        f.poc.status,
        if f.versions.present {
            f.versions.items.len().to_string()
        } else {
            "none".into()
        },
        if f.impact.present {
            "present"
        } else {
            "absent"
        },
        if f.impact.class.is_empty() {
            "no class".to_string()
        } else {
            f.impact.class.join("/")
        },
        if f.low_effort.flag {
            ", low effort"
        } else {
            ""
        },
        f.impact.severity,
        f.impact.severity_source,
        v.policy,
        v.missing.join(", "),
        v.version.status,
        v.next_state
    )
}

/// The reply oracle (EFAIL-style): Eve pastes the encrypted part of Alice's report
/// into her own mail and waits for an ack that quotes it. A message is suspect when
/// one of its session keys opened a message from another address before, or when the
/// From inside the encryption (protected headers) is not the sender. Records the
/// session keys, and for a suspect message an event; returns why it is suspect. The
/// caller then answers without any decrypted content (no subject, no verdict).
fn replay_check(
    tx: store::Db<'_>,
    case_id: i64,
    msg_row: i64,
    r: &Report,
) -> Result<Option<String>> {
    let from = r.from_addr.as_deref().unwrap_or("");
    let mut why = None;
    for h in &r.session_keys {
        let earlier = store::session_key_seen(tx, h, msg_row)?;
        if let Some((other_from, other_case)) = earlier
            && !other_from.as_deref().is_some_and(|o| same_address(o, from))
        {
            why = Some(format!(
                "re-used ciphertext: this encrypted part was first received in {other_case} from another sender; nothing decrypted is quoted to {from}"
            ));
        }
        store::record_session_key(tx, h, msg_row, case_id, r.from_addr.as_deref())?;
    }
    if why.is_none()
        && let Some(inner) = r.inner_from.as_deref()
        && !same_address(inner, from)
    {
        why = Some(format!(
            "the From inside the encryption ({inner}) is not the sender ({from}); nothing decrypted is quoted to the sender"
        ));
    }
    if let Some(w) = &why {
        store::event(
            tx,
            Some(case_id),
            "triaged",
            crate::domain::status::EventKind::ReplaySuspected,
            Some(w),
        )?;
        tracing::warn!(case_id, "possible reply oracle: {w}");
    }
    Ok(why)
}

/// Cuts a string to at most `max` bytes, at a character boundary.
fn truncate_at_char(s: &mut String, max: usize) {
    let end = prefix_at_char(s, max).len();
    s.truncate(end);
}

/// The longest prefix of `s` of at most `max` bytes that ends at a character boundary.
fn prefix_at_char(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Finds the case a message belongs to: In-Reply-To/References pointing at one of
/// its messages or our mail, or a `[SEC-…]` tag. Either way only when the sender is
/// the case's reporter: case ids are guessable and a reply can name any Message-ID it
/// has seen, so a stranger must not be able to write into someone else's case (their
/// mail opens a case of its own).
fn find_thread(conn: store::Db<'_>, r: &Report) -> Result<Option<i64>> {
    let Some(from) = r.from_addr.as_deref() else {
        return Ok(None);
    };
    let is_reporter =
        |c: &store::CaseRow| c.reporter.as_deref().is_some_and(|x| same_address(x, from));
    let mut ids = r.in_reply_to.clone();
    ids.extend(r.references.iter().rev().cloned());
    if let Some(id) = store::case_by_message_ids(conn, &ids)? {
        let c = store::case_by_id(conn, id)?;
        if is_reporter(&c) {
            return Ok(Some(id));
        }
        tracing::info!(case = %c.id_public, "a reply from someone other than the reporter opens a case of its own");
    }
    let mut tags = Vec::new();
    for s in [&r.outer_subject, &r.subject].into_iter().flatten() {
        tags.extend(case::tags_in(s));
    }
    for t in tags {
        if let Some(c) = store::case_by_public_id(conn, &t)?
            && is_reporter(&c)
        {
            return Ok(Some(c.id));
        }
    }
    Ok(None)
}

/// Two mail addresses name the same mailbox: equal after trimming, without case (as
/// every mail server treats them), never by substring.
pub fn same_address(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a.contains('@') && a.eq_ignore_ascii_case(b)
}

/// The raw bytes to store: held (maybe sealed), or in a file.
enum RawIn<'a> {
    Held(std::borrow::Cow<'a, [u8]>),
    File(std::path::PathBuf, u64),
}

fn insert_message(
    tx: store::Db<'_>,
    cfg: &Config,
    case_id: i64,
    sha: &str,
    inc: &Incoming,
    a: &Analysis,
    seal: Option<&TeamKeys>,
) -> Result<i64> {
    let r = &a.report;
    // Encryption at rest: everything read from the report. The raw bytes too, whatever
    // their encryption: a partly encrypted or signed-only message carries readable
    // text, and even a wholly encrypted one has a readable Subject and headers.
    // A spooled message is sealed from its file into another spool file (removed when
    // `sealed_file` is dropped, after the insert).
    let mut sealed_file = None;
    let (body, raw, raw_sealed) = match (seal, &inc.spool) {
        (Some(k), Some(sp)) => {
            let mut w =
                crate::ingest::spool::Writer::create(cfg, &format!("sealing-{}", short(sha)))?;
            let f = std::fs::File::open(&sp.path)
                .with_context(|| format!("opening {} to seal it", sp.path.display()))?;
            k.seal_stream(std::io::BufReader::new(f), &mut w)
                .context("encrypting the raw message at rest")?;
            let done = sealed_file.insert(w.finish()?);
            (
                std::borrow::Cow::Owned(
                    k.seal_text(&r.text)
                        .context("encrypting the report text at rest")?,
                ),
                RawIn::File(done.path.clone(), done.size),
                1i64,
            )
        }
        (Some(k), None) => (
            std::borrow::Cow::Owned(
                k.seal_text(&r.text)
                    .context("encrypting the report text at rest")?,
            ),
            RawIn::Held(std::borrow::Cow::Owned(
                k.seal(&inc.raw)
                    .context("encrypting the raw message at rest")?,
            )),
            1i64,
        ),
        (None, Some(sp)) => (
            std::borrow::Cow::Borrowed(r.text.as_str()),
            RawIn::File(sp.path.clone(), sp.size),
            0,
        ),
        (None, None) => (
            std::borrow::Cow::Borrowed(r.text.as_str()),
            RawIn::Held(std::borrow::Cow::Borrowed(&inc.raw[..])),
            0,
        ),
    };
    let (status, reason) = status_word(&a.status);
    let (outer_subject, subject) = match seal {
        Some(k) => (
            k.seal_field(r.outer_subject.as_deref())
                .context("encrypting the subject at rest")?,
            k.seal_field(r.subject.as_deref())
                .context("encrypting the subject at rest")?,
        ),
        None => (r.outer_subject.clone(), r.subject.clone()),
    };
    let id = store::insert_message(
        tx,
        &store::NewMessage {
            case_id,
            sha256: sha,
            message_id: r.message_id.as_deref(),
            mailbox: &inc.mailbox,
            source_pos: &inc.position,
            arrived_at: inc.arrived_at,
            size: i64::try_from(inc.size()).unwrap_or(i64::MAX),
            raw: match &raw {
                RawIn::Held(b) => store::RawBytes::Held(b),
                RawIn::File(p, n) => store::RawBytes::File(p, *n),
            },
            raw_sealed: raw_sealed != 0,
            from_addr: r.from_addr.as_deref(),
            outer_subject: outer_subject.as_deref(),
            subject: subject.as_deref(),
            in_reply_to: &json(&r.in_reply_to),
            refs: &json(&r.references),
            encryption: r.encryption,
            status,
            status_reason: reason,
            signature: r.signature_status(),
            signatures: &json(&r.signatures),
            team_key: r.team_key.as_deref(),
            body_text: &body,
            notes: &json(&r.notes),
            sealed: seal.is_some(),
            coverage: &json(&r.coverage),
        },
    )?;
    write_parts(tx, case_id, id, r, seal)?;
    Ok(id)
}

/// Attachments and reporter keys of one message.
fn write_parts(
    tx: store::Db<'_>,
    case_id: i64,
    message_row: i64,
    r: &Report,
    seal: Option<&TeamKeys>,
) -> Result<()> {
    let sealed: Vec<Vec<u8>> = match seal {
        Some(k) => r
            .attachments
            .iter()
            .map(|a| k.seal(&a.data).context("encrypting an attachment at rest"))
            .collect::<Result<_>>()?,
        None => Vec::new(),
    };
    let atts: Vec<store::NewAttachment<'_>> = r
        .attachments
        .iter()
        .enumerate()
        .map(|(i, a)| store::NewAttachment {
            name: a.name.as_deref(),
            content_type: &a.content_type,
            size: a.size as i64,
            encrypted: a.encrypted,
            content: sealed.get(i).map_or(&a.data[..], |v| &v[..]),
            sealed: seal.is_some(),
        })
        .collect();
    store::replace_attachments(tx, message_row, &atts)?;
    for k in &r.keys {
        store::add_reporter_key(
            tx,
            case_id,
            &k.fingerprint,
            &json(&k.user_ids),
            k.source,
            &k.armored,
        )?;
    }
    Ok(())
}

/// The result of `case retry`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RetryResult {
    pub case: String,
    pub before: String,
    pub after: String,
    pub messages: usize,
    pub readable: usize,
}

/// Re-reads every stored message of a case from its raw bytes (after a key was
/// added or a bug fixed) and lifts the case out of quarantine when it now reads.
pub fn retry(
    store: &mut Store,
    cfg: &Config,
    keys: &TeamKeys,
    reader: &Reader,
    public_id: &str,
    actor: &str,
) -> Result<RetryResult> {
    let c = store::case_by_public_id(store.db(), public_id)?
        .with_context(|| format!("no case {public_id}; list cases with `triaged case list`"))?;
    let raws = store::raw_messages_of(store.db(), c.id, keys)?;
    let seal = cfg.store.encrypt_at_rest.then_some(keys);
    // Read as intake read them: a message above limits.stream_above as a stream from a
    // spool file (the same text and attachment limits), the others held.
    let analyses: Vec<(i64, Analysis)> = raws
        .iter()
        .map(|(id, raw)| -> Result<(i64, Analysis)> {
            if raw.len() as u64 <= cfg.limits.stream_above.0 {
                return Ok((*id, reader.read(raw, cfg, keys)));
            }
            let mut w = crate::ingest::spool::Writer::create(cfg, &format!("retry-{id}.eml"))?;
            w.append(raw)?;
            let sp = w.finish()?;
            Ok((*id, reader.read_file(&sp.path, cfg, keys)))
        })
        .collect::<Result<_>>()?;
    // Read as intake read them: through the team's list or web form, from the sender
    // it names.
    let mut analyses = analyses;
    if let Some(mb) = cfg.mailboxes.iter().find(|m| m.name == c.mailbox) {
        for (_, a) in &mut analyses {
            crate::ingest::list::through_relays(&mut a.report, mb);
        }
    }
    let (readable, before, after) = store.write("retry", |tx| {
        let mut readable = 0;
        for (id, a) in &analyses {
            let r = &a.report;
            let (status, reason) = status_word(&a.status);
            if a.status == Status::Ok {
                readable += 1;
            }
            let subject = match seal {
                Some(k) => k.seal_field(r.subject.as_deref())?,
                None => r.subject.clone(),
            };
            let body = match seal {
                Some(k) => k.seal_text(&r.text)?,
                None => r.text.clone(),
            };
            store::update_reread_message(
                tx,
                &store::RereadMessage {
                    id: *id,
                    subject: subject.as_deref(),
                    encryption: r.encryption,
                    status,
                    status_reason: reason,
                    signature: r.signature_status(),
                    signatures: &json(&r.signatures),
                    team_key: r.team_key.as_deref(),
                    body_text: &body,
                    notes: &json(&r.notes),
                    from_addr: r.from_addr.as_deref(),
                    sealed: seal.is_some(),
                    coverage: &json(&r.coverage),
                },
            )?;
            write_parts(tx, c.id, *id, r, seal)?;
        }
        let before: State = c.state;
        let mut after = before;
        if let Some((_, first)) = analyses.first() {
            let (st, reason) = state_for(&first.status);
            if before.is_quarantine() {
                after = st;
                let s = if st == State::New {
                    first.report.subject.as_deref()
                } else {
                    first.report.outer_subject.as_deref()
                };
                let subject = match seal {
                    Some(k) => k.seal_field(s)?,
                    None => s.map(str::to_string),
                };
                store::lift_quarantine(
                    tx,
                    c.id,
                    st,
                    reason.as_deref(),
                    subject.as_deref(),
                    first.report.signature_status(),
                )?;
            }
        }
        if before.is_quarantine() && after == State::New {
            let v = classify_case(tx, cfg, keys, c.id)?;
            store::set_case_state(tx, c.id, v.next_state, Some(&v.reasons.join("; ")))?;
            after = v.next_state;
        }
        store::event(
            tx,
            Some(c.id),
            actor,
            crate::domain::status::EventKind::Retried,
            Some(&format!(
                "re-read {} message(s), {} readable; {} -> {}",
                analyses.len(),
                readable,
                before,
                after
            )),
        )?;
        Ok((readable, before, after))
    })?;
    Ok(RetryResult {
        case: c.id_public,
        before: before.as_str().into(),
        after: after.as_str().into(),
        messages: analyses.len(),
        readable,
    })
}

/// The best likely duplicate of `case_id` among open and recent cases, if any: the
/// store's index gives candidates, `judge::duplicates` scores them.
fn find_duplicate(
    conn: store::Db<'_>,
    case_id: i64,
    f: &crate::judge::duplicates::Features,
    now: i64,
) -> Result<Option<crate::judge::duplicates::Match>> {
    use crate::judge::duplicates as dup;
    let keys = dup::keys_of(f);
    let mut best: Option<dup::Match> = None;
    let candidates = store::duplicate_candidates(conn, case_id, &keys, dup::MAX_CANDIDATES)?;
    for (public, g) in store::live_candidates(conn, &candidates, now - dup::HORIZON_SECS)? {
        let (s, reasons) = dup::score(f, &g);
        if s >= dup::THRESHOLD && best.as_ref().is_none_or(|b| s > b.score) {
            best = Some(dup::Match {
                case: public,
                score: (s * 100.0).round() / 100.0,
                reasons,
            });
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_wait_for_held_bytes_but_never_for_the_message_the_writer_needs() {
        use std::sync::mpsc::channel;
        use std::time::Duration;
        let held = std::sync::Arc::new(Held::new(10));
        assert!(held.take(0, 8), "nothing held: passes");
        // Message 2 would hold 16 > 10 bytes while the writer still needs 1: it waits.
        let (done, waited) = channel();
        let h = held.clone();
        let t = std::thread::spawn(move || done.send(h.take(2, 8)));
        assert!(waited.recv_timeout(Duration::from_millis(200)).is_err());
        // The writer took message 0 into its group and needs 1 now: message 1 passes
        // although it is over budget; message 2 still waits.
        held.need(1);
        assert!(held.take(1, 50));
        assert!(waited.recv_timeout(Duration::from_millis(200)).is_err());
        // The writer commits 0 and 1 (58 bytes): message 2 may be held now.
        held.give_back(58, 2);
        assert_eq!(waited.recv_timeout(Duration::from_secs(10)), Ok(true));
        t.join().expect("reader thread").expect("result sent");
        // A stopped writer releases everyone, with false.
        let (done, waited) = channel();
        let h = held.clone();
        let t = std::thread::spawn(move || done.send(h.take(9, 100)));
        assert!(waited.recv_timeout(Duration::from_millis(200)).is_err());
        held.close();
        assert_eq!(waited.recv_timeout(Duration::from_secs(10)), Ok(false));
        t.join().expect("reader thread").expect("result sent");
    }

    #[test]
    fn read_outcomes_map_to_case_states_by_variant() {
        assert_eq!(state_for(&Status::Ok), (State::New, None));
        assert_eq!(
            state_for(&Status::Undecryptable("no key".into())).0,
            State::Undecryptable
        );
        assert_eq!(
            state_for(&Status::Unparseable("not mail".into())).0,
            State::Unparseable
        );
        // Decided by the variant, not by the wording of the reason.
        assert_eq!(
            state_for(&Status::Oversize("reader memory".into())).0,
            State::Oversize
        );
        assert_eq!(
            state_for(&Status::Unparseable(
                "oversize: mentioned in passing".into()
            ))
            .0,
            State::Unparseable
        );
        assert_eq!(
            status_word(&Status::Oversize("x".into())),
            (ReadStatus::Unparseable, Some("x"))
        );
    }

    #[test]
    fn addresses_match_exactly_without_case_never_by_substring() {
        assert!(same_address("Alice@Example.NET", " alice@example.net "));
        assert!(!same_address("notalice@example.net", "alice@example.net"));
        assert!(!same_address(
            "alice@example.net",
            "alice@example.net.evil.test"
        ));
        assert!(!same_address("", ""), "an empty address is nobody");
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        let mut s = "ab€cd".to_string(); // € is 3 bytes: bytes 2..5
        truncate_at_char(&mut s, 4);
        assert_eq!(s, "ab");
        let mut t = "abc".to_string();
        truncate_at_char(&mut t, 10);
        assert_eq!(t, "abc");
        assert_eq!(short("0123456789abcdef"), "0123456789ab");
        assert_eq!(short("abc"), "abc");
    }
}
