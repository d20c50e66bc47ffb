use super::*;
use serde_json::json;

fn calc(calculator: &str, a: Value, b: Value) -> bool {
    calculate(calculator, &a, &b).unwrap_or_else(|e| panic!("{calculator}: {e}"))
}

fn group(kind: &str, calculations: Value) -> Value {
    json!({"group": {"type": kind, "calculations": calculations}})
}

fn item(calculator: &str, a: Value, b: Value) -> Value {
    json!({"calculator": calculator, "operands": [a, b]})
}

#[test]
fn equal_is_loose_between_numbers_and_numeric_strings() {
    assert!(calc("equal", json!("5"), json!(5)));
    assert!(calc("equal", json!(5), json!("5")));
    assert!(calc("equal", json!("5.0"), json!(5)));
    assert!(calc("equal", json!(" 5 "), json!(5)));
    assert!(calc("equal", json!(5), json!(5.0)));
    assert!(calc("equal", json!("paid"), json!("paid")));
    assert!(!calc("equal", json!("paid"), json!("Paid")));
    assert!(!calc("equal", json!("007"), json!("7")));
    assert!(!calc("equal", json!(""), json!(0)));
    assert!(!calc("equal", json!("5x"), json!(5)));
    assert!(!calc("equal", json!("inf"), json!(f64::MAX)));
}

#[test]
fn equal_reads_booleans_from_text_and_numbers() {
    assert!(calc("equal", json!(true), json!("true")));
    assert!(calc("equal", json!("false"), json!(false)));
    assert!(calc("equal", json!(true), json!("TRUE")));
    assert!(calc("equal", json!(true), json!(1)));
    assert!(calc("equal", json!(false), json!("0")));
    assert!(!calc("equal", json!(true), json!("yes")));
    assert!(!calc("equal", json!(true), json!(false)));
    assert!(!calc("equal", json!(false), json!(null)));
}

#[test]
fn null_equals_only_null() {
    assert!(calc("equal", json!(null), json!(null)));
    assert!(!calc("equal", json!(null), json!("")));
    assert!(!calc("equal", json!(0), json!(null)));
    assert!(!calc("equal", json!(null), json!("null")));
    assert!(calc("notEqual", json!(null), json!("x")));
}

#[test]
fn arrays_and_objects_compare_structurally() {
    assert!(calc("equal", json!({"a": [1]}), json!({"a": [1]})));
    assert!(!calc("equal", json!([1]), json!(1)));
    assert!(!calc("equal", json!({"a": 1}), json!("{\"a\":1}")));
}

#[test]
fn aliases_match_their_names() {
    assert!(calc("==", json!("5"), json!(5)));
    assert!(calc("!=", json!(1), json!(2)));
    assert!(calc(">", json!(3), json!(2)));
    assert!(calc(">=", json!(2), json!("2")));
    assert!(calc("<", json!("1"), json!(2)));
    assert!(calc("<=", json!(2), json!(2)));
}

#[test]
fn ordering_is_numeric_for_numbers_and_numeric_strings() {
    assert!(calc("gt", json!("10"), json!("9")));
    assert!(calc("gt", json!(10), json!("9")));
    assert!(calc("gt", json!(150), json!(100)));
    assert!(!calc("gt", json!(100), json!(100)));
    assert!(calc("gte", json!(100), json!(100)));
    assert!(calc("lt", json!(-1.5), json!(0)));
    assert!(calc("lte", json!("1e2"), json!(100)));
    assert!(calc("gt", json!(u64::MAX), json!(i64::MAX)));
}

#[test]
fn ordering_falls_back_to_text_so_iso_dates_compare() {
    assert!(calc(
        "gt",
        json!("2026-03-01T00:00:00Z"),
        json!("2026-02-28T23:59:59Z")
    ));
    assert!(calc("lt", json!("2025-12-31"), json!("2026-01-01")));
    assert!(calc("gt", json!("b"), json!("a")));
    assert!(calc("lt", json!("10"), json!("9x")));
}

#[test]
fn ordering_with_null_or_compound_values_is_false() {
    assert!(!calc("gt", json!(null), json!(0)));
    assert!(!calc("lt", json!(null), json!(0)));
    assert!(!calc("gte", json!(1), json!(null)));
    assert!(calc("gte", json!(null), json!(null)));
    assert!(!calc("gt", json!(null), json!(null)));
    assert!(!calc("gt", json!([2]), json!(1)));
    assert!(!calc("lt", json!({"a": 1}), json!(2)));
}

#[test]
fn includes_finds_substrings_and_array_elements() {
    assert!(calc("includes", json!("hello world"), json!("lo w")));
    assert!(!calc("includes", json!("hello"), json!("x")));
    assert!(calc("includes", json!(["a", "5"]), json!(5)));
    assert!(calc("includes", json!([1, 2]), json!("2")));
    assert!(!calc("includes", json!([1, 2]), json!(3)));
    assert!(calc("includes", json!(12345), json!(34)));
    assert!(!calc("includes", json!(null), json!("a")));
    assert!(!calc("includes", json!("null"), json!(null)));
    assert!(!calc("includes", json!({"a": 1}), json!("a")));
    assert!(calc("notIncludes", json!("abc"), json!("x")));
    assert!(!calc("notIncludes", json!(["x"]), json!("x")));
    assert!(calc("notIncludes", json!(null), json!("x")));
}

#[test]
fn starts_and_ends_with_use_text_forms() {
    assert!(calc("startsWith", json!("order-17"), json!("order-")));
    assert!(calc("startsWith", json!(12345), json!("12")));
    assert!(calc("startsWith", json!(true), json!("tr")));
    assert!(!calc("startsWith", json!(null), json!("")));
    assert!(calc("notStartsWith", json!("abc"), json!("b")));
    assert!(calc("endsWith", json!("file.pdf"), json!(".pdf")));
    assert!(calc("endsWith", json!(1.5), json!(5)));
    assert!(!calc("endsWith", json!(["a.pdf"]), json!(".pdf")));
    assert!(calc("notEndsWith", json!("file.pdf"), json!(".doc")));
    assert!(!calc("notEndsWith", json!("file.pdf"), json!("pdf")));
}

#[test]
fn unknown_calculators_are_errors() {
    assert_eq!(
        calculate("like", &json!(1), &json!(1)),
        Err(ConditionError::UnknownCalculator("like".to_owned()))
    );
    assert_eq!(
        evaluate(&group("and", json!([item("approx", json!(1), json!(1))])))
            .unwrap_err()
            .to_string(),
        "unknown calculator `approx`"
    );
}

#[test]
fn groups_combine_with_and_or() {
    let t = item("equal", json!(1), json!(1));
    let f = item("equal", json!(1), json!(2));
    assert!(evaluate(&group("and", json!([t, t]))).unwrap());
    assert!(!evaluate(&group("and", json!([t, f]))).unwrap());
    assert!(evaluate(&group("or", json!([f, t]))).unwrap());
    assert!(!evaluate(&group("or", json!([f, f]))).unwrap());
    let nested = json!([t, {"group": {"type": "or", "calculations": [f, t]}}]);
    assert!(evaluate(&group("and", nested)).unwrap());
    let nested_false = json!([t, {"group": {"type": "and", "calculations": [t, f]}}]);
    assert!(!evaluate(&group("and", nested_false)).unwrap());
    let untyped = json!({"group": {"calculations": [t, f]}});
    assert!(
        !evaluate(&untyped).unwrap(),
        "a group without a type is `and`"
    );
}

#[test]
fn the_spec_example_decides_on_the_rendered_status() {
    let paid = group("and", json!([item("equal", json!("paid"), json!("paid"))]));
    let unpaid = group(
        "and",
        json!([item("equal", json!("pending"), json!("paid"))]),
    );
    assert!(evaluate(&paid).unwrap());
    assert!(!evaluate(&unpaid).unwrap());
}

#[test]
fn empty_and_missing_groups_are_true() {
    assert!(evaluate(&group("and", json!([]))).unwrap());
    assert!(evaluate(&group("or", json!([]))).unwrap());
    assert!(evaluate(&json!({})).unwrap());
    assert!(evaluate(&Value::Null).unwrap());
    assert!(evaluate(&json!({"group": {"type": "or"}})).unwrap());
}

#[test]
fn evaluation_stops_at_the_deciding_item() {
    let t = item("equal", json!(1), json!(1));
    let f = item("equal", json!(1), json!(2));
    let broken = item("nope", json!(1), json!(1));
    assert!(evaluate(&group("or", json!([t, broken]))).unwrap());
    assert!(!evaluate(&group("and", json!([f, broken]))).unwrap());
    assert!(evaluate(&group("and", json!([t, broken]))).is_err());
}

#[test]
fn malformed_calculations_are_errors_naming_the_place() {
    let err = evaluate(&group("xor", json!([]))).unwrap_err();
    assert!(err.to_string().contains("group.type"), "{err}");
    let err = evaluate(&group(
        "and",
        json!([{"calculator": "equal", "operands": [1]}]),
    ))
    .unwrap_err();
    assert!(
        err.to_string().contains("calculations[0].operands"),
        "{err}"
    );
    assert!(evaluate(&group("and", json!([42]))).is_err());
    assert!(evaluate(&json!({"group": "and"})).is_err());
    assert!(evaluate(&json!([1])).is_err());
    assert!(evaluate(&json!({"group": {"type": "and", "calculations": {}}})).is_err());
}

#[test]
fn validate_lists_every_problem() {
    let calculation = json!({"group": {"type": "xor", "calculations": [
        {"calculator": "equal", "operands": ["{{$context.body.status}}", "paid"]},
        {"calculator": "like", "operands": [1, 2]},
        {"calculator": "gt", "operands": [1]},
        {"group": {"type": "or", "calculations": [{"operands": [1, 2]}, {"calculator": 5, "operands": [1, 2]}]}},
        "junk"
    ]}});
    let problems = validate(&calculation);
    assert_eq!(
        problems,
        vec![
            "group.type is \"xor\", expected \"and\" or \"or\"",
            "group.calculations[1].calculator: unknown calculator `like`",
            "group.calculations[2].operands is not an array of two operands",
            "group.calculations[3].group.calculations[0] has neither `calculator` nor `group`",
            "group.calculations[3].group.calculations[1].calculator is not a string",
            "group.calculations[4] has neither `calculator` nor `group`",
            "group.calculations[4].operands is not an array of two operands",
        ]
    );
}

#[test]
fn validate_accepts_good_and_missing_calculations() {
    let every: Vec<Value> = CALCULATORS
        .iter()
        .map(|c| item(c, json!(1), json!(1)))
        .collect();
    assert!(validate(&group("or", Value::Array(every.clone()))).is_empty());
    assert!(evaluate(&group("or", Value::Array(every))).is_ok());
    assert!(validate(&Value::Null).is_empty());
    assert!(validate(&json!({})).is_empty());
    assert_eq!(
        validate(&json!("x")),
        vec!["the calculation is not an object"]
    );
}
