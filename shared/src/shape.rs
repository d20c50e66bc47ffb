//! Limits on the shape of what a caller sends: how deeply a body nests and how many values it
//! holds. A 2 MiB body may be a million array elements; parsed naively that is tens of MiB in
//! ingress and more in the executor, for every such call. Ingress refuses such input before
//! building it, so that whatever it accepts the executor can read and hold.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Levels the execution message adds around a body (`message.context.body`); serde_json
/// refuses documents nested deeper than 128, so a body may nest at most 128 minus these.
const WRAPPER_DEPTH: usize = 2;

/// The deepest `max_depth` a configuration may set: deeper bodies could not be read back by
/// the executor (one level is kept in reserve).
pub const MAX_DEPTH_CEILING: usize = 128 - WRAPPER_DEPTH - 1;

/// How deep and how large parsed request data may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapeLimits {
    /// Nesting levels of arrays and objects (a scalar is depth 0, `[1]` depth 1).
    pub max_depth: usize,
    /// Values of every kind, object keys included.
    pub max_values: usize,
}

/// Which limit a body or query exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// Arrays and objects nest deeper than allowed.
    #[error("it nests deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// More values than allowed.
    #[error("it holds more than {limit} values")]
    TooManyValues {
        /// The limit.
        limit: usize,
    },
}

/// Why a JSON body was not built.
#[derive(Debug, thiserror::Error)]
pub enum JsonShapeError {
    /// The text is not JSON.
    #[error(transparent)]
    Syntax(serde_json::Error),
    /// The JSON exceeds a limit; parsing stopped where it did.
    #[error(transparent)]
    Shape(ShapeError),
}

impl ShapeLimits {
    /// Parses JSON text within the limits, stopping at the first value past one of them, so
    /// that no more than the limits admit is ever built.
    pub fn parse_json(&self, bytes: &[u8]) -> Result<Value, JsonShapeError> {
        let budget = Budget {
            limits: *self,
            values: Cell::new(0),
            exceeded: Cell::new(None),
        };
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let parsed = Seed {
            budget: &budget,
            depth: 0,
        }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
        match (parsed, budget.exceeded.get()) {
            (_, Some(exceeded)) => Err(JsonShapeError::Shape(exceeded)),
            (Ok(value), None) => Ok(value),
            (Err(err), None) => Err(JsonShapeError::Syntax(err)),
        }
    }

    /// Whether a query string or form body has at most `max_values` parameters, checked on
    /// the text before it is parsed (every parameter becomes at least one value).
    pub fn check_parameters(&self, text: &str) -> Result<(), ShapeError> {
        let parameters = text.split('&').filter(|part| !part.is_empty()).count();
        if parameters > self.max_values {
            return Err(ShapeError::TooManyValues {
                limit: self.max_values,
            });
        }
        Ok(())
    }
}

struct Budget {
    limits: ShapeLimits,
    values: Cell<usize>,
    exceeded: Cell<Option<ShapeError>>,
}

impl Budget {
    /// Counts one more value at `depth`; the error stops serde_json at once.
    fn take<E: de::Error>(&self, depth: usize) -> Result<(), E> {
        let values = self.values.get() + 1;
        self.values.set(values);
        let exceeded = if depth > self.limits.max_depth {
            Some(ShapeError::TooDeep {
                limit: self.limits.max_depth,
            })
        } else if values > self.limits.max_values {
            Some(ShapeError::TooManyValues {
                limit: self.limits.max_values,
            })
        } else {
            None
        };
        match exceeded {
            Some(exceeded) => {
                self.exceeded.set(Some(exceeded));
                Err(E::custom(exceeded))
            }
            None => Ok(()),
        }
    }
}

/// Builds one value at `depth` the way `serde_json::Value`'s own visitor does, counting it.
#[derive(Clone, Copy)]
struct Seed<'a> {
    budget: &'a Budget,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Seed<'_> {
    fn scalar<E: de::Error>(self, value: Value) -> Result<Value, E> {
        self.budget.take(self.depth)?;
        Ok(value)
    }

    fn child(self) -> Self {
        Seed {
            budget: self.budget,
            depth: self.depth + 1,
        }
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        self.scalar(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        self.scalar(Value::Number(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        self.scalar(Value::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        self.scalar(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        self.scalar(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        self.scalar(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.scalar(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.budget.take(self.depth + 1)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child())? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.budget.take(self.depth + 1)?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // The key is a value too: it costs memory like one.
            self.budget.take(self.depth + 1)?;
            let value = map.next_value_seed(self.child())?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIMITS: ShapeLimits = ShapeLimits {
        max_depth: 3,
        max_values: 10,
    };

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn json_within_the_limits_parses_as_serde_json_would() {
        let text =
            r#"{"id": 7, "price": 1.5, "tags": ["a", null, true], "big": 18446744073709551615}"#;
        // The object, four keys, four values and the array's three items: twelve.
        let limits = ShapeLimits {
            max_values: 12,
            ..LIMITS
        };
        let value = limits.parse_json(text.as_bytes()).expect("within");
        let expected: Value = serde_json::from_str(text).expect("json");
        assert_eq!(value, expected);
        // Key order is kept.
        let keys: Vec<&String> = value.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["id", "price", "tags", "big"]);
        let limits = ShapeLimits {
            max_values: 11,
            ..LIMITS
        };
        assert!(limits.parse_json(text.as_bytes()).is_err());
        assert_eq!(LIMITS.parse_json(b"\"x\"").expect("scalar"), json!("x"));
    }

    #[test]
    fn nesting_past_the_depth_limit_is_refused() {
        assert!(LIMITS.parse_json(nested(3).as_bytes()).is_ok());
        let err = LIMITS
            .parse_json(nested(4).as_bytes())
            .expect_err("too deep");
        assert!(matches!(
            err,
            JsonShapeError::Shape(ShapeError::TooDeep { limit: 3 })
        ));
        assert_eq!(err.to_string(), "it nests deeper than 3 levels");
        let deep_object = r#"{"a": {"b": {"c": {"d": 1}}}}"#;
        assert!(matches!(
            LIMITS.parse_json(deep_object.as_bytes()),
            Err(JsonShapeError::Shape(ShapeError::TooDeep { .. }))
        ));
    }

    #[test]
    fn more_values_than_the_limit_are_refused_keys_included() {
        let nine = format!("[{}]", ["0"; 9].join(","));
        assert!(LIMITS.parse_json(nine.as_bytes()).is_ok());
        let ten = format!("[{}]", ["0"; 10].join(","));
        let err = LIMITS.parse_json(ten.as_bytes()).expect_err("too many");
        assert!(matches!(
            err,
            JsonShapeError::Shape(ShapeError::TooManyValues { limit: 10 })
        ));
        // The object, five keys and five values: eleven.
        let object = r#"{"a":1,"b":2,"c":3,"d":4,"e":5}"#;
        assert!(LIMITS.parse_json(object.as_bytes()).is_err());
    }

    #[test]
    fn a_million_zeros_stop_at_the_limit_instead_of_being_built() {
        let zeros = format!("[{}]", vec!["0"; 1_000_000].join(","));
        let limits = ShapeLimits {
            max_depth: 32,
            max_values: 1000,
        };
        assert!(matches!(
            limits.parse_json(zeros.as_bytes()),
            Err(JsonShapeError::Shape(ShapeError::TooManyValues {
                limit: 1000
            }))
        ));
    }

    #[test]
    fn syntax_errors_stay_syntax_errors() {
        for broken in [&b"{\"a\": "[..], b"[1,]", b"{} x"] {
            assert!(
                matches!(LIMITS.parse_json(broken), Err(JsonShapeError::Syntax(_))),
                "{}",
                String::from_utf8_lossy(broken)
            );
        }
    }

    #[test]
    fn the_ceiling_leaves_room_for_the_message_around_the_body() {
        let limits = ShapeLimits {
            max_depth: MAX_DEPTH_CEILING,
            max_values: 1_000_000,
        };
        let body = limits
            .parse_json(nested(MAX_DEPTH_CEILING).as_bytes())
            .expect("at the ceiling");
        let message = crate::messages::ExecutionMessage {
            execution_id: uuid::Uuid::now_v7(),
            workflow_id: uuid::Uuid::now_v7(),
            workflow_key: "k".into(),
            version: 1,
            sync: false,
            context: json!({"headers": {}, "query": {}, "body": body}),
            received_at: chrono::Utc::now(),
            idempotency: None,
            sync_timeout_ms: None,
        };
        let text = serde_json::to_vec(&message).expect("encode");
        let read: crate::messages::ExecutionMessage =
            serde_json::from_slice(&text).expect("the executor reads it back");
        assert_eq!(read.context, message.context);
    }

    #[test]
    fn parameters_are_counted_before_parsing() {
        assert!(LIMITS.check_parameters("a=1&b=2&&c").is_ok());
        let many = ["a[]=1"; 11].join("&");
        assert_eq!(
            LIMITS.check_parameters(&many),
            Err(ShapeError::TooManyValues { limit: 10 })
        );
    }
}
