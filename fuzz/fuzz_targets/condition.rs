//! Any condition, basic (a JSON calculation) or CEL (an expression), is evaluated or
//! refused without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    if let Ok(calculation) = serde_json::from_slice::<Value>(data) {
        let _ = shared::condition::validate(&calculation);
        let _ = shared::condition::evaluate(&calculation);
    }
    if let Ok(expression) = std::str::from_utf8(data)
        && let Ok(compiled) = shared::expr::compile(expression)
    {
        let data = json!({"context": {"body": {"a": 1, "s": "text", "l": [1, 2, 3]}}});
        let _ = shared::expr::evaluate(&compiled, &data);
    }
});
