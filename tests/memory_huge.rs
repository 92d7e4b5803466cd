//! Issue 18: a 100 MiB encrypted report read in full stays within 64 MiB. At the
//! default `limits.max_message_size` (32 MiB) such a message is an `oversize` case
//! with its headers read; here the limits are raised so it is read: as a stream, from
//! the Maildir file to the store, decrypted from the file (read/stream.rs). GnuPG makes
//! it (73 MiB of text, no compression). One test per file: the peak RSS figure is per
//! test process (see tests/memory.rs).

mod common;
use common::large::*;
use common::*;

const LIMIT_MIB: u64 = 64;
const TEXT_BYTES: usize = 73 * 1024 * 1024;
const RAISED: &str = "max_message_size = \"128MiB\"\nmax_decrypted_size = \"128MiB\"\n";

#[test]
fn a_100_mib_encrypted_report_is_read_as_a_stream_within_64_mib() {
    let gpg = Gpg::new();
    let team = std::fs::read("keys/test/team-secret.asc").unwrap();
    gpg.run(&["--import"], Some(&team));
    let raw = big_report(&gpg, TEXT_BYTES);
    assert!(raw.len > 98 * 1024 * 1024, "{} bytes", raw.len);
    // Reader processes (the default), then one process under a 64 MiB memory cgroup.
    read_within(&team, &raw, RAISED, LIMIT_MIB);
}
