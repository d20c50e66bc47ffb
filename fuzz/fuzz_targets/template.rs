//! Any template checks and renders without a panic; text without a placeholder renders
//! as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|template: &str| {
    let scope = json!({
        "$context": {"body": {"a": [1, {"b": "c"}], "n": 5}, "query": {"q": ["x", "y"]}},
        "$env": {"NAME": "value"},
        "$jobsMapByNodeKey": {"node": {"status": 200}},
    });
    let _ = shared::template::check(template);
    let _ = shared::template::placeholder_paths(template);
    let rendered = shared::template::render_str(template, &scope);
    if !template.contains("{{") {
        assert_eq!(rendered, Value::String(template.to_owned()));
    }
});
