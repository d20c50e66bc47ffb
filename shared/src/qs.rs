//! Query strings and form bodies parsed the way the Node `qs` library parses them.
//!
//! `serde_qs` does the parsing; this module shapes its output like `qs`: every value is a string,
//! a key without `=` is `""`, repeated keys collect into an array, and a map whose keys are all
//! array indexes up to 20 (`qs`'s `arrayLimit`) becomes an array in index order with the gaps
//! closed. Keys keep their first-seen order. Like `qs`, empty keys are dropped and nesting stops
//! at depth 5 (deeper brackets stay part of the last key). A key whose brackets are malformed
//! (`a[b`, `a[b]c`) is kept whole as a plain key instead of failing the request.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// `qs` turns indexes above this into object keys.
const ARRAY_LIMIT: usize = 20;
/// `qs`'s default `depth`.
const MAX_DEPTH: usize = 5;

/// Form encoding makes `serde_qs` read `%5B`/`%5D` as brackets, as `qs` does.
const CONFIG: serde_qs::Config = serde_qs::Config::new()
    .max_depth(MAX_DEPTH)
    .use_form_encoding(true);

/// Why a query string or form body cannot be parsed.
#[derive(Debug, thiserror::Error)]
pub enum QsError {
    /// Percent-decoding produced bytes that are not UTF-8.
    #[error("the data is not valid UTF-8 once percent-decoded")]
    InvalidUtf8,
    /// The keys contradict each other, e.g. `a=1&a[b]=2` (a value and a nested map).
    #[error("the data cannot be parsed: {reason}")]
    Malformed {
        /// What the parser objected to.
        reason: String,
    },
}

impl From<serde_qs::Error> for QsError {
    fn from(error: serde_qs::Error) -> Self {
        match error {
            serde_qs::Error::Utf8(_) | serde_qs::Error::FromUtf8(_) => QsError::InvalidUtf8,
            other => QsError::Malformed {
                reason: other.to_string(),
            },
        }
    }
}

/// Parses a query string (a leading `?` is tolerated) or an `application/x-www-form-urlencoded`
/// body into a JSON object: `a[b][c]=1` → `{"a":{"b":{"c":"1"}}}`, `a[]=1&a[]=2` →
/// `{"a":["1","2"]}`, `a=1&a=2` → `{"a":["1","2"]}`, empty input → `{}`.
pub fn parse_query(input: &str) -> Result<Value, QsError> {
    let input = input.strip_prefix('?').unwrap_or(input);
    let prepared = prepare(input);
    if prepared.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let node: Node = CONFIG.deserialize_str(&prepared)?;
    let Node::Map(entries) = node else {
        return Ok(Value::Object(Map::new()));
    };
    // The top level is always an object, even when its keys are all digits.
    Ok(Value::Object(
        entries
            .into_iter()
            .filter(|(key, _)| !key.is_empty())
            .map(|(key, node)| (key, node.into_json()))
            .collect(),
    ))
}

/// Like [`parse_query`], for a body that has not been checked to be UTF-8.
pub fn parse_form(body: &[u8]) -> Result<Value, QsError> {
    let text = std::str::from_utf8(body).map_err(|_| QsError::InvalidUtf8)?;
    parse_query(text)
}

/// The query part of a full URL (after the first `?`, without any `#fragment`), or the input
/// itself when it has no `?`.
pub fn query_part(url_or_query: &str) -> &str {
    match url_or_query.split_once('?') {
        Some((_, query)) => query.split_once('#').map_or(query, |(query, _)| query),
        None => url_or_query,
    }
}

/// Drops pairs with an empty key and neutralises malformed bracket keys, so that `serde_qs` only
/// sees input that `qs` would read without complaint.
fn prepare(input: &str) -> Cow<'_, str> {
    let needs_work = input.split('&').any(|pair| {
        let key = pair.split_once('=').map_or(pair, |(key, _)| key);
        key.is_empty() || has_lowercase_bracket(key) || !well_formed(key)
    });
    if !needs_work {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    for pair in input.split('&') {
        let (key, value) = match pair.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (pair, None),
        };
        if key.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        if well_formed(key) {
            // `serde_qs` only takes upper-case `%5B`/`%5D` for brackets; `qs` takes both.
            out.push_str(&key.replace("%5b", "%5B").replace("%5d", "%5D"));
        } else {
            // Lower-case escapes decode to literal brackets that `serde_qs` does not split on.
            let literal = key
                .replace("%5B", "%5b")
                .replace("%5D", "%5d")
                .replace('[', "%5b")
                .replace(']', "%5d");
            out.push_str(&literal);
        }
        if let Some(value) = value {
            out.push('=');
            out.push_str(value);
        }
    }
    Cow::Owned(out)
}

fn has_lowercase_bracket(key: &str) -> bool {
    key.contains("%5b") || key.contains("%5d")
}

#[derive(Clone, Copy, PartialEq)]
enum Token {
    Open,
    Close,
    Other,
}

fn tokens(key: &str) -> impl Iterator<Item = Token> + '_ {
    let bytes = key.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        let byte = *bytes.get(pos)?;
        let escape = bytes.get(pos + 1..pos + 3).filter(|_| byte == b'%');
        let (token, width) = match (byte, escape) {
            (b'[', _) => (Token::Open, 1),
            (b']', _) => (Token::Close, 1),
            (_, Some(b"5B" | b"5b")) => (Token::Open, 3),
            (_, Some(b"5D" | b"5d")) => (Token::Close, 3),
            _ => (Token::Other, 1),
        };
        pos += width;
        Some(token)
    })
}

/// `name`, then up to [`MAX_DEPTH`] groups `[key]` with nothing between or after them; only the
/// last group may be empty (`[]`, an array push). Past the depth limit anything goes: `serde_qs`
/// and `qs` keep the rest as one key.
fn well_formed(key: &str) -> bool {
    let mut tokens = tokens(key).peekable();
    let mut name_len = 0;
    while tokens.next_if(|token| *token != Token::Open).is_some() {
        name_len += 1;
    }
    let mut groups = 0;
    while let Some(token) = tokens.next() {
        if token != Token::Open {
            return false;
        }
        if groups == MAX_DEPTH {
            // `serde_qs` still reads `[]` here as a push, which must end the key.
            return !(tokens.next() == Some(Token::Close) && tokens.peek().is_some());
        }
        groups += 1;
        let mut len = 0;
        loop {
            match tokens.next() {
                None | Some(Token::Open) => return false,
                Some(Token::Other) => len += 1,
                Some(Token::Close) => break,
            }
        }
        // `[a]=1` reads as `a=1`, but `[]=1` would turn the whole query into an array.
        let push_without_name = name_len == 0 && groups == 1;
        if len == 0 && (push_without_name || tokens.peek().is_some()) {
            return false;
        }
    }
    true
}

/// What `serde_qs` produced, before it is shaped like `qs` output.
enum Node {
    Str(String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    fn into_json(self) -> Value {
        match self {
            Node::Str(text) => Value::String(text),
            Node::List(items) => Value::Array(items.into_iter().map(Node::into_json).collect()),
            Node::Map(entries) => {
                let indexes: Option<Vec<usize>> =
                    entries.iter().map(|(key, _)| array_index(key)).collect();
                match indexes {
                    Some(indexes) => {
                        let mut items: Vec<(usize, Node)> = indexes
                            .into_iter()
                            .zip(entries.into_iter().map(|(_, node)| node))
                            .collect();
                        items.sort_by_key(|(index, _)| *index);
                        Value::Array(
                            items
                                .into_iter()
                                .map(|(_, node)| node.into_json())
                                .collect(),
                        )
                    }
                    None => Value::Object(
                        entries
                            .into_iter()
                            .map(|(key, node)| (key, node.into_json()))
                            .collect(),
                    ),
                }
            }
        }
    }
}

fn array_index(key: &str) -> Option<usize> {
    let canonical =
        key == "0" || (!key.starts_with('0') && key.bytes().all(|b| b.is_ascii_digit()));
    let index: usize = canonical.then(|| key.parse().ok()).flatten()?;
    (index <= ARRAY_LIMIT).then_some(index)
}

/// Asking `serde_qs` for a map keeps index-keyed maps as maps (it would otherwise insist that
/// their indexes have no gaps); what it hands back for the other shapes is recognised below.
impl<'de> de::Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(NodeVisitor)
    }
}

/// A value under an empty key: `serde_qs` presents a plain string as the map `{"": string}`.
struct AnyNode;

impl<'de> DeserializeSeed<'de> for AnyNode {
    type Value = Node;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a query string value")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Node, E> {
        Ok(Node::Str(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Node, E> {
        Ok(Node::Str(text))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Str(String::new()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let node = if key.is_empty() {
                map.next_value_seed(AnyNode)?
            } else {
                map.next_value::<Node>()?
            };
            entries.push((key, node));
        }
        // A parsed map always has an entry: an empty one is how `serde_qs` shows `a` and `a=`.
        if entries.is_empty() {
            return Ok(Node::Str(String::new()));
        }
        if let [(key, Node::Str(_))] = entries.as_slice()
            && key.is_empty()
            && let Some((_, node)) = entries.pop()
        {
            return Ok(node);
        }
        Ok(Node::Map(entries))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests;
