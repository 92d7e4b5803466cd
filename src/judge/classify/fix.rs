//! Fix suggestions: Fix/Patch/Workaround sections, fix statements, diffs, patch files;
//! a fix the words before take back ("won't fix") is none.

use super::*;

pub(super) static FIX_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    re_wrapped(
        r"(?im)\b(?:suggested|recommended|proposed|possible) (?:fix|patch|remediation|mitigation)\b|\bto fix this\b|\bthe fix (?:is|would be)\b|\b(?:fixed|patched|resolved|addressed) in\b|\b(?:upgrade|update) (?:\w+ )?to\b|\bshould (?:instead )?(?:be )?(?:use|using|validate|validated|sanitiz\w+|escap\w+|check|checked|reject|rejected|enforce|restrict|encode|encoded|verify|verified|limit|limited|drop|dropped)\b|\bwe recommend\b|\brecommend(?:ed)? (?:to|that|using|upgrading)\b|\bparameteri[sz]ed queries\b|^diff --git|^@@ -\d|\bcommit [0-9a-f]{7,40}\b.{0,40}\bfix|\bworkarounds?\b[^\n]{0,80}(?:\bis\b|:|\bdisable\b|\bset\b|\benforce\b|\buse\b)|\b(?:flaw|bug|issue|vulnerability|problem)\s+(?:was|is|has been)\s+(?:fully\s+)?(?:resolved|fixed|corrected|addressed|mitigated)\s+by\b|\b(?:is|was|has been)\s+(?:fully\s+)?(?:fixed|corrected|resolved|mitigated)\s+(?:in\s+[^\n]{0,40}?)?by\s+(?:enforcing|ensuring|adding|checking|validating|rejecting|limiting|removing|replacing|using|correcting|making|escaping|sanitiz\w+)\b|\bpatched\s+(?:with|in|by)\s+commit\b|^[ \t#*]*(?:fix|fix idea|remediation|suggested patch|mitigation|recommendation)s?(?:\s+(?:guidelines?|steps?|advice|options?|ideas?))?\s*:|\b(?:in order )?to (?:fix|mitigate|remediate|address) (?:this|these|the) (?:issues?|vulnerabilit(?:y|ies)|bugs?|problems?|flaws?|weakness(?:es)?)\s*,|\b(?:mitigations?|remediations?|fix(?:es)?|solutions?|workarounds?)\s+(?:is to|are to|would be to|could be to|include|includes|including)\b|\b(?:remediated|patched|mitigated)\s+by\b|\binstead,?\s+(?:\w+\s+){1,4}?should\b|\b(?:would|will|should|could)\s+(?:fix|prevent|mitigate|solve|resolve|close)\s+(?:it|this|that|th(?:e|is)\s+(?:issue|problem|vulnerability|bug|hole|attack))\b|\b(?:(?:versions?|releases?)\s+`?v?\d+(?:\.\d+)*`?|which)\s+(?:fixes|fixed|resolves|resolved|addresses|addressed|corrects|corrected)\s+(?:th(?:is|ese|e)|all)\s+(?:[\w-]+\s+){0,3}?(?:issues?|vulnerabilit(?:y|ies)|problems?|bugs?|flaws?|weakness(?:es)?)\b|\bshould (?:probably |rather |instead )?be (?:something like|changed to|replaced (?:with|by)|rewritten)\b|\b(?:versions?|releases?) `?v?\d+(?:\.\d+)*`? (?:containing|including|with|which contains|that contains) (?:the|a) (?:fix|patch)\b|^[ \t#*-]*(?:fixed|patched)(?: (?:in|versions?|releases?))?[ \t]*:[ \t]*\S|\bthe (?:fixed|patched) (?:versions?|releases?) (?:is|are|include)\b",
    )
});

/// A one-line Solution/Fix section that says there is none ("There aren't any fix
/// addressing the issue.", "No patch is available yet").
static NO_FIX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bthere (?:is|are)(?: not|n't| no)(?: any| a)? (?:fix|patch|solution|workaround)(?:e?s)?\b|\bno (?:fix|patch|solution|workaround)(?:e?s)? (?:is |are |has been |have been )?(?:yet |currently )?(?:available|exists?|released|planned)\b|\b(?:has|have) not (?:yet )?been (?:fixed|patched)\b",
    )
});

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
                // Only when that is all it says ("No fix is available. Do not use the
                // module until then." still advises something).
                let no_fix = body.trim().lines().filter(|l| !l.trim().is_empty()).count() == 1
                    && NO_FIX.is_match(body);
                if body.len() >= 8 && !NONE_CONTENT.is_match(body) && !no_fix {
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
