//! The bounded functions behave as the ones they stand in for, and stop at the bounds.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::expr::{Bounds, ExprError, compile, evaluate, evaluate_within};

fn data() -> Value {
    json!({"context": {"body": {"s": "x".repeat(3000), "n": 3}}})
}

fn eval(source: &str) -> Value {
    let expression = compile(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    evaluate(&expression, &data()).unwrap_or_else(|e| panic!("{source}: {e}"))
}

fn eval_within(source: &str, max_value_bytes: usize, time: Duration) -> Result<Value, ExprError> {
    let expression = compile(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let data = data();
    let bounds = Bounds {
        deadline: Instant::now() + time,
        max_value_bytes,
    };
    evaluate_within(&expression, |name| data.get(name), bounds)
}

#[test]
fn they_answer_as_the_functions_they_stand_in_for() {
    for (source, expected) in [
        ("'a-b-c'.replace('-', '+')", json!("a+b+c")),
        ("'a-b-c'.replace('-', '+', 1)", json!("a+b-c")),
        ("'a-b-c'.replace('-', '+', -1)", json!("a+b+c")),
        ("'abc'.replace('', '.')", json!(".a.b.c.")),
        ("'a,b,c'.split(',')", json!(["a", "b", "c"])),
        ("'a,b,c'.split(',', 2)", json!(["a", "b,c"])),
        ("'a,b,c'.split(',', 0)", json!([])),
        ("'abc'.split('')", json!(["a", "b", "c"])),
        ("'abc'.split('', 2)", json!(["a", "bc"])),
        ("['a', 'b'].join()", json!("ab")),
        ("['a', 'b'].join('-')", json!("a-b")),
        ("[].join('-')", json!("")),
        ("'hello wello'.indexOf('ello')", json!(1)),
        ("'hello wello'.indexOf('ello', 2)", json!(7)),
        ("'héllo'.indexOf('llo')", json!(2)),
        ("'abc'.indexOf('')", json!(0)),
        ("'abc'.indexOf('', 2)", json!(2)),
        ("'abc'.indexOf('z')", json!(-1)),
        ("'hello wello'.lastIndexOf('ello')", json!(7)),
        ("'hello wello'.lastIndexOf('ello', 6)", json!(1)),
        ("'héllo héllo'.lastIndexOf('é')", json!(7)),
        ("'abc'.lastIndexOf('')", json!(3)),
        ("'abc'.lastIndexOf('c', 1)", json!(-1)),
        ("[1, 2, 2, 3, 1].distinct()", json!([1, 2, 3])),
        ("lists.range(3)", json!([0, 1, 2])),
        ("'%s-%d'.format(['a', 1])", json!("a-1")),
        ("1 + 2", json!(3)),
        ("'a' + 'b'", json!("ab")),
        ("[1] + [2]", json!([1, 2])),
        ("b'a' + b'b'", json!("YWI=")),
        ("duration('1s') + duration('1s')", json!(2_000_000_000)),
        ("[1, 2, 3].map(x, x * 2)", json!([2, 4, 6])),
        ("[1, 2, 3].filter(x, x > 1)", json!([2, 3])),
        ("[1, 2, 3].map(x, x > 1, x * 10)", json!([20, 30])),
        ("[1, 2, 3].exists(x, x == 2)", json!(true)),
        ("[1, 2, 3].all(x, x > 0)", json!(true)),
        ("[1, 2, 3].exists_one(x, x > 2)", json!(true)),
        (
            "[{'a': 2}, {'a': 1}].sortBy(e, e.a)",
            json!([{"a": 1}, {"a": 2}]),
        ),
        ("{'k': [1] + [context.body.n]}", json!({"k": [1, 3]})),
    ] {
        assert_eq!(eval(source), expected, "{source}");
    }
}

#[test]
fn their_errors_name_the_function_written() {
    let failing = |source: &str| {
        let expression = compile(source).unwrap();
        evaluate(&expression, &data()).unwrap_err().to_string()
    };
    assert!(failing("context.body.n.replace('a', 'b')").contains("replace"));
    assert!(failing("'abc'.indexOf('a', 5)").contains("index out of range: 5"));
    assert!(failing("'abc'.lastIndexOf('a', -1)").contains("index out of range: -1"));
    assert!(failing("'a' + 1").contains("add"));
    assert!(failing("lists.range(-1)").contains("lists.range"));
    assert!(failing("[1].join()").contains("string"));
}

#[test]
fn nothing_larger_than_the_limit_is_built() {
    let limit = 4096;
    for source in [
        "context.body.s + context.body.s",
        "context.body.s.replace('x', 'yy')",
        "context.body.s.split('')",
        "[context.body.s, context.body.s].join('')",
        "lists.range(300)",
        "lists.range(200) + lists.range(200)",
        "lists.range(100).map(i, context.body.s)",
        "lists.range(1000).filter(i, true)",
        "'%s%s'.format([context.body.s, context.body.s])",
        "(context.body.s + context.body.s) == '' || true",
        "[1, 2].exists(i, (context.body.s + context.body.s) == '')",
    ] {
        let result = eval_within(source, limit, Duration::from_secs(60));
        assert_eq!(result, Err(ExprError::SizeLimit(limit)), "{source}");
    }
    assert_eq!(
        ExprError::SizeLimit(limit).to_string(),
        "exceeded the 4 KiB value limit"
    );
}

#[test]
fn each_run_of_an_inner_map_counts_on_its_own() {
    // Ten inner lists of 480 bytes each: together past the limit, each within it.
    let source = "lists.range(10).map(i, lists.range(30).map(j, j).size())";
    let result = eval_within(source, 4096, Duration::from_secs(60));
    assert_eq!(result, Ok(json!(vec![30; 10])));
}

#[test]
fn loops_stop_at_the_deadline() {
    for source in [
        "lists.range(30000).all(i, lists.range(30000).all(j, j >= 0))",
        "lists.range(30000).filter(i, lists.range(30000).exists(j, j < 0)).size()",
        "lists.range(30000).map(i, lists.range(30000).exists(j, j < 0))",
        "lists.range(30000).all(i, lists.range(30000).all(j, j >= 0)) || true",
        "lists.range(60000).distinct().size()",
    ] {
        let result = eval_within(source, 1 << 20, Duration::from_millis(100));
        assert_eq!(result, Err(ExprError::TimeLimit), "{source}");
    }
}
