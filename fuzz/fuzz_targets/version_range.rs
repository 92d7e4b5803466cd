//! Version ranges ("<= 2.4.1", "2.3.x", ">=1.0, <2.0") and versions: parsing any text,
//! then membership, must not panic; a range written from a parsed version contains it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use triaged::judge::policy::{Version, VersionRange};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (range, version) = text.split_once('|').unwrap_or((&text, "1.2.3"));
    let r = VersionRange::parse(range);
    if let Some(v) = Version::parse(version) {
        if let Ok(r) = &r {
            let _ = r.contains(&v);
        }
        let _ = triaged::judge::classify::normalize_version_text(version);
    }
});
