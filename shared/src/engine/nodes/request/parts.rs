//! The parts of a request node's call built from lists and `data`: the `params`, the
//! `headers` and the body, encoded for the `contentType`.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use super::config::ContentType;
use crate::fields::{Fields, Stage};

/// A list of `{name, value}` under `list`, each value as text.
pub(super) fn pairs(fields: &mut Fields<'_>, list: &str) -> Vec<(String, String)> {
    let Some(listed) = fields.raw(list) else {
        return Vec::new();
    };
    let Some(entries) = listed.as_array() else {
        if fields.stage() == Stage::Rendered || !is_placeholder(listed) {
            fields.problem(
                list,
                format!("{list} must be a list of {{\"name\", \"value\"}}"),
            );
        }
        return Vec::new();
    };
    let mut pairs = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let name = match entry.get("name") {
            Some(Value::String(name)) if !name.is_empty() => name.clone(),
            _ => {
                fields.problem(
                    format!("{list}[{i}].name"),
                    "a name must be a non-empty string",
                );
                continue;
            }
        };
        let value = entry.get("value").cloned().unwrap_or(Value::Null);
        if fields.stage() == Stage::Stored
            && !matches!(
                value,
                Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null
            )
        {
            fields.problem(
                format!("{list}[{i}].value"),
                "a value must be text, a number or a boolean",
            );
            continue;
        }
        pairs.push((name, text(value)));
    }
    pairs
}

/// `headers`, checked as header names and values.
pub(super) fn headers(fields: &mut Fields<'_>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (i, (name, value)) in pairs(fields, "headers").into_iter().enumerate() {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            if fields.stage() == Stage::Rendered || !name.contains("{{") {
                fields.problem(
                    format!("headers[{i}].name"),
                    format!("\"{name}\" is not a valid header name"),
                );
            }
            continue;
        };
        // Rendered caller data must not smuggle line breaks into the request head.
        let value: String = value
            .chars()
            .filter(|c| *c == '\t' || !c.is_control())
            .collect();
        match HeaderValue::from_str(&value) {
            Ok(value) => {
                headers.insert(name, value);
            }
            Err(_) => fields.problem(
                format!("headers[{i}].value"),
                "a header value must be visible ASCII text",
            ),
        }
    }
    headers
}

/// `data`, encoded for `content_type`: `Some(None)` without data.
pub(super) fn body(fields: &mut Fields<'_>, content_type: ContentType) -> Option<Option<Vec<u8>>> {
    let Some(data) = fields.raw("data") else {
        return Some(None);
    };
    match content_type {
        ContentType::Json => Some(Some(serde_json::to_vec(data).ok()?)),
        ContentType::Form => {
            if fields.stage() == Stage::Stored && is_placeholder(data) {
                return Some(None);
            }
            if !data.is_array() {
                fields.problem(
                    "data",
                    "a form body's data must be a list of {\"name\", \"value\"}",
                );
                return None;
            }
            let pairs = pairs(fields, "data");
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.extend_pairs(pairs);
            Some(Some(form.finish().into_bytes()))
        }
        ContentType::Text | ContentType::Xml => Some(Some(text(data.clone()).into_bytes())),
    }
}

/// A string that is exactly one placeholder, which may render to any value.
pub(super) fn is_placeholder(value: &Value) -> bool {
    value.as_str().is_some_and(|text| text.contains("{{"))
}

/// A rendered value as text: strings as they are, `null` as empty, others as JSON.
fn text(value: Value) -> String {
    match value {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
