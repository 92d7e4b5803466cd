//! Answers from the case: an operator's reply to the reporter (`case reply`).
//!
//! The reply goes to the case's reporter, in the thread (In-Reply-To the reporter's
//! latest message, References the whole chain, our acks included), signed with the
//! team key and encrypted — to the reporter and the team, so that the team's own
//! copies stay readable — whenever a valid key for the reporter's address is known,
//! with protected headers. Without such a key it is sent signed only after the
//! operator said so (`cleartext`), never when the policy requires encryption, and
//! never when it quotes an encrypted report. It waits in the durable outbox like an
//! ack; sending it (not writing it) stops the case's response clock.

use anyhow::{Context, Result};

use crate::config::Config;
use crate::domain::status::{EventKind, OutboxKind};
use crate::read::crypto::TeamKeys;
use crate::reply::outbox::{Mail, compose_mail, new_message_id, reporter_cert_for};
use crate::reply::templates::Facts;
use crate::store::{self, now, rfc3339};

/// A reply an operator wrote for a case.
pub struct ReplyRequest<'a> {
    pub case_id: i64,
    /// The text as the reporter will read it (comments already removed).
    pub text: &'a str,
    /// Who wrote it (recorded with the outbox row and in the event).
    pub author: &'a str,
    /// The template it started from, if any.
    pub template: Option<&'a str>,
    /// The operator accepts a signed-only reply when no key is known.
    pub cleartext: bool,
}

/// What `queue_reply` decided.
#[derive(Debug)]
pub struct Queued {
    pub outbox_id: i64,
    pub to: String,
    pub message_id: String,
    pub encrypted: bool,
    pub in_reply_to: Option<String>,
}

/// Why a reply cannot be sent as asked; each says what to do instead.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The subject of a reply: the case tag (so an answer finds the case) and nothing
/// from the report (the outer subject travels in the clear).
pub fn reply_subject(case_public: &str) -> String {
    format!("Re: [{case_public}] Your security report")
}

/// Queues a reply in the caller's transaction, or says why it may not be sent.
pub fn queue_reply(
    tx: store::Db<'_>,
    cfg: &Config,
    keys: &TeamKeys,
    req: &ReplyRequest<'_>,
) -> Result<std::result::Result<Queued, Refused>> {
    let c = store::case_by_id(tx, req.case_id)?;
    let Some(to) = c.reporter.clone() else {
        return Ok(Err(Refused(format!(
            "case {} has no reporter address to answer (its sender could not be read unambiguously)",
            c.id_public
        ))));
    };
    if req.text.trim().is_empty() {
        return Ok(Err(Refused(
            "the reply is empty: nothing was sent".to_string(),
        )));
    }
    if !keys.can_sign() {
        return Ok(Err(Refused(
            "no signing-capable team key is loaded: a reply must be signed\n  hint: run `triaged check-config`"
                .to_string(),
        )));
    }
    let (policy_name, policy) = cfg.policy_for(&c.mailbox);
    let (cert, why_not) = reporter_cert_for(tx, keys, c.id, &to)?;
    if cert.is_none() {
        let because = why_not.map(|w| format!(" ({w})")).unwrap_or_else(|| {
            " (none was attached, sent by Autocrypt or found in keys.reporter_keyring)".into()
        });
        if policy.require_encryption {
            return Ok(Err(Refused(format!(
                "no valid OpenPGP key for {to} is known{because}, and policy {policy_name} sets require_encryption\n  \
                 hint: add the reporter's key to keys.reporter_keyring, or ask them to send it"
            ))));
        }
        if !req.cleartext {
            return Ok(Err(Refused(format!(
                "no valid OpenPGP key for {to} is known{because}: the reply would be signed but readable on the way\n  \
                 hint: add --cleartext to send it so, or add the reporter's key to keys.reporter_keyring"
            ))));
        }
        if quotes_encrypted_mail(tx, c.id, req.text)? {
            return Ok(Err(Refused(
                "the reply quotes the report, which arrived encrypted: it must not travel in cleartext\n  \
                 hint: remove the quoted lines (starting with '>'), or get the reporter's key"
                    .to_string(),
            )));
        }
    }
    let from = cfg
        .outbox
        .from
        .clone()
        .unwrap_or_else(|| "security@localhost".into());
    let message_id = new_message_id(&format!("{}.reply", c.id_public), &from)?;
    let in_reply_to = store::last_reporter_message_id(tx, c.id, &to)?;
    let references = store::thread_message_ids(tx, c.id)?;
    let subject = reply_subject(&c.id_public);
    let composed = compose_mail(
        keys,
        &Mail {
            from: &from,
            to: &to,
            subject: &subject,
            message_id: &message_id,
            in_reply_to: in_reply_to.as_deref(),
            references: &references,
            body: req.text,
            automatic: false,
        },
        cert.as_ref(),
    )?;
    let id = store::queue_mail(
        tx,
        &store::NewOutgoing {
            case_id: Some(c.id),
            trigger_message: None,
            kind: OutboxKind::Reply,
            recipient: &to,
            message_id: &message_id,
            subject: &subject,
            body: &composed.bytes,
            missing: None,
            at: now(),
            author: Some(req.author),
            template: req.template,
        },
    )?
    .context("the reply's Message-ID is queued already")?;
    store::event(
        tx,
        Some(c.id),
        req.author,
        EventKind::ReplyQueued,
        Some(&format!(
            "reply{} by {} to {to} as <{message_id}>, {}",
            req.template.map(|t| format!(" ({t})")).unwrap_or_default(),
            req.author,
            if composed.encrypted {
                "signed and encrypted"
            } else {
                "signed only (--cleartext)"
            }
        )),
    )?;
    Ok(Ok(Queued {
        outbox_id: id,
        to,
        message_id,
        encrypted: composed.encrypted,
        in_reply_to,
    }))
}

/// Queues a reply and, when asked, moves the case (`case reply --state`), in one
/// transaction: the state changes only if the reply is queued.
pub fn reply_and_move(
    store: &mut store::Store,
    cfg: &Config,
    keys: &TeamKeys,
    req: &ReplyRequest<'_>,
    then: Option<crate::domain::case::State>,
) -> Result<std::result::Result<Queued, Refused>> {
    store.write("reply", |tx| {
        let c = store::case_by_id(tx, req.case_id)?;
        if let Some(to) = then
            && c.state != to
            && !c.state.can_move_to(to)
        {
            let allowed: Vec<&str> = crate::domain::case::ALL_STATES
                .iter()
                .filter(|s| c.state.can_move_to(**s))
                .map(|s| s.as_str())
                .collect();
            return Ok(Err(Refused(format!(
                "{} is {}; it cannot move to {to} (nothing was sent)\n  hint: from {} a case can move to: {}",
                c.id_public,
                c.state,
                c.state,
                allowed.join(", ")
            ))));
        }
        let queued = match queue_reply(tx, cfg, keys, req)? {
            Ok(q) => q,
            Err(r) => return Ok(Err(r)),
        };
        if let Some(to) = then.filter(|to| *to != c.state) {
            store::set_case_state(tx, c.id, to, Some("with a reply to the reporter"))?;
            store::event(
                tx,
                Some(c.id),
                req.author,
                EventKind::State,
                Some(&format!("{} -> {to}: with a reply to the reporter", c.state)),
            )?;
        }
        Ok(Ok(queued))
    })
}

/// Does the text quote (a line starting with '>') a case whose mail arrived encrypted?
fn quotes_encrypted_mail(tx: store::Db<'_>, case_id: i64, text: &str) -> Result<bool> {
    let quotes = text.lines().any(|l| l.trim_start().starts_with('>'));
    if !quotes {
        return Ok(false);
    }
    Ok(store::messages_of(tx, case_id)?
        .iter()
        .any(|m| m.encryption != crate::domain::status::Encryption::None))
}

/// The facts a template is filled from: the case, its verdict and disclosure columns.
pub fn template_facts(tx: store::Db<'_>, case_id: i64) -> Result<Facts> {
    let c = store::case_by_id(tx, case_id)?;
    let (d, credit) = store::disclosure_of(tx, case_id)?;
    let missing = store::findings_of(tx, case_id)?
        .into_iter()
        .filter(|f| f.kind == crate::domain::status::FindingKind::Policy)
        .filter_map(|f| serde_json::from_value::<crate::domain::verdict::Verdict>(f.value).ok())
        .map(|v| v.missing)
        .next_back()
        .unwrap_or_default();
    Ok(Facts {
        case: c.id_public.clone(),
        reporter: c.reporter.clone(),
        reporter_name: c.reporter_name.clone(),
        missing,
        ack_due: c.ack_due.map(rfc3339),
        followup_due: c.followup_due.map(rfc3339),
        resolve_due: c.resolve_due.map(rfc3339),
        fixed_in: d.fixed_in.clone(),
        affected: d.affected.clone(),
        cve: (!d.cve_ids.is_empty()).then(|| d.cve_ids.join(", ")),
        cwe: (!d.cwe_ids.is_empty()).then(|| d.cwe_ids.join(", ")),
        credit: credit.and_then(|c| c.line()),
        embargo: d.embargo_until.clone(),
        advisory_url: d.advisory_url.clone(),
        duplicate_of: c.merged_into.clone(),
    })
}

/// The commented template the editor opens with: the thread so far and what is
/// missing, as `#` lines that are removed before sending.
pub fn editor_preamble(tx: store::Db<'_>, case_id: i64, facts: &Facts) -> Result<String> {
    let mut s = format!(
        "# Reply to {} for case {}. Lines starting with '#' are removed; an empty reply is not sent.\n",
        facts.reporter.as_deref().unwrap_or("(no reporter address)"),
        facts.case
    );
    if !facts.missing.is_empty() {
        s.push_str(&format!(
            "# The policy still needs: {}\n",
            facts.missing.join(", ")
        ));
    }
    s.push_str("#\n# The thread so far:\n");
    for m in store::messages_of(tx, case_id)? {
        s.push_str(&format!(
            "#   {}  from {}  ({}, {})\n",
            rfc3339(m.arrived_at),
            crate::domain::terminal_safe(m.from.as_deref().unwrap_or("?")),
            m.encryption,
            m.status
        ));
    }
    for r in store::sent_of(tx, case_id)? {
        s.push_str(&format!(
            "#   {}  {} to {}{} ({})\n",
            rfc3339(r.at),
            r.kind,
            r.recipient,
            r.author.map(|a| format!(" by {a}")).unwrap_or_default(),
            r.state
        ));
    }
    s.push('\n');
    Ok(s)
}

/// The reply text without the editor's comment lines, trimmed at the end.
pub fn strip_comments(text: &str) -> String {
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let mut s = kept.join("\n");
    let trimmed = s.trim_end().len();
    s.truncate(trimmed);
    let lead = s.len() - s.trim_start_matches('\n').len();
    s.drain(..lead);
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_removed_and_blank_edges_trimmed() {
        assert_eq!(
            strip_comments("# header\n\nHello,\n\n# note\nbye\n\n\n"),
            "Hello,\n\nbye\n"
        );
        assert_eq!(strip_comments("# only comments\n#\n"), "");
        // A '#' later in a line is text.
        assert_eq!(strip_comments("issue #12\n"), "issue #12\n");
    }

    #[test]
    fn the_subject_carries_the_case_tag_and_nothing_of_the_report() {
        let s = reply_subject("SEC-2026-0007");
        assert_eq!(
            crate::domain::case::tags_in(&s),
            vec!["SEC-2026-0007".to_string()]
        );
    }
}
