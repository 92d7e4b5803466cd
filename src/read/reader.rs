//! The reader: where a message is read (parsed, decrypted, verified) under limits
//! that hold even when the OpenPGP or MIME code does not cooperate.
//!
//! This module owns the reader processes. With `limits.isolate_reader` (the default)
//! each message is read by a long-lived child process (`triaged read-worker`, hidden)
//! that lowers its own address space to `limits.reader_memory` (RLIMIT_AS), writes no
//! core file and exits when the daemon is gone. The daemon hands it the raw bytes over a pipe
//! and gets the [`Analysis`] back; when `limits.time_budget` plus a grace period is
//! spent, or the daemon is shutting down, the child is killed and the message becomes
//! an `oversize` case with its headers read (without decrypting) and its raw bytes
//! kept. A child that dies (memory limit, crash) costs the same: one quarantined
//! message, never a crash loop. This is the mail servers' classic answer (Postfix,
//! Dovecot, qmail): hostile input is handled by a process that may be lost.
//!
//! It knows nothing of the store; `ingest::intake` decides what to do with what
//! was read.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::config::{Config, Limits};
use crate::read::crypto::TeamKeys;
use crate::read::mime::{self, Analysis, Report, Status};

/// Set on SIGTERM/SIGINT: readers in progress are stopped at once.
static SHUTDOWN: AtomicBool = AtomicBool::new(false);

/// Asks every reader to stop (the daemon is shutting down).
pub fn shutdown() {
    SHUTDOWN.store(true, Ordering::SeqCst);
}

/// True once [`shutdown`] was called.
pub(crate) fn shutting_down() -> bool {
    SHUTDOWN.load(Ordering::SeqCst)
}

/// How messages are read.
pub enum Reader {
    /// In this process (tests, fuzzing, `classify`): the cooperative time budget only.
    InProcess,
    /// In reader processes that can be killed.
    Isolated(Pool),
}

impl Reader {
    /// The reader the configuration asks for; `exe` is the triaged binary to start
    /// (normally [`std::env::current_exe`]).
    pub(crate) fn for_config(cfg: &Config) -> Result<Reader> {
        if !cfg.limits.isolate_reader {
            return Ok(Reader::InProcess);
        }
        let exe = std::env::current_exe().context("finding the triaged binary for the reader")?;
        Ok(Reader::Isolated(Pool::new(exe, cfg)))
    }

    /// How many messages can be read at once.
    pub(crate) fn parallelism(&self, cfg: &Config) -> usize {
        match self {
            Reader::InProcess => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            Reader::Isolated(_) => cfg.limits.readers.max(1),
        }
    }

    /// Reads one message. Never fails: what cannot be read becomes a status that says why.
    pub fn read(&self, raw: &[u8], cfg: &Config, keys: &TeamKeys) -> Analysis {
        match self {
            Reader::InProcess => crate::read::read_message(raw, cfg, keys),
            Reader::Isolated(pool) => pool.read(Request::Bytes(raw), cfg, keys),
        }
    }

    /// Reads one message too large to hold from its (spool) file, as a stream
    /// ([`crate::read::stream`]).
    pub fn read_file(&self, path: &std::path::Path, cfg: &Config, keys: &TeamKeys) -> Analysis {
        match self {
            Reader::InProcess => crate::read::stream::read_file(path, &cfg.limits, keys),
            Reader::Isolated(pool) => pool.read(Request::File(path), cfg, keys),
        }
    }
}

/// What a reader process is asked to read.
#[derive(Clone, Copy)]
enum Request<'a> {
    /// The raw message.
    Bytes(&'a [u8]),
    /// A message too large to hold, in this file.
    File(&'a std::path::Path),
}

/// What a reader process says once its keys are loaded (with the protocol's version:
/// 2 = the team keys arrive over the pipe first).
const READY: &str = "ready 2";

/// The length word that announces a [`Request::File`] (a path frame follows).
const FILE_REQUEST: u64 = u64::MAX;

impl Request<'_> {
    fn write(self, w: &mut impl Write) -> std::io::Result<()> {
        match self {
            Request::Bytes(raw) => {
                w.write_all(&(raw.len() as u64).to_le_bytes())?;
                w.write_all(raw)
            }
            Request::File(path) => {
                use std::os::unix::ffi::OsStrExt;
                let p = path.as_os_str().as_bytes();
                w.write_all(&FILE_REQUEST.to_le_bytes())?;
                w.write_all(&(p.len() as u64).to_le_bytes())?;
                w.write_all(p)
            }
        }
    }

    /// What can be read without decrypting (after a reader was lost).
    fn headers_only(self, cfg: &Config, status: Status) -> Analysis {
        match self {
            Request::Bytes(raw) => headers_only(raw, cfg, status),
            Request::File(path) => headers_only(&crate::read::stream::file_head(path), cfg, status),
        }
    }

    /// Reads it here (when no reader process could start).
    fn read_here(self, cfg: &Config, keys: &TeamKeys) -> Analysis {
        match self {
            Request::Bytes(raw) => crate::read::read_message(raw, cfg, keys),
            Request::File(path) => crate::read::stream::read_file(path, &cfg.limits, keys),
        }
    }
}

/// The reader processes, started on demand and reused.
pub struct Pool {
    exe: std::path::PathBuf,
    config: std::path::PathBuf,
    idle: Mutex<Vec<Worker>>,
    watch: std::sync::Arc<Watch>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.watch.close();
    }
}

/// The reads in progress, watched by one long-lived thread per pool (started with the
/// first read; not a thread per message): a reader whose hard budget is spent, or any
/// reader once the daemon shuts down, is killed. The thread sleeps while nothing is
/// being read.
#[derive(Default)]
struct Watch {
    state: Mutex<Watched>,
    wake: std::sync::Condvar,
    started: AtomicBool,
}

#[derive(Default)]
struct Watched {
    active: Vec<Active>,
    closed: bool,
}

/// One read in progress: the reader's pid, when it began, its budget, and why it was
/// killed (set by the watch).
struct Active {
    pid: libc::pid_t,
    start: Instant,
    budget: Duration,
    killed: Option<Lost>,
}

/// How often the watch looks at the reads in progress.
const WATCH_TICK: Duration = Duration::from_millis(100);

impl Watch {
    fn lock(&self) -> std::sync::MutexGuard<'_, Watched> {
        // The state stays consistent whatever a panicking holder did (plain pushes and
        // removals), so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the watching thread once. If it cannot start (TasksMax), reads go on
    /// under the reader's cooperative budget alone, and the next read tries again.
    fn ensure_started(self: &std::sync::Arc<Self>) {
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = std::sync::Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("reader-watch".into())
            .spawn(move || me.run());
        if let Err(e) = spawned {
            self.started.store(false, Ordering::SeqCst);
            tracing::error!(
                "cannot start the reader watch thread ({e}); a reader that hangs is not stopped until the next read starts it"
            );
        }
    }

    fn run(&self) {
        let mut g = self.lock();
        loop {
            if g.closed {
                return;
            }
            if g.active.is_empty() {
                g = self.wake.wait(g).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            g = match self.wake.wait_timeout(g, WATCH_TICK) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
            for a in g.active.iter_mut().filter(|a| a.killed.is_none()) {
                let why = if shutting_down() {
                    Lost::Shutdown
                } else if a.start.elapsed() >= a.budget {
                    Lost::Timeout(a.start.elapsed())
                } else {
                    continue;
                };
                // SAFETY: plain kill(2) on our own child while its read is registered
                // here: the Worker is only waited for (reaped) after `end` removed the
                // entry under this same lock, so the pid is still ours.
                unsafe {
                    libc::kill(a.pid, libc::SIGKILL);
                }
                a.killed = Some(why);
            }
        }
    }

    /// A read by the reader `pid` begins.
    fn begin(self: &std::sync::Arc<Self>, pid: libc::pid_t, budget: Duration) {
        self.ensure_started();
        let mut g = self.lock();
        // Only an idle watch needs waking: a busy one looks at every read each tick.
        let was_idle = g.active.is_empty();
        g.active.push(Active {
            pid,
            start: Instant::now(),
            budget,
            killed: None,
        });
        drop(g);
        if was_idle {
            self.wake.notify_one();
        }
    }

    /// The read by `pid` ended: why the watch killed it, if it did.
    fn end(&self, pid: libc::pid_t) -> Option<Lost> {
        let mut g = self.lock();
        let i = g.active.iter().position(|a| a.pid == pid)?;
        g.active.swap_remove(i).killed
    }

    fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_all();
    }
}

struct Worker {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why a read in a worker did not produce an analysis.
enum Lost {
    /// Killed: the time budget was spent.
    Timeout(Duration),
    /// Killed: the daemon is shutting down.
    Shutdown,
    /// The worker died or broke the protocol.
    Died(String),
}

impl Pool {
    pub fn new(exe: std::path::PathBuf, cfg: &Config) -> Pool {
        Pool {
            exe,
            config: cfg.file.clone(),
            idle: Mutex::new(Vec::new()),
            watch: std::sync::Arc::new(Watch::default()),
        }
    }

    fn spawn(&self, keys: &TeamKeys) -> Result<Worker> {
        // The keys go first, before any message: unlocked decryption keys only.
        let unlocked = keys
            .for_reader()
            .context("preparing the team keys for the reader process")?;
        let mut child = Command::new(&self.exe)
            .arg("--config")
            .arg(&self.config)
            .arg("read-worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting a reader process ({})", self.exe.display()))?;
        let stdin = child.stdin.take().context("reader stdin")?;
        let stdout = child.stdout.take().context("reader stdout")?;
        let mut w = Worker {
            child,
            stdin: BufWriter::new(stdin),
            stdout: BufReader::with_capacity(64 * 1024, stdout),
        };
        w.stdin
            .write_all(&(unlocked.len() as u64).to_le_bytes())
            .and_then(|_| w.stdin.write_all(&unlocked))
            .and_then(|_| w.stdin.flush())
            .context("handing the team keys to the reader process")?;
        drop(unlocked);
        // The worker says "ready" once its keys are loaded: a broken worker is found here,
        // not in the middle of a message. The word carries the protocol's version: a
        // reader from another build (the binary replaced under a running daemon) is
        // refused, and the message is read in the daemon instead.
        let mut line = String::new();
        w.stdout
            .read_line(&mut line)
            .context("waiting for the reader process to start")?;
        if line.trim() != READY {
            bail!(
                "the reader process did not start (it said {:?}; see its error above)",
                line.trim()
            );
        }
        Ok(w)
    }

    fn read(&self, req: Request<'_>, cfg: &Config, keys: &TeamKeys) -> Analysis {
        let worker = self.idle.lock().ok().and_then(|mut v| v.pop());
        let mut worker = match worker {
            Some(w) => w,
            None => match self.spawn(keys) {
                Ok(w) => w,
                Err(e) => {
                    // Never lose or stall mail over a process that could not start
                    // (TasksMax, a replaced binary): read it here, and say so loudly.
                    tracing::error!(
                        "reader process: {e:#}; reading this message in the daemon itself, without the memory limit"
                    );
                    return req.read_here(cfg, keys);
                }
            },
        };
        let budget = hard_budget(&cfg.limits);
        match exchange(&mut worker, req, budget, &self.watch) {
            Ok(a) => {
                if let Ok(mut v) = self.idle.lock() {
                    v.push(worker);
                }
                a
            }
            Err(lost) => {
                let status = worker.child.try_wait().ok().flatten();
                drop(worker);
                let status = match lost {
                    Lost::Timeout(d) => Status::Oversize(format!(
                        "time budget: reading did not finish within limits.time_budget ({}) and the reader was stopped after {} s; headers kept, body not read",
                        cfg.limits.time_budget,
                        d.as_secs()
                    )),
                    Lost::Shutdown => Status::Unparseable(
                        "unreadable: the daemon stopped while this message was being read".into(),
                    ),
                    Lost::Died(why) => Status::Oversize(format!(
                        "oversize: reading this message needed more than limits.reader_memory ({} MiB) or stopped the reader ({why}{}); headers kept, body not read",
                        cfg.limits.reader_memory.0 / (1024 * 1024),
                        status.map(|s| format!(", {s}")).unwrap_or_default()
                    )),
                };
                if let Status::Oversize(reason) | Status::Unparseable(reason) = &status {
                    tracing::warn!("{reason}");
                }
                req.headers_only(cfg, status)
            }
        }
    }
}

/// The wall-clock time a worker gets for one message before it is killed: the
/// cooperative budget (which stops reading between parts) plus a grace period.
fn hard_budget(l: &Limits) -> Duration {
    let b = Duration::from_secs(u64::try_from(l.time_budget.secs()).unwrap_or(0));
    b + (b / 4).max(Duration::from_secs(2))
}

/// Sends one message and reads its analysis; the pool's [`Watch`] kills the worker
/// when the budget is spent or the daemon shuts down.
fn exchange(
    w: &mut Worker,
    req: Request<'_>,
    budget: Duration,
    watch: &std::sync::Arc<Watch>,
) -> std::result::Result<Analysis, Lost> {
    let pid = w.child.id() as libc::pid_t;
    watch.begin(pid, budget);
    let res = (|| -> Result<Analysis> {
        req.write(&mut w.stdin)
            .and_then(|_| w.stdin.flush())
            .context("writing to the reader")?;
        decode(&mut w.stdout)
    })();
    let killed = watch.end(pid);
    match (res, killed) {
        (_, Some(why)) => Err(why),
        (Ok(a), None) => Ok(a),
        (Err(e), None) => Err(Lost::Died(format!("{e:#}"))),
    }
}

/// Reads what can be read without decrypting: the headers, and a status saying why.
pub(crate) fn headers_only(raw: &[u8], cfg: &Config, status: Status) -> Analysis {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(raw.len())
        .min(64 * 1024);
    let head = raw.get(..head_end).unwrap_or_default();
    let mut a = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        mime::analyze(head, &TeamKeys::empty(), &cfg.limits)
    }))
    .unwrap_or_else(|_| Analysis {
        report: Report {
            encryption: crate::domain::status::Encryption::None,
            ..Report::default()
        },
        status: Status::Ok,
    });
    // Nothing of the body was read: no text, no keys, no claim about encryption.
    a.report.text.clear();
    a.report.attachments.clear();
    a.report.keys.clear();
    a.report.signatures.clear();
    a.status = status;
    a
}

/// What goes over the pipe before the binary parts (attachment bytes follow it, in
/// order). Reporter keys travel as armor and the daemon re-reads them (they were cut
/// to the limits in [`crate::read::crypto::read_certs`] already).
#[derive(Serialize)]
struct HeadOut<'a> {
    report: &'a Report,
    status: &'a Status,
    keys: Vec<(crate::read::crypto::KeySource, &'a str)>,
}

#[derive(Deserialize)]
struct HeadIn {
    report: Report,
    status: Status,
    keys: Vec<(crate::read::crypto::KeySource, String)>,
}

const MAX_FRAME: u64 = 1 << 32;
/// The most key material a reader accepts from the daemon (a keyring of team keys is
/// kilobytes).
const MAX_KEYS: u64 = 64 << 20;
const MAX_PRESIZE: u64 = 128 << 20;

/// The answer: a tag, the analysis as one JSON line without its text, then the text
/// and each attachment as length-prefixed frames (read back into buffers of the exact
/// size: JSON would hold a large text two or three times while decoding it).
fn encode(out: &mut impl Write, mut a: Analysis) -> Result<()> {
    let text = std::mem::take(&mut a.report.text);
    let a = &a;
    let head = HeadOut {
        report: &a.report,
        status: &a.status,
        keys: a
            .report
            .keys
            .iter()
            .map(|k| (k.source, k.armored.as_str()))
            .collect(),
    };
    out.write_all(&[1])?;
    serde_json::to_writer(&mut *out, &head).context("encoding the analysis")?;
    out.write_all(b"\n")?;
    out.write_all(&(text.len() as u64).to_le_bytes())?;
    out.write_all(text.as_bytes())?;
    for att in &a.report.attachments {
        out.write_all(&(att.data.len() as u64).to_le_bytes())?;
        out.write_all(&att.data)?;
    }
    out.flush()?;
    Ok(())
}

fn decode(r: &mut impl BufRead) -> Result<Analysis> {
    let mut tag = [0u8; 1];
    r.read_exact(&mut tag)
        .context("the reader process ended without an answer")?;
    if tag[0] != 1 {
        bail!("the reader process sent an unknown answer");
    }
    let mut de = serde_json::Deserializer::from_reader(&mut *r);
    let head = HeadIn::deserialize(&mut de).context("decoding the reader's answer")?;
    let mut nl = [0u8; 1];
    r.read_exact(&mut nl)
        .context("reading the reader's answer")?;
    let HeadIn {
        mut report,
        status,
        keys,
    } = head;
    let text = read_frame(r, "the text")?;
    report.text =
        String::from_utf8(text).context("the reader process sent a text that is not UTF-8")?;
    for att in &mut report.attachments {
        att.data = read_frame(r, "an attachment")?;
    }
    report.keys = keys
        .iter()
        .flat_map(|(source, armored)| crate::read::crypto::read_certs(armored.as_bytes(), *source))
        .collect();
    Ok(Analysis { report, status })
}

/// One length-prefixed frame of the reader's answer, read into a buffer of its size.
fn read_frame(r: &mut impl BufRead, what: &str) -> Result<Vec<u8>> {
    let mut len = [0u8; 8];
    r.read_exact(&mut len)
        .with_context(|| format!("reading {what}"))?;
    let n = u64::from_le_bytes(len);
    if n > MAX_FRAME {
        bail!("the reader process sent {what} of {n} bytes");
    }
    // The size is the reader's word: pre-sized up to a bound, so a lying (compromised)
    // reader cannot make the daemon reserve gigabytes; beyond it the buffer grows.
    let mut data = Vec::with_capacity(usize::try_from(n.min(MAX_PRESIZE)).unwrap_or(0));
    r.by_ref()
        .take(n)
        .read_to_end(&mut data)
        .with_context(|| format!("reading {what}"))?;
    if data.len() as u64 != n {
        bail!("the reader process ended inside {what}");
    }
    Ok(data)
}

/// The reader process: `triaged read-worker` (started by the daemon, not by people).
/// Lowers its limits, reads the daemon's unlocked decryption keys from its input
/// ([`TeamKeys::for_reader`]: no passphrase, no signing key here), says [`READY`], then
/// reads one message per request until its input ends.
pub(crate) fn worker_main(cfg_file: &std::path::Path) -> Result<()> {
    let cfg = Config::load(cfg_file).map_err(|e| anyhow!("{e}"))?;
    lower_limits(&cfg.limits)?;
    let stdin = std::io::stdin();
    let mut input = BufReader::new(stdin.lock());
    let keys = {
        let mut len = [0u8; 8];
        input
            .read_exact(&mut len)
            .context("reading the team keys from the daemon")?;
        let n = u64::from_le_bytes(len);
        if n > MAX_KEYS {
            bail!("the daemon sent {n} bytes of keys (more than {MAX_KEYS})");
        }
        let mut bytes = vec![0u8; usize::try_from(n).unwrap_or(0)];
        input
            .read_exact(&mut bytes)
            .context("reading the team keys from the daemon")?;
        // Protected memory zeroes the buffer's allocation once the keys are parsed.
        let bytes = sequoia_openpgp::crypto::mem::Protected::from(bytes);
        crate::read::keys::reader_keys(&cfg, &bytes).map_err(|p| {
            anyhow!(
                "the reader could not load the team keys: {} (run `triaged check-config`)",
                p.iter()
                    .map(|p| p.what.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })?
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    out.write_all(READY.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()?;
    loop {
        let mut len = [0u8; 8];
        match input.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e).context("reading a request"),
        }
        let n = u64::from_le_bytes(len);
        if n == FILE_REQUEST {
            use std::os::unix::ffi::OsStrExt;
            let path = read_frame(&mut input, "a file name")?;
            let path = std::path::Path::new(std::ffi::OsStr::from_bytes(&path));
            encode(
                &mut out,
                crate::read::stream::read_file(path, &cfg.limits, &keys),
            )?;
            continue;
        }
        if n > MAX_FRAME {
            bail!("request of {n} bytes refused");
        }
        // Sized once: growing by doubling would hold up to three times the message.
        let mut raw = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        input.by_ref().take(n).read_to_end(&mut raw)?;
        let a = crate::read::read_message(&raw, &cfg, &keys);
        drop(raw);
        encode(&mut out, a)?;
    }
}

/// RLIMIT_AS to `reader_memory`, no core files, and an exit when the daemon is gone.
fn lower_limits(l: &Limits) -> Result<()> {
    let set = |res, v: u64| -> Result<()> {
        let lim = libc::rlimit {
            rlim_cur: v as libc::rlim_t,
            rlim_max: v as libc::rlim_t,
        };
        // SAFETY: setrlimit with a valid pointer to a local struct.
        if unsafe { libc::setrlimit(res, &lim) } != 0 {
            bail!(
                "setrlimit failed: {} (the service's SystemCallFilter must allow setrlimit)",
                std::io::Error::last_os_error()
            );
        }
        Ok(())
    };
    set(libc::RLIMIT_CORE, 0)?;
    set(libc::RLIMIT_AS, l.reader_memory.0)?;
    // Under a cgroup limit (the unit's MemoryMax), the kernel's OOM killer is to take a
    // reader (one message quarantined), not the daemon (raising one's own score needs
    // no privilege). Best effort: /proc may be hidden.
    let _ = std::fs::write("/proc/self/oom_score_adj", "1000");
    // Die with the daemon even in the middle of a message. (PR_SET_PDEATHSIG would
    // fire when the daemon *thread* that started us ends, not the daemon.)
    // SAFETY: getppid(2) takes no arguments and cannot fail.
    let parent = unsafe { libc::getppid() };
    std::thread::Builder::new()
        .name("parent-watch".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(500));
                // SAFETY: as above.
                if unsafe { libc::getppid() } != parent {
                    std::process::exit(1);
                }
            }
        })
        .context("starting the parent watch")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    fn sleeper() -> Child {
        Command::new("sleep").arg("30").spawn().expect("sleep(1)")
    }

    #[test]
    fn the_watch_kills_a_read_over_its_budget_and_spares_one_within_it() {
        let watch = std::sync::Arc::new(Watch::default());
        let (mut slow, mut quick) = (sleeper(), sleeper());
        let (slow_pid, quick_pid) = (slow.id() as libc::pid_t, quick.id() as libc::pid_t);
        watch.begin(slow_pid, Duration::from_millis(150));
        watch.begin(quick_pid, Duration::from_secs(60));
        // The slow read is killed by the watch's thread, within a tick or two of its budget.
        let status = slow.wait().expect("wait");
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert!(
            matches!(watch.end(slow_pid), Some(Lost::Timeout(d)) if d >= Duration::from_millis(150))
        );
        // The other read ends in time: nothing is said, and its process lives on.
        assert!(watch.end(quick_pid).is_none());
        assert!(quick.try_wait().expect("try_wait").is_none());
        // One thread serves every read: a second round starts no other.
        assert!(watch.started.load(Ordering::SeqCst));
        watch.begin(quick_pid, Duration::from_secs(60));
        assert!(watch.end(quick_pid).is_none());
        watch.close();
        let _ = quick.kill();
        let _ = quick.wait();
    }

    #[test]
    fn an_idle_watch_kills_nothing_and_ends_with_its_pool() {
        let watch = std::sync::Arc::new(Watch::default());
        let mut child = sleeper();
        let pid = child.id() as libc::pid_t;
        watch.begin(pid, Duration::from_secs(60));
        std::thread::sleep(WATCH_TICK * 3);
        assert!(watch.end(pid).is_none());
        assert!(child.try_wait().expect("try_wait").is_none());
        watch.close();
        // The thread let go of its handle once closed.
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::sync::Arc::strong_count(&watch) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(std::sync::Arc::strong_count(&watch), 1);
        let _ = child.kill();
        let _ = child.wait();
    }
}
