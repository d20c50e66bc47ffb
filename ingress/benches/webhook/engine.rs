//! The node engine alone against plain JSON work on the same webhook body.

use std::{hint::black_box, time::Instant};

use serde_json::{Value, json};
use shared::{
    engine::{Engine, ExecutionMeta},
    messages::ExecutionStatus,
    model::WorkflowDocument,
};
use uuid::Uuid;

use crate::{
    Settings,
    load::{Summary, median},
    report::Row,
};

/// Runs per second of `document` on `body`, against `serde_json::from_slice` + `to_vec`
/// of the body per second.
pub async fn measure(document: &Value, body: &Value, settings: &Settings) -> Vec<Row> {
    let engine = Engine::new();
    let document: WorkflowDocument =
        serde_json::from_value(document.clone()).expect("the benchmark workflow parses");
    let meta = ExecutionMeta {
        execution_id: Uuid::now_v7(),
        workflow_id: Uuid::now_v7(),
        workflow_key: "benchmark01".into(),
    };
    // `$context` as ingress builds it; each run gets its own copy, as each execution does.
    let context = json!({"headers": {"x-request-id": "r-1"}, "query": {}, "body": body});
    let bytes = serde_json::to_vec(body).expect("body serialises");

    let check = engine.run(&document, &meta, context.clone()).await;
    assert_eq!(check.status, ExecutionStatus::Resolved, "{check:?}");
    assert_eq!(check.response.map(|r| r.status_code), Some(200));

    let runs = |count: usize| {
        let (engine, document, meta, context) = (&engine, &document, &meta, &context);
        async move {
            let started = Instant::now();
            for _ in 0..count {
                black_box(engine.run(document, meta, context.clone()).await);
            }
            count as f64 / started.elapsed().as_secs_f64()
        }
    };
    let round_trips = |count: usize| {
        let started = Instant::now();
        for _ in 0..count {
            let parsed: Value = serde_json::from_slice(black_box(&bytes)).expect("JSON body");
            black_box(serde_json::to_vec(&parsed).expect("JSON body"));
        }
        count as f64 / started.elapsed().as_secs_f64()
    };

    let n = settings.engine_iterations;
    runs(n / 10).await;
    round_trips(n / 10);
    let (mut engine_rates, mut json_rates) = (Vec::new(), Vec::new());
    for _ in 0..settings.rounds {
        engine_rates.push(runs(n).await);
        json_rates.push(round_trips(n));
    }
    let engine = Summary::rate_only(median(engine_rates).unwrap_or(0.0));
    let json = Summary::rate_only(median(json_rates).unwrap_or(0.0));
    let cost = json.rate / engine.rate.max(f64::EPSILON);
    vec![
        Row::measured("engine run, payment workflow", engine)
            .against(&json, "of JSON round trips")
            .note(format!("one run costs {cost:.1} JSON round trips")),
        Row::baseline("JSON parse + serialise of the body", json),
    ]
}
