//! `check-config`: OK on a good file, and for each kind of mistake an error
//! that names the file, the key, what is wrong and the fix, with exit code 2.

mod common;
use common::*;

fn team() -> (Vec<u8>, String) {
    let root = repo();
    (
        std::fs::read(root.join("keys/test/team-secret.asc")).unwrap(),
        std::fs::read_to_string(root.join("keys/test/passphrase"))
            .unwrap()
            .trim()
            .to_string(),
    )
}

fn check(env: &Env) -> (i32, String, String) {
    let o = env.run(&["check-config"]);
    (o.status.code().unwrap(), stdout(&o), stderr(&o))
}

#[test]
fn good_config_is_ok() {
    let (key, pass) = team();
    let env = Env::new(
        &[("team.asc", &key)],
        Some(&pass),
        "[policy.default]\nack_within = \"72h\"\n",
    );
    let (code, out, err) = check(&env);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("OK: "), "{out}");
    assert!(
        out.contains("A2C3BC3FD507C7230A253F0DFA045DF9247F8F27"),
        "{out}"
    );
}

#[test]
fn rows_counted_from_an_unset_current_release_are_warned_about() {
    let (key, pass) = team();
    let rows = "supported_versions = [{ range = \"latest\", supported = true }, { range = \"latest-1\", supported = true }, { range = \"others\", supported = false }]\n";
    let env = Env::new(
        &[("team.asc", &key)],
        Some(&pass),
        &format!("[policy.default]\n{rows}"),
    );
    let (code, _, err) = check(&env);
    assert_eq!(code, 0, "a warning, not an error: {err}");
    assert!(
        err.contains(
            "policy.default.supported_versions: the row \"latest\" counts from the current release"
        ) && err.contains("fix: set policy.default.latest"),
        "{err}"
    );
    let env = Env::new(
        &[("team.asc", &key)],
        Some(&pass),
        &format!("[policy.default]\nlatest = \"3.1.8\"\n{rows}"),
    );
    let (code, _, err) = check(&env);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn the_example_configs_are_valid() {
    let o = triaged(&repo().join("examples/demo.toml"), &["check-config"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn missing_key_file_is_named() {
    let (_, pass) = team();
    let env = Env::new(&[], Some(&pass), "");
    let cfg = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(
        &env.config,
        cfg.replace("secret = []", "secret = \"nope.asc\""),
    )
    .unwrap();
    let (code, _, err) = check(&env);
    assert_eq!(code, 2);
    assert!(
        err.contains("triaged.toml: keys.secret: cannot read the secret key file"),
        "{err}"
    );
    assert!(err.contains("nope.asc"), "{err}");
    assert!(err.contains("fix: "), "{err}");
}

#[test]
fn public_key_only_is_refused() {
    let root = repo();
    let public = std::fs::read(root.join("keys/test/team-public.asc")).unwrap();
    let env = Env::new(&[("team.asc", &public)], None, "");
    let (code, _, err) = check(&env);
    assert_eq!(code, 2);
    assert!(err.contains("keys.secret"), "{err}");
    assert!(err.contains("only the public key"), "{err}");
}

#[test]
fn key_without_decryption_subkey_is_refused() {
    let gpg = Gpg::new();
    // A signing-only key: no encryption subkey at all.
    gpg.run(
        &[
            "--passphrase",
            "",
            "--quick-gen-key",
            "Sign Only <s@example.test>",
            "ed25519",
            "sign",
            "never",
        ],
        None,
    );
    let fpr = gpg.fingerprint("s@example.test");
    let env = Env::new(&[("team.asc", &gpg.export_secret(&fpr, ""))], None, "");
    let (code, _, err) = check(&env);
    assert_eq!(code, 2);
    assert!(err.contains("no usable decryption subkey"), "{err}");
}

#[test]
fn wrong_or_missing_passphrase() {
    let (key, _) = team();
    let env = Env::new(&[("team.asc", &key)], Some("not the passphrase"), "");
    let (code, _, err) = check(&env);
    assert_eq!(code, 2);
    assert!(
        err.contains("keys.passphrase_file: the passphrase does not unlock"),
        "{err}"
    );
    assert!(
        !err.contains("not the passphrase"),
        "the passphrase must never be printed: {err}"
    );

    let env = Env::new(&[("team.asc", &key)], None, "");
    let (code, _, err) = check(&env);
    assert_eq!(code, 2);
    assert!(
        err.contains("protected by a passphrase, and none is configured"),
        "{err}"
    );
}

#[test]
fn bad_duration_unknown_key_and_bad_policy() {
    let (key, pass) = team();
    let env = Env::new(
        &[("team.asc", &key)],
        Some(&pass),
        "[policy.default]\nack_within = \"48 hours\"\n",
    );
    let (code, _, err) = check(&env);
    assert_eq!(code, 2);
    assert!(err.contains("invalid duration \"48 hours\""), "{err}");
    assert!(err.contains("line "), "{err}");

    let env = Env::new(
        &[("team.asc", &key)],
        Some(&pass),
        "[policy.default]\nack_whithin = \"48h\"\n",
    );
    let (code, _, err) = check(&env);
    assert_eq!(code, 2);
    assert!(err.contains("ack_whithin"), "{err}");
    assert!(err.contains("unknown field"), "{err}");

    let env = Env::new(
        &[("team.asc", &key)],
        Some(&pass),
        "[policy.default]\nrequire = [\"poc\", \"exploit\"]\nlatest = \"the newest\"\nsupported_versions = [{ range = \"soon\", supported = true }, { range = \"latest-one\", supported = true }, { range = \"latest-1\", supported = true }]\n",
    );
    let (code, _, err) = check(&env);
    assert_eq!(code, 2);
    // Every problem is reported, not just the first.
    assert!(
        err.contains("policy.default.require: unknown requirement \"exploit\""),
        "{err}"
    );
    assert!(
        err.contains("policy.default.supported_versions[0].range"),
        "{err}"
    );
    // A series counted back needs a number, and the current release must be one.
    assert!(
        err.contains("policy.default.supported_versions[1].range"),
        "{err}"
    );
    assert!(
        !err.contains("policy.default.supported_versions[2]"),
        "{err}"
    );
    assert!(
        err.contains("policy.default.latest: \"the newest\" is not a version"),
        "{err}"
    );
}

#[test]
fn mailbox_pointing_at_an_unknown_policy() {
    let (key, pass) = team();
    let env = Env::new(&[("team.asc", &key)], Some(&pass), "");
    let cfg = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(
        &env.config,
        cfg.replace(
            "path = \"Maildir\"",
            "path = \"Maildir\"\npolicy = \"strict\"",
        ),
    )
    .unwrap();
    let (code, _, err) = check(&env);
    assert_eq!(code, 2);
    assert!(
        err.contains("mailbox[0].policy: no [policy.strict] is defined"),
        "{err}"
    );
}

#[test]
fn missing_config_file() {
    let o = triaged(
        std::path::Path::new("/nonexistent/triaged.toml"),
        &["check-config"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/triaged.toml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn config_example_parses_with_every_key() {
    let cfg = triaged::config::Config::load(&repo().join("config.example.toml")).unwrap();
    assert_eq!(cfg.mailboxes.len(), 2);
    assert_eq!(cfg.mailboxes[0].kind, triaged::config::MailboxKind::Imap);
    assert_eq!(cfg.mailboxes[0].idle_refresh.secs(), 300);
    assert_eq!(cfg.policy["default"].ack_within.secs(), 48 * 3600);
    assert_eq!(cfg.policy["default"].supported_versions.len(), 2);
    assert_eq!(cfg.limits.max_message_size.0, 32 * 1024 * 1024);
}

#[test]
fn config_example_documents_outbox_schedule_and_limits() {
    let cfg = triaged::config::Config::load(&repo().join("config.example.toml")).unwrap();
    assert_eq!(cfg.outbox.transport, triaged::config::Transport::Smtp);
    assert_eq!(cfg.outbox.sent_folder.as_deref(), Some("Sent"));
    assert_eq!(cfg.schedule.digest, "0 0 8 * * Mon-Fri");
    assert!(!cfg.store.encrypt_at_rest);
}

#[test]
fn type_errors_unset_variables_and_zero_limits_name_their_key() {
    // Issue 13 item 11: each used to say "(syntax)", expand to "", or be accepted.
    let (key, pass) = team();
    let cases = [
        (
            "[limits]\nmax_pkesks = \"many\"\n",
            "limits.max_pkesks",
            "invalid type",
        ),
        (
            "[limits]\nreaders = 0\n",
            "limits.readers: is 0",
            "remove limits.readers to use the default",
        ),
        (
            "[limits]\nmax_message_size = \"0\"\n",
            "limits.max_message_size: is 0",
            "positive value",
        ),
    ];
    for (extra, want, fix) in cases {
        let env = Env::new(&[("team.asc", &key)], Some(&pass), extra);
        let (code, _, err) = check(&env);
        assert_eq!(code, 2, "{extra}: {err}");
        assert!(err.contains(want) && err.contains(fix), "{extra}: {err}");
    }
    let env = Env::new(&[("team.asc", &key)], Some(&pass), "");
    let cfg = std::fs::read_to_string(&env.config).unwrap().replace(
        "passphrase_file = \"passphrase\"",
        "passphrase_file = \"${TRIAGED_TEST_SURELY_UNSET}/passphrase\"",
    );
    std::fs::write(&env.config, cfg).unwrap();
    let (code, _, err) = check(&env);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("keys.passphrase_file")
            && err.contains("${TRIAGED_TEST_SURELY_UNSET}, which is not set"),
        "{err}"
    );
}

#[test]
fn check_config_refuses_a_world_readable_key_as_run_does() {
    use std::os::unix::fs::PermissionsExt;
    let (key, pass) = team();
    let env = Env::new(&[("team.asc", &key)], Some(&pass), "");
    let file = env.dir.path().join("team.asc");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, out, err) = check(&env);
    assert_ne!(code, 0, "check-config said {out}");
    assert!(
        err.contains("keys.secret")
            && err.contains("readable by other users")
            && err.contains("chmod 600"),
        "{err}"
    );
    let run = env.run(&["run", "--once"]);
    assert_eq!(run.status.code(), Some(code), "the same verdict as run");
}

/// A 2009-style team key: RSA-1024, self-signed with SHA-1 (made with gpg's fake clock).
fn old_team_key(gpg: &Gpg) -> Vec<u8> {
    let fpr = gpg.generate_2009("Old Team <security@example.test>", "rsa1024");
    gpg.run(
        &[
            "--faked-system-time",
            "20090101T000000",
            "--cert-digest-algo",
            "SHA1",
            "--passphrase",
            "",
            "--quick-add-key",
            &fpr,
            "rsa1024",
            "encr",
            "never",
        ],
        None,
    );
    gpg.run(
        &[
            "--armor",
            "--export-secret-keys",
            "Old Team <security@example.test>",
        ],
        None,
    )
}

fn with_keys_line(env: &Env, line: &str) {
    let cfg = std::fs::read_to_string(&env.config).unwrap().replacen(
        "[keys]\n",
        &format!("[keys]\n{line}\n"),
        1,
    );
    std::fs::write(&env.config, cfg).unwrap();
}

#[test]
fn an_old_sha1_rsa1024_team_key_gets_a_fitting_hint_and_reads_old_mail_only_under_the_opt_in() {
    let gpg = Gpg::new();
    let old = old_team_key(&gpg);
    let (key, pass) = team();

    // Refused by default, with a hint that can work (not `--quick-set-expire`).
    let env = Env::new(&[("old.asc", &old)], None, "");
    let (code, _, err) = check(&env);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("keys.secret") && err.contains("SHA1"), "{err}");
    assert!(err.contains("keys.legacy_decryption = true"), "{err}");
    assert!(!err.contains("quick-set-expire"), "{err}");

    // Opted in, but the old key alone cannot sign acks: said so.
    with_keys_line(&env, "legacy_decryption = true");
    let (code, _, err) = check(&env);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("only decrypt"), "{err}");

    // Opted in beside a current key (listed after it): old mail is read, the ack is
    // signed by the new key.
    let env = Env::new(&[("old.asc", &old), ("team.asc", &key)], Some(&pass), "");
    with_keys_line(&env, "legacy_decryption = true");
    let (code, out, err) = check(&env);
    assert_eq!(code, 0, "{out}{err}");
    let ct = gpg.encrypt(
        b"SQL injection in acme 2.4.1: curl 'http://h/s?q=1%27%20OR%201=1--' dumps the users table.\n",
        &["Old Team <security@example.test>"],
        None,
        false,
    );
    env.deliver(
        "1",
        &pgp_mime(
            &headers("Rep <rep@example.net>", "old-key report", "old-1@x", &[]),
            &ct,
        ),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    let c = &env.cases()[0];
    assert_ne!(c["state"], "undecryptable", "{c:#}");
    assert_eq!(c["encryption"], "pgp-mime", "{c:#}");
    let ack = &outbox_mails(&env)[0];
    assert!(ack.contains("multipart/signed"), "{ack}");
    // The signature is by the current key (its fingerprint is the ack's issuer).
    let sig = &ack[ack.find("-----BEGIN PGP SIGNATURE-----").unwrap()
        ..ack.find("-----END PGP SIGNATURE-----").unwrap() + 27];
    let packets = String::from_utf8_lossy(&gpg.run(
        &["--list-packets"],
        Some(sig.replace("\r\n", "\n").as_bytes()),
    ))
    .into_owned();
    assert!(
        packets.contains("FA045DF9247F8F27") || packets.contains("fa045df9247f8f27"),
        "{packets}"
    );

    // A reporter whose key is known gets an encrypted ack: to them and to the current
    // team key, never to the legacy one (its SHA-1 binding failed the policy, and the
    // whole batch with it: found with KDE mimetreeparser's 2009 test keys). The
    // Autocrypt header offers the current key.
    let rep = gpg.generate("Kim <kim@example.net>", "ed25519", "cv25519", "");
    std::fs::write(env.dir.path().join("kim.asc"), gpg.export_public(&rep)).unwrap();
    with_keys_line(&env, "reporter_keyring = \"kim.asc\"");
    let ct = gpg.encrypt(
        b"Path traversal in acme 2.4.1: curl 'http://h/files?name=../../etc/passwd' returns the file.\n",
        &["Old Team <security@example.test>"],
        None,
        false,
    );
    env.deliver(
        "2",
        &pgp_mime(
            &headers("Kim <kim@example.net>", "old-key report 2", "old-2@x", &[]),
            &ct,
        ),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (s["created"].as_u64(), s["sent"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
    let acks = outbox_mails(&env);
    let ack = acks
        .iter()
        .find(|m| m.contains("To: kim@example.net"))
        .expect("the ack to Kim");
    assert!(ack.contains("multipart/encrypted"), "{ack}");
    let armor = &ack[ack.find("-----BEGIN PGP MESSAGE-----").unwrap()
        ..ack.find("-----END PGP MESSAGE-----").unwrap() + 25];
    let packets = String::from_utf8_lossy(&gpg.run(
        &[
            "--list-packets",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ],
        Some(armor.replace("\r\n", "\n").as_bytes()),
    ))
    .to_ascii_lowercase();
    let old_fpr = gpg
        .fingerprint("Old Team <security@example.test>")
        .to_ascii_lowercase();
    let old_subkeys: Vec<String> = String::from_utf8_lossy(&gpg.run(
        &[
            "--with-colons",
            "--list-keys",
            "Old Team <security@example.test>",
        ],
        None,
    ))
    .lines()
    .filter(|l| l.starts_with("sub:"))
    .filter_map(|l| l.split(':').nth(4).map(str::to_ascii_lowercase))
    .collect();
    assert!(!old_subkeys.is_empty());
    for id in &old_subkeys {
        assert!(
            !packets.contains(id.as_str()),
            "encrypted to the legacy key: {packets}"
        );
    }
    let ac = ack
        .lines()
        .skip_while(|l| !l.starts_with("Autocrypt:"))
        .take_while(|l| l.starts_with("Autocrypt:") || l.starts_with(' '))
        .collect::<String>();
    let keydata: String = ac
        .split("keydata=")
        .nth(1)
        .expect("Autocrypt keydata")
        .split_whitespace()
        .collect();
    let shown = String::from_utf8_lossy(&gpg.run(
        &["--with-colons", "--show-keys"],
        Some(
            format!(
                "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{keydata}\n-----END PGP PUBLIC KEY BLOCK-----\n"
            )
            .as_bytes(),
        ),
    ))
    .to_ascii_lowercase();
    assert!(
        shown.contains("a2c3bc3fd507c7230a253f0dfa045df9247f8f27"),
        "{shown}"
    );
    assert!(!shown.contains(&old_fpr), "{shown}");
}

#[test]
fn a_team_key_advertising_gnupg_aead_is_flagged_with_the_fix() {
    // GnuPG 2.4 sets the "AEAD" feature (0x02) on keys it makes or edits; GnuPG 2.3+
    // then encrypts to them with its OCB packet, which triaged cannot read. The key here
    // is made by sequoia with that feature, as gpg 2.4 would leave it.
    use sequoia_openpgp::cert::CertBuilder;
    use sequoia_openpgp::serialize::SerializeInto;
    use sequoia_openpgp::types::Features;
    let (cert, _) = CertBuilder::new()
        .add_userid("Team <security@example.test>")
        .set_features(Features::empty().set_seipdv1().set(1))
        .unwrap()
        .add_signing_subkey()
        .add_transport_encryption_subkey()
        .generate()
        .unwrap();
    let fpr = cert.fingerprint().to_hex();
    let env = Env::new(
        &[("team.asc", &cert.as_tsk().armored().to_vec().unwrap())],
        None,
        "",
    );
    let (code, _, err) = check(&env);
    assert_eq!(code, 0, "a warning, not a refusal: {err}");
    assert!(
        err.contains(&format!(
            "warning: team key {fpr} advertises GnuPG's \"AEAD\" feature"
        )) && err.contains(&format!("gpg --expert --edit-key {fpr}"))
            && err.contains("setpref"),
        "{err}"
    );
    let o = env.run(&["doctor"]);
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("WARN") && l.contains("team key") && l.contains("OCB packet")),
        "{out}"
    );
    // Exporting the key for publication warns, and a published copy with the feature
    // fails the security.txt check.
    let o = env.run(&["keys", "export"]);
    assert!(
        stderr(&o).contains("advertises GnuPG's \"AEAD\" feature"),
        "{}",
        stderr(&o)
    );
    let published = env.dir.path().join("published.asc");
    std::fs::write(&published, stdout(&o)).unwrap();
    let txt = env.dir.path().join("security.txt");
    let expires = (chrono::Utc::now() + chrono::Duration::days(200))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    std::fs::write(
        &txt,
        format!("Contact: mailto:security@example.test\nExpires: {expires}\n"),
    )
    .unwrap();
    let o = env.run(&[
        "security-txt",
        "--check",
        txt.to_str().unwrap(),
        "--published-key",
        published.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!("FAIL  the published key {fpr} advertises")),
        "{}",
        stdout(&o)
    );
    // The test team key (made by GnuPG 2.2) has no such feature: no warning.
    let (key, pass) = team();
    let env = Env::new(&[("team.asc", &key)], Some(&pass), "");
    let (_, _, err) = check(&env);
    assert!(!err.contains("AEAD"), "{err}");
}

#[test]
fn a_damaged_key_in_the_reporter_keyring_is_a_warning_naming_its_line() {
    let (key, pass) = team();
    let env = Env::new(
        &[("team.asc", &key)],
        Some(&pass),
        "[policy.default]\nack_within = \"72h\"\n",
    );
    let public = std::fs::read_to_string(repo().join("keys/test/team-public.asc")).unwrap();
    // Concatenated armored files, the first one damaged (its packet header is not one).
    let damaged = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nCgoKCgoKCgo=\n-----END PGP PUBLIC KEY BLOCK-----\n";
    std::fs::write(
        env.dir.path().join("reporters.asc"),
        format!("{damaged}\n{public}"),
    )
    .unwrap();
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("[keys]\n", "[keys]\nreporter_keyring = \"reporters.asc\"\n");
    std::fs::write(&env.config, cfg).unwrap();
    let (code, out, err) = check(&env);
    assert_eq!(code, 0, "a warning, not an error: {err}");
    assert!(out.starts_with("OK: "), "{out}");
    assert!(
        err.contains("keys.reporter_keyring:")
            && err.contains("reporters.asc: the key at line 1 skipped")
            && err.contains("not used to verify signatures"),
        "{err}"
    );
    // Only damaged blocks: the file is no keyring, and that is an error.
    std::fs::write(env.dir.path().join("reporters.asc"), damaged).unwrap();
    let (code, _, err) = check(&env);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not an OpenPGP keyring"), "{err}");
}

/// OAuth 2.0 settings: `check-config` names each mistake with its key and fix, and
/// never runs `password_command` (it only looks the program up).
#[test]
fn oauth2_and_password_command_mistakes_are_named_without_running_the_command() {
    let (key, pass) = team();
    let marker = "ran-the-token-helper";
    let mailbox = |secret: &str| {
        format!(
            "[[mailbox]]\nname = \"security\"\nkind = \"imap\"\nhost = \"127.0.0.1\"\ntls = \"plain\"\n\
             user = \"security@example.test\"\nauth = \"xoauth2\"\n{secret}\n"
        )
    };
    let with = |mailbox: &str, outbox: &str| {
        let env = Env::new(&[("team.asc", &key)], Some(&pass), "");
        let cfg = std::fs::read_to_string(&env.config).unwrap();
        let cfg = cfg.replace(
            "[[mailbox]]\nname = \"security\"\nkind = \"maildir\"\npath = \"Maildir\"\n",
            mailbox,
        );
        let cfg = cfg.replace("[outbox]\ntransport = \"file\"\n", outbox);
        std::fs::write(&env.config, cfg).unwrap();
        env
    };
    // A helper that exists: OK, and it was not run.
    let env = with(
        &mailbox(&format!(
            "password_command = [\"sh\", \"-c\", \"touch {marker}; echo t\"]"
        )),
        "[outbox]\ntransport = \"file\"\n",
    );
    let (code, _, err) = check(&env);
    assert_eq!(code, 0, "{err}");
    assert!(!env.dir.path().join(marker).exists());
    // Missing program; two sources; no secret at all.
    let env = with(
        &mailbox("password_command = [\"/nonexistent/mail-token\"]"),
        "[outbox]\ntransport = \"file\"\n",
    );
    let (code, _, err) = check(&env);
    assert_eq!(code, 2);
    assert!(
        err.contains("mailbox[0].password_command")
            && err.contains("/nonexistent/mail-token is not an executable file"),
        "{err}"
    );
    let env = with(
        &mailbox("password_command = [\"sh\"]\npassword_file = \"imap-password\""),
        "[outbox]\ntransport = \"file\"\n",
    );
    std::fs::write(env.dir.path().join("imap-password"), "x").unwrap();
    let (code, _, err) = check(&env);
    assert_eq!(code, 2);
    assert!(
        err.contains("password_command is set beside another source"),
        "{err}"
    );
    let env = with(&mailbox(""), "[outbox]\ntransport = \"file\"\n");
    let (code, _, err) = check(&env);
    assert_eq!(code, 2);
    assert!(
        err.contains("no access token is configured for this IMAP mailbox"),
        "{err}"
    );
    // The SMTP client has no OAUTHBEARER; a token login needs a user and a token.
    let env = with(
        &mailbox("password_command = [\"sh\"]"),
        "[outbox]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\ntls = \"plain\"\nauth = \"oauthbearer\"\n",
    );
    let (code, _, err) = check(&env);
    assert_eq!(code, 2);
    assert!(
        err.contains("outbox.auth") && err.contains("set outbox.auth = \"xoauth2\""),
        "{err}"
    );
    assert!(err.contains("needs a user and an access token"), "{err}");
}

/// `list_id` is the List-Id of the team's own list (RFC 2919), not its address: an
/// address, or a value with spaces, is named with the fix; a bare or bracketed id passes.
#[test]
fn a_list_id_that_is_an_address_is_named_with_the_fix() {
    let (key, pass) = team();
    let with = |line: &str| {
        let env = Env::new(&[("team.asc", &key)], Some(&pass), "");
        let cfg = std::fs::read_to_string(&env.config).unwrap().replace(
            "path = \"Maildir\"\n",
            &format!("path = \"Maildir\"\n{line}\n"),
        );
        std::fs::write(&env.config, cfg).unwrap();
        env
    };
    for ok in [
        "list_id = \"security.example.org\"",
        "list_id = \"<security.example.org>\"",
    ] {
        let (code, _, err) = check(&with(ok));
        assert_eq!(code, 0, "{ok}: {err}");
    }
    for bad in [
        "list_id = \"security@example.org\"",
        "list_id = \"Security reports\"",
    ] {
        let (code, _, err) = check(&with(bad));
        assert_eq!(code, 2, "{bad}");
        assert!(
            err.contains("mailbox[0].list_id")
                && err.contains("is not a List-Id")
                && err.contains("List-Id header"),
            "{bad}: {err}"
        );
    }
}

/// `form_from` lists addresses: anything else is named with its index and the fix.
#[test]
fn a_form_from_entry_that_is_not_an_address_is_named() {
    let (key, pass) = team();
    let env = Env::new(&[("team.asc", &key)], Some(&pass), "");
    let cfg = std::fs::read_to_string(&env.config).unwrap().replace(
        "path = \"Maildir\"\n",
        "path = \"Maildir\"\nform_from = [\"forms@example.org\", \"Contact form\"]\n",
    );
    std::fs::write(&env.config, cfg).unwrap();
    let (code, _, err) = check(&env);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("mailbox[0].form_from[1]")
            && err.contains("\"Contact form\" is not an email address"),
        "{err}"
    );
    assert!(!err.contains("form_from[0]"), "{err}");
}
