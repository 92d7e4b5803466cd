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

impl World {
    /// Adds a public key to the configured reporter keyring.
    fn trust_reporter_key(&self, key: &[u8]) {
        let ring = self.env.dir.path().join("reporters.asc");
        let mut keys = std::fs::read(&ring).unwrap();
        keys.extend_from_slice(key);
        std::fs::write(&ring, keys).unwrap();
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

/// Quoted-printable (RFC 2045 6.7) of bytes: what a mail client does to 8-bit text for a
/// 7-bit transport.
fn quoted_printable(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        let mut width = 0;
        for &b in line {
            let enc = if (33..=126).contains(&b) && b != b'=' || b == b' ' {
                vec![b]
            } else {
                format!("={b:02X}").into_bytes()
            };
            if width + enc.len() > 75 {
                out.extend_from_slice(b"=\n");
                width = 0;
            }
            width += enc.len();
            out.extend(enc);
        }
        out.push(b'\n');
    }
    out.pop();
    out
}

#[test]
fn reports_in_a_legacy_charset_are_verified_over_their_bytes_and_read_in_that_charset() {
    // KMail, Enigmail and older clients send inline OpenPGP in the part's charset
    // (ISO-8859-1 here): the clear signature covers the Latin-1 bytes, and an inline
    // encrypted block decrypts to Latin-1 text.
    let w = world();
    let g = &w.gpg;
    let from = "Rita Reporter <rita@example.net>";
    let latin1: &[u8] = b"Sicherheitsl\xfccke in acme <= 2.4.1: XSS \xfcber den Parameter q.\n\nImpact: Sitzungs\xfcbernahme.\n";
    let cs = g.clearsign_bytes(latin1, &w.reporter);
    let part = |cte: &str, body: &[u8], subject: &str, id: &str| {
        let mut m = crlf(&format!(
            "{}Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: {cte}\n\n",
            headers(from, subject, id, &[])
        ))
        .into_bytes();
        let mut b = Vec::new();
        for line in body.split(|&c| c == b'\n') {
            b.extend_from_slice(line);
            b.extend_from_slice(b"\r\n");
        }
        m.extend(b);
        m
    };
    w.env
        .deliver("a", &part("8bit", &cs, "Latin-1 clear-signed", "a@t"));
    w.env.deliver(
        "b",
        &part(
            "quoted-printable",
            &quoted_printable(&cs),
            "Latin-1 QP clear-signed",
            "b@t",
        ),
    );
    // The same signature over a changed byte must still be bad.
    let tampered: Vec<u8> = cs
        .iter()
        .map(|&c| if c == 0xfc { 0xe4 } else { c })
        .collect();
    w.env
        .deliver("c", &part("8bit", &tampered, "Latin-1 tampered", "c@t"));
    let ct = g.encrypt(latin1, &[&w.cv_team], Some(&w.reporter), false);
    w.env.deliver(
        "d",
        &part("7bit", ct.as_bytes(), "Latin-1 encrypted", "d@t"),
    );

    let s = w.env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 4, "{s}");
    let cases = w.env.cases();
    for (subject, signature, encryption) in [
        ("Latin-1 clear-signed", "good", "none"),
        ("Latin-1 QP clear-signed", "good", "none"),
        ("Latin-1 tampered", "bad", "none"),
        ("Latin-1 encrypted", "good", "inline"),
    ] {
        let c = case_with(&cases, subject);
        assert_eq!(
            (c["signature"].as_str(), c["encryption"].as_str()),
            (Some(signature), Some(encryption)),
            "{subject}: {c}"
        );
        if signature == "good" {
            // The text reads as the reporter wrote it, not with replacement characters.
            let out = w.env.run(&["case", "export", c["id"].as_str().unwrap()]);
            let export = String::from_utf8_lossy(&out.stdout);
            assert!(
                export.contains("Sitzungsübernahme") && !export.contains('\u{fffd}'),
                "{subject}: {export}"
            );
        }
    }
}

/// RFC 9788 Appendix E.1: a text/plain payload with a legacy display element, as the
/// RFC prints it (IETF Trust, code component).
const RFC9788_E1: &str = "Date: Fri, 21 Jan 2022 20:40:48 -0500\nFrom: Alice <alice@example.net>\nTo: Bob <bob@example.net>\nSubject: Dinner plans\nMessage-ID: <text-plain-legacy-display@lhp.example>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=\"us-ascii\"; hp-legacy-display=\"1\";\n hp=\"cipher\"\nHP-Outer: Date: Fri, 21 Jan 2022 20:40:48 -0500\nHP-Outer: From: Alice <alice@example.net>\nHP-Outer: To: Bob <bob@example.net>\nHP-Outer: Subject: [...]\nHP-Outer: Message-ID: <text-plain-legacy-display@lhp.example>\n\nSubject: Dinner plans\n\nLet's meet at Rama's Roti Shop at 8pm and go to the park\nfrom there.\n";

/// RFC 9788 Appendix E.2: the same message as HTML.
const RFC9788_E2: &str = "Date: Fri, 21 Jan 2022 20:40:48 -0500\nFrom: Alice <alice@example.net>\nTo: Bob <bob@example.net>\nSubject: Dinner plans\nMessage-ID: <text-html-legacy-display@lhp.example>\nMIME-Version: 1.0\nContent-Type: text/html; charset=\"us-ascii\"; hp-legacy-display=\"1\";\n hp=\"cipher\"\nHP-Outer: Date: Fri, 21 Jan 2022 20:40:48 -0500\nHP-Outer: From: Alice <alice@example.net>\nHP-Outer: To: Bob <bob@example.net>\nHP-Outer: Subject: [...]\nHP-Outer: Message-ID: <text-html-legacy-display@lhp.example>\n\n<html><head><title></title></head><body>\n<div class=\"header-protection-legacy-display\">\n<pre>Subject: Dinner plans</pre>\n</div>\n<p>\nLet's meet at Rama's Roti Shop at 8pm and go to the park\nfrom there.\n</p>\n</body>\n</html>\n";

#[test]
fn rfc9788_header_protection_gives_the_protected_subject_and_hides_the_legacy_display() {
    // The RFC's own payloads (Appendix E), encrypted by gpg to the team and sent with
    // the obscured outer Subject "[...]"; then a signed-only message (hp="clear") whose
    // outer Subject a mailing list changed.
    let w = world();
    let g = &w.gpg;
    let from = "Alice <alice@example.net>";
    for (name, payload) in [("e1", RFC9788_E1), ("e2", RFC9788_E2)] {
        let ct = g.encrypt(crlf(payload).as_bytes(), &[&w.cv_team], None, false);
        w.env.deliver(
            name,
            &pgp_mime(&headers(from, "[...]", &format!("{name}@t"), &[]), &ct),
        );
    }
    let part = crlf(
        "Subject: Signed dinner plans\nContent-Type: text/plain; charset=\"us-ascii\"; hp=\"clear\"; hp-legacy-display=\"1\"\n\nSubject: Signed dinner plans\n\nThe park at nine.\n",
    );
    let sig = g.detach_sign(part.as_bytes(), &w.reporter);
    let signed = crlf(&format!(
        "{}Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"SIG\"\n\n\
         --SIG\n{part}\n--SIG\nContent-Type: application/pgp-signature; name=\"signature.asc\"\n\n{sig}\n--SIG--\n",
        headers(
            "Rita Reporter <rita@example.net>",
            "[dinner-list] Signed dinner plans",
            "s@t",
            &[]
        )
    ));
    w.env.deliver("s", signed.as_bytes());

    let s = w.env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 3, "{s}");
    let cases = w.env.cases();
    let dinner: Vec<_> = cases
        .iter()
        .filter(|c| c["subject"] == "Dinner plans")
        .collect();
    assert_eq!(dinner.len(), 2, "{cases:#?}");
    let signed_case = case_with(&cases, "Signed dinner plans");
    assert_eq!(signed_case["subject"], "Signed dinner plans");
    assert_eq!(signed_case["signature"], "good");
    for (c, words) in [
        (dinner[0], "Rama's Roti Shop"),
        (dinner[1], "Rama's Roti Shop"),
        (signed_case, "The park at nine."),
    ] {
        let out = w.env.run(&["case", "export", c["id"].as_str().unwrap()]);
        let export = String::from_utf8_lossy(&out.stdout);
        // The report's body (before the ack that follows it) does not repeat the Subject.
        let body = export.split_once("\n\n").map_or("", |(_, b)| b);
        let body = body.split("\nFrom triaged ").next().unwrap_or_default();
        assert!(body.contains(words), "{export}");
        assert!(
            !body.contains("Subject:") && !body.contains("header-protection"),
            "{export}"
        );
    }
}

#[test]
fn format_flowed_reports_read_as_the_reporter_typed_them() {
    // Thunderbird's plain text inside PGP/MIME: format=flowed, lines cut at 72
    // characters after a space, an indented line stuffed with one more space; Apple
    // Mail's DelSp=yes variant, signed only.
    let w = world();
    let g = &w.gpg;
    let from = "Rita Reporter <rita@example.net>";
    let flowed = "Content-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: 7bit\n\n\
        The export endpoint of acme 2.4.1 follows a path the user gives it. Run \n\
        this and the response holds the host's password file:\n\n\
        curl -s 'http://localhost:8080/api/export?file=../../../../etc/passwd' \n\
        -H 'Cookie: session=abc'\n\n\
        \x20    if (strstr(path, \"..\") == NULL)\n";
    let inner = crlf(&format!(
        "Content-Type: multipart/mixed; boundary=\"TB\"; protected-headers=\"v1\"\nSubject: Flowed path traversal\n\n--TB\n{flowed}\n--TB--\n"
    ));
    let ct = g.encrypt(inner.as_bytes(), &[&w.cv_team], Some(&w.reporter), false);
    w.env
        .deliver("f", &pgp_mime(&headers(from, "...", "f@t", &[]), &ct));
    let part = crlf(
        "Content-Type: text/plain; charset=us-ascii; format=flowed; delsp=yes\n\n\
         curl -s -X POST http://localhost:8080/api/login -d \n'user=admin%27--&pass=x'\n",
    );
    let sig = g.detach_sign(part.as_bytes(), &w.reporter);
    let signed = crlf(&format!(
        "{}Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"SIG\"\n\n\
         --SIG\n{part}\n--SIG\nContent-Type: application/pgp-signature; name=\"signature.asc\"\n\n{sig}\n--SIG--\n",
        headers(from, "DelSp login bypass", "d@t", &[])
    ));
    w.env.deliver("d", signed.as_bytes());

    let s = w.env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 2, "{s}");
    let cases = w.env.cases();
    for (subject, want) in [
        (
            "Flowed path traversal",
            [
                "The export endpoint of acme 2.4.1 follows a path the user gives it. Run this and the response holds the host's password file:\n",
                "curl -s 'http://localhost:8080/api/export?file=../../../../etc/passwd' -H 'Cookie: session=abc'\n",
                "\n    if (strstr(path, \"..\") == NULL)\n",
            ],
        ),
        (
            "DelSp login bypass",
            [
                "curl -s -X POST http://localhost:8080/api/login -d'user=admin%27--&pass=x'\n",
                "",
                "",
            ],
        ),
    ] {
        let c = case_with(&cases, subject);
        assert_eq!(c["signature"], "good", "{c}");
        let out = w.env.run(&["case", "export", c["id"].as_str().unwrap()]);
        let export = String::from_utf8_lossy(&out.stdout);
        for line in want {
            assert!(export.contains(line), "{line:?} in {export}");
        }
    }
}

#[test]
fn a_clear_signed_text_where_the_encrypted_message_belongs_is_read_and_said_to_be_unencrypted() {
    // multipart/encrypted whose "encrypted" part is a clear-signed text (Thunderbird's
    // tests show this as a signature-spoofing shape): the text is the report, its
    // signature is checked as for any clear-signed text, and nothing claims encryption.
    let w = world();
    let g = &w.gpg;
    let body = "The login form of acme 2.4.1 accepts admin'-- as a user name.\n";
    let signed = g.clearsign(body.as_bytes(), &w.reporter);
    let from = "Rita Reporter <rita@example.net>";
    w.env.deliver(
        "c",
        &pgp_mime(&headers(from, "Login bypass", "c@t", &[]), &signed),
    );
    // A damaged copy: the signed text changed after signing.
    let tampered = signed.replace("admin'--", "root'--");
    w.env.deliver(
        "t",
        &pgp_mime(&headers(from, "Tampered bypass", "t@t", &[]), &tampered),
    );
    let s = w.env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 2, "{s}");
    let cases = w.env.cases();
    for (subject, signature, text) in [
        ("Login bypass", "good", "admin'--"),
        ("Tampered bypass", "bad", "root'--"),
    ] {
        let c = case_with(&cases, subject);
        let id = c["id"].as_str().unwrap();
        let show = w.env.json(&["case", "show", id, "--json"]);
        let m = &show["messages"][0];
        assert_eq!(m["encryption"], "none", "{m}");
        assert_eq!(m["signature"], signature, "{m}");
        assert_ne!(c["state"], "undecryptable", "{c}");
        assert!(
            m["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n.as_str().unwrap().contains("held no encrypted message")),
            "{m}"
        );
        let out = w.env.run(&["case", "export", id]);
        assert!(String::from_utf8_lossy(&out.stdout).contains(text));
    }
}

/// A reporter key made around 2009 is bound by SHA-1 (`--cert-digest-algo SHA1`): the
/// standard policy refuses the key before it looks at the signature, so triaged checks
/// the signature again under a policy for old mail. Intact, it is `weak-algorithm` (it
/// verifies); altered, it is `bad`. (Before, both read `weak-algorithm`: KDE
/// mimetreeparser's `openpgp-inline-signed-broken`, which its own test calls a bad
/// signature, showed it.)
#[test]
fn a_signature_by_a_sha1_bound_key_is_weak_when_intact_and_bad_when_altered() {
    let w = world();
    let g = &w.gpg;
    let fpr = g.generate_2009("Old Rep <old@example.net>", "rsa2048");
    w.trust_reporter_key(&g.export_public(&fpr));
    let text = "Open redirect in acme 3.1: https://acme.example/login?next=//evil.example sends the user away.\n";
    let signed = String::from_utf8(g.run(
        &["--clearsign", "--digest-algo", "SHA256", "-u", &fpr],
        Some(text.as_bytes()),
    ))
    .unwrap();
    let altered = signed.replace("//evil.example", "//evil.example.org");
    assert_ne!(signed, altered);
    for (n, subject, body) in [("1", "intact", &signed), ("2", "altered", &altered)] {
        w.env.deliver(
            n,
            &plain(
                &headers(
                    "Old Rep <old@example.net>",
                    subject,
                    &format!("sha1-{n}@x"),
                    &[],
                ),
                body,
            ),
        );
    }
    w.env.json(&["run", "--once", "--json"]);
    let cases = w.env.cases();
    let intact = case_with(&cases, "intact");
    assert_eq!(intact["signature"], "weak-algorithm", "{intact:#}");
    let altered = case_with(&cases, "altered");
    assert_eq!(altered["signature"], "bad", "{altered:#}");
}

/// Serialises an OpenPGP MPI (RFC 9580 §3.2).
fn mpi(bytes: &[u8]) -> Vec<u8> {
    let bytes = &bytes[bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len())..];
    let bits = bytes.len() * 8 - bytes.first().map_or(8, |b| b.leading_zeros() as usize);
    let mut out = vec![(bits >> 8) as u8, bits as u8];
    out.extend_from_slice(bytes);
    out
}

/// A version 3 signature (RFC 9580 §5.2.2), as PGP 2 and GnuPG 1.4 with
/// `force-v3-sigs` made them and as KMail-era mail carries them. No current tool makes
/// one, so it is built here, by the book: SHA-256 over the data, the type and the
/// creation time, signed with an RSA key; `gpg --verify` confirms it.
#[test]
fn a_version_3_signature_that_verifies_is_weak_algorithm_and_an_altered_one_bad() {
    use openpgp::cert::prelude::*;
    use openpgp::crypto::{Signer, mpi};
    use openpgp::serialize::SerializeInto;
    use openpgp::types::HashAlgorithm;
    use sequoia_openpgp as openpgp;
    let w = world();
    let (cert, _) = CertBuilder::new()
        .set_cipher_suite(CipherSuite::RSA3k)
        .set_primary_key_flags(
            openpgp::types::KeyFlags::empty()
                .set_certification()
                .set_signing(),
        )
        .add_userid("Vic Three <vic@example.net>")
        .generate()
        .unwrap();
    w.trust_reporter_key(&cert.armored().to_vec().unwrap());
    let mut signer = cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap();
    // The signed part of a PGP/MIME message, canonical (CRLF), as it is hashed.
    let part = crlf(
        "Content-Type: text/plain; charset=us-ascii\n\n\
         SSRF in acme-fetch 0.9: curl 'https://acme.example/fetch?url=http://169.254.169.254/' returns the metadata.\n",
    );
    let part = part.trim_end_matches("\r\n");
    let created = u32::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let (typ, hash_algo) = (0x00u8, HashAlgorithm::SHA256);
    let digest = {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(part.as_bytes());
        h.update([typ]);
        h.update(created.to_be_bytes());
        h.finalize().to_vec()
    };
    let sig = signer.sign(hash_algo, &digest).unwrap();
    let mpi::Signature::RSA { s } = sig else {
        panic!("an RSA signature")
    };
    let mut body = vec![3u8, 5, typ];
    body.extend(created.to_be_bytes());
    body.extend(cert.keyid().as_bytes());
    body.extend([1u8, u8::from(hash_algo), digest[0], digest[1]]);
    body.extend(mpi(s.value()));
    let len = body.len();
    assert!((192..8384).contains(&len));
    let mut packet = vec![
        0xC2,
        (((len - 192) >> 8) + 192) as u8,
        ((len - 192) & 0xff) as u8,
    ];
    packet.extend(body);
    let armored = String::from_utf8(
        openpgp::armor::Writer::new(Vec::new(), openpgp::armor::Kind::Signature)
            .and_then(|mut wr| {
                use std::io::Write;
                wr.write_all(&packet)?;
                wr.finalize()
            })
            .unwrap(),
    )
    .unwrap();
    // GnuPG, an independent implementation, says the signature is good.
    let gpg = Gpg::new();
    gpg.run(&["--import"], Some(&cert.armored().to_vec().unwrap()));
    let dir = w.env.dir.path();
    std::fs::write(dir.join("part"), part).unwrap();
    std::fs::write(dir.join("part.sig"), &armored).unwrap();
    let out = std::process::Command::new("gpg")
        .env("GNUPGHOME", gpg.home.path())
        .args(["--batch", "--verify"])
        .arg(dir.join("part.sig"))
        .arg(dir.join("part"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("Good signature"), "{said}");

    let mail = |subject: &str, msgid: &str, signed: &str| {
        crlf(&format!(
            "{}Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"S\"\n\n\
             --S\n{signed}\n--S\nContent-Type: application/pgp-signature\n\n{armored}\n--S--\n",
            headers("Vic Three <vic@example.net>", subject, msgid, &[])
        ))
        .into_bytes()
    };
    w.env.deliver("1", &mail("v3 intact", "v3-1@x", part));
    let tampered = part.replace("169.254.169.254", "169.254.169.253");
    w.env.deliver("2", &mail("v3 altered", "v3-2@x", &tampered));
    w.env.json(&["run", "--once", "--json"]);
    let cases = w.env.cases();
    let intact = case_with(&cases, "v3 intact");
    assert_eq!(intact["signature"], "weak-algorithm", "{intact:#}");
    let shown = w
        .env
        .json(&["case", "show", intact["id"].as_str().unwrap(), "--json"]);
    assert!(
        shown["messages"][0]["signatures"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("version 3 signature"),
        "{shown:#}"
    );
    let altered = case_with(&cases, "v3 altered");
    assert_eq!(altered["signature"], "bad", "{altered:#}");
}

/// Inside an encrypted report the same holds: a signature by a SHA-1-bound key is
/// checked again (the message is decrypted once more under the old-mail policy). A
/// signature the key made over other text, put beside this text, is `bad`.
#[test]
fn inside_encryption_a_sha1_bound_keys_signature_over_other_text_is_bad() {
    sha1_bound_signature_inside_encryption("");
}

/// The same for a message read as a stream (above `limits.stream_above`): it is read
/// once more from the spool, for its signatures only. (Before, such a forged signature
/// read `weak-algorithm`, "verifies".)
#[test]
fn streamed_a_sha1_bound_keys_signature_over_other_text_is_bad() {
    sha1_bound_signature_inside_encryption("[limits]\nstream_above = \"1KiB\"\n");
}

fn sha1_bound_signature_inside_encryption(limits: &str) {
    use openpgp::packet::signature::SignatureBuilder;
    use openpgp::parse::Parse;
    use openpgp::serialize::Serialize as _;
    use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message};
    use openpgp::types::SignatureType;
    use sequoia_openpgp as openpgp;
    use std::io::Write;
    let w = world();
    let cfg = std::fs::read_to_string(&w.env.config).unwrap();
    std::fs::write(&w.env.config, format!("{cfg}\n{limits}")).unwrap();
    let g = &w.gpg;
    let fpr = g.generate_2009("Old Rep <old@example.net>", "rsa2048");
    w.trust_reporter_key(&g.export_public(&fpr));
    let old = openpgp::Cert::from_bytes(&g.run(&["--armor", "--export-secret-keys", &fpr], None))
        .unwrap();
    let mut signer = old
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap();
    let team = openpgp::Cert::from_bytes(&g.export_public(&w.cv_team)).unwrap();
    let policy = openpgp::policy::StandardPolicy::new();
    let mut seal = |text: &[u8], signed_text: &[u8]| -> String {
        let sig = SignatureBuilder::new(SignatureType::Binary)
            .sign_message(&mut signer, signed_text)
            .unwrap();
        let mut ops = openpgp::packet::one_pass_sig::OnePassSig3::try_from(&sig).unwrap();
        ops.set_last(true);
        let recipients = team
            .keys()
            .with_policy(&policy, None)
            .supported()
            .alive()
            .revoked(false)
            .for_transport_encryption();
        let mut out = Vec::new();
        {
            let m = Message::new(&mut out);
            let m = Armorer::new(m).build().unwrap();
            let mut m = Encryptor::for_recipients(m, recipients).build().unwrap();
            openpgp::Packet::from(openpgp::packet::OnePassSig::from(ops))
                .serialize(&mut m)
                .unwrap();
            let mut lit = LiteralWriter::new(m).build().unwrap();
            lit.write_all(text).unwrap();
            let mut m = lit.finalize_one().unwrap().unwrap();
            openpgp::Packet::from(sig).serialize(&mut m).unwrap();
            m.finalize().unwrap();
        }
        String::from_utf8(out).unwrap()
    };
    let text = b"Content-Type: text/plain\r\n\r\nStored XSS in acme-wiki 3.2: <script>alert(1)</script> in a page title runs for every reader.\r\n";
    let intact = seal(text, text);
    let forged = seal(
        text,
        b"Content-Type: text/plain\r\n\r\nSomething else I once signed.\r\n",
    );
    for (n, subject, armored) in [("1", "enc intact", &intact), ("2", "enc forged", &forged)] {
        w.env.deliver(
            n,
            &pgp_mime(
                &headers(
                    "Old Rep <old@example.net>",
                    subject,
                    &format!("enc-{n}@x"),
                    &[],
                ),
                armored,
            ),
        );
    }
    w.env.json(&["run", "--once", "--json"]);
    let cases = w.env.cases();
    // The outer Subject may be replaced by an inner one; find the cases by message id.
    let by = |id: &str| {
        cases
            .iter()
            .find(|c| {
                let shown = w
                    .env
                    .json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
                shown["messages"][0]["message_id"] == id
            })
            .unwrap_or_else(|| panic!("no case for {id}: {cases:#?}"))
            .clone()
    };
    let a = by("enc-1@x");
    assert_eq!(a["encryption"], "pgp-mime", "{a:#}");
    assert_eq!(a["signature"], "weak-algorithm", "{a:#}");
    let b = by("enc-2@x");
    assert_eq!(b["signature"], "bad", "{b:#}");
}

/// KMail 4 declared `Content-Transfer-Encoding: quoted-printable` and sent the armor
/// unencoded (KDE mimetreeparser's `crlf-encrypted-with-signature`): decoding it reads
/// the base64 padding `=` at the end of the last line as a soft line break and glues the
/// checksum line to it ("Truncated packet"). Such armor (an `=` at a line's edge, never
/// `=3D`) is read as sent; a properly encoded part is decoded as before.
#[test]
fn armor_sent_unencoded_in_a_part_declared_quoted_printable_is_read_as_sent() {
    let w = world();
    let g = &w.gpg;
    let from = "Rita Reporter <rita@example.net>";
    // A plaintext whose armor's last data line ends with the padding '='.
    let (text, armored) = (0..12)
        .map(|n| {
            let text = format!(
                "Command injection in acme-backup 1.4: the host field runs `; id` as root.{}\n",
                " ".repeat(n)
            );
            let a = g.encrypt(text.as_bytes(), &[&w.cv_team], Some(&w.reporter), false);
            (text, a)
        })
        .find(|(_, a)| {
            let lines: Vec<&str> = a.lines().collect();
            let crc = lines.iter().position(|l| l.starts_with('=')).unwrap();
            lines[crc - 1].ends_with('=')
        })
        .expect("some length pads");
    let mail = |cte_body: &str, id: &str| {
        crlf(&format!(
            "{}Content-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: quoted-printable\n\n{cte_body}",
            headers(from, id, id, &[])
        ))
        .into_bytes()
    };
    w.env.deliver("1", &mail(&armored, "qp-unencoded"));
    // The same armor properly encoded: every '=' written as "=3D".
    w.env
        .deliver("2", &mail(&armored.replace('=', "=3D"), "qp-encoded"));
    w.env.json(&["run", "--once", "--json"]);
    let cases = w.env.cases();
    for id in ["qp-unencoded", "qp-encoded"] {
        let c = case_with(&cases, id);
        assert_eq!(c["state"], "triaged", "{id}: {c:#}");
        assert_eq!(c["signature"], "good", "{id}: {c:#}");
        let shown = w
            .env
            .json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
        let notes = shown["messages"][0]["notes"].to_string();
        assert_eq!(
            notes.contains("armor unencoded"),
            id == "qp-unencoded",
            "{id}: {notes}"
        );
    }
    let _ = text;
}
