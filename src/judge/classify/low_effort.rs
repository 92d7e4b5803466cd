//! Low effort, judged last from the other findings: beg-bounty talk, scanner-style and
//! template findings, a "PoC" that is only a link, pointers to advisories elsewhere,
//! and texts with nothing technical in them.

use super::*;

pub(super) static BEG_BOUNTY: LazyLock<Regex> = LazyLock::new(|| {
    re_wrapped(
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
    re_wrapped(
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
