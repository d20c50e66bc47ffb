//! Any query string or form body parses like `qs` into an object, and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(shared::qs::parse_query(text).is_object());
    }
    if let Ok(form) = shared::qs::parse_form(data) {
        assert!(form.is_object());
    }
});
