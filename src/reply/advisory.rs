//! Advisory drafts from a case: OSV (the Open Source Vulnerability schema) and CSAF 2.0
//! (a `csaf_security_advisory`, status draft). Built from the case's disclosure columns
//! (CVE, CWE, CVSS, affected and fixed versions, package, advisory URL), its credit and
//! its findings (impact classes, the report's own CVSS vector). A draft for the team to
//! finish: it never carries report text beyond the classifier's redacted evidence.

use anyhow::{Result, bail};
use serde_json::{Map, Value, json};

use crate::domain::disclosure::{Credit, Disclosure};

/// What an advisory is made from.
pub struct Source<'a> {
    pub case: &'a str,
    /// The title: the case's subject when known.
    pub title: Option<&'a str>,
    pub disclosure: &'a Disclosure,
    pub credit: Option<&'a Credit>,
    /// The impact classes the classifier found (rce, xss, ...).
    pub classes: &'a [String],
    /// A short description (the classifier's impact evidence, redacted).
    pub description: Option<&'a str>,
    /// A CVSS vector from the report when the team set none.
    pub reported_cvss: Option<&'a str>,
    /// When the case was opened (unix seconds).
    pub opened_at: i64,
    pub now: i64,
    /// The publisher (CSAF): name and namespace URL.
    pub publisher: &'a str,
    pub namespace: &'a str,
}

fn ts(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn title(s: &Source<'_>) -> String {
    if let Some(t) = s.title.map(str::trim).filter(|t| !t.is_empty()) {
        return t.to_string();
    }
    let what = s
        .classes
        .first()
        .map(|c| c.replace('-', " "))
        .unwrap_or_else(|| "security vulnerability".into());
    match &s.disclosure.package {
        Some(p) => format!("{what} in {p}"),
        None => what,
    }
}

/// The CVSS vector of the advisory: the team's, else the report's.
fn cvss<'a>(s: &'a Source<'a>) -> Option<&'a str> {
    s.disclosure.cvss.as_deref().or(s.reported_cvss)
}

/// OSV range events from the affected text ("<= 2.4.1", ">= 2.0, < 2.4.2") and the
/// fixed version: (events, fully understood).
fn osv_events(d: &Disclosure) -> (Vec<Value>, bool) {
    let mut introduced = None;
    let mut fixed = d.fixed_in.clone();
    let mut last_affected = None;
    let mut understood = true;
    if let Some(a) = &d.affected {
        for part in a.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (op, v) = ["<=", ">=", "<", ">", "="]
                .iter()
                .find_map(|op| part.strip_prefix(op).map(|v| (*op, v.trim())))
                .unwrap_or(("=", part));
            let v = v.trim_start_matches(['v', 'V']).to_string();
            match op {
                ">=" => introduced = Some(v),
                "<" if fixed.is_none() => fixed = Some(v),
                "<=" => last_affected = Some(v),
                "<" => {}
                _ => understood = false,
            }
        }
    }
    let mut ev = vec![json!({"introduced": introduced.unwrap_or_else(|| "0".into())})];
    if let Some(f) = fixed {
        ev.push(json!({"fixed": f}));
    } else if let Some(l) = last_affected {
        ev.push(json!({"last_affected": l}));
    }
    (ev, understood)
}

/// An OSV record (schema 1.7).
pub fn osv(s: &Source<'_>) -> Result<Value> {
    let d = s.disclosure;
    let mut v = Map::new();
    v.insert("schema_version".into(), json!("1.7.0"));
    v.insert("id".into(), json!(format!("x_{}", s.case)));
    v.insert("modified".into(), json!(ts(s.now)));
    v.insert("summary".into(), json!(title(s)));
    let mut details = String::new();
    if let Some(desc) = s.description {
        details.push_str(desc);
        details.push_str("\n\n");
    }
    if let Some(a) = &d.affected {
        details.push_str(&format!("Affected versions: {a}.\n"));
    }
    if let Some(f) = &d.fixed_in {
        details.push_str(&format!("Fixed in: {f}.\n"));
    }
    if !details.is_empty() {
        v.insert("details".into(), json!(details.trim_end()));
    }
    if !d.cve_ids.is_empty() {
        v.insert("aliases".into(), json!(d.cve_ids));
    }
    if let Some(c) = cvss(s) {
        let kind = if c.starts_with("CVSS:4.0/") {
            "CVSS_V4"
        } else {
            "CVSS_V3"
        };
        v.insert("severity".into(), json!([{"type": kind, "score": c}]));
    }
    if let (Some(pkg), Some(eco)) = (&d.package, &d.ecosystem) {
        let (events, understood) = osv_events(d);
        let mut affected = Map::new();
        affected.insert("package".into(), json!({"ecosystem": eco, "name": pkg}));
        affected.insert(
            "ranges".into(),
            json!([{"type": "ECOSYSTEM", "events": events}]),
        );
        if let Some(a) = d.affected.as_ref().filter(|_| !understood) {
            affected.insert("database_specific".into(), json!({"affected_as_stated": a}));
        }
        v.insert("affected".into(), json!([affected]));
    }
    if let Some(u) = &d.advisory_url {
        v.insert("references".into(), json!([{"type": "ADVISORY", "url": u}]));
    }
    if let Some(line) = s.credit.filter(|c| !c.anonymous).and_then(|c| c.line()) {
        v.insert("credits".into(), json!([{"name": line, "type": "FINDER"}]));
    }
    v.insert(
        "database_specific".into(),
        json!({
            "triaged_case": s.case,
            "cwe_ids": d.cwe_ids,
            "status": "draft",
        }),
    );
    Ok(Value::Object(v))
}

/// The CVSS v3 object CSAF embeds (FIRST's JSON schema): version, vector, base score
/// and severity.
fn csaf_cvss_v3(vector: &str) -> Option<Value> {
    if !vector.starts_with("CVSS:3.") {
        return None;
    }
    let info = crate::judge::classify::score_cvss(vector).ok()?;
    Some(json!({
        "version": info.version,
        "vectorString": vector,
        "baseScore": info.score,
        "baseSeverity": info.severity.as_str().to_ascii_uppercase(),
    }))
}

/// A CSAF 2.0 security advisory, status draft.
pub fn csaf(s: &Source<'_>) -> Result<Value> {
    let d = s.disclosure;
    let Some(package) = d.package.as_deref() else {
        bail!(
            "a CSAF advisory needs the product: run `triaged case set {} --package NAME`",
            s.case
        );
    };
    let product_name = |suffix: &str| format!("{package} {suffix}");
    let mut versions = Vec::new();
    let mut affected_ids = Vec::new();
    let mut fixed_ids = Vec::new();
    let affected_text = d.affected.clone().unwrap_or_else(|| {
        d.fixed_in
            .as_ref()
            .map(|f| format!("< {f}"))
            .unwrap_or_else(|| "all versions".into())
    });
    affected_ids.push("CSAFPID-0001".to_string());
    versions.push(json!({
        "category": "product_version_range",
        "name": format!("vers:generic/{}", affected_text.replace(' ', "")),
        "product": {"product_id": "CSAFPID-0001", "name": product_name(&affected_text)},
    }));
    if let Some(f) = &d.fixed_in {
        fixed_ids.push("CSAFPID-0002".to_string());
        versions.push(json!({
            "category": "product_version",
            "name": f,
            "product": {"product_id": "CSAFPID-0002", "name": product_name(f)},
        }));
    }
    let mut vuln = Map::new();
    vuln.insert("title".into(), json!(title(s)));
    let mut status = json!({"known_affected": affected_ids});
    if !fixed_ids.is_empty() {
        status = json!({"known_affected": affected_ids, "fixed": fixed_ids});
    }
    vuln.insert("product_status".into(), status);
    if !fixed_ids.is_empty() {
        vuln.insert("remediations".into(), json!([{
            "category": "vendor_fix",
            "details": format!("Update to {package} {}.", d.fixed_in.clone().unwrap_or_default()),
            "product_ids": affected_ids,
        }]));
    }
    if let Some(c) = d.cve_ids.first() {
        vuln.insert("cve".into(), json!(c));
    }
    if let Some(c) = d.cwe_ids.first() {
        // CSAF wants the CWE's name too; the draft names the id until the team fills it in.
        vuln.insert("cwe".into(), json!({"id": c, "name": c}));
    }
    if let Some(v3) = cvss(s).and_then(csaf_cvss_v3) {
        vuln.insert(
            "scores".into(),
            json!([{"products": affected_ids, "cvss_v3": v3}]),
        );
    }
    if let Some(desc) = s.description {
        vuln.insert(
            "notes".into(),
            json!([{"category": "description", "title": "Impact", "text": desc}]),
        );
    }
    let mut doc = Map::new();
    doc.insert("category".into(), json!("csaf_security_advisory"));
    doc.insert("csaf_version".into(), json!("2.0"));
    doc.insert(
        "publisher".into(),
        json!({"category": "vendor", "name": s.publisher, "namespace": s.namespace}),
    );
    doc.insert("title".into(), json!(title(s)));
    doc.insert("tracking".into(), json!({
            "id": s.case,
            "status": "draft",
            "version": "1",
            "initial_release_date": ts(s.opened_at),
            "current_release_date": ts(s.now),
            "revision_history": [{"date": ts(s.now), "number": "1", "summary": "Draft written by triaged."}],
            "generator": {"engine": {"name": "triaged", "version": env!("CARGO_PKG_VERSION")}},
    }));
    if let Some(line) = s.credit.filter(|c| !c.anonymous).and_then(|c| c.line()) {
        let c = s.credit.cloned().unwrap_or_default();
        let mut ack = Map::new();
        ack.insert("names".into(), json!([c.name.or(c.handle).unwrap_or(line)]));
        if let Some(org) = c.affiliation {
            ack.insert("organization".into(), json!(org));
        }
        doc.insert("acknowledgments".into(), json!([ack]));
    }
    if let Some(u) = &d.advisory_url {
        doc.insert(
            "references".into(),
            json!([{"category": "self", "summary": "The advisory", "url": u}]),
        );
    }
    Ok(json!({
        "document": doc,
        "product_tree": {
            "branches": [{
                "category": "product_name",
                "name": package,
                "branches": versions,
            }],
        },
        "vulnerabilities": [vuln],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affected_text_becomes_osv_events() {
        let d = Disclosure {
            affected: Some(">= 2.0.0, < 2.4.2".into()),
            ..Disclosure::default()
        };
        let (ev, ok) = osv_events(&d);
        assert!(ok);
        assert_eq!(
            ev,
            vec![json!({"introduced": "2.0.0"}), json!({"fixed": "2.4.2"})]
        );
        let d = Disclosure {
            affected: Some("<= 2.4.1".into()),
            ..Disclosure::default()
        };
        assert_eq!(
            osv_events(&d).0,
            vec![
                json!({"introduced": "0"}),
                json!({"last_affected": "2.4.1"})
            ]
        );
        let d = Disclosure {
            affected: Some("<= 2.4.1".into()),
            fixed_in: Some("2.4.2".into()),
            ..Disclosure::default()
        };
        assert_eq!(osv_events(&d).0[1], json!({"fixed": "2.4.2"}));
        let d = Disclosure {
            affected: Some("2.3.x".into()),
            ..Disclosure::default()
        };
        assert!(!osv_events(&d).1, "a wildcard is kept as stated");
    }
}
