//! The other findings' patterns: reproduction steps, fix suggestions, CVE/CWE/GHSA
//! ids, credit, and low-effort signals (beg-bounty, scanner findings).

use super::*;

pub(super) static STEPS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)\b(?:steps to (?:reproduce|replicate|check|verify|test|trigger|produce)|to reproduce|reproduction steps|how to reproduce|reproducer|repro steps)\b|^[ \t]*(?:step[ \t]*)?1[ \t]*(?:[.):]|-)[ \t]+\S[^\n]*\n(?:[^\n]*\n){0,8}?[ \t]*(?:step[ \t]*)?2[ \t]*(?:[.):]|-)[ \t]+\S",
    )
});
pub(super) static FIX_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)\b(?:suggested|recommended|proposed|possible) (?:fix|patch|remediation|mitigation)\b|\bto fix this\b|\bthe fix (?:is|would be)\b|\b(?:fixed|patched|resolved|addressed) in\b|\b(?:upgrade|update) (?:\w+ )?to\b|\bshould (?:instead )?(?:be )?(?:use|using|validate|validated|sanitiz\w+|escap\w+|check|checked|reject|rejected|enforce|restrict|encode|encoded|verify|verified|limit|limited|drop|dropped)\b|\bwe recommend\b|\brecommend(?:ed)? (?:to|that|using|upgrading)\b|\bparameteri[sz]ed queries\b|^diff --git|^@@ -\d|\bcommit [0-9a-f]{7,40}\b.{0,40}\bfix|\bworkarounds?\b[^\n]{0,80}(?:\bis\b|:|\bdisable\b|\bset\b|\benforce\b|\buse\b)|\b(?:flaw|bug|issue|vulnerability|problem)\s+(?:was|is|has been)\s+(?:fully\s+)?(?:resolved|fixed|corrected|addressed|mitigated)\s+by\b|\b(?:is|was|has been)\s+(?:fully\s+)?(?:fixed|corrected|resolved|mitigated)\s+(?:in\s+[^\n]{0,40}?)?by\s+(?:enforcing|ensuring|adding|checking|validating|rejecting|limiting|removing|replacing|using|correcting|making|escaping|sanitiz\w+)\b|\bpatched\s+(?:with|in|by)\s+commit\b|^[ \t#*]*(?:fix|fix idea|remediation|suggested patch|mitigation|recommendation)s?(?:\s+(?:guidelines?|steps?|advice|options?|ideas?))?\s*:|\b(?:in order )?to (?:fix|mitigate|remediate|address) (?:this|these|the) (?:issues?|vulnerabilit(?:y|ies)|bugs?|problems?|flaws?|weakness(?:es)?)\s*,|\b(?:mitigations?|remediations?|fix(?:es)?|solutions?|workarounds?)\s+(?:is to|are to|would be to|could be to|include|includes|including)\b|\b(?:remediated|patched|mitigated)\s+by\b|\binstead,?\s+(?:\w+\s+){1,4}?should\b|\b(?:would|will|should|could)\s+(?:fix|prevent|mitigate|solve|resolve|close)\s+(?:it|this|that|th(?:e|is)\s+(?:issue|problem|vulnerability|bug|hole|attack))\b|\b(?:(?:versions?|releases?)\s+`?v?\d+(?:\.\d+)*`?|which)\s+(?:fixes|fixed|resolves|resolved|addresses|addressed|corrects|corrected)\s+(?:th(?:is|ese|e)|all)\s+(?:[\w-]+\s+){0,3}?(?:issues?|vulnerabilit(?:y|ies)|problems?|bugs?|flaws?|weakness(?:es)?)\b|\bshould (?:probably |rather |instead )?be (?:something like|changed to|replaced (?:with|by)|rewritten)\b",
    )
});
pub(super) static CVE_RE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bCVE-(\d{4})-(\d{4,7})\b"));
pub(super) static CWE_RE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bCWE-(\d{1,4})\b"));
pub(super) static GHSA_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\bGHSA(?:-[23456789cfghjmpqrvwx]{4}){3}\b"));
pub(super) static CREDIT_NAME: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r#"(?i)\b(?:please\s+)?credit\s+(?:me|us|this (?:finding|report|issue))?\s*(?:as|to)\s+(?:["“'](?P<q>[^"”'\n]{2,80})["”']|(?P<n>[^\n.,;()]{2,60}))|"#,
        r"\bthanks?\s+to\s+(?P<t>[^\n.;]{2,80}?)\s+for\s+(?:reporting|disclosing|discovering|finding|responsibly)|\b(?:reported|discovered|found)\s+by\s+(?P<r>[A-Z][^\n.,;()]{1,60})",
    ))
});
pub(super) static ANON: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:remain|stay|be kept|be listed as|credited as)\s+anonymous\b|\b(?:do not|don't|please don't|no need to)\s+(?:credit|mention|name)\s+(?:me|us)\b|\bno credit\b",
    )
});
pub(super) static BEG_BOUNTY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:bounty|reward|compensation|payment|paypal|bitcoin|btc|usdt)\b[^\n]{0,80}\b(?:before|first|in exchange|amount|how much|offer|eligible)\b|\b(?:how much|what) (?:is|will) (?:the|your) (?:bounty|reward)\b|\bbefore (?:i|we) (?:share|send|disclose|provide|reveal)\b|\b(?:can|could|may|will|would|do) (?:i|we) (?:get|receive|be (?:paid|rewarded|eligible)|expect)\b[^\n.?]{0,30}\b(?:bount\w*|rewards?|compensat\w*|payments?|paid|swag)\b|\b(?:any|a) (?:bount\w*|rewards?) for (?:me|this|these|my)\b|\bappreciated (?:as|with) a (?:reward|bounty)\b",
    )
});
pub(super) static SCANNER: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?im)\b(?:missing|lack of|no|absent|not (?:set|configured|enabled))\b[^\n.]{{0,40}}\b(?:dmarc|spf|dkim|x-frame-options|content-security-policy|csp header|hsts|strict-transport-security|x-content-type-options|x-xss-protection|referrer-policy|permissions-policy|security headers?|clickjacking protection|csrf token on (?:the )?logout|rate limit\w*)\b|\b(?:dmarc|spf|dkim)\b[^\n.]{{0,30}}\b(?:missing|not (?:found|set|configured)|records?)\b|\bclick[- ]?jacking\b|\bbanner grabbing\b|\bserver version disclos\w+|\bself[- ]xss\b|\bautocomplete\s+(?:enabled|on)\b|\b(?:server|apache|nginx|iis|php|software)\b[^\n.]{{0,20}}\bversion(?: information)? (?:disclos|expos|reveal|leak)\w*|\bversion (?:information )?disclos\w+|{TEMPLATE_SESSION}|^[|\s*]*scanner[*\s]*[:|]"
    ))
});
/// Asking how or where to report, or about a reward, instead of reporting: the
/// beg-bounty opener ("is there any policy to report vulnerabilities and reward
/// researchers?", "kindly guide me how to proceed with submitting").
pub(super) static DISCLOSURE_INQUIRY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:is there|do you have|does \w+ have)\s+(?:a|an|any)\b[^\n.?]{0,40}\b(?:bounty|reward|(?:policy|program|programme) (?:to|for) report\w*|(?:disclosure|bounty|reward) (?:policy|program|programme))|\bhow (?:to|can i|could i|should i|do i) (?:proceed|submit|report|share|send)\b|\bguidance on how to\b|\bwhere (?:can|could|should|do) i (?:report|submit|send)\b",
    )
});
/// A "PoC" that is only a link to a video or a file share.
pub(super) static POC_LINK_ONLY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)^\W*(?:poc|proof[- ]of[- ]concept)\W*\s*(?:\n\s*)?https?://(?:www\.)?(?:youtube\.com|youtu\.be|drive\.google\.com|vimeo\.com|(?:www\.)?loom\.com|imgur\.com|prnt\.sc|dropbox\.com|mega\.nz)/\S*\s*$",
    )
});
/// The classes that come as templates (the beg-bounty classics): named as the report's
/// headline they make it low effort even with the template's own steps (two browsers
/// logged in) and, for a missing header or DNS record or a version banner, its own
/// "proof" (an iframe page, a DNS lookup).
static TEMPLATE_CLASS: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"{TEMPLATE_HEADER}|{TEMPLATE_SESSION}")));
/// Header, DNS and banner findings: no proof makes them more than the template.
const TEMPLATE_HEADER: &str = r"(?i)\bclick[- ]?jacking\b|\bx-frame-options\b|\b(?:spf|dmarc|dkim)\b|\bversion (?:information )?disclos\w+|\bbanner grabbing\b";
static TEMPLATE_HEADER_CLASS: LazyLock<Regex> = LazyLock::new(|| re(TEMPLATE_HEADER));
/// A session not invalidated after a password change: a template unless a real proof
/// of concept (code, requests) comes with it. Case-insensitive where it is used (the
/// template classes and the scanner findings).
const TEMPLATE_SESSION: &str = r"\bsession\w*\b[^\n.]{0,40}\b(?:not|never|fail\w*|n't)\b[^\n.]{0,20}\b(?:expir|invalidat|terminat)\w*|\b(?:fail\w*|not) to (?:invalidate|expire|terminate) (?:the |all |other )?sessions?\b|\binvalidate (?:all )?(?:other )?sessions? (?:when|after|on)\b";
/// The recipient's own mail domain judged by its DNS records ("no DMARC policy for
/// acme.io domain", "your current SPF configuration … ~all"): a finding about how a
/// domain is run, not a flaw in the software, whatever "proof" (a spoofing form, a PHP
/// `mail()` call) comes with it. A report about a program that reads these records (a
/// mail server's SPF parser) names no domain of the recipient's.
static DOMAIN_MAIL_RECORDS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:spf|dmarc|dkim)\b[^\n]{0,60}?\b(?:for|on|of)\s+(?:your\s+|the\s+|this\s+)?(?:[a-z0-9-]+\.)*[a-z0-9-]*\s*(?:domain|website|web\s*site)\b|\byour\s+(?:current\s+)?(?:domain'?s?\s+)?(?:spf|dmarc|dkim)\b|\b(?:domain|website)\b[^\n.]{0,40}\b(?:spf|dmarc|dkim)\s+records?\b[^\n.]{0,30}\b(?:missing|not\s+found|none|weak|misconfigur\w*|soft\s*-?\s*fail|~all)",
    )
});
/// The line that names the finding in a template report ("Vulnerability Name: …").
static HEADLINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)^\W*(?:vulnerability(?: name| type| title)?|title|issue|bug|finding)\s*(?::|-{1,2}|–)[^\n]*$",
    )
});

/// Reproduction steps: numbered steps, or the PoC itself when it is a reproducer.
pub(super) fn find_repro_steps(docs: &[Doc<'_>], poc: &Poc) -> Flag {
    let mut repro_ev = Vec::new();
    // A numbered list of links ("1. https://…/payment_credential.cc;l=105") is a list
    // of references, not steps.
    static LINK_ITEM: LazyLock<Regex> =
        LazyLock::new(|| re(r"\A[ \t]*(?:step[ \t]*)?1[ \t]*(?:[.):]|-)[ \t]+<?(?:https?://|\[)"));
    for doc in docs.iter().skip(1) {
        if let Some(m) = STEPS
            .find_iter(doc.text)
            .take(MAX_MATCHES)
            .find(|m| !LINK_ITEM.is_match(m.as_str()))
        {
            repro_ev.push(evidence(doc, m.start(), m.end(), "steps"));
        }
    }
    if repro_ev.is_empty()
        && poc.status == PocStatus::Present
        && let Some(first) = poc.evidence.first()
    {
        repro_ev.push(Evidence {
            rule: "poc-is-reproducer".into(),
            ..first.clone()
        });
    }
    Flag {
        present: !repro_ev.is_empty(),
        evidence: repro_ev,
    }
}

/// "decided not to fix this", "won't fix it", "will never be patched": a fix statement
/// the words just before take back.
fn declined_before(text: &str, start: usize) -> bool {
    static DECLINED: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?i)(?:\bnot|n't|\bnever|\bno plans? to|\brefused? to)\s+(?:be\s+|going\s+to\s+)?$")
    });
    let from = char_start(text, start.saturating_sub(30), start);
    text.get(from..start)
        .is_some_and(|ctx| DECLINED.is_match(ctx))
}

/// A suggested fix: Fix/Patch/Workaround sections, fix statements, diffs, patch files.
pub(super) fn find_fix(docs: &[Doc<'_>], input: &Input<'_>) -> Flag {
    let mut fix_ev = Vec::new();
    for doc in docs.iter().skip(1) {
        for s in &doc.sections {
            if FIX_HEADING.is_match(&s.heading) {
                let body = section_text(doc.text, s);
                if body.len() >= 8 && !NONE_CONTENT.is_match(body) {
                    fix_ev.push(evidence(
                        doc,
                        s.start,
                        s.end.min(s.start + 200),
                        "fix-section",
                    ));
                }
            }
        }
        // A diff in a PoC or reproduction section sets up the exploit (a patch that
        // exposes the bug in a demo application); it does not fix anything.
        let in_poc = |pos: usize| {
            section_at(&doc.sections, pos).is_some_and(|s| {
                POC_HEADING.is_match(&s.heading) && !FIX_HEADING.is_match(&s.heading)
            })
        };
        for m in FIX_PHRASE.find_iter(doc.text).take(MAX_MATCHES) {
            let diff_line = m.as_str().starts_with("diff --git") || m.as_str().starts_with("@@");
            if declined_before(doc.text, m.start()) || (diff_line && in_poc(m.start())) {
                continue;
            }
            fix_ev.push(evidence(doc, m.start(), m.end(), "fix-statement"));
        }
        for b in &doc.fenced {
            if b.lang == "diff" && !in_poc(b.start) {
                fix_ev.push(evidence(doc, b.start, b.end, "diff"));
            }
        }
    }
    for a in &input.attachments {
        if let Some(n) = a.name
            && (n.ends_with(".patch") || n.ends_with(".diff"))
        {
            fix_ev.push(Evidence {
                text: n.into(),
                location: format!("attachment:{n}"),
                start: 0,
                end: 0,
                rule: "patch-attachment".into(),
            });
        }
    }
    Flag {
        present: !fix_ev.is_empty(),
        evidence: fix_ev,
    }
}

/// CVE, CWE and GHSA ids named anywhere in the report.
pub(super) fn find_ids(docs: &[Doc<'_>]) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let mut cve = BTreeSet::new();
    let mut cwe = BTreeSet::new();
    let mut ghsa = BTreeSet::new();
    for doc in docs {
        for c in CVE_RE.captures_iter(doc.text) {
            cve.insert(format!("CVE-{}-{}", &c[1], &c[2]));
        }
        for c in CWE_RE.captures_iter(doc.text) {
            cwe.insert(format!("CWE-{}", &c[1]));
        }
        for m in GHSA_RE.find_iter(doc.text) {
            ghsa.insert(m.as_str().to_ascii_lowercase().replacen("ghsa", "GHSA", 1));
        }
    }
    (cve, cwe, ghsa)
}

/// The credit the reporter asks for: a name (quoted or not), or anonymity.
pub(super) fn find_credit(docs: &[Doc<'_>]) -> Option<Credit> {
    let mut credit = None;
    for doc in docs.iter().skip(1) {
        if let Some(m) = ANON.find(doc.text) {
            credit = Some(Credit {
                name: None,
                anonymous: true,
                evidence: evidence(doc, m.start(), m.end(), "anonymous"),
            });
            break;
        }
        if let Some(c) = CREDIT_NAME.captures(doc.text)
            && let Some(m) = c.get(0)
        {
            let name = c
                .name("q")
                .or(c.name("n"))
                .or(c.name("t"))
                .or(c.name("r"))
                .map(|n| n.as_str().trim().to_string());
            credit = Some(Credit {
                name,
                anonymous: false,
                evidence: evidence(doc, m.start(), m.end(), "credit"),
            });
            break;
        }
    }
    credit
}

/// Low effort: beg-bounty talk, scanner-style findings, or nothing technical at all.
pub(super) fn find_low_effort(
    docs: &[Doc<'_>],
    input: &Input<'_>,
    f: &Findings,
    all_text: &str,
) -> LowEffort {
    let (poc, versions, repro_steps, impact) = (&f.poc, &f.versions, &f.repro_steps, &f.impact);
    let classes = &impact.class;
    let mut reasons = Vec::new();
    let mut le_ev = Vec::new();
    let mut header_template = false;
    let technical = poc.status == PocStatus::Present
        || versions.present
        || repro_steps.present
        || !f.cve_ids.is_empty();
    for doc in docs {
        if let Some(m) = BEG_BOUNTY.find(doc.text) {
            if !reasons.contains(&"beg-bounty") {
                reasons.push("beg-bounty");
            }
            le_ev.push(evidence(doc, m.start(), m.end(), "beg-bounty"));
        }
        if let Some(m) = DISCLOSURE_INQUIRY.find(doc.text) {
            if !reasons.contains(&"beg-bounty") {
                reasons.push("beg-bounty");
            }
            le_ev.push(evidence(doc, m.start(), m.end(), "disclosure-inquiry"));
        }
        if let Some(m) = SCANNER.find(doc.text) {
            if !reasons.contains(&"scanner-finding") {
                reasons.push("scanner-finding");
            }
            le_ev.push(evidence(doc, m.start(), m.end(), "scanner-finding"));
        }
        {
            // A template class as the report's headline (its subject, or a
            // "Vulnerability:" line): a template, whose clickjacking iframe or SPF lookup
            // does not make it a report.
            // A flaw in a program that handles these things ("Stack overflow in the SPF
            // record parser") is no template, whatever it names.
            static SOFTWARE_FLAW: LazyLock<Regex> = LazyLock::new(|| {
                re(
                    r"(?i)\b(?:parser|parsing|evaluator|library|implementation|crash\w*|overflow|panic\w*|use[- ]after[- ]free|out[- ]of[- ]bounds|null pointer|segfault|memory corruption|injection)\b",
                )
            });
            let template = |h: &str| TEMPLATE_CLASS.is_match(h) && !SOFTWARE_FLAW.is_match(h);
            let headline = if doc.location == "subject" {
                template(doc.text).then_some((0, doc.text.len()))
            } else {
                HEADLINE
                    .find_iter(doc.text)
                    .find(|h| template(h.as_str()))
                    .map(|h| (h.start(), h.end()))
            };
            if let Some((a, b)) = headline {
                if !reasons.contains(&"template-finding") {
                    reasons.push("template-finding");
                }
                let line = doc.text.get(a..b).unwrap_or_default();
                header_template |= TEMPLATE_HEADER_CLASS.is_match(line);
                le_ev.push(evidence(doc, a, b, "template-finding"));
            }
        }
        if let Some(m) = DOMAIN_MAIL_RECORDS.find(doc.text) {
            if !reasons.contains(&"template-finding") {
                reasons.push("template-finding");
            }
            header_template = true;
            le_ev.push(evidence(doc, m.start(), m.end(), "domain-mail-records"));
        }
        if let Some(m) = POC_LINK_ONLY.find(doc.text) {
            if !reasons.contains(&"poc-is-a-link") {
                reasons.push("poc-is-a-link");
            }
            le_ev.push(evidence(doc, m.start(), m.end(), "poc-is-a-link"));
        }
    }
    let body_len = input.text.trim().len();
    static SEC_WORDS: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)vulnerab|exploit|attack|inject|bypass|malicious|escalat|overflow|unauthori[sz]ed|leak|traversal|forgery|sandbox",
        )
    });
    // Short but specific (a maintainer's advisory): it names code or a weakness.
    static SPECIFIC: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\w::\w|\w\.\w+\(|\w\(\)|\b(?:insecure|incorrect|improper|unsafe|non-cryptographic\w*|predictable|weak (?:random|hash|cipher|key)|out[- ]of[- ]bounds|use[- ]after[- ]free|double free|race condition|null (?:pointer )?dereference|denial of service|integer (?:overflow|underflow)|buffer|unchecked|unvalidated|unsanitized|plaintext|cleartext|hard-?coded)\b",
        )
    });
    // A pointer, not a report: a short text whose substance is "see the advisory there"
    // (a database entry for an advisory published elsewhere). A link to a researcher's
    // own write-up is not this.
    static POINTER: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:for (?:more )?(?:information|details)|more details|details are)\b[^\n]{0,30}\b(?:see|at|in|on)\b[^\n]{0,40}\b(?:advisory|advisories|GHSA-)",
        )
    });
    if body_len < 400
        && input.attachments.is_empty()
        && poc.status != PocStatus::Present
        && !versions.present
        && !repro_steps.present
        && let Some(doc) = docs.iter().find(|d| d.location == "body")
        && let Some(m) = POINTER.find(doc.text)
    {
        reasons.push("pointer-only");
        le_ev.push(evidence(doc, m.start(), m.end(), "pointer-only"));
    }
    let specific = SPECIFIC.is_match(all_text);
    if classes.is_empty() && !impact.present && !technical && input.attachments.is_empty() {
        if body_len < 400 && !specific {
            reasons.push("no-technical-detail");
        } else if !SEC_WORDS.is_match(all_text) && !specific {
            reasons.push("not-a-vulnerability-report");
        }
    }
    // Bounty talk next to a real PoC is not low effort; a scanner-style finding (missing
    // header, rate limiting, clickjacking) is low effort only when nothing shows it can be
    // reproduced (no PoC and no reproduction steps).
    // A scanner-style finding that is the report's headline is a template even with
    // its boilerplate proof. A PoC that is only a video or file-share link is none.
    let nothing_reproducible = poc.status != PocStatus::Present && !repro_steps.present;
    let flag = reasons.contains(&"no-technical-detail")
        || reasons.contains(&"not-a-vulnerability-report")
        || reasons.contains(&"pointer-only")
        || (reasons.contains(&"template-finding")
            && (header_template || poc.status != PocStatus::Present))
        || (reasons.contains(&"beg-bounty") && poc.status != PocStatus::Present)
        || (reasons.contains(&"scanner-finding") && nothing_reproducible)
        || (reasons.contains(&"poc-is-a-link") && nothing_reproducible);
    LowEffort {
        flag,
        reasons: reasons.into_iter().map(str::to_string).collect(),
        evidence: le_ev,
    }
}
