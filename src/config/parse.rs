//! Reading the file: TOML syntax and types, `${VAR}` expansion, and the dotted key an
//! error points at. Nothing here judges whether a value makes sense (`validate` does).

use std::path::{Path, PathBuf};

use super::{Config, ConfigError};

impl Config {
    /// Reads and parses a config file (syntax and types only).
    pub fn load(file: &Path) -> std::result::Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|e| {
            ConfigError::one(
                file,
                "(file)",
                format!("cannot read the config file: {e}"),
                "pass an existing file with --config FILE (see config.example.toml)",
            )
        })?;
        Config::from_toml(&text, file)
    }

    /// Parses config text (syntax and types only); `file` names it in errors and
    /// anchors relative paths. Never panics on any input (a fuzz target checks).
    pub fn from_toml(text: &str, file: &Path) -> std::result::Result<Config, ConfigError> {
        let err = |key: &str, what: String, fix: &str| ConfigError::one(file, key, what, fix);
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            let key = e
                .message()
                .split('`')
                .nth(1)
                .map(str::to_string)
                .or_else(|| e.span().and_then(|s| key_at(text, s.start)))
                .unwrap_or_else(|| "(syntax)".into());
            let span = e
                .span()
                .map(|s| {
                    let before = text.get(..s.start).unwrap_or(text);
                    let line = before.matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            err(
                &key,
                format!("{}{}", e.message().trim(), span),
                "compare with config.example.toml, which documents every key",
            )
        })?;
        cfg.file = file.to_path_buf();
        cfg.base_dir = file
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let resolved: Vec<Option<PathBuf>> = cfg
            .mailboxes
            .iter()
            .map(|m| m.tls_ca_file.as_ref().map(|p| cfg.resolve(p)))
            .collect();
        for (m, r) in cfg.mailboxes.iter_mut().zip(resolved) {
            m.tls_ca_file = r;
        }
        cfg.outbox.tls_ca_file = cfg.outbox.tls_ca_file.as_ref().map(|p| cfg.resolve(p));
        Ok(cfg)
    }
}

/// The dotted key (`limits.max_pkesks`, `mailbox.batch`) whose value starts near
/// `offset`: the `key =` on that line under the nearest `[table]` above it.
pub(super) fn key_at(text: &str, offset: usize) -> Option<String> {
    let (before, _) = text.split_at_checked(offset.min(text.len()))?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let (above, from_line) = text.split_at_checked(line_start)?;
    let line = from_line.lines().next().unwrap_or("");
    let (k, _) = line.split_once('=')?;
    let k = k.trim().trim_matches('"');
    if k.is_empty() || k.starts_with('[') {
        return None;
    }
    let table = above.lines().rev().find_map(|l| {
        let l = l.trim();
        l.starts_with('[')
            .then(|| l.trim_matches(['[', ']']).trim().to_string())
    });
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{k}"),
        _ => k.to_string(),
    })
}

/// Splits `text` at its first `${NAME}`: (before, NAME, after), or None.
pub(super) fn next_var(text: &str) -> Option<(&str, &str, &str)> {
    let (before, tail) = text.split_once("${")?;
    let (name, after) = tail.split_once('}')?;
    Some((before, name, after))
}

/// The `${VAR}` names in `s` that are not set in the environment.
pub(super) fn unset_vars(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some((_, name, after)) = next_var(rest) {
        if std::env::var_os(name).is_none() {
            out.push(name.to_string());
        }
        rest = after;
    }
    out
}

/// Expands `${VAR}` in a path (for `${CREDENTIALS_DIRECTORY}` and `${STATE_DIRECTORY}`).
/// An unset variable expands to nothing here; `validate` refuses such a path first.
pub(super) fn expand_env(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    // An unterminated `${` is kept as written (the loop ends and `rest` is pushed).
    while let Some((before, name, after)) = next_var(rest) {
        out.push_str(before);
        out.push_str(&std::env::var(name).unwrap_or_default());
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_expansion() {
        // SAFETY: single-threaded test setting a variable only it reads.
        unsafe { std::env::set_var("TRIAGED_TEST_EXPAND", "/run/creds") };
        assert_eq!(
            expand_env("${TRIAGED_TEST_EXPAND}/pass"),
            "/run/creds/pass".to_string()
        );
        assert_eq!(expand_env("plain/path"), "plain/path");
    }
}
