//! Any body, under any content type, parses within the shape limits or is refused; JSON
//! never builds past a limit.
#![no_main]

use hookflow_ingress::body::{self, BodyKind};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use shared::shape::ShapeLimits;

const LIMITS: ShapeLimits = ShapeLimits {
    max_depth: 8,
    max_values: 200,
};

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn values(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(values).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(|v| 1 + values(v)).sum::<usize>(),
        _ => 1,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let kind = match selector % 4 {
        0 => BodyKind::Json,
        1 => BodyKind::Form,
        2 => BodyKind::Text,
        _ => BodyKind::Unlabelled,
    };
    if let Ok(parsed) = body::parse(kind, bytes, &LIMITS)
        && matches!(kind, BodyKind::Json | BodyKind::Unlabelled)
    {
        assert!(depth(&parsed.body) <= LIMITS.max_depth);
        assert!(values(&parsed.body) <= LIMITS.max_values);
    }
});
