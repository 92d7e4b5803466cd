//! Advisory drafts validate against the official schemas (OSV, CSAF 2.0 with FIRST's
//! CVSS schemas), vendored in tests/schemas/ (see SOURCES.md there), and carry what
//! the case says: CVE, CWE, CVSS, affected and fixed versions, credit, references.

mod common;
use common::*;

fn schema_dir() -> std::path::PathBuf {
    repo().join("tests/schemas")
}

fn load(name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(schema_dir().join(name)).unwrap()).unwrap()
}

/// Validates `doc` against a vendored schema; the error lists every violation.
fn validate(schema: &str, doc: &serde_json::Value) -> Result<(), String> {
    let mut schemas = boon::Schemas::new();
    let mut c = boon::Compiler::new();
    c.enable_format_assertions();
    for (url, file) in [
        (
            "https://www.first.org/cvss/cvss-v2.0.json",
            "first-cvss-v2.0.json",
        ),
        (
            "https://www.first.org/cvss/cvss-v3.0.json",
            "first-cvss-v3.0.json",
        ),
        (
            "https://www.first.org/cvss/cvss-v3.1.json",
            "first-cvss-v3.1.json",
        ),
    ] {
        c.add_resource(url, load(file)).unwrap();
    }
    let url = format!("file://{}", schema_dir().join(schema).display());
    c.add_resource(&url, load(schema)).unwrap();
    let idx = c
        .compile(&url, &mut schemas)
        .map_err(|e| format!("{e:#}"))?;
    schemas.validate(doc, idx).map_err(|e| format!("{e:#}"))
}

fn case_with_facts() -> (Env, String) {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    let env = Env::new(&[("team.asc", &key)], Some(pass.trim()), "");
    env.deliver(
        "a1",
        crlf(&format!(
            "{}\nPath traversal in acme-server 2.4.1: curl 'http://x/export?file=../../etc/passwd'\n\
             An unauthenticated attacker can read any file on the server.\n\
             CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N\nPlease credit me as \"Rita Reporter (Example Labs)\".\n",
            headers("Rita <rita@example.net>", "Path traversal in export", "a1@example.net", &[])
        ))
        .as_bytes(),
    );
    env.json(&["run", "--once", "--json"]);
    let case = env.cases()[0]["id"].as_str().unwrap().to_string();
    (env, case)
}

#[test]
fn the_schemas_reject_what_they_should() {
    // Guards the validator setup itself: an empty object is neither OSV nor CSAF.
    assert!(validate("osv-schema.json", &serde_json::json!({})).is_err());
    assert!(
        validate(
            "csaf_json_schema.json",
            &serde_json::json!({"document": {}})
        )
        .is_err()
    );
    assert!(
        validate(
            "osv-schema.json",
            &serde_json::json!({"id": "NOPE-1", "modified": "2026-01-01T00:00:00Z"})
        )
        .is_err(),
        "an id without a known prefix"
    );
}

#[test]
fn osv_and_csaf_drafts_validate_and_carry_the_case_facts() {
    let (env, case) = case_with_facts();
    // The credit the report asked for is already the case's.
    let shown = env.json(&["case", "show", &case, "--json"]);
    assert_eq!(shown["credit"]["name"], "Rita Reporter", "{shown:#}");
    assert_eq!(shown["credit"]["affiliation"], "Example Labs", "{shown:#}");
    // Before the package is known: OSV validates (no affected block), CSAF says what to set.
    let osv = env.json(&["case", "advisory", &case, "--format", "osv"]);
    validate("osv-schema.json", &osv).unwrap();
    let o = env.run(&["case", "advisory", &case, "--format", "csaf"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--package"), "{}", stderr(&o));

    let o = env.run(&[
        "case",
        "set",
        &case,
        "--cve",
        "CVE-2026-12345",
        "--cwe",
        "22",
        "--affected",
        ">= 2.0.0, < 2.4.2",
        "--fixed-in",
        "2.4.2",
        "--package",
        "acme-server",
        "--ecosystem",
        "npm",
        "--embargo",
        "2099-12-24",
        "--advisory-url",
        "https://example.test/advisories/SEC-1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let osv = env.json(&["case", "advisory", &case, "--format", "osv"]);
    validate("osv-schema.json", &osv).unwrap_or_else(|e| panic!("{e}\n{osv:#}"));
    assert_eq!(osv["aliases"], serde_json::json!(["CVE-2026-12345"]));
    assert_eq!(osv["affected"][0]["package"]["name"], "acme-server");
    assert_eq!(
        osv["affected"][0]["ranges"][0]["events"],
        serde_json::json!([{"introduced": "2.0.0"}, {"fixed": "2.4.2"}])
    );
    assert_eq!(
        osv["severity"][0]["type"], "CVSS_V3",
        "the report's own vector"
    );
    assert_eq!(osv["credits"][0]["name"], "Rita Reporter, Example Labs");
    assert_eq!(
        osv["database_specific"]["cwe_ids"],
        serde_json::json!(["CWE-22"])
    );

    let out = env.dir.path().join("csaf.json");
    let o = env.run(&[
        "case",
        "advisory",
        &case,
        "--format",
        "csaf",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csaf: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    validate("csaf_json_schema.json", &csaf).unwrap_or_else(|e| panic!("{e}\n{csaf:#}"));
    let v = &csaf["vulnerabilities"][0];
    assert_eq!(v["cve"], "CVE-2026-12345");
    assert_eq!(v["cwe"]["id"], "CWE-22");
    assert_eq!(v["scores"][0]["cvss_v3"]["baseSeverity"], "HIGH");
    assert_eq!(
        v["product_status"]["fixed"],
        serde_json::json!(["CSAFPID-0002"])
    );
    assert_eq!(csaf["document"]["tracking"]["status"], "draft");
    assert_eq!(
        csaf["document"]["acknowledgments"][0]["organization"],
        "Example Labs"
    );

    // Anonymous credit: no name anywhere.
    env.run(&["case", "set", &case, "--credit-anonymous"]);
    let osv = env.json(&["case", "advisory", &case, "--format", "osv"]);
    validate("osv-schema.json", &osv).unwrap();
    assert!(osv.get("credits").is_none(), "{osv:#}");
    assert!(!osv.to_string().contains("Rita"), "{osv:#}");
}
