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
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(input: &str) -> Value {
        parse_query(input).unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    /// Compares the serialised text, so that key order counts.
    fn assert_parses(input: &str, expected: Value) {
        let parsed = parse(input);
        assert_eq!(parsed.to_string(), expected.to_string(), "parsing {input}");
    }

    #[test]
    fn nested_brackets_make_objects() {
        assert_parses("a[b][c]=1", json!({"a": {"b": {"c": "1"}}}));
        assert_parses("a[b]=1&a[c]=2", json!({"a": {"b": "1", "c": "2"}}));
    }

    #[test]
    fn empty_brackets_and_repeated_keys_make_arrays() {
        assert_parses("a[]=1&a[]=2", json!({"a": ["1", "2"]}));
        assert_parses("a=1&a=2", json!({"a": ["1", "2"]}));
        assert_parses("a=1&a=2&a=3", json!({"a": ["1", "2", "3"]}));
        assert_parses("a[]=1&a=2", json!({"a": ["1", "2"]}));
        assert_parses(
            "a[b][]=1&a[b][]=2&a[c]=3",
            json!({"a": {"b": ["1", "2"], "c": "3"}}),
        );
        assert_parses("a[x]=1&a[x]=2", json!({"a": {"x": ["1", "2"]}}));
        assert_parses("a[]", json!({"a": [""]}));
    }

    #[test]
    fn indexed_keys_make_arrays_of_objects() {
        assert_parses(
            "a[0][x]=1&a[1][x]=2",
            json!({"a": [{"x": "1"}, {"x": "2"}]}),
        );
        assert_parses(
            "query[0][a]=1&b=2",
            json!({"query": [{"a": "1"}], "b": "2"}),
        );
        assert_parses("a[0]=x&a[1]=y", json!({"a": ["x", "y"]}));
    }

    #[test]
    fn indexes_are_sorted_and_gaps_closed_like_qs() {
        assert_parses("a[1]=b&a[0]=a", json!({"a": ["a", "b"]}));
        assert_parses("a[1]=x&a[3]=y", json!({"a": ["x", "y"]}));
        assert_parses("a[20]=x", json!({"a": ["x"]}));
    }

    #[test]
    fn indexes_above_the_array_limit_or_mixed_with_names_stay_object_keys() {
        assert_parses("a[21]=x", json!({"a": {"21": "x"}}));
        assert_parses("a[0]=x&a[25]=y", json!({"a": {"0": "x", "25": "y"}}));
        assert_parses("a[0]=x&a[b]=y", json!({"a": {"0": "x", "b": "y"}}));
        assert_parses("0=a&1=b", json!({"0": "a", "1": "b"}));
    }

    #[test]
    fn values_are_always_decoded_strings() {
        assert_parses(
            "n=5&t=true&f=1.5",
            json!({"n": "5", "t": "true", "f": "1.5"}),
        );
        assert_parses(
            "a=hello+world&b=hello%20world",
            json!({"a": "hello world", "b": "hello world"}),
        );
        assert_parses(
            "my+key=1&my%20other=2",
            json!({"my key": "1", "my other": "2"}),
        );
        assert_parses("a=b=c", json!({"a": "b=c"}));
        assert_parses("a=x%26y%3Dz", json!({"a": "x&y=z"}));
        assert_parses("name=%E4%BD%A0%E5%A5%BD", json!({"name": "你好"}));
        assert_parses("a=%5Bx%5D", json!({"a": "[x]"}));
    }

    #[test]
    fn keys_without_values_are_empty_strings() {
        assert_parses("a", json!({"a": ""}));
        assert_parses("a=", json!({"a": ""}));
        assert_parses("a&b=1", json!({"a": "", "b": "1"}));
        assert_parses("a[b]", json!({"a": {"b": ""}}));
    }

    #[test]
    fn empty_input_empty_pairs_and_empty_keys_are_ignored() {
        assert_parses("", json!({}));
        assert_parses("?", json!({}));
        assert_parses("&&", json!({}));
        assert_parses("&&a=1&", json!({"a": "1"}));
        assert_parses("=x&a=1", json!({"a": "1"}));
        assert_parses("?a=1", json!({"a": "1"}));
    }

    #[test]
    fn percent_encoded_brackets_nest() {
        assert_parses("a%5Bb%5D=1", json!({"a": {"b": "1"}}));
        assert_parses("a%5bb%5d=1", json!({"a": {"b": "1"}}));
        assert_parses("a%5B%5D=1&a%5B%5D=2", json!({"a": ["1", "2"]}));
    }

    #[test]
    fn keys_keep_their_first_seen_order() {
        assert_parses(
            "z=1&a=2&m=3&a=4",
            json!({"z": "1", "a": ["2", "4"], "m": "3"}),
        );
        assert_parses("o[z]=1&o[a]=2", json!({"o": {"z": "1", "a": "2"}}));
    }

    #[test]
    fn nesting_stops_at_depth_five_like_qs() {
        assert_parses(
            "a[b][c][d][e][f][g][h]=i",
            json!({"a": {"b": {"c": {"d": {"e": {"f": {"[g][h]": "i"}}}}}}}),
        );
    }

    #[test]
    fn malformed_brackets_keep_the_key_whole() {
        assert_parses("a[b=1", json!({"a[b": "1"}));
        assert_parses("a[b]c=1&d=2", json!({"a[b]c": "1", "d": "2"}));
        assert_parses("a[]x=1", json!({"a[]x": "1"}));
        assert_parses("a[[b]]=1", json!({"a[[b]]": "1"}));
        assert_parses("[]=1&b=2", json!({"[]": "1", "b": "2"}));
        assert_parses("a]b=1", json!({"a]b": "1"}));
        assert_parses("[a]=1", json!({"a": "1"}));
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert!(matches!(parse_query("a=%FF"), Err(QsError::InvalidUtf8)));
        assert!(matches!(parse_query("%FF=1"), Err(QsError::InvalidUtf8)));
        assert!(matches!(parse_form(b"a=\xff"), Err(QsError::InvalidUtf8)));
        assert_eq!(
            QsError::InvalidUtf8.to_string(),
            "the data is not valid UTF-8 once percent-decoded"
        );
    }

    #[test]
    fn contradictory_keys_are_an_error_naming_the_problem() {
        let err = parse_query("a=1&a[b]=2").unwrap_err();
        assert!(matches!(err, QsError::Malformed { .. }), "{err}");
        assert!(err.to_string().contains("same key"), "{err}");
    }

    #[test]
    fn parse_form_reads_bytes() {
        assert_eq!(
            parse_form(b"a[b]=1&c=%20").unwrap(),
            json!({"a": {"b": "1"}, "c": " "})
        );
    }

    #[test]
    fn query_part_takes_what_follows_the_question_mark() {
        let url = "http://localhost:13000/api/webhook:trigger/1hfmkioou0d?query[0][a]=1&b=2";
        assert_eq!(query_part(url), "query[0][a]=1&b=2");
        assert_eq!(query_part("query[0][a]=1&b=2"), "query[0][a]=1&b=2");
        assert_eq!(query_part("http://x/y?a=1?b#frag"), "a=1?b");
        assert_eq!(query_part("http://x/y?"), "");
        assert_eq!(
            parse(query_part(url)),
            json!({"query": [{"a": "1"}], "b": "2"})
        );
    }
}
