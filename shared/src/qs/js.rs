//! The few JavaScript value rules `qs` depends on: sparse arrays, objects that list
//! integer-like keys first, `parseInt` and number-to-text, and the markers `qs` keeps on
//! containers it made (an "overflow" object that stands for a too-long array, and a
//! "conflict" pair made of a value and a nested map given under the same name).

use indexmap::IndexMap;
use serde_json::{Map, Value};

/// A value while `qs` builds it.
#[derive(Debug, Clone)]
pub(super) enum Js {
    Str(String),
    Arr(Arr),
    Obj(Obj),
}

/// A JavaScript array: holes are `None` until the final compaction.
#[derive(Debug, Clone, Default)]
pub(super) struct Arr {
    pub items: Vec<Option<Js>>,
    /// Set on a `[value, map]` pair made of conflicting keys: its highest index.
    pub conflict: Option<f64>,
}

/// A JavaScript object: keys in insertion order (see [`Obj::keys`] for the order JS lists them in).
#[derive(Debug, Clone, Default)]
pub(super) struct Obj {
    pub map: IndexMap<String, Js>,
    /// Set on an object standing for an array past the array limit: its highest index.
    pub overflow: Option<f64>,
    /// Set on an object made from a conflict pair: its highest index.
    pub conflict: Option<f64>,
}

impl Js {
    /// Whether JavaScript's `typeof` says `object` (and the value is not null).
    pub fn is_container(&self) -> bool {
        !matches!(self, Js::Str(_))
    }

    /// Holes dropped from every array, objects in JS key order, as JSON.
    pub fn into_json(self) -> Value {
        match self {
            Js::Str(text) => Value::String(text),
            Js::Arr(arr) => {
                Value::Array(arr.items.into_iter().flatten().map(Js::into_json).collect())
            }
            Js::Obj(obj) => Value::Object(obj.into_json_map()),
        }
    }
}

impl Arr {
    /// `[]` with `leaf` at `index` (the holes before it unset).
    pub fn with_item_at(index: usize, leaf: Js) -> Arr {
        let mut items: Vec<Option<Js>> = std::iter::repeat_with(|| None).take(index).collect();
        items.push(Some(leaf));
        Arr {
            items,
            conflict: None,
        }
    }

    /// The elements that are set (`qs`'s `countElements`).
    pub fn count(&self) -> usize {
        self.items.iter().filter(|item| item.is_some()).count()
    }

    /// `arrayToObject`: the set elements under their indexes.
    pub fn into_object(self) -> Obj {
        let mut obj = Obj::default();
        for (index, item) in self.items.into_iter().enumerate() {
            if let Some(item) = item {
                obj.map.insert(index.to_string(), item);
            }
        }
        obj
    }

    /// `Object.keys` with the values: the indexes of the set elements.
    pub fn into_entries(self) -> Vec<(String, Js)> {
        self.items
            .into_iter()
            .enumerate()
            .filter_map(|(index, item)| Some((index.to_string(), item?)))
            .collect()
    }
}

impl Obj {
    /// An object holding `value` under `key`.
    pub fn single(key: String, value: Js) -> Obj {
        let mut obj = Obj::default();
        obj.map.insert(key, value);
        obj
    }

    /// The keys in the order `Object.keys` lists them: array indexes ascending, then the
    /// other keys in insertion order.
    pub fn keys(&self) -> Vec<String> {
        let mut indexes: Vec<(u32, &String)> = Vec::new();
        let mut names: Vec<&String> = Vec::new();
        for key in self.map.keys() {
            match array_index(key) {
                Some(index) => indexes.push((index, key)),
                None => names.push(key),
            }
        }
        indexes.sort_unstable_by_key(|(index, _)| *index);
        indexes
            .into_iter()
            .map(|(_, key)| key)
            .chain(names)
            .cloned()
            .collect()
    }

    /// The entries in `Object.keys` order.
    pub fn into_entries(mut self) -> Vec<(String, Js)> {
        self.keys()
            .into_iter()
            .filter_map(|key| {
                let value = self.map.swap_remove(&key)?;
                Some((key, value))
            })
            .collect()
    }

    /// Sets `key` (keeping its place when it is already there).
    pub fn set(&mut self, key: String, value: Js) {
        self.map.insert(key, value);
    }

    /// `qs`'s `maxNumericIndex`: the highest integer key, at least `min`.
    pub fn max_numeric_index(&self, min: f64) -> f64 {
        self.map
            .keys()
            .filter_map(|key| integer_key(key))
            .fold(min, f64::max)
    }

    fn into_json_map(self) -> Map<String, Value> {
        self.into_entries()
            .into_iter()
            .map(|(key, value)| (key, value.into_json()))
            .collect()
    }
}

/// The JavaScript names `Object.prototype` owns; `qs` drops keys named so (prototype pollution).
const PROTOTYPE_NAMES: [&str; 12] = [
    "constructor",
    "__defineGetter__",
    "__defineSetter__",
    "hasOwnProperty",
    "__lookupGetter__",
    "__lookupSetter__",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toString",
    "valueOf",
    "__proto__",
    "toLocaleString",
];

/// Whether `Object.prototype` has a property `name`.
pub(super) fn is_prototype_name(name: &str) -> bool {
    PROTOTYPE_NAMES.contains(&name)
}

/// `key` as an array index in the sense of JS property order: the canonical text of an
/// integer from 0 to 2^32 − 2.
fn array_index(key: &str) -> Option<u32> {
    let canonical = key == "0" || (!key.starts_with('0') && !key.is_empty());
    if !canonical || !key.bytes().all(|b| b.is_ascii_digit()) || key.len() > 10 {
        return None;
    }
    key.parse::<u32>().ok().filter(|index| *index < u32::MAX)
}

/// `key` when `String(parseInt(key, 10)) === key`: the canonical text of an integer.
pub(super) fn integer_key(key: &str) -> Option<f64> {
    let digits = key.strip_prefix('-').unwrap_or(key);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = parse_int(key);
    (number_text(number) == key).then_some(number)
}

/// JavaScript's `parseInt(text, 10)`: leading white space, a sign and the digits that
/// follow; `NaN` when there are none.
pub(super) fn parse_int(text: &str) -> f64 {
    let text = text.trim_start();
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let digits_end = rest
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    let Ok(number) = rest[..digits_end].parse::<f64>() else {
        return f64::NAN;
    };
    if negative { -number } else { number }
}

/// JavaScript's `String(number)` for the integers `qs` meets (and `NaN`, infinities).
pub(super) fn number_text(number: f64) -> String {
    if number.is_nan() {
        return "NaN".into();
    }
    if number.is_infinite() {
        return if number > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
        .into();
    }
    if number == 0.0 {
        return "0".into();
    }
    if number.abs() < 1e21 {
        return format!("{number}");
    }
    // `1e21` in Rust, `1e+21` in JavaScript.
    format!("{number:e}").replacen('e', "e+", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_javascript() {
        assert_eq!(number_text(20.0), "20");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(1e20), "100000000000000000000");
        assert_eq!(number_text(1e21), "1e+21");
        assert_eq!(number_text(f64::NAN), "NaN");
        assert_eq!(number_text(2f64.powi(60)), "1152921504606847000");
    }

    #[test]
    fn parse_int_reads_a_leading_integer() {
        assert_eq!(parse_int("12abc"), 12.0);
        assert_eq!(parse_int(" -3"), -3.0);
        assert!(parse_int("b").is_nan());
        assert_eq!(integer_key("-3"), Some(-3.0));
        assert_eq!(integer_key("03"), None);
        assert_eq!(integer_key("1152921504606846976"), None);
    }

    #[test]
    fn integer_like_keys_come_first_in_ascending_order() {
        let mut obj = Obj::default();
        for key in ["b", "10", "a", "2", "4294967295", "01"] {
            obj.set(key.into(), Js::Str(String::new()));
        }
        assert_eq!(obj.keys(), ["2", "10", "b", "a", "4294967295", "01"]);
    }
}
