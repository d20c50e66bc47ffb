//! Query strings and form bodies parsed the way the Node `qs` library (6.17, default
//! options) parses them: `parse` runs `qs`'s own steps (split into pairs, decode, cut each
//! key into bracket segments, nest, merge, compact) on a model of the JavaScript values it
//! builds, so that every input, mixed shapes included, comes out as it does in Node.
//!
//! Every value is a string; a key without `=` is `""`; repeated keys and `[]` collect into
//! an array; `[n]` makes an array for indexes below 20 (`arrayLimit`), an object keyed by
//! the index from there on (and an array grown past 20 elements turns into such an
//! object); nesting stops at depth 5 (the rest stays one key); an unbalanced `[` keeps the
//! rest of the key as one segment; keys named like `Object.prototype` properties
//! (`toString`, `__proto__`, ...) are dropped; a value given both plainly and as a map
//! (`a=1&a[b]=2`) becomes the list `["1", {"b": "2"}]`; `%XX` escapes that do not decode
//! to UTF-8 stay as written. Objects list integer-like keys first, as JavaScript does.
//!
//! Nothing parses to an error: every query string is some object. `qs`'s
//! `parameterLimit` (1000 pairs, the rest dropped silently) is not applied; ingress
//! refuses input past `HOOKFLOW_MAX_BODY_VALUES` pairs instead, with 413.

mod js;
mod merge;

use serde_json::{Map, Value};

use js::{Js, Obj, is_prototype_name};

/// `qs`'s `arrayLimit`: indexes from here on make object keys, and longer arrays objects.
const ARRAY_LIMIT: usize = 20;
/// `qs`'s `depth`: bracket groups read as nesting; the rest of a key stays one segment.
const MAX_DEPTH: usize = 5;

/// Why a form body cannot be parsed.
#[derive(Debug, thiserror::Error)]
pub enum QsError {
    /// The body's bytes are not UTF-8 text.
    #[error("the data is not valid UTF-8")]
    InvalidUtf8,
}

/// Parses a query string (a leading `?` is tolerated) or an `application/x-www-form-urlencoded`
/// body into a JSON object: `a[b][c]=1` → `{"a":{"b":{"c":"1"}}}`, `a[]=1&a[]=2` →
/// `{"a":["1","2"]}`, `a=1&a=2` → `{"a":["1","2"]}`, empty input → `{}`.
pub fn parse_query(input: &str) -> Value {
    let input = input.strip_prefix('?').unwrap_or(input);
    if input.is_empty() {
        return Value::Object(Map::new());
    }
    let mut parsed = Js::Obj(Obj::default());
    for (key, value) in pairs(input).into_entries() {
        if let Some(chain) = segments(&key) {
            parsed = merge::merge(parsed, merge::nest(chain, value));
        }
    }
    parsed.into_json()
}

/// Like [`parse_query`], for a body that has not been checked to be UTF-8.
pub fn parse_form(body: &[u8]) -> Result<Value, QsError> {
    let text = std::str::from_utf8(body).map_err(|_| QsError::InvalidUtf8)?;
    Ok(parse_query(text))
}

/// The query part of a full URL (after the first `?`, without any `#fragment`), or the input
/// itself when it has no `?`.
pub fn query_part(url_or_query: &str) -> &str {
    match url_or_query.split_once('?') {
        Some((_, query)) => query.split_once('#').map_or(query, |(query, _)| query),
        None => url_or_query,
    }
}

/// `parseValues`: the decoded pairs by decoded key, repeated keys combined.
fn pairs(input: &str) -> Obj {
    let cleaned = brackets_unescaped(input);
    let mut pairs = Obj::default();
    for part in cleaned.split('&') {
        // A key ends at the first `]=` when there is one (`a[b=c]=d` has the key `a[b=c]`).
        let split = match part.find("]=") {
            Some(at) => Some(at + 1),
            None => part.find('='),
        };
        let (key, value) = match split {
            Some(at) => (decode(&part[..at]), decode(&part[at + 1..])),
            None => (decode(part), String::new()),
        };
        match pairs.map.get_mut(&key) {
            Some(existing) => {
                let taken = std::mem::replace(existing, Js::Str(String::new()));
                *existing = merge::combine(taken, Js::Str(value));
            }
            None => pairs.set(key, Js::Str(value)),
        }
    }
    pairs
}

/// `%5B`/`%5D` (either case) turned into brackets, everywhere in the input, as `qs` does
/// before it splits.
fn brackets_unescaped(input: &str) -> std::borrow::Cow<'_, str> {
    let bytes = input.as_bytes();
    let escaped = |at: usize| {
        bytes[at] == b'%'
            && bytes.get(at + 1) == Some(&b'5')
            && matches!(bytes.get(at + 2), Some(b'b' | b'B' | b'd' | b'D'))
    };
    if !(0..bytes.len()).any(escaped) {
        return std::borrow::Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.as_bytes().get(at + 1..at + 3);
        match escape {
            Some(b"5b" | b"5B") => out.push('['),
            Some(b"5d" | b"5D") => out.push(']'),
            _ => {
                out.push('%');
                rest = &rest[at + 1..];
                continue;
            }
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// `qs`'s decoder: `+` is a space, then `decodeURIComponent`; text whose escapes do not
/// decode (a lone `%`, bytes that are not UTF-8) stays as written, spaces for `+` aside.
fn decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    if !spaced.contains('%') {
        return spaced;
    }
    let bytes = spaced.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let high = bytes.get(at + 1).and_then(|b| (*b as char).to_digit(16));
            let low = bytes.get(at + 2).and_then(|b| (*b as char).to_digit(16));
            let (Some(high), Some(low)) = (high, low) else {
                return spaced;
            };
            decoded.push((high * 16 + low) as u8);
            at += 3;
        } else {
            decoded.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(decoded).unwrap_or(spaced)
}

/// `splitKeyIntoSegments`: `a[b][c]` → `["a", "[b]", "[c]"]`; `None` for a key that `qs`
/// drops (empty, or naming an `Object.prototype` property).
fn segments(key: &str) -> Option<Vec<String>> {
    if key.is_empty() {
        return None;
    }
    let mut segments = Vec::new();
    let first = key.find('[');
    let parent = first.map_or(key, |at| &key[..at]);
    if !parent.is_empty() {
        if is_prototype_name(parent) {
            return None;
        }
        segments.push(parent.to_owned());
    }
    let bytes = key.as_bytes();
    let mut open = first;
    let mut collected = 0;
    while let Some(start) = open
        && collected < MAX_DEPTH
    {
        let mut level = 1;
        let mut close = None;
        for (at, byte) in bytes.iter().enumerate().skip(start + 1) {
            match byte {
                b'[' => level += 1,
                b']' => {
                    level -= 1;
                    if level == 0 {
                        close = Some(at);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else {
            // An unterminated group: the rest of the key is one literal segment.
            segments.push(format!("[{}]", &key[start..]));
            return Some(segments);
        };
        let segment = &key[start..=close];
        if is_prototype_name(&segment[1..segment.len() - 1]) {
            return None;
        }
        segments.push(segment.to_owned());
        collected += 1;
        open = key[close + 1..].find('[').map(|at| at + close + 1);
    }
    if let Some(start) = open {
        segments.push(format!("[{}]", &key[start..]));
    }
    Some(segments)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests;
