//! Keys from the config: reading the team's secret keys (and the reporter keyring)
//! named in the config, and the one validation `run`, `check-config` and `doctor`
//! share (the settings' own problems plus the keys').
//!
//! This lives in `read/` and not in `config/` so that the configuration stays plain
//! data with no dependency on OpenPGP (config → domain only).

use crate::config::{Config, ConfigError, Problem};
use crate::read::crypto::TeamKeys;

/// Loads the team keys, turning every failure into a config problem.
pub(crate) fn team_keys(cfg: &Config) -> std::result::Result<TeamKeys, Vec<Problem>> {
    let pass = cfg.passphrase().map_err(|p| vec![p])?;
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for p in cfg.keys.secret.paths() {
        let path = cfg.resolve(&p);
        match std::fs::read(&path) {
            Ok(bytes) => files.push((path, bytes)),
            Err(e) => problems.push(Problem {
                key: "keys.secret".into(),
                what: format!("cannot read the secret key file {}: {e}", path.display()),
                fix: "point keys.secret at the team's secret key (e.g. `gpg --export-secret-keys --armor security@example.org > team.asc`)".into(),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let keyring = reporter_keyring(cfg)?;
    TeamKeys::load_with(
        &files,
        pass.as_deref(),
        keyring.as_ref(),
        cfg.keys.legacy_decryption,
    )
    .map_err(|e| vec![key_problem(e)])
}

/// The team keys of a reader process: the daemon's unlocked decryption keys (see
/// [`TeamKeys::for_reader`]), no passphrase and no signing key; the reporter keyring
/// from the config as usual.
pub(crate) fn reader_keys(
    cfg: &Config,
    unlocked: &[u8],
) -> std::result::Result<TeamKeys, Vec<Problem>> {
    let keyring = reporter_keyring(cfg)?;
    let files = [(
        std::path::PathBuf::from("(the daemon's unlocked decryption keys)"),
        unlocked,
    )];
    TeamKeys::load_with(&files, None, keyring.as_ref(), cfg.keys.legacy_decryption)
        .map_err(|e| vec![key_problem(e)])
}

fn key_problem(e: crate::read::crypto::KeyError) -> Problem {
    Problem {
        key: e.key.into(),
        what: e.what,
        fix: e.fix,
    }
}

/// The reporter keyring file named by `keys.reporter_keyring`, read.
fn reporter_keyring(
    cfg: &Config,
) -> std::result::Result<Option<(std::path::PathBuf, Vec<u8>)>, Vec<Problem>> {
    Ok(match &cfg.keys.reporter_keyring {
        Some(p) => {
            let path = cfg.resolve(p);
            match std::fs::read(&path) {
                Ok(b) => Some((path, b)),
                Err(e) => {
                    return Err(vec![Problem {
                        key: "keys.reporter_keyring".into(),
                        what: format!("cannot read {}: {e}", path.display()),
                        fix: "point keys.reporter_keyring at a file of public keys, or remove the key".into(),
                    }]);
                }
            }
        }
        None => None,
    })
}

/// The whole validation: the key files first, then every other setting; Ok with
/// the unlocked team keys when there is no problem at all.
pub(crate) fn validate(cfg: &Config) -> std::result::Result<TeamKeys, ConfigError> {
    let mut problems = Vec::new();
    let keys = match team_keys(cfg) {
        Ok(k) => Some(k),
        Err(p) => {
            problems.extend(p);
            None
        }
    };
    problems.extend(cfg.problems());
    if let Some(k) = &keys
        && cfg.outbox.auto_ack
        && !k.can_sign()
    {
        problems.push(Problem {
            key: "keys.secret".into(),
            what: "no team key can sign, and acknowledgments must be signed".into(),
            fix: if k.legacy().is_empty() {
                "use a key with a signing-capable (sub)key, or set outbox.auto_ack = false".into()
            } else {
                format!(
                    "legacy keys ({}) only decrypt: add a current team key to keys.secret for signing, or set outbox.auto_ack = false",
                    k.legacy().join(", ")
                )
            },
        });
    }
    match keys {
        Some(k) if problems.is_empty() => Ok(k),
        _ => Err(ConfigError {
            file: cfg.file.clone(),
            problems,
        }),
    }
}
