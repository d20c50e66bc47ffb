use serde_json::{Value, json};

use super::{calc, doc, iterations, keys, meta, run, trail};
use crate::engine::Engine;
use crate::messages::ExecutionStatus;

fn looping(key: &str, config: Value, body: Value) -> Value {
    json!({"key": key, "type": "loop", "config": config, "branches": {"body": body}})
}

/// A condition that fails the flow when the CEL `expression` is false.
fn gate(key: &str, expression: &str) -> Value {
    json!({"key": key, "type": "condition",
           "config": {"rejectOnFalse": true, "engine": "cel", "expression": expression}})
}

fn job_path(
    key: &str,
    status: &'static str,
    iteration: &[usize],
) -> (String, &'static str, Vec<usize>) {
    (key.to_owned(), status, iteration.to_vec())
}

#[tokio::test]
async fn an_array_target_runs_the_body_once_per_item_with_item_index_and_length() {
    let workflow = doc(json!([
        looping(
            "each",
            json!({"target": "{{$context.body.items}}"}),
            json!([
                calc("double", "scopes.each.item * 2"),
                {"key": "where", "type": "calculation",
                 "config": {"engine": "cel", "expression": "'{{$scopes.each.index}}/{{$scopes.each.length}}'"}},
            ])
        ),
        calc("after", "jobs.double + jobs.each"),
    ]));
    let result = run(&workflow, json!({"body": {"items": [5, 6, 7]}})).await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
    assert_eq!(
        iterations(&result),
        vec![
            job_path("each", "resolved", &[]),
            job_path("double", "resolved", &[0]),
            job_path("where", "resolved", &[0]),
            job_path("double", "resolved", &[1]),
            job_path("where", "resolved", &[1]),
            job_path("double", "resolved", &[2]),
            job_path("where", "resolved", &[2]),
            job_path("after", "resolved", &[]),
        ]
    );
    let results: Vec<&Value> = result.jobs.iter().map(|job| &job.result).collect();
    assert_eq!(
        results,
        [
            &json!(3),
            &json!(10),
            &json!("0/3"),
            &json!(12),
            &json!("1/3"),
            &json!(14),
            &json!("2/3"),
            &json!(17)
        ],
        "the loop's output is its iteration count; after it, the body's outputs are the last iteration's"
    );
}

#[tokio::test]
async fn a_number_target_runs_that_many_times_with_the_index_as_item() {
    let workflow = doc(json!([looping(
        "times",
        json!({"target": "{{$context.query.n}}"}),
        json!([calc("item", "scopes.times.item")])
    ),]));
    let result = run(&workflow, json!({"query": {"n": 3}})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    let items: Vec<&Value> = result.jobs[1..].iter().map(|job| &job.result).collect();
    assert_eq!(items, [&json!(0), &json!(1), &json!(2)]);
    assert_eq!(result.jobs[0].result, json!(3));

    let result = run(&workflow, json!({"query": {"n": 0}})).await;
    assert_eq!(trail(&result), keys(&[("times", "resolved")]));
    assert_eq!(result.jobs[0].result, json!(0));

    // A whole number written as a double (`3.0`, CEL's `double`) counts the same.
    let result = run(&workflow, json!({"query": {"n": 3.0}})).await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
    assert_eq!(result.jobs[0].result, json!(3));

    for refused in [json!(-2), json!(2.5), json!(-1.0)] {
        let result = run(&workflow, json!({"query": {"n": refused}})).await;
        assert_eq!(result.status, ExecutionStatus::Error, "{refused}");
        assert!(
            result
                .error
                .as_deref()
                .unwrap_or_default()
                .contains("whole number from 0"),
            "{refused}: {:?}",
            result.error
        );
    }
}

#[tokio::test]
async fn any_other_target_runs_once_with_itself_as_item() {
    let workflow = doc(json!([looping(
        "once",
        json!({"target": "{{$context.body}}"}),
        json!([calc("seen", "scopes.once.item.id")])
    ),]));
    let result = run(&workflow, json!({"body": {"id": "ord_1"}})).await;
    assert_eq!(
        iterations(&result),
        vec![
            job_path("once", "resolved", &[]),
            job_path("seen", "resolved", &[0])
        ]
    );
    assert_eq!(result.jobs[1].result, json!("ord_1"));
}

#[tokio::test]
async fn the_condition_is_checked_before_each_iteration_and_false_ends_the_loop() {
    let basic = json!({"target": [1, 2, 3, 4], "condition": {"engine": "basic", "calculation": {"group":
        {"type": "and", "calculations": [{"calculator": "lt", "operands": ["{{$scopes.l.item}}", 3]}]}}}});
    let cel = json!({"target": [1, 2, 3, 4], "condition": {"engine": "cel", "expression": "scopes.l.item < 3"}});
    for config in [basic, cel] {
        let workflow = doc(json!([
            looping("l", config, json!([calc("body", "scopes.l.item")])),
            calc("after", "jobs.l")
        ]));
        let result = run(&workflow, json!({})).await;
        assert_eq!(
            result.status,
            ExecutionStatus::Resolved,
            "{:?}",
            result.error
        );
        assert_eq!(
            iterations(&result),
            vec![
                job_path("l", "resolved", &[]),
                job_path("body", "resolved", &[0]),
                job_path("body", "resolved", &[1]),
                job_path("after", "resolved", &[]),
            ]
        );
        assert_eq!(result.jobs[0].result, json!(2));
    }
}

fn with_exit(exit: Option<&str>) -> crate::model::WorkflowDocument {
    let mut config = json!({"target": [1, 2, 3]});
    if let Some(exit) = exit {
        config["exit"] = json!(exit);
    }
    doc(json!([
        looping(
            "l",
            config,
            json!([
                gate("notTwo", "scopes.l.item != 2"),
                calc("body", "scopes.l.item")
            ])
        ),
        calc("after", "jobs.l"),
    ]))
}

#[tokio::test]
async fn a_failed_iteration_fails_the_workflow_by_default() {
    for exit in [None, Some("fail")] {
        let result = run(&with_exit(exit), json!({})).await;
        assert_eq!(result.status, ExecutionStatus::Failed);
        assert_eq!(
            iterations(&result),
            vec![
                job_path("l", "failed", &[]),
                job_path("notTwo", "resolved", &[0]),
                job_path("body", "resolved", &[0]),
                job_path("notTwo", "failed", &[1]),
            ]
        );
        assert_eq!(result.jobs[0].result, json!(2));
    }
}

#[tokio::test]
async fn exit_break_leaves_the_loop_and_goes_on_after_it() {
    let result = run(&with_exit(Some("break")), json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert_eq!(
        iterations(&result),
        vec![
            job_path("l", "resolved", &[]),
            job_path("notTwo", "resolved", &[0]),
            job_path("body", "resolved", &[0]),
            job_path("notTwo", "failed", &[1]),
            job_path("after", "resolved", &[]),
        ]
    );
    assert_eq!(result.jobs.last().map(|job| &job.result), Some(&json!(2)));
}

#[tokio::test]
async fn exit_continue_goes_on_with_the_next_item() {
    let result = run(&with_exit(Some("continue")), json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert_eq!(
        iterations(&result),
        vec![
            job_path("l", "resolved", &[]),
            job_path("notTwo", "resolved", &[0]),
            job_path("body", "resolved", &[0]),
            job_path("notTwo", "failed", &[1]),
            job_path("notTwo", "resolved", &[2]),
            job_path("body", "resolved", &[2]),
            job_path("after", "resolved", &[]),
        ]
    );
    assert_eq!(result.jobs.last().map(|job| &job.result), Some(&json!(3)));
}

#[tokio::test]
async fn a_node_raising_in_an_iteration_is_an_error_of_the_workflow_unless_exit_says_otherwise() {
    let body = json!([calc("boom", "scopes.l.item.missing")]);
    let workflow = doc(json!([looping("l", json!({"target": [1]}), body.clone())]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Error);
    assert_eq!(trail(&result), keys(&[("l", "failed"), ("boom", "error")]));
    assert!(
        result
            .error
            .as_deref()
            .unwrap_or_default()
            .starts_with("node \"boom\" (calculation)")
    );

    let workflow = doc(json!([looping(
        "l",
        json!({"target": [1, 2], "exit": "continue"}),
        body
    )]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert_eq!(
        trail(&result),
        keys(&[("l", "resolved"), ("boom", "error"), ("boom", "error")])
    );
}

#[tokio::test]
async fn a_response_or_a_resolved_end_in_the_body_ends_the_whole_workflow() {
    let workflow = doc(json!([
        looping(
            "l",
            json!({"target": [1, 2], "exit": "continue"}),
            json!([
                {"key": "answer", "type": "response", "config": {"statusCode": 201, "body": "{{$scopes.l.item}}"}},
            ])
        ),
        calc("after", "1"),
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert_eq!(
        trail(&result),
        keys(&[("l", "resolved"), ("answer", "resolved")])
    );
    let reply = result.response.expect("reply");
    assert_eq!((reply.status_code, reply.body), (201, json!(1)));

    let workflow = doc(json!([
        looping(
            "l",
            json!({"target": [1, 2]}),
            json!([{"key": "stop", "type": "end", "config": {"endStatus": 1}}])
        ),
        calc("after", "1"),
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert_eq!(
        trail(&result),
        keys(&[("l", "resolved"), ("stop", "resolved")])
    );
}

#[tokio::test]
async fn nested_loops_record_the_outer_index_first() {
    let workflow = doc(json!([looping(
        "rows",
        json!({"target": 2}),
        json!([looping(
            "cols",
            json!({"target": ["a", "b"]}),
            json!([calc("cell", "string(scopes.rows.item) + scopes.cols.item"),])
        ),])
    ),]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
    assert_eq!(
        iterations(&result),
        vec![
            job_path("rows", "resolved", &[]),
            job_path("cols", "resolved", &[0]),
            job_path("cell", "resolved", &[0, 0]),
            job_path("cell", "resolved", &[0, 1]),
            job_path("cols", "resolved", &[1]),
            job_path("cell", "resolved", &[1, 0]),
            job_path("cell", "resolved", &[1, 1]),
        ]
    );
    let cells: Vec<&Value> = result
        .jobs
        .iter()
        .filter(|j| j.node_key == "cell")
        .map(|j| &j.result)
        .collect();
    assert_eq!(
        cells,
        [&json!("0a"), &json!("0b"), &json!("1a"), &json!("1b")]
    );
}

#[tokio::test]
async fn scopes_of_a_loop_are_gone_after_it() {
    let workflow = doc(json!([
        looping("l", json!({"target": [1]}), json!([])),
        calc("after", "has(scopes.l)"),
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.jobs[1].result, json!(false), "{:?}", result.error);
}

#[tokio::test]
async fn a_target_beyond_the_iteration_limit_raises_before_any_iteration() {
    let engine = Engine::new().with_max_loop_iterations(3);
    let workflow = doc(json!([looping(
        "l",
        json!({"target": "{{$context.items}}"}),
        json!([calc("body", "1")])
    )]));
    let result = engine
        .run(&workflow, &meta(), json!({"items": [1, 2, 3, 4]}))
        .await;
    assert_eq!(result.status, ExecutionStatus::Error);
    assert_eq!(trail(&result), keys(&[("l", "error")]));
    assert_eq!(
        result.error.as_deref(),
        Some(
            "node \"l\" (loop): the loop target asks for 4 iterations; a loop runs at most 3 (HOOKFLOW_MAX_LOOP_ITERATIONS)"
        )
    );
    let result = engine
        .run(&workflow, &meta(), json!({"items": [1, 2, 3]}))
        .await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert_eq!(result.jobs.len(), 4);

    let result = engine
        .run(
            &doc(json!([looping(
                "l",
                json!({"target": 1_000_000_000_000u64}),
                json!([])
            )])),
            &meta(),
            json!({}),
        )
        .await;
    assert_eq!(result.status, ExecutionStatus::Error);
}

/// A node type that answers the iteration path its scope reports, as the request node's
/// idempotency key reads it.
struct WhereAmI;

#[async_trait::async_trait]
impl crate::engine::NodeType for WhereAmI {
    fn kind(&self) -> &'static str {
        "whereAmI"
    }

    fn validate(
        &self,
        _node: &crate::model::Node,
        _ctx: &crate::engine::ValidationCtx,
    ) -> Vec<crate::problem::Problem> {
        Vec::new()
    }

    async fn run(
        &self,
        _node: &crate::model::Node,
        scope: &crate::engine::RunScope<'_>,
    ) -> Result<crate::engine::Outcome, crate::engine::NodeError> {
        Ok(crate::engine::Outcome::Continue(json!(scope.iteration())))
    }
}

#[tokio::test]
async fn nodes_read_their_iteration_path_from_the_scope() {
    let mut registry = crate::engine::Registry::builtin();
    registry.register(WhereAmI);
    let engine = Engine::with_registry(registry);
    let workflow = doc(json!([
        {"key": "outside", "type": "whereAmI"},
        looping("outer", json!({"target": 2}), json!([
            looping("inner", json!({"target": 2}), json!([{"key": "here", "type": "whereAmI"}])),
        ])),
    ]));
    let result = engine.run(&workflow, &meta(), json!({})).await;
    let paths: Vec<&Value> = result
        .jobs
        .iter()
        .filter(|job| job.node_type == "whereAmI")
        .map(|job| &job.result)
        .collect();
    assert_eq!(
        paths,
        [
            &json!([]),
            &json!([0, 0]),
            &json!([0, 1]),
            &json!([1, 0]),
            &json!([1, 1])
        ]
    );
}
