//! Issue 18: a message above `limits.stream_above` is read as a stream
//! (src/read/stream.rs), never held whole. The same mail, made by GnuPG, is read twice:
//! held (the default limit) and streamed (the limit lowered to 64 KiB, so small
//! messages take the streamed path), and what the case says must agree: encryption,
//! signature, findings, the text up to the limit; what could not be read is named in a
//! note and the raw message is stored byte for byte.

mod common;
use common::large::ENCRYPT_UNCOMPRESSED;
use common::*;

const LOW: &str = "[limits]\nstream_above = \"64KiB\"\n";
const KEEP: usize = 64 * 1024;

struct Read {
    show: serde_json::Value,
    text: String,
    raw: Vec<u8>,
}

/// Ingests `raw` into a fresh Env (team key, reporter keyring, `extra` config) and
/// returns the case, its stored text and its stored raw bytes.
fn read(team: &[u8], pass: &str, ring: &[u8], raw: &[u8], extra: &str) -> Read {
    let env = Env::new(&[("team.asc", team)], Some(pass), extra);
    if !ring.is_empty() {
        std::fs::write(env.dir.path().join("ring.asc"), ring).unwrap();
        let cfg = std::fs::read_to_string(&env.config)
            .unwrap()
            .replace("[keys]\n", "[keys]\nreporter_keyring = \"ring.asc\"\n");
        std::fs::write(&env.config, cfg).unwrap();
    }
    env.deliver("1", raw);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    let id = env.cases()[0]["id"].as_str().unwrap().to_string();
    let show = env.json(&["case", "show", &id, "--json"]);
    let db = rusqlite::Connection::open(env.dir.path().join("state/triaged.db")).unwrap();
    let (text, raw): (String, Vec<u8>) = db
        .query_row(
            "SELECT COALESCE(CAST(t.data AS TEXT), m.body_text), COALESCE(r.data, m.raw) FROM messages m \
             LEFT JOIN message_text t ON t.message_id = m.id LEFT JOIN message_raw r ON r.message_id = m.id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let spool = env.dir.path().join("state/spool");
    assert!(
        !spool.exists() || std::fs::read_dir(&spool).unwrap().count() == 0,
        "spool left empty"
    );
    Read { show, text, raw }
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn log_lines(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "2026-11-30T10:00:{:02}Z GET /api/search?q={i} 200\n",
                i % 60
            )
        })
        .collect()
}

/// Encrypted (and signed) by gpg without compression, so the message is as large as
/// its text (log lines compress twentyfold).
fn encrypt(gpg: &Gpg, data: &[u8], signer: Option<&str>) -> String {
    let mut args = ENCRYPT_UNCOMPRESSED.to_vec();
    if let Some(s) = signer {
        args.extend(["--sign", "-u", s]);
    }
    String::from_utf8(gpg.run(&args, Some(data))).unwrap()
}

fn keys() -> (Gpg, Vec<u8>, String, String, Vec<u8>) {
    let gpg = Gpg::new();
    let team = std::fs::read(repo().join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(repo().join("keys/test/passphrase")).unwrap();
    gpg.run(&["--import"], Some(&team));
    let rita = gpg.generate("Rita <rita@example.net>", "ed25519", "cv25519", "");
    let ring = gpg.export_public(&rita);
    (gpg, team, pass.trim().to_string(), rita, ring)
}

#[test]
fn a_signed_inline_report_reads_the_same_held_and_streamed() {
    let (gpg, team, pass, rita, ring) = keys();
    let body = format!(
        "SQL injection in acme-web <= 2.4.1.\n\nSteps to reproduce:\n\n\
         curl 'http://localhost:8080/api/search?q=1%27%20OR%201=1--'\n\n\
         Impact: an unauthenticated attacker reads every table.\n\nThe log:\n{}",
        log_lines(6000)
    );
    assert!(body.len() > 4 * KEEP);
    let armored = encrypt(&gpg, body.as_bytes(), Some(&rita));
    let raw = plain(
        &headers(
            "Rita <rita@example.net>",
            "SQLi in search",
            "s1@example.net",
            &[],
        ),
        &armored,
    );
    let held = read(&team, &pass, &ring, &raw, "");
    let streamed = read(&team, &pass, &ring, &raw, LOW);
    for r in [&held, &streamed] {
        assert!(r.raw == raw, "raw stored byte for byte");
        let m = &r.show["messages"][0];
        assert_eq!(m["encryption"], "inline", "{m}");
        assert_eq!(m["signature"], "good", "{m}");
        assert_eq!(m["status"], "ok", "{m}");
        let f = r.show["findings"].to_string();
        assert!(f.contains("2.4.1") && f.contains("sqli"), "{f:.1500}");
    }
    // The streamed text is the held text's first 64 KiB.
    assert!(held.text.len() > KEEP);
    assert!(
        streamed.text.len() <= KEEP && streamed.text.len() > KEEP - 100,
        "{} of {}",
        streamed.text.len(),
        held.text.len()
    );
    assert!(held.text.starts_with(&streamed.text));
    let notes = streamed.show["messages"][0]["notes"].to_string();
    assert!(
        notes.contains("read as a stream")
            && notes.contains(&format!("of which the first {KEEP} were read")),
        "{notes}"
    );
    assert!(
        !held.show["messages"][0]["notes"]
            .to_string()
            .contains("read as a stream")
    );
}

#[test]
fn a_pgp_mime_report_keeps_its_text_and_names_the_attachment_it_could_not_finish() {
    let (gpg, team, pass, rita, ring) = keys();
    // The inner entity as a mail client makes it: the report, then a large log attached.
    let log = log_lines(8000);
    let b64 = {
        use std::fmt::Write;
        let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for (i, c) in log.as_bytes().chunks(3).enumerate() {
            let n = c.iter().fold(0u32, |a, &b| (a << 8) | b as u32) << (8 * (3 - c.len()));
            for k in 0..4 {
                if k <= c.len() {
                    out.push(table[((n >> (18 - 6 * k)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
            if i % 19 == 18 {
                let _ = writeln!(out);
            }
        }
        out
    };
    let inner = crlf(&format!(
        "Content-Type: multipart/mixed; boundary=\"inner\"\n\n--inner\n\
         Content-Type: text/plain; charset=utf-8\n\n\
         Path traversal in acme-files 3.2.x: GET /download?f=../../etc/passwd returns the file.\n\
         Impact: any file readable by the service is disclosed.\n\n\
         --inner\nContent-Type: text/plain; name=\"server.log\"\n\
         Content-Disposition: attachment; filename=\"server.log\"\nContent-Transfer-Encoding: base64\n\n\
         {b64}\n--inner--\n"
    ));
    let armored = encrypt(&gpg, inner.as_bytes(), Some(&rita));
    let raw = pgp_mime(
        &headers(
            "Rita <rita@example.net>",
            "Path traversal",
            "s2@example.net",
            &[],
        ),
        &armored,
    );
    let held = read(&team, &pass, &ring, &raw, "");
    let streamed = read(&team, &pass, &ring, &raw, LOW);
    for r in [&held, &streamed] {
        assert!(r.raw == raw, "raw stored byte for byte");
        let m = &r.show["messages"][0];
        assert_eq!(m["encryption"], "pgp-mime", "{m}");
        assert_eq!(m["signature"], "good", "{m}");
        assert!(r.text.contains("Path traversal in acme-files 3.2.x"));
    }
    assert_eq!(held.text, streamed.text, "the text part is whole in both");
    assert_eq!(
        held.show["messages"][0]["attachments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The log continues past the 64 KiB read: it is not stored as if it were whole.
    assert_eq!(
        streamed.show["messages"][0]["attachments"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let notes = streamed.show["messages"][0]["notes"].to_string();
    assert!(
        notes.contains("attachment server.log continues beyond the part read"),
        "{notes}"
    );
}

#[test]
fn a_streamed_report_is_sealed_at_rest_and_reads_again_as_it_came() {
    let (gpg, team, pass, _rita, _ring) = keys();
    let armored = encrypt(
        &gpg,
        format!(
            "XSS in acme 2.4.1: <script>alert(1)</script>\n{}",
            log_lines(3000)
        )
        .as_bytes(),
        None,
    );
    let raw = plain(
        &headers("Rita <rita@example.net>", "XSS", "s3@example.net", &[]),
        &armored,
    );
    let env = Env::new(&[("team.asc", &team)], Some(&pass), LOW);
    let cfg = std::fs::read_to_string(&env.config).unwrap().replace(
        "[store]\npath = \"state/triaged.db\"\n",
        "[store]\npath = \"state/triaged.db\"\nencrypt_at_rest = true\n",
    );
    std::fs::write(&env.config, cfg).unwrap();
    env.deliver("1", &raw);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    let db = rusqlite::Connection::open(env.dir.path().join("state/triaged.db")).unwrap();
    let (sealed, stored): (i64, Vec<u8>) = db
        .query_row(
            "SELECT m.raw_sealed, r.data FROM messages m JOIN message_raw r ON r.message_id = m.id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(sealed, 1);
    assert!(
        stored != raw && !stored.windows(6).any(|w| w == b"Subject"),
        "the stored raw message is sealed"
    );
    let id = env.cases()[0]["id"].as_str().unwrap().to_string();
    // `case retry` reads the stored raw message again: it unseals to the message as it
    // came, and is read as a stream again (the same limits as at intake).
    let o = env.run(&["case", "retry", &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    let show = env.json(&["case", "show", &id, "--json"]);
    let m = &show["messages"][0];
    assert_eq!(m["sha256"], sha256_hex(&raw), "{m}");
    assert_eq!(m["status"], "ok", "{m}");
    let f = show["findings"].to_string();
    assert!(f.contains("2.4.1"), "{f:.1000}");
    assert!(
        m["notes"].to_string().contains("read as a stream"),
        "{}",
        m["notes"]
    );
    let spool = env.dir.path().join("state/spool");
    assert!(
        !spool.exists() || std::fs::read_dir(&spool).unwrap().count() == 0,
        "spool left empty (the sealed copy too)"
    );
}

#[test]
fn a_signature_by_the_key_the_report_carries_is_checked_when_streamed_too() {
    // No keyring: the reporter's key travels inside the encryption (as Thunderbird
    // attaches it), so the signature can only be checked once the key is read, by a
    // second decryption of the block from the file.
    let (gpg, team, pass, rita, ring) = keys();
    let inner = crlf(&format!(
        "Content-Type: multipart/mixed; boundary=\"inner\"\n\n--inner\n\
         Content-Type: application/pgp-keys; name=\"rita.asc\"\n\
         Content-Disposition: attachment; filename=\"rita.asc\"\n\n{}\n--inner\n\
         Content-Type: text/plain; charset=utf-8\n\n\
         Stored XSS in acme-wiki <= 1.8.2: <img src=x onerror=alert(1)> in a page title.\n\n{}\n--inner--\n",
        String::from_utf8(ring).unwrap(),
        log_lines(3000)
    ));
    let armored = encrypt(&gpg, inner.as_bytes(), Some(&rita));
    let raw = pgp_mime(
        &headers(
            "Rita <rita@example.net>",
            "Stored XSS",
            "s4@example.net",
            &[],
        ),
        &armored,
    );
    assert!(raw.len() > 2 * KEEP);
    let held = read(&team, &pass, b"", &raw, "");
    let streamed = read(&team, &pass, b"", &raw, LOW);
    for r in [&held, &streamed] {
        let m = &r.show["messages"][0];
        assert_eq!(m["signature"], "good", "{m}");
        assert_eq!(r.show["reporter_keys"].as_array().map(Vec::len), Some(1));
        // The key attachment ends before the cut: stored in both.
        assert_eq!(m["attachments"].as_array().map(Vec::len), Some(1), "{m}");
    }
    assert!(
        streamed.show["messages"][0]["notes"]
            .to_string()
            .contains("read as a stream")
    );
}
