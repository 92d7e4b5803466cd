//! `triaged keys …` and `triaged security-txt`: the team's keys as published.

use anyhow::{Context, Result};

use crate::store;

use super::args::{Cli, KeysCmd};
use super::{load, open_store, print_json, safe};

/// Warns (stderr) that a team key advertises GnuPG's "AEAD" feature: reports from GnuPG
/// 2.3+ would arrive in a packet triaged cannot read.
pub(super) fn warn_librepgp_aead(fingerprint: &str, advertises: bool) {
    if advertises {
        eprintln!(
            "warning: team key {fingerprint} advertises GnuPG's \"AEAD\" feature: GnuPG 2.3 and later will encrypt reports to it with their OCB packet, which is not OpenPGP and which triaged cannot decrypt\n  fix: {}",
            crate::read::crypto::LIBREPGP_AEAD_FIX.replace("FPR", fingerprint)
        );
    }
}

pub(super) fn keys_cmd(cli: &Cli, cmd: &KeysCmd) -> Result<i32> {
    let cfg = load(cli)?;
    match cmd {
        KeysCmd::List { json } => {
            let keys = crate::read::keys::validate(&cfg)?;
            let store = open_store(&cfg)?;
            let reporters = store::reporter_key_summary(store.db())?;
            let v = serde_json::json!({"team": keys.info(), "reporters": reporters});
            if *json {
                print_json(&v)?;
            } else {
                for k in keys.info() {
                    println!(
                        "team      {}  {}",
                        k.fingerprint,
                        safe(&k.user_ids.join(", "))
                    );
                }
                for r in &reporters {
                    println!(
                        "reporter  {}  {} ({}, {} case(s))",
                        r.fingerprint,
                        safe(r.user_ids.first().map(String::as_str).unwrap_or("")),
                        r.source,
                        r.cases
                    );
                }
            }
            Ok(0)
        }
        KeysCmd::Export {
            reporter: Some(addr),
        } => {
            let keys = crate::read::keys::validate(&cfg)?;
            let store = open_store(&cfg)?;
            match crate::reply::outbox::reporter_key_for_address(store.db(), &keys, addr)? {
                (Some(armored), _) => {
                    print!("{armored}");
                    Ok(0)
                }
                (None, why) => {
                    eprintln!(
                        "error: no valid OpenPGP key for {addr} is known{}
  hint: `triaged keys list` shows the keys seen; `triaged keys import FILE` adds one",
                        why.map(|w| format!(" ({w})")).unwrap_or_default()
                    );
                    Ok(3)
                }
            }
        }
        KeysCmd::Export { reporter: None } => {
            let keys = crate::read::keys::validate(&cfg)?;
            use sequoia_openpgp::serialize::SerializeInto;
            for c in keys.team_certs() {
                let a = c.armored().to_vec().context("armoring the team key")?;
                print!("{}", String::from_utf8_lossy(&a));
                warn_librepgp_aead(
                    &c.fingerprint().to_hex(),
                    crate::read::crypto::advertises_librepgp_aead(c),
                );
            }
            Ok(0)
        }
        KeysCmd::Import { file } => {
            let Some(ring) = &cfg.keys.reporter_keyring else {
                eprintln!(
                    "error: {}: keys.reporter_keyring is not set\n  fix: set keys.reporter_keyring = \"/etc/triaged/reporters.asc\" and run this again",
                    cfg.file.display()
                );
                return Ok(2);
            };
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let found =
                crate::read::crypto::read_certs(&bytes, crate::read::crypto::KeySource::Import);
            if found.is_empty() {
                eprintln!(
                    "error: {} holds no OpenPGP public key\n  hint: export one with `gpg --export --armor EMAIL`",
                    file.display()
                );
                return Ok(1);
            }
            let path = cfg.resolve(ring);
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            use std::io::Write;
            for k in &found {
                f.write_all(k.armored.as_bytes())
                    .context("writing the keyring")?;
                println!(
                    "imported {} {}",
                    k.fingerprint,
                    k.user_ids.first().cloned().unwrap_or_default()
                );
            }
            Ok(0)
        }
    }
}

pub(super) fn security_txt_cmd(
    cli: &Cli,
    encryption: &str,
    policy: Option<&str>,
    days: i64,
) -> Result<i32> {
    let cfg = load(cli)?;
    let contact = cfg
        .outbox
        .from
        .clone()
        .context("outbox.from is not set: it is the Contact address")?;
    let expires = chrono::Utc::now() + chrono::Duration::days(days);
    println!("Contact: mailto:{contact}");
    println!(
        "Expires: {}",
        expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    println!("Encryption: {encryption}");
    let pol = policy.map(str::to_string).or_else(|| {
        cfg.policy
            .values()
            .find_map(|p| p.source.clone())
            .filter(|s| s.starts_with("https://"))
    });
    if let Some(p) = pol {
        println!("Policy: {p}");
    }
    println!("Preferred-Languages: en");
    if let Ok(keys) = crate::read::keys::team_keys(&cfg) {
        eprintln!(
            "note: publish the team key {} at {encryption}",
            keys.fingerprints().join(", ")
        );
    }
    Ok(0)
}
