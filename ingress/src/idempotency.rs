//! The trigger setting `idempotencyKey`: ingress renders the key of each call and hands it
//! to the executor, which deduplicates in PostgreSQL (ingress never touches the database).

use serde_json::{Map, Value};
use shared::{
    messages::Idempotency,
    model::{DEFAULT_IDEMPOTENCY_WINDOW_MS, Trigger},
    template,
};

/// The template root of the trigger data.
const CONTEXT: &str = "$context";

/// The key of a call whose trigger has an `idempotencyKey` template, rendered against its
/// `$context`; `None` when there is no template or it renders to nothing (`null`, missing,
/// or an empty string), so that such calls are never deduplicated against each other.
///
/// The key reads `$context.headers.<name>` from every header of the call but the
/// credentials (`all_headers`, built only for a template that reads headers), whether or not
/// `request.headers` lists it; the execution's `$context` keeps only the listed ones.
///
/// `context` (the whole parsed body) is lent to the template scope and given back
/// unchanged rather than copied. `request_digest` ([`shared::messages::request_digest`])
/// goes with the key, so that a repeat with another request is told apart.
pub fn key_of(
    trigger: &Trigger,
    context: &mut Value,
    all_headers: impl FnOnce() -> Map<String, Value>,
    request_digest: Option<String>,
) -> Option<Idempotency> {
    let template = trigger.idempotency_key.as_deref()?;
    let mut scope = Value::Object(Map::new());
    scope[CONTEXT] = std::mem::take(context);
    let declared = template
        .contains("$context.headers")
        .then(|| std::mem::replace(&mut scope[CONTEXT]["headers"], Value::Object(all_headers())));
    let rendered = template::render_str(template, &scope);
    if let Some(declared) = declared {
        scope[CONTEXT]["headers"] = declared;
    }
    *context = scope[CONTEXT].take();
    let key = match rendered {
        Value::Null => return None,
        Value::String(text) => text,
        // A typed value (a numeric id) keys by its JSON text.
        other => other.to_string(),
    };
    (!key.is_empty()).then(|| Idempotency {
        key,
        window_ms: trigger
            .idempotency_window
            .unwrap_or(DEFAULT_IDEMPOTENCY_WINDOW_MS),
        request_digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The call's headers as [`crate::context::all_headers`] gives them.
    fn headers(pairs: &[(&str, &str)]) -> impl FnOnce() -> Map<String, Value> {
        let map: Map<String, Value> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), json!(value)))
            .collect();
        move || map
    }

    fn trigger(template: &str, window: Option<u64>) -> Trigger {
        Trigger {
            idempotency_key: Some(template.into()),
            idempotency_window: window,
            ..Trigger::default()
        }
    }

    #[test]
    fn keys_render_from_headers_and_body_with_the_default_window() {
        let original = json!({"headers": {"x-request-id": "r-1"}, "body": {"id": 42}});
        let mut context = original.clone();
        let from_header = key_of(
            &trigger("{{$context.headers.x-request-id}}", None),
            &mut context,
            headers(&[("x-request-id", "r-1")]),
            Some("d1".into()),
        )
        .expect("header key");
        assert_eq!(context, original, "the context is given back");
        assert_eq!(from_header.key, "r-1");
        assert_eq!(from_header.window_ms, DEFAULT_IDEMPOTENCY_WINDOW_MS);
        assert_eq!(from_header.request_digest.as_deref(), Some("d1"));
        let from_body = key_of(
            &trigger("{{$context.body.id}}", Some(1000)),
            &mut context,
            || unreachable!("a key that reads no header needs none"),
            None,
        )
        .expect("body key");
        assert_eq!(from_body.key, "42");
        assert_eq!(from_body.window_ms, 1000);
        let composed = key_of(
            &trigger("order-{{$context.body.id}}", None),
            &mut context,
            headers(&[]),
            None,
        )
        .expect("composed key");
        assert_eq!(composed.key, "order-42");
    }

    #[test]
    fn missing_null_or_empty_values_mean_no_key() {
        let mut context = json!({"headers": {}, "body": {"id": null, "name": ""}});
        for template in [
            "{{$context.headers.x-request-id}}",
            "{{$context.body.id}}",
            "{{$context.body.name}}",
            "{{$context.body.absent}}",
        ] {
            assert_eq!(
                key_of(&trigger(template, None), &mut context, headers(&[]), None),
                None,
                "{template}"
            );
        }
        assert_eq!(
            key_of(&Trigger::default(), &mut context, headers(&[]), None),
            None
        );
    }

    #[test]
    fn a_key_reads_a_header_that_request_headers_does_not_list() {
        // Only `x-shop` is listed, so only it is in the execution's `$context`.
        let original = json!({"headers": {"x-shop": "acme"}, "body": {}});
        let mut context = original.clone();
        let key = key_of(
            &trigger(
                "{{$context.headers.x-shop}}/{{$context.headers.x-request-id}}",
                None,
            ),
            &mut context,
            headers(&[("x-shop", "acme"), ("x-request-id", "r-9")]),
            None,
        )
        .expect("a key");
        assert_eq!(key.key, "acme/r-9");
        assert_eq!(
            context, original,
            "the unlisted header stays out of $context"
        );
    }
}
