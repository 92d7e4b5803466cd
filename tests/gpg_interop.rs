//! Interop with GnuPG: keys and messages are made by `gpg` at test time
//! (RSA-3072 with a passphrase, Curve25519 without), in every shape reporters
//! send, and triaged must decrypt and verify them.

mod common;
use common::*;

struct World {
    gpg: Gpg,
    rsa_team: String,
    cv_team: String,
    reporter: String,
    env: Env,
}

const PASS: &str = "correct horse battery staple";

fn world() -> World {
    let gpg = Gpg::new();
    let rsa_team = gpg.generate(
        "Team RSA <security@example.test>",
        "rsa3072",
        "rsa3072",
        PASS,
    );
    let cv_team = gpg.generate(
        "Team CV <security-cv@example.test>",
        "ed25519",
        "cv25519",
        PASS,
    );
    let reporter = gpg.generate("Rita Reporter <rita@example.net>", "ed25519", "cv25519", "");
    // Both team keys in one file, one passphrase; the reporter's key in the keyring.
    let mut secrets = gpg.export_secret(&rsa_team, PASS);
    secrets.extend(gpg.export_secret(&cv_team, PASS));
    let env = Env::new(&[("team.asc", &secrets)], Some(PASS), "");
    std::fs::write(
        env.dir.path().join("reporters.asc"),
        gpg.export_public(&reporter),
    )
    .unwrap();
    let cfg = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(
        &env.config,
        cfg.replace("[keys]\n", "[keys]\nreporter_keyring = \"reporters.asc\"\n"),
    )
    .unwrap();
    World {
        gpg,
        rsa_team,
        cv_team,
        reporter,
        env,
    }
}

fn case_with<'a>(cases: &'a [serde_json::Value], subject: &str) -> &'a serde_json::Value {
    cases
        .iter()
        .find(|c| c["subject"].as_str().unwrap_or("").contains(subject))
        .unwrap_or_else(|| panic!("no case {subject:?} in {cases:#?}"))
}

#[test]
fn decrypts_and_verifies_every_shape_gpg_produces() {
    let w = world();
    let g = &w.gpg;
    let from = "Rita Reporter <rita@example.net>";

    // 1. PGP/MIME to the RSA key, signed by the reporter (key known from the keyring).
    let inner = crlf(
        "Content-Type: text/plain; protected-headers=\"v1\"\nSubject: RCE via template injection\n\n{{7*7}} renders 49 in /preview\n",
    );
    let ct = g.encrypt(inner.as_bytes(), &[&w.rsa_team], Some(&w.reporter), false);
    w.env
        .deliver("a", &pgp_mime(&headers(from, "...", "a@t", &[]), &ct));

    // 2. Inline armored to the Curve25519 key.
    let ct = g.encrypt(
        b"Inline report: SSTI in the mailer.\n",
        &[&w.cv_team],
        None,
        false,
    );
    w.env.deliver(
        "b",
        &plain(&headers(from, "Inline report", "b@t", &[]), &ct),
    );

    // 3. Hidden recipient (--throw-keyids): triaged must try every team key.
    let inner = crlf(
        "Content-Type: text/plain; protected-headers=\"v1\"\nSubject: Hidden recipient report\n\nbody\n",
    );
    let ct = g.encrypt(inner.as_bytes(), &[&w.cv_team], None, true);
    w.env.deliver(
        "c",
        &pgp_mime(
            &headers(from, "...", "c@t", &["Bcc: security@example.test"]),
            &ct,
        ),
    );

    // 4. PGP/MIME signed, not encrypted (RFC 3156 §5): detached signature over the CRLF part.
    let part = crlf(
        "Content-Type: text/plain; charset=utf-8\n\nSigned but not encrypted: CSRF on /settings.\n",
    );
    let sig = g.detach_sign(part.as_bytes(), &w.reporter);
    let signed = |body_part: &str, msgid: &str, subject: &str| {
        crlf(&format!(
            "{}Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"SIG\"\n\n\
             --SIG\n{body_part}\n--SIG\nContent-Type: application/pgp-signature; name=\"signature.asc\"\n\n{sig}\n--SIG--\n",
            headers(from, subject, msgid, &[])
        ))
    };
    w.env
        .deliver("d", signed(&part, "d@t", "Signed CSRF").as_bytes());
    // 4b. The same signature over tampered content must be "bad".
    let tampered = part.replace("CSRF", "XSRF");
    w.env
        .deliver("e", signed(&tampered, "e@t", "Tampered CSRF").as_bytes());

    // 5. Clear-signed plaintext.
    let cs = g.clearsign(
        b"Clear-signed: weak TLS ciphers on the admin port.\n",
        &w.reporter,
    );
    w.env.deliver(
        "f",
        &plain(&headers(from, "Clear-signed report", "f@t", &[]), &cs),
    );

    // 6. Encrypted to both team keys and a stranger, signed: decrypts with either.
    let stranger = g.generate("Stranger <s@example.org>", "ed25519", "cv25519", "");
    let inner = crlf(
        "Content-Type: text/plain; protected-headers=\"v1\"\nSubject: Many recipients\n\nbody\n",
    );
    let ct = g.encrypt(
        inner.as_bytes(),
        &[&stranger, &w.rsa_team, &w.cv_team],
        Some(&w.reporter),
        false,
    );
    w.env
        .deliver("g", &pgp_mime(&headers(from, "...", "g@t", &[]), &ct));

    let s = w.env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 7, "{s}");
    assert_eq!(s["quarantined"], 0, "{s}");
    let cases = w.env.cases();

    let c = case_with(&cases, "RCE via template injection");
    assert_eq!(
        (c["encryption"].as_str(), c["signature"].as_str()),
        (Some("pgp-mime"), Some("good"))
    );
    let c = case_with(&cases, "Inline report");
    assert_eq!(
        (c["encryption"].as_str(), c["signature"].as_str()),
        (Some("inline"), Some("unsigned"))
    );
    let c = case_with(&cases, "Hidden recipient report");
    assert_eq!(
        c["state"], "triaged",
        "no requirements in the default policy"
    );
    let c = case_with(&cases, "Signed CSRF");
    assert_eq!(
        (c["encryption"].as_str(), c["signature"].as_str()),
        (Some("none"), Some("good"))
    );
    let c = case_with(&cases, "Tampered CSRF");
    assert_eq!(c["signature"], "bad");
    let c = case_with(&cases, "Clear-signed report");
    assert_eq!(c["signature"], "good");
    let c = case_with(&cases, "Many recipients");
    assert_eq!(
        (c["state"].as_str(), c["signature"].as_str()),
        (Some("triaged"), Some("good"))
    );

    // The signer fingerprint is recorded.
    let show = w.env.json(&[
        "case",
        "show",
        case_with(&cases, "RCE via")["id"].as_str().unwrap(),
        "--json",
    ]);
    assert_eq!(
        show["messages"][0]["signatures"][0]["signer"],
        w.reporter.as_str()
    );
}

#[test]
fn quarantined_report_is_retried_after_the_right_key_is_added() {
    let w = world();
    let g = &w.gpg;
    // A report encrypted to a key the config does not have yet.
    let new_key = g.generate(
        "Team 2027 <security@example.test>",
        "ed25519",
        "cv25519",
        PASS,
    );
    let inner = crlf(
        "Content-Type: text/plain; protected-headers=\"v1\"\nSubject: Sent to the new key\n\nDetails.\n",
    );
    let ct = g.encrypt(inner.as_bytes(), &[&new_key], None, false);
    w.env.deliver(
        "x",
        &pgp_mime(&headers("r@example.net", "...", "x@t", &[]), &ct),
    );
    w.env.json(&["run", "--once", "--json"]);
    let cases = w.env.cases();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["state"], "undecryptable");
    let id = cases[0]["id"].as_str().unwrap().to_string();

    // Add the key to the config, retry from the stored bytes.
    std::fs::write(
        w.env.dir.path().join("new.asc"),
        g.export_secret(&new_key, PASS),
    )
    .unwrap();
    let cfg = std::fs::read_to_string(&w.env.config).unwrap();
    std::fs::write(
        &w.env.config,
        cfg.replace(
            "secret = [\"team.asc\"]",
            "secret = [\"team.asc\", \"new.asc\"]",
        ),
    )
    .unwrap();
    let r = w.env.json(&["case", "retry", &id, "--json"]);
    assert_eq!(r["before"], "undecryptable");
    assert_eq!(r["after"], "triaged");
    let show = w.env.json(&["case", "show", &id, "--json"]);
    assert_eq!(show["case"]["subject"], "Sent to the new key");
    assert!(
        show["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "retried")
    );
}

#[test]
fn follow_ups_thread_by_tag_only_for_the_same_reporter() {
    let w = world();
    let alice = "Alice <alice@example.net>";
    w.env.deliver(
        "1",
        &plain(
            &headers(alice, "Heap overflow in parser", "1@t", &[]),
            "details",
        ),
    );
    w.env.json(&["run", "--once", "--json"]);
    let id = w.env.cases()[0]["id"].as_str().unwrap().to_string();

    // The reporter answers with the tag in the subject (no In-Reply-To).
    w.env.deliver(
        "2",
        &plain(
            &headers(alice, &format!("Re: [{id}] Report received"), "2@t", &[]),
            "more",
        ),
    );
    // A stranger who guesses the tag must not write into Alice's case.
    w.env.deliver(
        "3",
        &plain(
            &headers(
                "Mallory <m@example.org>",
                &format!("[{id}] update"),
                "3@t",
                &[],
            ),
            "x",
        ),
    );
    // A reply by In-Reply-To from another address does not join either (issue 13:
    // Message-IDs are seen by many; only the reporter joins a case).
    w.env.deliver(
        "4",
        &plain(
            &headers(
                "Alice <alice@other.example>",
                "Re: Heap overflow",
                "4@t",
                &["In-Reply-To: <1@t>"],
            ),
            "y",
        ),
    );
    let s = w.env.json(&["run", "--once", "--json"]);
    assert_eq!(s["follow_ups"], 1, "{s}");
    assert_eq!(s["created"], 2, "{s}");
    let cases = w.env.cases();
    let first = cases.iter().find(|c| c["id"] == id.as_str()).unwrap();
    assert_eq!(first["messages"], 2);
    let show = w.env.json(&["case", "show", &id, "--json"]);
    assert_eq!(
        show["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "follow-up")
            .count(),
        1
    );
}
