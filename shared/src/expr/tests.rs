use super::*;
use serde_json::json;

fn data() -> Value {
    json!({
        "context": {
            "body": {"amount": 150, "price": 2.5, "status": "paid", "tags": ["a", "b"],
                     "items": [{"id": 1}, {"id": 2}], "none": null},
            "headers": {"x-request-id": "r-1"},
            "query": {"page": "2"}
        },
        "jobs": {"calc1": 21, "big": 18446744073709551615u64},
        "system": {"now": "2026-01-02T03:04:05Z"}
    })
}

fn eval(source: &str) -> Value {
    let expression = compile(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    evaluate(&expression, &data()).unwrap_or_else(|e| panic!("{source}: {e}"))
}

fn eval_err(source: &str) -> ExprError {
    let expression = compile(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    evaluate(&expression, &data()).unwrap_err()
}

#[test]
fn reads_variables_from_the_data() {
    assert_eq!(eval("context.body.amount > 100"), json!(true));
    assert_eq!(eval("jobs.calc1 * 2"), json!(42));
    assert_eq!(eval("context.headers[\"x-request-id\"]"), json!("r-1"));
    assert_eq!(
        eval("context.body.status == 'paid' && context.body.amount >= 150"),
        json!(true)
    );
    assert_eq!(eval("context.body.price * 2.0"), json!(5.0));
    assert_eq!(eval("context.body.items[1].id"), json!(2));
    assert_eq!(eval("size(context.body.tags)"), json!(2));
    assert_eq!(eval("'b' in context.body.tags"), json!(true));
    assert_eq!(eval("context.body.none == null"), json!(true));
    assert_eq!(eval("int(context.query.page) + 1"), json!(3));
    assert_eq!(eval("jobs.big"), json!(u64::MAX));
}

#[test]
fn converts_results_back_to_json() {
    assert_eq!(
        eval("[1, 'a', true, null, 1.5]"),
        json!([1, "a", true, null, 1.5])
    );
    assert_eq!(eval("{'b': 1, 'a': [2]}"), json!({"a": [2], "b": 1}));
    assert_eq!(
        eval("{'b': 1, 'a': 2, 'c': 3}").to_string(),
        r#"{"a":2,"b":1,"c":3}"#
    );
    assert_eq!(
        eval("context.body.items.map(i, i.id * 10)"),
        json!([10, 20])
    );
    assert_eq!(
        eval("timestamp(system.now)"),
        json!("2026-01-02T03:04:05+00:00")
    );
    assert_eq!(eval("duration('1s')"), json!(1_000_000_000));
    assert_eq!(eval("3u"), json!(3));
    assert_eq!(eval("b'hi'"), json!("aGk="));
}

#[test]
fn the_extensions_are_loaded() {
    assert_eq!(eval("'TacoCat'.lowerAscii()"), json!("tacocat"));
    assert_eq!(eval("math.greatest(1, 5, 3)"), json!(5));
    assert_eq!(eval("[3, 1, 2].sort()"), json!([1, 2, 3]));
}

#[test]
fn evaluate_bool_requires_a_bool() {
    let data = data();
    assert!(evaluate_bool(&compile("context.body.amount > 100").unwrap(), &data).unwrap());
    assert!(!evaluate_bool(&compile("context.body.amount < 100").unwrap(), &data).unwrap());
    let err = evaluate_bool(&compile("jobs.calc1").unwrap(), &data).unwrap_err();
    assert_eq!(err, ExprError::NotBool("int".to_owned()));
    assert_eq!(err.to_string(), "the CEL expression gave a int, not a bool");
    let err = evaluate_bool(&compile("context.body.status").unwrap(), &data).unwrap_err();
    assert_eq!(err, ExprError::NotBool("string".to_owned()));
}

#[test]
fn parse_errors_carry_the_parser_message() {
    let err = compile("context.body.amount >").unwrap_err();
    assert!(matches!(err, ExprError::Parse(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("the CEL expression does not parse: "),
        "{err}"
    );
    assert!(err.to_string().contains("ERROR"), "{err}");
    assert!(compile("(1 + ").is_err());
}

#[test]
fn runtime_failures_are_errors() {
    assert!(matches!(
        eval_err("context.body.missing > 1"),
        ExprError::Execution(_)
    ));
    assert!(matches!(eval_err("nothere + 1"), ExprError::Execution(_)));
    assert!(matches!(eval_err("1 / 0"), ExprError::Execution(_)));
    assert!(matches!(
        eval_err("context.body.status + 1"),
        ExprError::Execution(_)
    ));
    let expression = compile("1").unwrap();
    assert_eq!(
        evaluate(&expression, &json!([1])),
        Err(ExprError::DataNotObject)
    );
}

#[test]
fn expressions_are_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Expression>();
    let expression = Arc::new(compile("jobs.calc1 + 1").unwrap());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let expression = Arc::clone(&expression);
            std::thread::spawn(move || evaluate(&expression, &data()))
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), Ok(json!(22)));
    }
    assert_eq!(expression.source(), "jobs.calc1 + 1");
}

#[test]
fn evaluate_with_looks_up_only_the_variables_mentioned() {
    let data = data();
    let asked = std::cell::RefCell::new(Vec::new());
    let value = evaluate_with(&compile("jobs.calc1 + 1").unwrap(), |name| {
        asked.borrow_mut().push(name.to_owned());
        data.get(name)
    })
    .unwrap();
    assert_eq!(value, json!(22));
    assert_eq!(asked.into_inner(), vec!["jobs"]);
}

#[test]
fn short_expressions_over_small_inputs_are_light() {
    let small = json!({"body": {"amount": 25, "note": "x".repeat(100)}});
    let large = json!({"body": {"amount": 25, "note": "x".repeat(20 * 1024)}});
    let light = |source: &str, context: &Value| {
        let expression = compile(source).unwrap();
        let inputs = expression.inputs(|name| (name == "context").then_some(context));
        expression.is_light(&inputs)
    };
    assert!(light("context.body.amount * 2 > 10", &small));
    // Only what it reads counts: the large note is not read.
    assert!(light("context.body.amount * 2 > 10", &large));
    assert!(
        !light("size(context.body.note) > 10", &large),
        "20 KiB read"
    );
    assert!(
        !light("[1, 2].exists(x, x == context.body.amount)", &small),
        "a loop"
    );
    let long = format!("context.body.amount > 0{}", " && true".repeat(40));
    assert!(!light(&long, &small), "a long source");
}
