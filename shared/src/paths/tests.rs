use super::*;
use serde_json::json;

fn key(k: &str) -> Segment {
    Segment::Key(k.to_owned())
}

#[test]
fn parses_keys_indexes_and_special_characters() {
    assert_eq!(parse_path("a").unwrap(), vec![key("a")]);
    assert_eq!(parse_path("b.c").unwrap(), vec![key("b"), key("c")]);
    assert_eq!(
        parse_path("items[0].id").unwrap(),
        vec![key("items"), Segment::Index(0), key("id")]
    );
    assert_eq!(
        parse_path("headers.x-request-id").unwrap(),
        vec![key("headers"), key("x-request-id")]
    );
    assert_eq!(
        parse_path("$context.body.id").unwrap(),
        vec![key("$context"), key("body"), key("id")]
    );
    assert_eq!(
        parse_path("a[1][2]").unwrap(),
        vec![key("a"), Segment::Index(1), Segment::Index(2)]
    );
    assert_eq!(
        parse_path("[0].x").unwrap(),
        vec![Segment::Index(0), key("x")]
    );
    assert_eq!(parse_path("First A").unwrap(), vec![key("First A")]);
}

#[test]
fn rejects_malformed_paths_with_a_message_naming_the_problem() {
    assert_eq!(parse_path(""), Err(PathError::Empty));
    for path in ["a..b", ".a", "a.", "a.[0]", "."] {
        let err = parse_path(path).unwrap_err();
        assert!(
            matches!(err, PathError::EmptySegment { .. }),
            "{path}: {err}"
        );
        assert!(err.to_string().contains("empty segment"), "{err}");
    }
    let err = parse_path("items[0").unwrap_err();
    assert!(matches!(err, PathError::UnclosedBracket { .. }), "{err}");
    assert!(err.to_string().contains("not closed"));
    for path in ["items[x]", "items[]", "items[-1]", "items[ 1]"] {
        let err = parse_path(path).unwrap_err();
        assert!(
            matches!(err, PathError::InvalidIndex { .. }),
            "{path}: {err}"
        );
    }
    assert!(
        parse_path("items[x]")
            .unwrap_err()
            .to_string()
            .contains("[x]")
    );
    for path in ["a]b", "a[0]b", "]"] {
        let err = parse_path(path).unwrap_err();
        assert!(matches!(err, PathError::Unexpected { .. }), "{path}: {err}");
    }
}

#[test]
fn get_follows_keys_and_indexes() {
    let value = json!({
        "a": 1,
        "b": {"c": "two"},
        "items": [{"id": 10}, {"id": 11}],
        "headers": {"x-request-id": "r-1"},
        "$context": {"body": {"id": "abc"}},
        "0": "zero"
    });
    assert_eq!(get(&value, "a"), Some(&json!(1)));
    assert_eq!(get(&value, "b.c"), Some(&json!("two")));
    assert_eq!(get(&value, "items[1].id"), Some(&json!(11)));
    assert_eq!(get(&value, "items.0.id"), Some(&json!(10)));
    assert_eq!(get(&value, "headers.x-request-id"), Some(&json!("r-1")));
    assert_eq!(get(&value, "$context.body.id"), Some(&json!("abc")));
    assert_eq!(get(&value, "[0]"), Some(&json!("zero")));
    assert_eq!(get(&value, "items"), value.get("items"));
}

#[test]
fn get_returns_none_for_missing_or_unparseable_paths() {
    let value = json!({"a": {"b": [1, 2]}, "s": "text"});
    assert_eq!(get(&value, "x"), None);
    assert_eq!(get(&value, "a.c"), None);
    assert_eq!(get(&value, "a.b[2]"), None);
    assert_eq!(get(&value, "a.b.01"), None);
    assert_eq!(get(&value, "s.length"), None);
    assert_eq!(get(&value, "s[0]"), None);
    assert_eq!(get(&value, "a..b"), None);
    assert_eq!(get(&value, ""), None);
    assert_eq!(get(&json!([5]), "[0]"), Some(&json!(5)));
}

#[test]
fn get_segments_matches_get() {
    let value = json!({"items": [{"id": 10}], "m": {"3": "three"}});
    let segments = parse_path("items[0].id").unwrap();
    assert_eq!(get_segments(&value, &segments), Some(&json!(10)));
    assert_eq!(
        get_segments(&value, &[key("m"), Segment::Index(3)]),
        Some(&json!("three"))
    );
    assert_eq!(get_segments(&value, &[]), Some(&value));
    assert_eq!(get_segments(&value, &[key("nope")]), None);
}

#[test]
fn list_paths_is_depth_first_in_key_order() {
    assert_eq!(
        list_paths(&json!({"a": 1, "b": {"c": 2}})),
        vec!["a", "b", "b.c"]
    );
    assert_eq!(
        list_paths(&json!({"query": [{"a": "1"}], "b": "2"})),
        vec!["query", "query[0]", "query[0].a", "b"]
    );
    assert_eq!(
        list_paths(&json!([{"x": 1}, 2])),
        vec!["[0]", "[0].x", "[1]"]
    );
    assert_eq!(list_paths(&json!("scalar")), Vec::<String>::new());
    assert_eq!(list_paths(&json!({})), Vec::<String>::new());
}

#[test]
fn list_paths_skips_keys_no_path_can_address() {
    let value = json!({"a.b": {"c": 1}, "": 2, "x[0]": 3, "ok": {"n": [1]}});
    assert_eq!(list_paths(&value), vec!["ok", "ok.n", "ok.n[0]"]);
}

#[test]
fn every_listed_path_resolves_to_its_value() {
    let value = json!({"a": [{"b": {"c-d": [true, null]}}], "$e": {"f": 1}});
    for path in list_paths(&value) {
        assert!(get(&value, &path).is_some(), "{path} does not resolve");
    }
}
