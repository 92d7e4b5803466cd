//! SLA: the sweep that escalates to the team before a promise is broken and
//! records breaches, and the daily digest. Both are queued in the outbox (signed
//! with the team key, composed by [`crate::reply::outbox::compose`]).

use anyhow::Result;

use crate::config::Config;
use crate::read::crypto::TeamKeys;
use crate::store::{self, now, rfc3339};

use crate::domain::status::{EventKind, OutboxKind};
use crate::reply::outbox::{compose, new_message_id};

/// The daily digest: open cases by state, deadlines in the next 24 h, recent breaches.
pub fn digest_text(conn: store::Db<'_>) -> Result<String> {
    let t = now();
    let mut out = format!("triaged digest, {}\n\nOpen cases by state:\n", rfc3339(t));
    let rows = store::open_counts_by_state(conn)?;
    if rows.is_empty() {
        out.push_str("  (none)\n");
    }
    for (s, n) in rows {
        out.push_str(&format!("  {s:<14} {n}\n"));
    }
    out.push_str("\nDeadlines in the next 24 hours:\n");
    let rows = store::deadlines_between(conn, t, t + 86_400)?;
    if rows.is_empty() {
        out.push_str("  (none)\n");
    }
    for (id, clock, due) in rows {
        out.push_str(&format!("  {id}  {clock} due {}\n", rfc3339(due)));
    }
    out.push_str("\nBreaches in the last 24 hours:\n");
    let rows = store::breaches_since(conn, t - 86_400)?;
    if rows.is_empty() {
        out.push_str("  (none)\n");
    }
    for (id, kind, at) in rows {
        out.push_str(&format!("  {id}  {kind} recorded {}\n", rfc3339(at)));
    }
    // Only when there is something to say: receivers' feedback about our own mail
    // (an ack marked as spam, or failing DMARC), and the mail closed on arrival. A
    // rise in complaints or DMARC failure reports about other mail means someone is
    // sending mail as the domain.
    let rows = store::feedback_since(conn, t - 86_400)?;
    if !rows.is_empty() {
        out.push_str(
            "\nReceivers' feedback about our mail in the last 24 hours (`case show` says what):\n",
        );
        for (id, at) in rows {
            out.push_str(&format!(
                "  {id}  feedback-report recorded {}\n",
                rfc3339(at)
            ));
        }
    }
    let rows = store::closed_on_arrival_since(conn, t - 86_400)?;
    if !rows.is_empty() {
        out.push_str("\nClosed on arrival in the last 24 hours, nothing owed (`case list --state closed`):\n");
        for (kind, n) in rows {
            out.push_str(&format!("  {kind:<20} {n}\n"));
        }
    }
    Ok(out)
}

/// Queues today's digest to the team (once per day).
pub fn enqueue_digest(conn: store::Db<'_>, cfg: &Config, keys: &TeamKeys) -> Result<Option<i64>> {
    let Some(team) = cfg.outbox.team.clone() else {
        return Ok(None);
    };
    let from = cfg
        .outbox
        .from
        .clone()
        .unwrap_or_else(|| "security@localhost".into());
    let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let subject = format!("triaged digest {day}");
    let sent_today = store::queued_with_subject(conn, OutboxKind::Digest, &subject)?;
    if sent_today {
        return Ok(None);
    }
    let message_id = new_message_id(&format!("digest.{day}"), &from)?;
    let body = digest_text(conn)?;
    let composed = compose(keys, &from, &team, &subject, &message_id, None, &body, None)?;
    store::queue_mail(
        conn,
        &store::NewOutgoing {
            case_id: None,
            trigger_message: None,
            kind: OutboxKind::Digest,
            recipient: &team,
            message_id: &message_id,
            subject: &subject,
            body: &composed.bytes,
            missing: None,
            at: now(),
            author: None,
            template: None,
        },
    )
}

/// The SLA sweep: escalations and breaches of the acknowledgment and response
/// windows, of a policy's resolution deadline, reminders before an embargo ends, and
/// notices of mail to a reporter that the server refused for good. Idempotent.
pub fn sweep(conn: store::Db<'_>, cfg: &Config, keys: &TeamKeys) -> Result<usize> {
    let mut n = sweep_ack_and_response(conn, cfg, keys)?;
    n += sweep_resolution_and_embargo(conn, cfg, keys)?;
    n += tell_refusals(conn, cfg, keys)?;
    Ok(n)
}

/// A signed mail to the team about a case.
struct TeamMail<'a> {
    case: (i64, &'a str),
    kind: OutboxKind,
    subject: &'a str,
    body: &'a str,
    /// What the `escalated` event says (the team address is appended).
    event: &'a str,
}

/// Queues a signed mail to the team about a case, with its `escalated` event; false
/// when there is no team address or no signing key.
fn queue_team_mail(
    conn: store::Db<'_>,
    cfg: &Config,
    keys: &TeamKeys,
    m: &TeamMail<'_>,
) -> Result<bool> {
    let TeamMail {
        case,
        kind,
        subject,
        body,
        event,
    } = *m;
    let Some(team) = cfg.outbox.team.clone() else {
        return Ok(false);
    };
    if !keys.can_sign() {
        return Ok(false);
    }
    let from = cfg
        .outbox
        .from
        .clone()
        .unwrap_or_else(|| "security@localhost".into());
    let message_id = new_message_id(&format!("{}.{kind}", case.1), &from)?;
    let composed = compose(keys, &from, &team, subject, &message_id, None, body, None)?;
    store::queue_mail(
        conn,
        &store::NewOutgoing {
            case_id: Some(case.0),
            trigger_message: None,
            kind,
            recipient: &team,
            message_id: &message_id,
            subject,
            body: &composed.bytes,
            missing: None,
            at: now(),
            author: None,
            template: None,
        },
    )?;
    store::event(
        conn,
        Some(case.0),
        "triaged",
        EventKind::Escalated,
        Some(&format!("{event} -> {team}")),
    )?;
    Ok(true)
}

fn left_words(left: i64) -> String {
    if left > 0 {
        format!("{} h {} min left", left / 3600, (left % 3600) / 60)
    } else {
        format!("overdue by {} h {} min", -left / 3600, (-left % 3600) / 60)
    }
}

/// A policy's resolution deadline (escalated at `escalate_at` of the window, breach
/// recorded when it passes) and an embargo's end (reminded `embargo_reminder` before).
fn sweep_resolution_and_embargo(
    conn: store::Db<'_>,
    cfg: &Config,
    keys: &TeamKeys,
) -> Result<usize> {
    let t = now();
    let mut n = 0;
    for c in store::later_clocks(conn)? {
        let case = (c.id, c.public_id.as_str());
        if let Some(due) = c.resolve_due {
            if t >= due && !store::case_has_event(conn, c.id, EventKind::BreachResolve)? {
                store::event(
                    conn,
                    Some(c.id),
                    "triaged",
                    EventKind::BreachResolve,
                    Some(&format!("the resolution deadline {} passed", rfc3339(due))),
                )?;
                n += 1;
            }
            let warn_at =
                c.arrived_at + ((due - c.arrived_at) as f64 * cfg.outbox.escalate_at) as i64;
            if t >= warn_at
                && !store::case_has_mail(conn, c.id, OutboxKind::EscalationResolve)?
                && queue_team_mail(
                    conn,
                    cfg,
                    keys,
                    &TeamMail {
                        case,
                        kind: OutboxKind::EscalationResolve,
                        subject: &format!(
                            "[{}] SLA escalation: resolution due {}",
                            c.public_id,
                            rfc3339(due)
                        ),
                        body: &format!(
                            "Case {}: the policy's resolution deadline is {} ({}).\n\nSee: triaged case show {}\n",
                            c.public_id,
                            rfc3339(due),
                            left_words(due - t),
                            c.public_id
                        ),
                        event: &format!("{}", OutboxKind::EscalationResolve),
                    },
                )?
            {
                n += 1;
            }
        }
        if let Some(day) = &c.embargo_until
            && let Some(ends) = crate::domain::disclosure::embargo_ends_at(day)
            && t >= ends - cfg.outbox.embargo_reminder.secs()
            && !store::case_has_mail(conn, c.id, OutboxKind::EmbargoReminder)?
            && queue_team_mail(
                conn,
                cfg,
                keys,
                &TeamMail {
                    case,
                    kind: OutboxKind::EmbargoReminder,
                    subject: &format!("[{}] Embargo ends {day}", c.public_id),
                    body: &format!(
                        "Case {}: the embargo ends at the end of {day} (UTC), {}.\n\n\
                         Check that the fix is released and the advisory is ready:\n  \
                         triaged case show {}\n  triaged case advisory {} --format osv\n",
                        c.public_id,
                        left_words(ends - t),
                        c.public_id,
                        c.public_id
                    ),
                    event: &format!("{}", OutboxKind::EmbargoReminder),
                },
            )?
        {
            n += 1;
        }
    }
    Ok(n)
}

/// Tells the team of mail to a reporter that the server refused for good (5xx).
fn tell_refusals(conn: store::Db<'_>, cfg: &Config, keys: &TeamKeys) -> Result<usize> {
    let mut n = 0;
    for r in store::refused_untold(conn)? {
        let bounced = r.error.starts_with("bounced:");
        if queue_team_mail(
            conn,
            cfg,
            keys,
            &TeamMail {
                case: (r.case_id, &r.case),
                kind: OutboxKind::SendFailedNotice,
                subject: &if bounced {
                    format!("[{}] Mail to the reporter bounced", r.case)
                } else {
                    format!("[{}] Mail to the reporter was refused", r.case)
                },
                body: &format!(
                    "Case {}: the {} to {} (<{}>) {} and will not be retried:\n\n  {}\n\n\
                     The reporter has not received it: reach them another way, or answer with\n  \
                     triaged case reply {}\nonce the address works again.\n\n\
                     See: triaged case show {}\n",
                    r.case,
                    r.kind,
                    r.recipient,
                    r.message_id,
                    if bounced {
                        "was accepted, then returned by a mail server on the way (a bounce)"
                    } else {
                        "was refused by the mail server"
                    },
                    r.error,
                    r.case,
                    r.case
                ),
                event: &format!("{}", OutboxKind::SendFailedNotice),
            },
        )? {
            n += 1;
        }
        // Without a team address there is nobody to mail; `case show` still says why.
        store::mark_refusal_told(conn, r.outbox_id)?;
    }
    Ok(n)
}

/// The acknowledgment and response windows: escalate to the team when `escalate_at`
/// of a window has passed without the promised answer, and record breaches.
/// Idempotent per case and clock.
fn sweep_ack_and_response(conn: store::Db<'_>, cfg: &Config, keys: &TeamKeys) -> Result<usize> {
    let t = now();
    let mut n = 0;
    let rows = store::sweep_clocks(conn)?;
    for c in rows {
        let (id, public, arrived) = (c.id, c.public_id.as_str(), c.arrived_at);
        let (ack_due, acked, fu_due, responded) =
            (c.ack_due, c.acked_at, c.followup_due, c.responded_at);
        for (clock, due, done) in [("ack", ack_due, acked), ("followup", fu_due, responded)] {
            let (Some(due), None) = (due, done) else {
                continue;
            };
            let warn_at = arrived + ((due - arrived) as f64 * cfg.outbox.escalate_at) as i64;
            if t >= due {
                let breach = if clock == "ack" {
                    EventKind::BreachAck
                } else {
                    EventKind::BreachFollowup
                };
                let seen = store::case_has_event(conn, id, breach)?;
                if !seen {
                    store::event(
                        conn,
                        Some(id),
                        "triaged",
                        breach,
                        Some(&format!("the {clock} deadline {} passed", rfc3339(due))),
                    )?;
                    n += 1;
                }
            }
            if t >= warn_at {
                let kind = if clock == "ack" {
                    OutboxKind::EscalationAck
                } else {
                    OutboxKind::EscalationFollowup
                };
                if store::case_has_mail(conn, id, kind)? {
                    continue;
                }
                let what = if clock == "ack" {
                    "acknowledgment"
                } else {
                    "detailed response"
                };
                let queued = queue_team_mail(
                    conn,
                    cfg,
                    keys,
                    &TeamMail {
                        case: (id, public),
                        kind,
                        subject: &format!(
                            "[{public}] SLA escalation: {clock} due {}",
                            rfc3339(due)
                        ),
                        body: &format!(
                            "Case {public}: the {what} deadline is {} ({}).\n\nArrived: {}\n\nSee: triaged case show {public}\n",
                            rfc3339(due),
                            left_words(due - t),
                            rfc3339(arrived)
                        ),
                        event: &format!("{clock} due {}", rfc3339(due)),
                    },
                )?;
                if !queued {
                    continue;
                }
                n += 1;
            }
        }
    }
    Ok(n)
}
