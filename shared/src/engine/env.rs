//! The `$env` variables of one execution, and the masking of secret values wherever a
//! rendered value is recorded or logged.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::runner::RunResult;
use crate::model::MASKED_PASSWORD;

/// The variables an execution reads as `{{$env.NAME}}` (CEL `env.NAME`), with the plain
/// values of the secret ones, which [`Env::mask`] replaces by `********`. `Debug` names the
/// variables without their values.
#[derive(Clone)]
pub struct Env {
    /// The `$env` object, always an object: read in place by every node of an execution
    /// and by each of its parallel branches, never copied.
    values: Value,
    /// Secret values, longest first: a secret that contains another is masked whole.
    secrets: Vec<String>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field(
                "names",
                &self
                    .values
                    .as_object()
                    .map(|values| values.keys().collect::<Vec<_>>())
                    .unwrap_or_default(),
            )
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Default for Env {
    fn default() -> Self {
        Env {
            values: Value::Object(Map::new()),
            secrets: Vec::new(),
        }
    }
}

impl Env {
    /// The variables `(name, plain value, secret)`.
    pub fn new(variables: impl IntoIterator<Item = (String, String, bool)>) -> Env {
        let mut values = Map::new();
        let mut env = Env::default();
        for (name, value, secret) in variables {
            // An empty secret would match everywhere; it is rendered but has nothing to mask.
            if secret && !value.is_empty() {
                // As a query value or form field the secret is written encoded: that form is
                // masked as well (a URL the request node records, say).
                let encoded: String =
                    url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
                if encoded != value {
                    env.secrets.push(encoded);
                }
                env.secrets.push(value.clone());
            }
            values.insert(name, Value::String(value));
        }
        env.values = Value::Object(values);
        env.secrets
            .sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        env.secrets.dedup();
        env
    }

    /// The `$env` object, as templates and CEL read it.
    pub fn values(&self) -> &Value {
        &self.values
    }

    /// Whether any secret value would be masked.
    pub fn has_secrets(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// `text` with every secret value replaced by `********`.
    pub fn mask_str<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut masked = Cow::Borrowed(text);
        for secret in &self.secrets {
            if masked.contains(secret.as_str()) {
                masked = Cow::Owned(masked.replace(secret.as_str(), MASKED_PASSWORD));
            }
        }
        masked
    }

    /// `value` with every secret value replaced by `********` in its strings (object keys
    /// included).
    pub fn mask(&self, value: &Value) -> Value {
        let mut masked = value.clone();
        self.mask_in_place(&mut masked);
        masked
    }

    /// Replaces every secret value in the strings of `value` by `********`.
    pub fn mask_in_place(&self, value: &mut Value) {
        if !self.has_secrets() {
            return;
        }
        match value {
            Value::String(text) => {
                if let Cow::Owned(masked) = self.mask_str(text) {
                    *text = masked;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.mask_in_place(item)),
            Value::Object(map) => {
                let needs_new_keys = map
                    .keys()
                    .any(|key| matches!(self.mask_str(key), Cow::Owned(_)));
                if needs_new_keys {
                    let entries = std::mem::take(map);
                    for (key, item) in entries {
                        map.insert(self.mask_str(&key).into_owned(), item);
                    }
                }
                map.values_mut().for_each(|item| self.mask_in_place(item));
            }
            _ => {}
        }
    }

    /// Masks what an execution records: job results, the error, and the response.
    pub fn mask_result(&self, result: &mut RunResult) {
        if !self.has_secrets() {
            return;
        }
        for job in &mut result.jobs {
            self.mask_in_place(&mut job.result);
        }
        if let Some(error) = &mut result.error
            && let Cow::Owned(masked) = self.mask_str(error)
        {
            *error = masked;
        }
        if let Some(reply) = &mut result.response {
            self.mask_in_place(&mut reply.body);
            for header in &mut reply.headers {
                if let Cow::Owned(masked) = self.mask_str(&header.value) {
                    header.value = masked;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env() -> Env {
        Env::new([
            ("TOKEN".into(), "tok-123".into(), true),
            ("LONG".into(), "tok-123-and-more".into(), true),
            ("URL".into(), "https://shop.example".into(), false),
            ("EMPTY".into(), String::new(), true),
        ])
    }

    #[test]
    fn secret_values_are_masked_in_text_and_json_but_plain_values_are_not() {
        let env = env();
        assert_eq!(
            env.mask_str("Bearer tok-123, tok-123-and-more at https://shop.example"),
            "Bearer ********, ******** at https://shop.example"
        );
        assert!(matches!(env.mask_str("nothing secret"), Cow::Borrowed(_)));
        assert_eq!(
            env.mask(&json!({"a": ["x tok-123 y", 5], "tok-123": null, "b": {"c": "tok-123"}})),
            json!({"a": ["x ******** y", 5], "********": null, "b": {"c": "********"}})
        );
        assert_eq!(env.values()["EMPTY"], "");
        let spaced = Env::new([("S".into(), "a b&c".into(), true)]);
        assert_eq!(
            spaced.mask_str("https://api.example/x?key=a+b%26c&raw=a b&c"),
            "https://api.example/x?key=********&raw=********"
        );
        assert_eq!(env.values()["URL"], "https://shop.example");
    }

    #[test]
    fn debug_names_variables_without_values() {
        let shown = format!("{:?}", env());
        assert!(shown.contains("TOKEN"), "{shown}");
        assert!(!shown.contains("tok-123"), "{shown}");
    }
}
