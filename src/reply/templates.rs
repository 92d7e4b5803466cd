//! Reply templates: the usual answers to a reporter (needs more information, accepted,
//! fixed, disclosure scheduled, rejected, duplicate) with placeholders filled from the
//! case. Built-in defaults; a policy's `templates` directory may hold `NAME.txt` files
//! that replace them or add new ones.
//!
//! A placeholder is `{name}`; `{{` and `}}` are literal braces. An unknown placeholder,
//! or one whose value the case does not have yet, is an error that names the template
//! and the command that sets the value: a reporter never receives an empty `{cve}`.

use std::path::{Path, PathBuf};

/// The built-in templates, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "needs-info",
        "Hello {reporter_name},\n\n\
         thank you for your report ({case}). To assess it we still need:\n\n\
         {missing_list}\n\n\
         Please answer this message (keep {case} in the subject) with these details.\n\n\
         The security team\n",
    ),
    (
        "accepted",
        "Hello {reporter_name},\n\n\
         we have reproduced the issue you reported ({case}) and accepted it as a\n\
         vulnerability. We are working on a fix and will keep you informed; please keep\n\
         the details confidential until we publish an advisory.\n\n\
         The security team\n",
    ),
    (
        "fixed",
        "Hello {reporter_name},\n\n\
         the issue you reported ({case}) is fixed in version {fixed_in}.\n\
         It has been assigned {cve}. We will credit you as: {credit}.\n\n\
         The security team\n",
    ),
    (
        "disclosure-scheduled",
        "Hello {reporter_name},\n\n\
         we plan to publish the advisory for {case} ({cve}) after the embargo ends on\n\
         {embargo}. The fix is in version {fixed_in}. We will credit you as: {credit}.\n\
         Please keep the details confidential until then.\n\n\
         The security team\n",
    ),
    (
        "rejected",
        "Hello {reporter_name},\n\n\
         thank you for your report ({case}). After review we do not consider it a\n\
         security vulnerability in a supported version, so we are closing it. If you\n\
         have more information that changes this assessment, please answer this message.\n\n\
         The security team\n",
    ),
    (
        "duplicate",
        "Hello {reporter_name},\n\n\
         thank you for your report ({case}). The same issue had already been reported to\n\
         us ({duplicate_of}), so we are handling it there. We will let you know when it\n\
         is fixed.\n\n\
         The security team\n",
    ),
];

/// What placeholders are filled from; None where the case does not have it yet.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub case: String,
    pub reporter: Option<String>,
    pub reporter_name: Option<String>,
    pub missing: Vec<String>,
    pub ack_due: Option<String>,
    pub followup_due: Option<String>,
    pub resolve_due: Option<String>,
    pub fixed_in: Option<String>,
    pub affected: Option<String>,
    pub cve: Option<String>,
    pub cwe: Option<String>,
    pub credit: Option<String>,
    pub embargo: Option<String>,
    pub advisory_url: Option<String>,
    pub duplicate_of: Option<String>,
}

/// Every placeholder a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "case",
    "reporter",
    "reporter_name",
    "missing",
    "missing_list",
    "ack_due",
    "followup_due",
    "resolve_due",
    "fixed_in",
    "affected",
    "cve",
    "cwe",
    "credit",
    "embargo",
    "advisory_url",
    "duplicate_of",
];

impl Facts {
    /// The value of a placeholder: Ok(None) when the case lacks it, Err when unknown.
    fn value(&self, name: &str) -> Result<Option<String>, ()> {
        let v = match name {
            "case" => Some(self.case.clone()),
            "reporter" => self.reporter.clone(),
            // A greeting works without a name: "Hello there".
            "reporter_name" => Some(
                self.reporter_name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| "there".into()),
            ),
            "missing" => (!self.missing.is_empty()).then(|| self.missing.join(", ")),
            "missing_list" => (!self.missing.is_empty()).then(|| {
                self.missing
                    .iter()
                    .map(|m| format!("  - {}", requirement_words(m)))
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
            "ack_due" => self.ack_due.clone(),
            "followup_due" => self.followup_due.clone(),
            "resolve_due" => self.resolve_due.clone(),
            "fixed_in" => self.fixed_in.clone(),
            "affected" => self.affected.clone(),
            "cve" => self.cve.clone(),
            "cwe" => self.cwe.clone(),
            "credit" => self.credit.clone(),
            "embargo" => self.embargo.clone(),
            "advisory_url" => self.advisory_url.clone(),
            "duplicate_of" => self.duplicate_of.clone(),
            _ => return Err(()),
        };
        Ok(v)
    }
}

/// What a missing requirement asks the reporter for.
fn requirement_words(r: &str) -> String {
    match r {
        "poc" => "a proof of concept (code, a request or the exact steps that trigger it)".into(),
        "versions" => "the affected versions (e.g. \"<= 2.4.1\", or the commit you tested)".into(),
        "impact" => "the impact: what an attacker gains".into(),
        "repro_steps" => "steps to reproduce".into(),
        "fix_suggestion" => "a suggested fix, if you have one".into(),
        other => other.to_string(),
    }
}

/// How to give a case the value a placeholder needs.
fn how_to_set(name: &str) -> &'static str {
    match name {
        "fixed_in" => "triaged case set CASE --fixed-in VERSION",
        "affected" => "triaged case set CASE --affected RANGE",
        "cve" => "triaged case set CASE --cve CVE-YYYY-NNNN",
        "cwe" => "triaged case set CASE --cwe CWE-NNN",
        "credit" => "triaged case set CASE --credit-name NAME (or --credit-anonymous)",
        "embargo" => "triaged case set CASE --embargo YYYY-MM-DD",
        "advisory_url" => "triaged case set CASE --advisory-url URL",
        "duplicate_of" => "triaged case merge CASE OTHER",
        "missing" | "missing_list" => "nothing is missing for this case: choose another template",
        "reporter" => "the case has no reporter address",
        _ => "the policy sets it (ack_within, followup_within, resolve_within)",
    }
}

/// Fills a template's placeholders, or says which one cannot be filled and why.
pub fn render(template: &str, label: &str, facts: &Facts) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(pos) = rest.find(['{', '}']) {
        let (head, tail) = rest.split_at(pos);
        out.push_str(head);
        if let Some(t) = tail.strip_prefix("{{") {
            out.push('{');
            rest = t;
            continue;
        }
        if let Some(t) = tail.strip_prefix("}}") {
            out.push('}');
            rest = t;
            continue;
        }
        let Some(t) = tail.strip_prefix('{') else {
            return Err(format!(
                "template {label}: a lone '}}' (write '}}}}' for a literal brace)"
            ));
        };
        let Some(end) = t.find('}') else {
            return Err(format!(
                "template {label}: '{{' without a closing '}}' (write '{{{{' for a literal brace)"
            ));
        };
        let (name, after) = t.split_at(end);
        let name = name.trim();
        match facts.value(name) {
            Err(()) => {
                return Err(format!(
                    "template {label}: unknown placeholder {{{name}}}; placeholders are: {}",
                    PLACEHOLDERS.join(", ")
                ));
            }
            Ok(None) => {
                return Err(format!(
                    "template {label}: case {} has no {name} yet\n  hint: {}",
                    facts.case,
                    how_to_set(name).replace("CASE", &facts.case)
                ));
            }
            Ok(Some(v)) => out.push_str(&v),
        }
        rest = after.get(1..).unwrap_or("");
    }
    out.push_str(rest);
    Ok(out)
}

/// A template's text and where it came from: the policy's directory
/// (`DIR/NAME.txt`) first, then the built-in one.
pub fn load(dir: Option<&Path>, name: &str) -> Result<(String, String), String> {
    let safe = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !safe {
        return Err(format!(
            "template name {name:?}: use letters, digits, '-' and '_' only"
        ));
    }
    if let Some(d) = dir {
        let p: PathBuf = d.join(format!("{name}.txt"));
        match std::fs::read_to_string(&p) {
            Ok(t) => return Ok((p.display().to_string(), t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read template {}: {e}", p.display())),
        }
    }
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, t)| (format!("built-in template {n}"), (*t).to_string()))
        .ok_or_else(|| {
            format!(
                "no template {name:?}{}; built-in templates: {}",
                dir.map(|d| format!(" in {}", d.display()))
                    .unwrap_or_default(),
                BUILTIN
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// The templates available for a policy: (name, where it comes from).
pub fn available(dir: Option<&Path>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = BUILTIN
        .iter()
        .map(|(n, _)| ((*n).to_string(), "built-in".to_string()))
        .collect();
    if let Some(d) = dir
        && let Ok(rd) = std::fs::read_dir(d)
    {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "txt")
                && let Some(stem) = p.file_stem().and_then(|s| s.to_str())
            {
                let src = p.display().to_string();
                match v.iter_mut().find(|(n, _)| n == stem) {
                    Some(slot) => slot.1 = src,
                    None => v.push((stem.to_string(), src)),
                }
            }
        }
    }
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            case: "SEC-2026-0001".into(),
            reporter_name: Some("Rita".into()),
            missing: vec!["poc".into(), "versions".into()],
            fixed_in: Some("2.4.2".into()),
            cve: Some("CVE-2026-12345".into()),
            credit: Some("Rita Reporter, Example Labs".into()),
            ..Facts::default()
        }
    }

    #[test]
    fn every_builtin_template_uses_known_placeholders() {
        let mut full = facts();
        full.embargo = Some("2026-12-24".into());
        full.duplicate_of = Some("SEC-2026-0000".into());
        for (name, text) in BUILTIN {
            let out = render(text, name, &full).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(out.contains("SEC-2026-0001"), "{name} names the case");
            assert!(!out.contains('{'), "{name}: {out}");
        }
    }

    #[test]
    fn placeholders_are_filled_and_braces_escaped() {
        let out = render("{case}: {{x}} {missing} / {cve}", "t", &facts()).unwrap();
        assert_eq!(out, "SEC-2026-0001: {x} poc, versions / CVE-2026-12345");
        let list = render("{missing_list}", "t", &facts()).unwrap();
        assert!(list.starts_with("  - a proof of concept"), "{list}");
    }

    #[test]
    fn a_missing_value_names_the_command_that_sets_it() {
        let e = render("see {embargo}", "fixed", &facts()).unwrap_err();
        assert!(e.contains("has no embargo"), "{e}");
        assert!(
            e.contains("triaged case set SEC-2026-0001 --embargo"),
            "{e}"
        );
        let e = render("{nope}", "fixed", &facts()).unwrap_err();
        assert!(e.contains("unknown placeholder {nope}"), "{e}");
        assert!(render("{case", "t", &facts()).is_err());
        assert!(render("x } y", "t", &facts()).is_err());
    }

    #[test]
    fn a_policy_directory_overrides_and_adds_templates() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("fixed.txt"), "Fixed in {fixed_in}.\n").unwrap();
        std::fs::write(d.path().join("bounty.txt"), "No bounty, sorry.\n").unwrap();
        let (src, t) = load(Some(d.path()), "fixed").unwrap();
        assert!(src.ends_with("fixed.txt"));
        assert_eq!(t, "Fixed in {fixed_in}.\n");
        assert!(
            load(Some(d.path()), "accepted")
                .unwrap()
                .0
                .starts_with("built-in")
        );
        assert!(load(Some(d.path()), "bounty").is_ok());
        assert!(load(None, "../etc/passwd").is_err());
        let e = load(None, "nosuch").unwrap_err();
        assert!(e.contains("needs-info"), "{e}");
        let names: Vec<String> = available(Some(d.path())).into_iter().map(|x| x.0).collect();
        assert!(names.contains(&"bounty".to_string()) && names.contains(&"fixed".to_string()));
    }
}
