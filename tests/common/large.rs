//! Large encrypted reports for the memory tests (tests/memory.rs, tests/memory_huge.rs):
//! made by GnuPG, read by triaged under a memory budget.

use super::*;

/// A report of `text_bytes` of text (varied log lines after a real finding), encrypted
/// by gpg to the test team key without compression, inline in a text/plain message,
/// written to a file. Made through files a piece at a time: the test process never holds
/// it (see [`BigFile`]).
pub fn big_report(gpg: &Gpg, text_bytes: usize) -> BigFile {
    use std::io::{BufRead, Write};
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("report.txt");
    let armored = dir.path().join("report.asc");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&plain).unwrap());
        let head = "Summary: SQL injection in the /api/search endpoint of acme-web <= 2.4.1.\n\n\
             Steps to reproduce:\n\ncurl 'http://localhost:8080/api/search?q=1%27%20OR%201=1--'\n\n\
             Impact: an unauthenticated attacker reads every table of the database.\n\n\
             Attached below: the server log of the run.\n\n";
        w.write_all(head.as_bytes()).unwrap();
        let (mut n, mut len) = (0u64, head.len());
        while len < text_bytes {
            // Varied lines, so nothing in the pipeline could shortcut a repeated block.
            let line = format!(
                "2026-11-30T10:{:02}:{:02}Z GET /api/search?q={n} 200 {} bytes in {} ms\n",
                (n / 60) % 60,
                n % 60,
                (n * 7919) % 100_000,
                n % 997
            );
            w.write_all(line.as_bytes()).unwrap();
            len += line.len();
            n += 1;
        }
        w.flush().unwrap();
    }
    let mut args = ENCRYPT_UNCOMPRESSED.to_vec();
    args.extend([
        "--output",
        armored.to_str().unwrap(),
        plain.to_str().unwrap(),
    ]);
    gpg.run(&args, None);
    let path = dir.path().join("big.eml");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    w.write_all(
        b"From: Researcher <big@example.net>\r\nTo: security@example.test\r\n\
        Subject: SQL injection in acme-web search\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n\
        Message-ID: <big-report@example.net>\r\nMIME-Version: 1.0\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\n",
    )
    .unwrap();
    let r = std::io::BufReader::new(std::fs::File::open(&armored).unwrap());
    for line in r.split(b'\n') {
        w.write_all(&line.unwrap()).unwrap();
        w.write_all(b"\r\n").unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let (len, sha256) = sha256_of(std::fs::File::open(&path).unwrap());
    BigFile {
        path,
        len,
        sha256,
        _dir: dir,
    }
}

/// Length and SHA-256 (hex) of what `r` gives, read a buffer at a time.
pub fn sha256_of(mut r: impl std::io::Read) -> (usize, String) {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let n = std::io::copy(&mut r, &mut h).unwrap();
    (
        n as usize,
        h.finalize().iter().map(|x| format!("{x:02x}")).collect(),
    )
}

/// gpg arguments: armored, to the test team key, without compression (so a message is
/// as large as its text: log lines compress twentyfold).
pub const ENCRYPT_UNCOMPRESSED: [&str; 6] = [
    "--armor",
    "--encrypt",
    "--compress-algo",
    "none",
    "-r",
    "security@example.test",
];

/// Peak RSS (MiB) of the largest child process this test process has waited for.
pub fn children_peak_mib() -> u64 {
    // SAFETY: getrusage only writes into the zeroed struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    assert_eq!(rc, 0, "getrusage failed");
    (ru.ru_maxrss as u64) / 1024
}

/// `limits.stream_above` by default: what of a streamed message's plaintext is read.
pub const STREAM_ABOVE: usize = 8 * 1024 * 1024;

/// A big report kept in a file, so the test process never holds it: at exec(2) the
/// kernel records the old address space's peak in the new program's peak RSS, so every
/// child of a test process that once held 70 MiB reports at least 70 MiB.
pub struct BigFile {
    pub path: PathBuf,
    pub len: usize,
    pub sha256: String,
    _dir: TempDir,
}

/// Runs one ingest of a big report (read as a stream) and checks what became of it.
/// Returns the peak RSS of the largest process so far, taken right after the ingest
/// (before the `case show` of the checks, a command that prints the whole text).
pub fn ingest_and_check(
    env: &Env,
    big: &BigFile,
    run: impl FnOnce() -> std::process::Output,
) -> u64 {
    std::fs::copy(
        &big.path,
        env.maildir()
            .join("new")
            .join(format!("{}.big.test", env.delivered_at)),
    )
    .unwrap();
    let out = run();
    let peak = children_peak_mib();
    assert!(out.status.success(), "triaged run failed: {}", stderr(&out));
    let cases = env.cases();
    assert_eq!(cases.len(), 1, "one case: {cases:?}");
    let c = &cases[0];
    // Decrypted, classified from the text, acknowledged.
    assert_eq!(c["state"], "triaged", "{c}");
    let id = c["id"].as_str().unwrap();
    let show = env.json(&["case", "show", id, "--json"]);
    let text = show.to_string();
    assert!(
        text.contains("sqli"),
        "the impact class was found: {text:.2000}"
    );
    assert!(
        text.contains("2.4.1"),
        "the version was found: {text:.2000}"
    );
    assert!(
        text.contains("read as a stream"),
        "the case says how it was read: {text:.3000}"
    );
    // Nothing lost: the raw bytes are stored whole (in the side table of migration 0012,
    // the message row keeping an empty value).
    let db = rusqlite::Connection::open(env.dir.path().join("state/triaged.db")).unwrap();
    let (inline, row): (Vec<u8>, i64) = db
        .query_row(
            "SELECT m.raw, r.rowid FROM messages m JOIN message_raw r ON r.message_id = m.id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(inline.is_empty());
    // Hashed in pieces (incremental blob I/O), so the test process stays small.
    let blob = db
        .blob_open(rusqlite::MAIN_DB, "message_raw", "data", row, true)
        .unwrap();
    assert!(
        sha256_of(blob) == (big.len, big.sha256.clone()),
        "the stored raw message is the delivered one, byte for byte"
    );
    // The text is the plaintext's first `stream_above` bytes (trimmed at its end).
    let text: String = db
        .query_row("SELECT CAST(data AS TEXT) FROM message_text", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(
        text.len() <= STREAM_ABOVE && text.len() >= STREAM_ABOVE - 128,
        "the first {STREAM_ABOVE} bytes of the text are stored: {}",
        text.len()
    );
    assert!(text.starts_with("Summary: SQL injection"));
    let acks = std::fs::read_dir(env.dir.path().join("outbox"))
        .unwrap()
        .count();
    assert_eq!(acks, 1, "one ack");
    // The Maildir file was the spool: still there (moved to cur/), nothing left in spool/.
    let spool = env.dir.path().join("state/spool");
    assert!(
        !spool.exists() || std::fs::read_dir(&spool).unwrap().count() == 0,
        "spool left empty"
    );
    peak
}

/// Ingests `raw` in one process (`isolate_reader = false` in `env`) under a memory
/// cgroup of `limit_mib`, or, where none can be made, checks the peak RSS instead.
pub fn under_limit(env: &Env, big: &BigFile, limit_mib: u64) {
    match MemCgroup::new(limit_mib * 1024 * 1024) {
        Some(cg) => {
            ingest_and_check(env, big, || {
                cg.run(&env.config, &["run", "--once", "--json"])
            });
            assert_eq!(cg.oom_kills(), 0, "the kernel killed for memory");
            eprintln!("ran under a {limit_mib} MiB memory cgroup: no OOM kill");
        }
        None => {
            eprintln!(
                "note: no writable memory cgroup here (not root, or no memory controller); \
                 the {limit_mib} MiB limit was not enforced, only the peak RSS checked"
            );
            let peak = ingest_and_check(env, big, || env.run(&["run", "--once", "--json"]));
            assert!(peak < limit_mib, "{peak} MiB in one process");
        }
    }
}

/// The memory tests' two runs of one big report, each of which must stay under
/// `limit_mib`: with reader processes (the default), then in one process under a memory
/// cgroup. `limits` is extra `[limits]` configuration for both.
pub fn read_within(team: &[u8], raw: &BigFile, limits: &str, limit_mib: u64) {
    let pass = std::fs::read_to_string("keys/test/passphrase").unwrap();
    let env = Env::new(
        &[("team.asc", team)],
        Some(pass.trim()),
        &format!("[limits]\n{limits}"),
    );
    let peak = ingest_and_check(&env, raw, || env.run(&["run", "--once", "--json"]));
    eprintln!("peak RSS of the largest process (reader processes): {peak} MiB");
    assert!(
        peak < limit_mib,
        "a {} MiB report took {peak} MiB in one process",
        raw.len >> 20
    );
    let env = Env::new(
        &[("team.asc", team)],
        Some(pass.trim()),
        &format!("[limits]\nisolate_reader = false\n{limits}"),
    );
    under_limit(&env, raw, limit_mib);
}
