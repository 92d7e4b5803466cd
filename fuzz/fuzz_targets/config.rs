//! The config parser on any text (TOML syntax, types, durations, sizes): an error,
//! never a panic. Durations and sizes are also parsed on their own.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = triaged::config::Config::from_toml(text, std::path::Path::new("fuzz.toml"));
    if let Ok(d) = triaged::config::Duration::parse(text) {
        let _ = d.after(1_795_500_000);
        let _ = d.to_string();
    }
    let _ = triaged::config::Size::parse(text);
});
