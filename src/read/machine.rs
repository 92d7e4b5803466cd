//! Machine-written reports about a domain's mail, not about its software: DMARC
//! aggregate reports (RFC 7489 §7.2, RFC 9990), SMTP TLS reports (RFC 8460), and any
//! other RFC 6522 `multipart/report` that is not a delivery report, a read receipt or
//! a feedback report (those are [`crate::read::dsn`]'s).
//!
//! Domains publish `rua=mailto:security@…` or `TLSRPT … rua=mailto:security@…`, and
//! then every large receiver (Google, Microsoft, Yahoo, Mimecast, …) mails that
//! address a report every day, from addresses such as `noreply-dmarc-support@google.com`
//! and without any RFC 3834 header. Recognised by what the standards make them carry
//! (the `Report Domain: … Submitter: …` subject, the `receiver!domain!begin!end` file
//! name, the `tlsrpt` report type, the `TLS-Report-Domain` header), never by sender.

use mail_parser::{Message, MimeHeaders};
use serde::{Deserialize, Serialize};

use crate::read::mime::Report;

/// What kind of machine report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum MachineKind {
    /// A DMARC aggregate report (RFC 7489 §7.2): XML, usually zipped or gzipped.
    DmarcAggregate,
    /// An SMTP TLS report (RFC 8460): JSON, usually gzipped.
    TlsReport,
    /// A `multipart/report` of another type (or of none): a mail system's
    /// administrative message (RFC 6522), never mail a person wrote.
    MailSystemReport { report_type: String },
}

/// A machine report: its kind, and the domain it is about and who sent it, when said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineReport {
    #[serde(flatten)]
    pub kind: MachineKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter: Option<String>,
}

impl MachineReport {
    /// Its kind, as the digest counts it.
    pub fn nothing_owed(&self) -> crate::domain::status::NothingOwed {
        use crate::domain::status::NothingOwed;
        match self.kind {
            MachineKind::DmarcAggregate => NothingOwed::DmarcAggregate,
            MachineKind::TlsReport => NothingOwed::TlsReport,
            MachineKind::MailSystemReport { .. } => NothingOwed::MailSystemReport,
        }
    }

    /// One line for people: "a DMARC aggregate report (RFC 7489) from google.com about
    /// borschow.com".
    pub fn describe(&self) -> String {
        let mut s = match &self.kind {
            MachineKind::DmarcAggregate => "a DMARC aggregate report (RFC 7489)".to_string(),
            MachineKind::TlsReport => "an SMTP TLS report (RFC 8460)".to_string(),
            MachineKind::MailSystemReport { report_type } if report_type.is_empty() => {
                "a mail system's report (multipart/report, RFC 6522)".to_string()
            }
            MachineKind::MailSystemReport { report_type } => format!(
                "a mail system's report (multipart/report; report-type={report_type}, RFC 6522)"
            ),
        };
        if let Some(by) = &self.submitter {
            s.push_str(&format!(" from {by}"));
        }
        if let Some(d) = &self.domain {
            s.push_str(&format!(" about {d}"));
        }
        s
    }
}

/// Longest domain or submitter kept, in characters.
const MAX_NAME: usize = 253;

/// Recognises a machine report in a message the walk read (`r`: its subject and
/// attachments); `None` for anything else, and for delivery reports (read into
/// `r.delivery`).
pub fn recognise(msg: &Message<'_>, r: &Report) -> Option<MachineReport> {
    if r.delivery.is_some() {
        return None;
    }
    let report_type = msg
        .content_type()
        .filter(|c| {
            c.ctype().eq_ignore_ascii_case("multipart")
                && c.subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        })
        .map(|c| {
            c.attribute("report-type")
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    let subject = r.outer_subject.as_deref().and_then(subject_fields);
    let header = |name: &str| msg.header_raw(name).map(|v| name_only(v.trim()));
    let tls = report_type.as_deref() == Some("tlsrpt")
        || header("TLS-Report-Domain").is_some()
        || r.attachments.iter().any(|a| {
            a.content_type
                .to_ascii_lowercase()
                .starts_with("application/tlsrpt")
        });
    if tls {
        return Some(MachineReport {
            kind: MachineKind::TlsReport,
            domain: header("TLS-Report-Domain").or_else(|| subject.clone().map(|s| s.0)),
            submitter: header("TLS-Report-Submitter").or_else(|| subject.map(|s| s.1)),
        });
    }
    let file = r
        .attachments
        .iter()
        .find_map(|a| a.name.as_deref().and_then(dmarc_file_name));
    let archive = r.attachments.iter().any(|a| {
        let t = a.content_type.to_ascii_lowercase();
        t.contains("zip") || t.contains("gzip") || t.ends_with("/xml")
    });
    if file.is_some() || (subject.is_some() && archive) {
        let (domain, submitter) = match (subject, file) {
            (Some((d, s)), _) => (d, s),
            (None, Some((receiver, domain))) => (domain, receiver),
            (None, None) => return None,
        };
        return Some(MachineReport {
            kind: MachineKind::DmarcAggregate,
            domain: Some(domain),
            submitter: Some(submitter),
        });
    }
    report_type.map(|report_type| MachineReport {
        kind: MachineKind::MailSystemReport { report_type },
        domain: None,
        submitter: None,
    })
}

/// RFC 7489 §7.2.1.1 (and RFC 8460 §5.3): `Report Domain: example.com Submitter:
/// google.com Report-ID: <…>`, case and spacing as receivers write them (Google writes
/// "Report domain:"), anywhere in the subject. Returns (domain, submitter).
fn subject_fields(subject: &str) -> Option<(String, String)> {
    let words: Vec<&str> = subject.split_whitespace().collect();
    let at = words.windows(2).position(|w| {
        w.first().is_some_and(|a| a.eq_ignore_ascii_case("report"))
            && w.get(1).is_some_and(|b| b.eq_ignore_ascii_case("domain:"))
    })?;
    let domain = words.get(at + 2)?;
    if !words
        .get(at + 3)
        .is_some_and(|w| w.eq_ignore_ascii_case("submitter:"))
    {
        return None;
    }
    let submitter = words.get(at + 4)?;
    Some((name_only(domain), name_only(submitter)))
}

/// RFC 7489 §7.2.1.1's file name: `receiver "!" policy-domain "!" begin "!" end [ "!"
/// unique-id ] "." extension` (`google.com!example.org!1538204542!1538463818.xml.gz`).
/// Returns (receiver, policy domain).
fn dmarc_file_name(name: &str) -> Option<(String, String)> {
    let lower = name.trim().to_ascii_lowercase();
    let stem = [".xml.gz", ".xml.zip", ".xml", ".zip", ".gz"]
        .iter()
        .find_map(|ext| lower.strip_suffix(ext))?;
    let fields: Vec<&str> = stem.split('!').collect();
    if !(4..=5).contains(&fields.len()) {
        return None;
    }
    let digits = |s: Option<&&str>| {
        s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
    };
    let word = |s: Option<&&str>| {
        s.is_some_and(|s| !s.is_empty() && !s.contains(char::is_whitespace) && !s.contains('/'))
    };
    if !(word(fields.first())
        && word(fields.get(1))
        && digits(fields.get(2))
        && digits(fields.get(3)))
    {
        return None;
    }
    Some((name_only(fields.first()?), name_only(fields.get(1)?)))
}

/// A domain or submitter as shown to people: printable, capped.
fn name_only(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_as_receivers_write_them() {
        let g = "Report domain: borschow.com Submitter: google.com Report-ID: 949348866075514174";
        assert_eq!(
            subject_fields(g),
            Some(("borschow.com".into(), "google.com".into()))
        );
        let t = "Report Domain: cardinalhealth.ca Submitter: google.com Report-ID: <2024.09.03T00.00.00Z+cardinalhealth.ca@google.com>";
        assert_eq!(
            subject_fields(t),
            Some(("cardinalhealth.ca".into(), "google.com".into()))
        );
        // Mimecast leaves the Report-ID empty; a prefix does not hide it.
        let m = "[EXT] Report   domain: ab.id.au\tSubmitter: mimecast.org Report-ID:";
        assert_eq!(
            subject_fields(m),
            Some(("ab.id.au".into(), "mimecast.org".into()))
        );
        for not in [
            "Report domain takeover in example.org",
            "Report domain: example.org (no submitter)",
            "XSS in report domain: field",
        ] {
            assert_eq!(subject_fields(not), None, "{not}");
        }
    }

    #[test]
    fn file_names_as_rfc_7489_spells_them() {
        let ok = [
            (
                "google.com!example.org!1538204542!1538463818.xml.gz",
                ("google.com", "example.org"),
            ),
            (
                "mimecast.org!ab.id.au!1693353600!1693439999!157a5fe3.xml.gz",
                ("mimecast.org", "ab.id.au"),
            ),
            (
                "enterprise.protection.outlook.com!example.com!1711756800!1711843200.xml.gz",
                ("enterprise.protection.outlook.com", "example.com"),
            ),
            (
                "Yahoo.com!example.com!1!2.ZIP",
                ("yahoo.com", "example.com"),
            ),
        ];
        for (name, (r, d)) in ok {
            assert_eq!(dmarc_file_name(name), Some((r.into(), d.into())), "{name}");
        }
        for not in [
            "poc.zip",
            "exploit!.xml",
            "a!b!c!d.xml",
            "a!b!1!2!3!4.xml.gz",
            "a!b!1!2.txt",
            "a b!c!1!2.xml",
        ] {
            assert_eq!(dmarc_file_name(not), None, "{not}");
        }
    }
}
