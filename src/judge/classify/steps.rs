//! Reproduction steps: numbered steps, a "steps to reproduce" section, or the PoC
//! itself when it is a reproducer.

use super::*;

pub(super) static STEPS: LazyLock<Regex> = LazyLock::new(|| {
    re_wrapped(
        r"(?im)\b(?:steps to (?:reproduce|replicate|check|verify|test|trigger|produce)|to reproduce|reproduction steps|how to reproduce|reproducer|repro steps)\b|^[ \t]*(?:step[ \t]*)?1[ \t]*(?:[.):]|-)[ \t]+\S[^\n]*\n(?:[^\n]*\n){0,8}?[ \t]*(?:step[ \t]*)?2[ \t]*(?:[.):]|-)[ \t]+\S",
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
