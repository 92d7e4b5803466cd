//! The whole read path of one message: parse, walk MIME, decrypt and verify with the
//! test team key, then classify and evaluate against the default policy. Any bytes in.
//! The same bytes are also read as a stream from a file (read/stream.rs, the path of a
//! message above `limits.stream_above`, here set to 1 KiB so most inputs take it).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use triaged::config::{Limits, PolicyConfig};
use triaged::read::crypto::TeamKeys;

static KEYS: LazyLock<TeamKeys> = LazyLock::new(|| {
    let key = include_bytes!("../../keys/test/team-secret.asc").to_vec();
    let pass = include_str!("../../keys/test/passphrase").trim();
    TeamKeys::load(&[("team-secret.asc".into(), key)], Some(pass), None)
        .expect("the test team key loads")
});

static LIMITS: LazyLock<Limits> = LazyLock::new(|| Limits {
    // Small enough that a bomb is cut quickly; the shape of every limit stays exercised.
    max_decrypted_size: triaged::config::Size(1024 * 1024),
    stream_above: triaged::config::Size(1024),
    ..Limits::default()
});

/// Where the streamed read finds its input (one file, rewritten per input).
static FILE: LazyLock<std::path::PathBuf> = LazyLock::new(|| {
    std::env::temp_dir().join(format!("triaged-fuzz-stream-{}.eml", std::process::id()))
});

/// Panics inside sequoia's packet parser are contained by `crypto::guarded` (each
/// becomes an error for its block; tests/fuzz_regressions.rs keeps the inputs). Let
/// those unwind to the guard; every other panic still aborts and is reported.
fn contain_upstream_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info.location().map(|l| l.file()).unwrap_or("");
            if !(file.contains("/sequoia-openpgp-") || file.contains("/buffered-reader-")) {
                fuzzer_hook(info);
            }
        }));
    });
}

fuzz_target!(|raw: &[u8]| {
    contain_upstream_panics();
    let a = triaged::read::mime::analyze(raw, &KEYS, &LIMITS);
    let r = &a.report;
    let atts: Vec<_> = r
        .attachments
        .iter()
        .map(|x| triaged::judge::classify::AttachmentIn {
            name: x.name.as_deref(),
            content_type: &x.content_type,
            data: &x.data,
        })
        .collect();
    let f = triaged::judge::classify::classify(&triaged::judge::classify::Input {
        subject: r.subject.as_deref().unwrap_or(""),
        text: &r.text,
        attachments: atts,
    });
    let _ = triaged::judge::policy::evaluate("default", &PolicyConfig::default(), &f, 0);
    if std::fs::write(&*FILE, raw).is_ok() {
        let _ = triaged::read::stream::read_file(&FILE, &LIMITS, &KEYS);
    }
});
