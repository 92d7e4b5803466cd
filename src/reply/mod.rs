//! Reply: what we say and to whom, and the durable outbox it waits in.
//!
//! [`outbox`]: silence rules (RFC 3834, loops, ambiguous senders, rate limit),
//! acknowledgment texts, RFC 3156 composition (signed, signed+encrypted with
//! protected headers), the queue, the sender loop and the SLA sweep.
//! [`answer`]: an operator's reply from the case (threaded, signed, encrypted when a
//! key is known). [`templates`]: the usual answers with placeholders.
//! [`advisory`]: OSV and CSAF drafts from a case.

pub mod advisory;
pub mod answer;
pub mod outbox;
pub mod templates;
