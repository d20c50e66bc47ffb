//! Reading the execution history the executor writes (rows inserted here with SQL).

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::TestApi;

async fn insert_execution(api: &TestApi, id: Uuid, workflow: Uuid, status: &str) {
    let client = api.env.pool().get().await.expect("connection");
    client
        .execute(
            "INSERT INTO executions (id, workflow_id, version, status, context, response, error, \
             created_at, started_at, finished_at) \
             VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $7, $8)",
            &[
                &id,
                &workflow,
                &status,
                &json!({"body": {"id": id.to_string()}}),
                &Some(json!({"statusCode": 200, "body": "ok"})),
                &(status == "error").then_some("node raised"),
                &Utc::now(),
                &Some(Utc::now() + Duration::milliseconds(5)),
            ],
        )
        .await
        .expect("insert execution");
}

async fn insert_job(api: &TestApi, execution: Uuid, position: i32, key: &str) {
    let client = api.env.pool().get().await.expect("connection");
    client
        .execute(
            "INSERT INTO jobs (execution_id, position, node_key, node_type, status, result, \
             started_at, finished_at) VALUES ($1, $2, $3, 'condition', 'resolved', $4, now(), now())",
            &[&execution, &position, &key, &json!(position == 0)],
        )
        .await
        .expect("insert job");
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn executions_are_listed_newest_first_and_filtered() {
    let api = TestApi::start().await;
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let mut executions: Vec<(Uuid, Uuid, &str)> = Vec::new();
    for (n, status) in ["resolved", "failed", "error", "resolved", "queued"]
        .into_iter()
        .enumerate()
    {
        let workflow = if n % 2 == 0 { first } else { second };
        let id = Uuid::now_v7();
        insert_execution(&api, id, workflow, status).await;
        executions.push((id, workflow, status));
    }
    executions.sort_by_key(|(id, ..)| std::cmp::Reverse(*id));
    let newest_first: Vec<String> = executions.iter().map(|(id, ..)| id.to_string()).collect();

    let all = api.get("/api/executions").await;
    assert_eq!(all.status, StatusCode::OK, "{:?}", all.body);
    assert_eq!(ids(&all.body), newest_first);
    assert_eq!(all.body["nextCursor"], Value::Null);
    let item = &all.body["items"][0];
    assert_eq!(item["workflowId"], executions[0].1.to_string());
    assert_eq!(item["status"], executions[0].2);
    assert_eq!(item["version"], 1);
    assert!(item["createdAt"].is_string());

    let mut paged = Vec::new();
    let mut path = "/api/executions?limit=2".to_owned();
    loop {
        let page = api.get(&path).await;
        paged.extend(ids(&page.body));
        match page.body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/executions?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(paged, newest_first);

    let of_first = api
        .get(&format!("/api/executions?workflowId={first}"))
        .await;
    let expected: Vec<String> = executions
        .iter()
        .filter(|(_, w, _)| *w == first)
        .map(|(id, ..)| id.to_string())
        .collect();
    assert_eq!(ids(&of_first.body), expected);

    let resolved = api.get("/api/executions?status=resolved").await;
    assert_eq!(ids(&resolved.body).len(), 2);
    let both = api
        .get(&format!(
            "/api/executions?workflowId={second}&status=failed"
        ))
        .await;
    assert_eq!(ids(&both.body).len(), 1);

    for bad in [
        "/api/executions?status=done",
        "/api/executions?workflowId=nope",
        "/api/executions?cursor=nope",
        "/api/executions?limit=0",
    ] {
        let answer = api.get(bad).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(answer.body["error"], "invalid_query", "{bad}");
    }
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_execution_shows_its_jobs_in_order() {
    let api = TestApi::start().await;
    let workflow = Uuid::now_v7();
    let id = Uuid::now_v7();
    insert_execution(&api, id, workflow, "error").await;
    // Inserted out of order: the answer follows position.
    insert_job(&api, id, 1, "second").await;
    insert_job(&api, id, 0, "first").await;

    let execution = api.get(&format!("/api/executions/{id}")).await;
    assert_eq!(execution.status, StatusCode::OK, "{:?}", execution.body);
    let body = &execution.body;
    assert_eq!(body["id"], id.to_string());
    assert_eq!(body["workflowId"], workflow.to_string());
    assert_eq!(body["version"], 1);
    assert_eq!(body["status"], "error");
    assert_eq!(body["error"], "node raised");
    assert_eq!(body["context"], json!({"body": {"id": id.to_string()}}));
    assert_eq!(body["response"], json!({"statusCode": 200, "body": "ok"}));
    assert!(body["createdAt"].is_string());
    assert!(body["finishedAt"].is_string());
    let jobs = body["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0]["nodeKey"], "first");
    assert_eq!(jobs[0]["status"], "resolved");
    assert_eq!(jobs[0]["result"], true);
    assert!(jobs[0]["startedAt"].is_string());
    assert!(jobs[0]["finishedAt"].is_string());
    assert_eq!(jobs[1]["nodeKey"], "second");
    assert_eq!(jobs[1]["result"], false);

    let unknown = api
        .get(&format!("/api/executions/{}", Uuid::now_v7()))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["error"], "not_found");
    let malformed = api.get("/api/executions/42").await;
    assert_eq!(malformed.status, StatusCode::NOT_FOUND);
    api.stop().await;
}
