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
