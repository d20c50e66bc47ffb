//! CEL expressions (`engine: "cel"`), compiled once and evaluated against JSON data.
//!
//! Every top-level key of the data (`context`, `jobs`, `system`) is a CEL variable, so
//! `context.body.amount > 100`, `jobs.calc1 * 2` and `context.headers["x-request-id"]` work. The
//! standard library is extended with cel's `strings`, `math` and `lists` extensions.
//!
//! An evaluation is bounded ([`Bounds`]): the compiled program is rewritten so that its
//! loops stop at a deadline and the strings and lists it builds stay under a size limit
//! (see `limits`, `rewrite` and `bounded`).

mod bounded;
mod limits;
mod reads;
mod rewrite;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use cel::objects::{Key, Map as CelMap};
use cel::{Context, Env, Program};
use serde_json::Value;

pub use limits::{Bounds, Hit};

/// The size limit when none is configured: 1 MiB.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 1024 * 1024;

/// The time an evaluation has when none is configured.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_millis(2000);

impl Bounds {
    /// The default bounds, for an evaluation starting now.
    pub fn default_from_now() -> Self {
        Bounds {
            deadline: Instant::now() + DEFAULT_TIME_LIMIT,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
        }
    }
}

/// Why an expression cannot be compiled or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    /// The expression does not parse; the text is the parser's message.
    #[error("the CEL expression does not parse: {0}")]
    Parse(String),
    /// Evaluation failed (unknown variable, no such key, type mismatch, division by zero...).
    #[error("the CEL expression failed: {0}")]
    Execution(String),
    /// The result has no JSON form (e.g. a function or a type).
    #[error("the CEL result cannot be turned into JSON: {0}")]
    Conversion(String),
    /// A boolean was needed and the expression gave something else.
    #[error("the CEL expression gave a {0}, not a bool")]
    NotBool(String),
    /// The data handed to the expression is not a JSON object.
    #[error("the data for a CEL expression must be a JSON object")]
    DataNotObject,
    /// The evaluation was still running at its deadline.
    #[error("exceeded its time limit")]
    TimeLimit,
    /// The evaluation was about to build a value larger than the limit (in bytes).
    #[error("exceeded the {} value limit", size_text(*.0))]
    SizeLimit(usize),
}

/// `bytes` as people write it: `1 MiB`, `64 KiB`, `1000 bytes`.
pub fn size_text(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    match bytes {
        0 => "0 bytes".to_owned(),
        b if b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b % KIB == 0 => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}

/// A compiled expression; cheap to share between threads and to evaluate many times.
#[derive(Debug)]
pub struct Expression {
    /// The program as compiled, rewritten to be bounded.
    bounded: cel::parser::Expression,
    source: String,
    /// The identifiers the expression mentions, so that only those variables are converted.
    variables: Vec<String>,
    /// What it reads of each, so that only that is converted.
    reads: BTreeMap<String, reads::Read>,
    /// Short and without loops: over small inputs it ends in microseconds.
    short: bool,
}

/// The longest source an expression may have to count as short ([`Expression::is_light`]).
const SHORT_SOURCE_BYTES: usize = 256;

/// The most a light evaluation may read ([`Inputs::are_small`]), in bytes of strings and
/// values.
const SMALL_INPUT_BYTES: usize = 16 * 1024;

/// The variables of one evaluation, converted: what an expression reads of them
/// ([`Expression::inputs`]). They can be handed to another thread.
pub struct Inputs(Vec<(String, cel::Value)>);

impl Inputs {
    /// Whether they weigh at most [`SMALL_INPUT_BYTES`] (strings by length, other values
    /// by 8 bytes each); the walk stops once they weigh more.
    pub fn are_small(&self) -> bool {
        let mut left = SMALL_INPUT_BYTES;
        self.0.iter().all(|(_, value)| within(value, &mut left))
    }
}

/// Takes `value`'s weight from `left`; `false` once that is used up.
fn within(value: &cel::Value, left: &mut usize) -> bool {
    let weight = match value {
        cel::Value::String(text) => text.len(),
        cel::Value::Bytes(bytes) => bytes.len(),
        _ => 8,
    };
    let Some(rest) = left.checked_sub(weight) else {
        return false;
    };
    *left = rest;
    match value {
        cel::Value::List(items) => items.iter().all(|item| within(item, left)),
        cel::Value::Map(map) => map.map.iter().all(|(key, item)| {
            let key = match key {
                Key::String(text) => text.len(),
                _ => 8,
            };
            left.checked_sub(key).is_some_and(|rest| {
                *left = rest;
                within(item, left)
            })
        }),
        _ => true,
    }
}

impl Expression {
    /// The text the expression was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The top-level variables it mentions (`context`, `jobs`...).
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    /// Whether evaluating it over `inputs` is quick enough to do where it is asked for
    /// rather than on an evaluation thread: a source of at most 256 bytes without a
    /// comprehension (`all`, `exists`, `map`, `filter`…), over at most 16 KiB of inputs, so
    /// a few dozen operations on small values. Every value it builds is still size-checked.
    pub fn is_light(&self, inputs: &Inputs) -> bool {
        self.short && inputs.are_small()
    }

    /// The variables `variable` gives by name, converted for an evaluation: only what the
    /// expression reads of them (`context.body.amount` of the whole context), so that its
    /// cost does not grow with the request or with earlier nodes' outputs.
    pub fn inputs<'v>(&self, variable: impl Fn(&str) -> Option<&'v Value>) -> Inputs {
        let map = |entries: Vec<(String, cel::Value)>| {
            cel::Value::Map(CelMap {
                map: Arc::new(
                    entries
                        .into_iter()
                        .map(|(key, value)| (Key::String(Arc::new(key)), value))
                        .collect(),
                ),
            })
        };
        Inputs(
            self.variables
                .iter()
                .filter_map(|name| {
                    let value = variable(name)?;
                    let converted = match self.reads.get(name) {
                        Some(read) => reads::convert(value, read, &to_cel, &map),
                        None => to_cel(value),
                    };
                    Some((name.clone(), converted))
                })
                .collect(),
        )
    }
}

/// The environment is immutable once built, so every evaluation shares one.
fn env() -> &'static Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        for extension in [
            cel::extensions::strings as fn(&mut Env) -> Result<(), cel::DeclarationError>,
            cel::extensions::math,
            cel::extensions::lists,
        ] {
            // The extensions declare functions the standard library lacks, so this cannot clash;
            // the tests call a function of each to prove it.
            let _ = env.add_extension(extension);
        }
        // Its names start with `@`, which no expression can write, so they clash with
        // nothing; the tests run every one of them.
        let _ = bounded::register(&mut env);
        Arc::new(env)
    })
}

/// Compiles a CEL expression.
pub fn compile(expression: &str) -> Result<Expression, ExprError> {
    let program: Program = env()
        .compile(expression)
        .map_err(|errors| ExprError::Parse(errors.to_string()))?;
    let variables = program
        .references()
        .variables()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let reads = reads::of(program.expression());
    let short = expression.len() <= SHORT_SOURCE_BYTES && !reads::loops(program.expression());
    let mut bounded = program.expression().clone();
    rewrite::rewrite(&mut bounded);
    Ok(Expression {
        bounded,
        source: expression.to_owned(),
        variables,
        reads,
        short,
    })
}

/// Evaluates `expr` with each top-level key of `data` as a variable and returns the result as
/// JSON: ints and doubles become numbers, maps objects (keys sorted), lists arrays, timestamps
/// RFC 3339 strings, durations nanoseconds, bytes base64.
pub fn evaluate(expr: &Expression, data: &Value) -> Result<Value, ExprError> {
    let Value::Object(data) = data else {
        return Err(ExprError::DataNotObject);
    };
    evaluate_with(expr, |name| data.get(name))
}

/// Evaluates `expr` like [`evaluate`], with the variables `variable` gives by name: they stay
/// where they are, and only the ones the expression mentions are looked up and converted.
/// The default [`Bounds`] apply.
pub fn evaluate_with<'v>(
    expr: &Expression,
    variable: impl Fn(&str) -> Option<&'v Value>,
) -> Result<Value, ExprError> {
    evaluate_within(expr, variable, Bounds::default_from_now())
}

/// Evaluates `expr` like [`evaluate_with`] within `bounds`: past the deadline it fails
/// with [`ExprError::TimeLimit`], and where it would build a string, bytes or list larger
/// than the size limit with [`ExprError::SizeLimit`], whatever the expression does with
/// the error.
pub fn evaluate_within<'v>(
    expr: &Expression,
    variable: impl Fn(&str) -> Option<&'v Value>,
    bounds: Bounds,
) -> Result<Value, ExprError> {
    evaluate_inputs_within(expr, expr.inputs(variable), bounds)
}

/// Evaluates `expr` like [`evaluate_within`], over variables converted before.
pub fn evaluate_inputs_within(
    expr: &Expression,
    inputs: Inputs,
    bounds: Bounds,
) -> Result<Value, ExprError> {
    let mut context = Context::with_env(Arc::clone(env()));
    for (name, value) in inputs.0 {
        context.add_variable_from_value(name, value);
    }
    let (result, hit) = limits::within(bounds, || cel::Value::resolve(&expr.bounded, &context));
    match hit {
        Some(Hit::Time) => return Err(ExprError::TimeLimit),
        Some(Hit::Size(max)) => return Err(ExprError::SizeLimit(max)),
        None => {}
    }
    let result = result.map_err(|error| ExprError::Execution(error.to_string()))?;
    let json = result
        .json()
        .map_err(|error| ExprError::Conversion(error.to_string()))?;
    Ok(sort_keys(json))
}

/// Evaluates `expr` and requires a boolean result.
pub fn evaluate_bool(expr: &Expression, data: &Value) -> Result<bool, ExprError> {
    as_bool(evaluate(expr, data)?)
}

/// An expression's result as the boolean a condition needs.
pub fn as_bool(result: Value) -> Result<bool, ExprError> {
    match result {
        Value::Bool(flag) => Ok(flag),
        other => Err(ExprError::NotBool(json_type(&other).to_owned())),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(number) if number.is_f64() => "double",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

/// `cel::to_value` would make every non-negative JSON integer a CEL `uint`, and CEL has no
/// arithmetic between `uint` and `int`: `jobs.calc1 * 2` would fail. JSON integers become `int`
/// here (`uint` only above `i64::MAX`), as they would in cel-go.
fn to_cel(value: &Value) -> cel::Value {
    match value {
        Value::Null => cel::Value::Null,
        Value::Bool(flag) => cel::Value::Bool(*flag),
        Value::Number(number) => {
            if let Some(int) = number.as_i64() {
                cel::Value::Int(int)
            } else if let Some(uint) = number.as_u64() {
                cel::Value::UInt(uint)
            } else {
                cel::Value::Float(number.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(text) => cel::Value::String(Arc::new(text.clone())),
        Value::Array(items) => cel::Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => cel::Value::Map(CelMap {
            map: Arc::new(
                map.iter()
                    .map(|(key, value)| (Key::String(Arc::new(key.clone())), to_cel(value)))
                    .collect(),
            ),
        }),
    }
}

/// CEL maps are hash maps; sorting their keys makes a result's text the same on every run.
fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.cmp(b));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, sort_keys(value)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests;
