//! Reports that reach the mailbox through a relay that puts its own address in From:
//! the team's own mailing list, or a web form.
//!
//! Many projects publish `security@` as a Google Group, a Mailman or a Sympa list that
//! delivers to the team, triaged's mailbox among them. Such mail carries `List-Id`
//! and `Precedence: list`, which RFC 3834 says never to answer, and a list that
//! rewrites From for DMARC (Google Groups: `'Rita' via Security <security@…>`;
//! Mailman's `dmarc_mitigate_action = munge_from`) puts its own address where the
//! reporter's was, naming the reporter in `X-Original-From` or `Reply-To`. With
//! `mailbox.list_id` naming that list, its mail is read as sent to the team: the list
//! markers are set aside, and a From rewritten to the list's address (its `List-Post`
//! address or the mailbox's `address`) is replaced by the sender the list names (read
//! as strictly as From). Every other list's mail is still list mail.
//!
//! A "report a vulnerability" web form mails the team from its own address
//! (`wordpress@…`, `forms@…`) with the submitter in `Reply-To`. With that address in
//! `mailbox.form_from`, the submitter is the reporter.

use crate::config::MailboxConfig;
use crate::read::mime::Report;

/// Reads `r` as mail to the team when it came through `mb`'s own list (`list_id`).
fn through_team_list(r: &mut Report, mb: &MailboxConfig) {
    let Some(want) = mb.list_id.as_deref().map(bare_list_id) else {
        return;
    };
    let Some(got) = r.list_id.as_deref().map(bare_list_id) else {
        return;
    };
    if want.is_empty() || !got.eq_ignore_ascii_case(&want) {
        return;
    }
    r.list_id = None;
    if r.precedence
        .as_deref()
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("list"))
    {
        r.precedence = None;
    }
    let list_addrs: Vec<String> = [r.list_post.clone(), mb.address.clone()]
        .into_iter()
        .flatten()
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    let rewritten = r
        .from_addr
        .as_deref()
        .is_some_and(|f| list_addrs.iter().any(|a| a == f));
    let mut note = format!(
        "delivered through the team's list {want} (mailbox {:?} list_id): read as mail to the team",
        mb.name
    );
    if rewritten {
        let list_from = r.from_addr.clone().unwrap_or_default();
        match r.original_from.take().or_else(|| r.reply_to_sender.take()) {
            Some(o) => {
                note.push_str(&format!(
                    "; the list rewrote From to its own address {list_from}, the sender is {} (its {} header)",
                    o.addr, o.header
                ));
                set_sender(r, o);
            }
            None => {
                r.from_problem = Some(format!(
                    "the list {want} rewrote From to its own address {list_from} and names no sender (X-Original-From, Reply-To): answer by hand"
                ));
            }
        }
    }
    r.notes.push(note);
}

/// Reads `r` as the submission of a web form of `mb` (`form_from`): the reporter is
/// the `Reply-To` the form wrote.
fn through_web_form(r: &mut Report, mb: &MailboxConfig) {
    let Some(form) = r.from_addr.clone().filter(|f| {
        mb.form_from
            .iter()
            .any(|a| a.trim().eq_ignore_ascii_case(f))
    }) else {
        return;
    };
    match r.reply_to_sender.take() {
        Some(o) => {
            r.notes.push(format!(
                "sent by the web form {form} (mailbox {:?} form_from): the reporter is {}, its Reply-To",
                mb.name, o.addr
            ));
            set_sender(r, o);
        }
        None => {
            r.from_problem = Some(format!(
                "sent by the web form {form} without a Reply-To naming one submitter: answer by hand"
            ));
        }
    }
}

/// The sender a relay named becomes the message's sender (as if From had said it).
fn set_sender(r: &mut Report, o: crate::read::mime::OriginalSender) {
    r.from_addr = Some(o.addr);
    r.from_name = o.name;
    r.from_problem = o.problem;
}

/// Both relays, in order: the team's list, then a web form.
pub fn through_relays(r: &mut Report, mb: &MailboxConfig) {
    through_team_list(r, mb);
    through_web_form(r, mb);
}

/// `Security <security.example.org>` or `<security.example.org>` → `security.example.org`.
fn bare_list_id(v: &str) -> String {
    let v = v.trim();
    let inner = match (v.rfind('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => v.get(a + 1..b).unwrap_or(v),
        _ => v,
    };
    inner.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_ids_as_lists_write_them() {
        assert_eq!(
            bare_list_id("Security team <Security.Example.ORG>"),
            "security.example.org"
        );
        assert_eq!(
            bare_list_id("<security.example.org>"),
            "security.example.org"
        );
        assert_eq!(
            bare_list_id(" security.example.org "),
            "security.example.org"
        );
    }
}
