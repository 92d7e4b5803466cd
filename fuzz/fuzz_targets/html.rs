//! HTML bodies as text on any input: no panic, and the text stays within a fixed
//! multiple of the input (no amplification by nesting, entities or links).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let text = triaged::read::html::to_text(&html);
    assert!(
        text.len() <= 16 * html.len() + 64,
        "{} bytes of text from {} bytes of HTML",
        text.len(),
        html.len()
    );
});
