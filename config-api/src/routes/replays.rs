//! `POST /api/executions/{id}/replay` and `POST /api/executions/replay`: run recorded
//! executions again, with their recorded `$context`, as new executions naming the one they
//! replay. Nobody waits for a replay's answer, whatever the workflow's mode.

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::messages::{ExecutionMessage, ExecutionStatus};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, ErrorBody};
use crate::repo::executions as executions_repo;
use crate::repo::replays::{self as repo, Selection, Source};
use crate::state::AppState;
use crate::views::ExecutionView;

/// Default number of executions a bulk replay queues.
const DEFAULT_BULK_LIMIT: u32 = 100;
/// Most executions one bulk replay queues.
const MAX_BULK_LIMIT: u32 = 1000;

/// Which version of the workflow a replay runs.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReplayVersion {
    /// The workflow's current version.
    #[default]
    Current,
    /// The version the recorded execution ran.
    Original,
}

/// How to replay one execution.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayOne {
    /// `current` (default) or `original`.
    #[serde(default)]
    version: ReplayVersion,
}

/// Which executions to replay: every filter given must match.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayMany {
    /// Only this workflow's executions.
    workflow_id: Option<Uuid>,
    /// Only executions with one of these statuses; default every final one (`resolved`,
    /// `failed`, `error`, `aborted`).
    #[serde(default)]
    status: Option<Vec<ExecutionStatus>>,
    /// Only executions accepted at or after this time (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Only executions accepted before this time (RFC 3339).
    until: Option<DateTime<Utc>>,
    /// At most this many, oldest first: default 100, at most 1000.
    #[schema(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// `current` (default) or `original`.
    #[serde(default)]
    version: ReplayVersion,
}

/// What a bulk replay queued.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Replayed {
    /// How many executions were queued.
    pub queued: usize,
    /// The new executions' ids, in the order of the executions they replay (oldest first).
    pub execution_ids: Vec<Uuid>,
}

/// Queues a new execution with the recorded context of `{id}`.
#[utoipa::path(
    tag = "executions",
    params(("id" = Uuid, Path, description = "The execution to replay")),
    request_body(content = Option<ReplayOne>, description = "Optional; `{\"version\": \"current\"}` when absent"),
    responses(
        (status = 201, description = "The new execution, queued; `replayOf` names `{id}`", body = ExecutionView),
        (status = 400, description = "Not JSON, or not this shape", body = ErrorBody),
        (status = 404, description = "No such execution", body = ErrorBody),
        (status = 409, description = "Its workflow is disabled or deleted", body = ErrorBody),
        (status = 503, description = "The execution queue is unavailable; nothing was queued", body = ErrorBody),
    )
)]
#[post("/executions/{id}/replay")]
#[tracing::instrument(skip(state, body))]
pub async fn replay_one(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request: ReplayOne = parse_optional(&body)?;
    let source = repo::source(&state.pool, *id)
        .await?
        .ok_or(ApiError::NotFound("execution"))?;
    let new_id = replay(&state, &source, request.version).await?;
    let execution = executions_repo::get(&state.pool, new_id)
        .await?
        .ok_or_else(|| ApiError::Corrupt(format!("replay {new_id} vanished")))?;
    Ok(HttpResponse::Created().json(execution))
}

/// Queues new executions with the recorded contexts of the executions the filters select,
/// oldest first. Executions of disabled or deleted workflows are not replayed.
#[utoipa::path(
    tag = "executions",
    request_body = ReplayMany,
    responses(
        (status = 201, description = "What was queued", body = Replayed),
        (status = 400, description = "Not JSON, or not this shape", body = ErrorBody),
        (status = 409, description = "The named workflow is disabled or deleted", body = ErrorBody),
        (status = 422, description = "A bad limit or time range", body = ErrorBody),
        (status = 503, description = "The execution queue is unavailable; the message says how many were queued", body = ErrorBody),
    )
)]
#[post("/executions/replay")]
#[tracing::instrument(skip_all)]
pub async fn replay_many(
    state: web::Data<AppState>,
    body: web::Json<ReplayMany>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    let limit = request.limit.unwrap_or(DEFAULT_BULK_LIMIT);
    if !(1..=MAX_BULK_LIMIT).contains(&limit) {
        return Err(unprocessable(format!(
            "limit must be between 1 and {MAX_BULK_LIMIT}, not {limit}"
        )));
    }
    if let (Some(since), Some(until)) = (request.since, request.until)
        && since >= until
    {
        return Err(unprocessable("since must be before until"));
    }
    if let Some(workflow_id) = request.workflow_id {
        check_workflow(&state, workflow_id).await?;
    }
    let selection = Selection {
        workflow_id: request.workflow_id,
        statuses: request.status.unwrap_or_else(|| {
            vec![
                ExecutionStatus::Resolved,
                ExecutionStatus::Failed,
                ExecutionStatus::Error,
                ExecutionStatus::Aborted,
            ]
        }),
        since: request.since,
        until: request.until,
        limit,
    };
    let selected = repo::select(&state.pool, &selection).await?;
    let mut execution_ids = Vec::with_capacity(selected.len());
    for id in selected {
        // Gone or changed since it was selected: skipped, like any other it does not cover.
        let Some(source) = repo::source(&state.pool, id).await? else {
            continue;
        };
        match replay(&state, &source, request.version).await {
            Ok(new_id) => execution_ids.push(new_id),
            Err(ApiError::Conflict { .. }) => continue,
            Err(ApiError::QueueUnavailable(_)) if !execution_ids.is_empty() => {
                return Err(ApiError::QueueUnavailable(format!(
                    "the execution queue became unavailable after {} replays were queued (they name their originals in replayOf); the others were not queued, try again shortly",
                    execution_ids.len()
                )));
            }
            Err(err) => return Err(err),
        }
    }
    tracing::info!(queued = execution_ids.len(), "executions replayed");
    Ok(HttpResponse::Created().json(Replayed {
        queued: execution_ids.len(),
        execution_ids,
    }))
}

/// Queues one replay of `source`; its new id.
async fn replay(
    state: &AppState,
    source: &Source,
    version: ReplayVersion,
) -> Result<Uuid, ApiError> {
    let workflow = runnable(source.workflow.as_ref(), source.workflow_id)?;
    let version = match version {
        ReplayVersion::Current => workflow.current_version,
        ReplayVersion::Original => source.version,
    };
    let message = ExecutionMessage {
        execution_id: Uuid::now_v7(),
        workflow_id: source.workflow_id,
        workflow_key: workflow.key.clone(),
        version,
        sync: false,
        context: source.context.clone(),
        received_at: Utc::now(),
        idempotency: None,
        sync_timeout_ms: None,
    };
    repo::insert_queued(
        &state.pool,
        message.execution_id,
        source,
        version,
        message.received_at,
    )
    .await?;
    if let Err(err) = state.executions.publish(&message).await {
        tracing::warn!(error = %err, "replay not queued");
        if let Err(err) = repo::remove_queued(&state.pool, message.execution_id).await {
            tracing::warn!(error = %err, execution_id = %message.execution_id, "an unqueued replay stays recorded as queued");
        }
        return Err(ApiError::QueueUnavailable(
            "the execution queue is unavailable; nothing was queued, try again shortly".into(),
        ));
    }
    tracing::info!(execution_id = %message.execution_id, replay_of = %source.id, version, "replay queued");
    Ok(message.execution_id)
}

/// A workflow that can take a replay: existing and enabled.
fn runnable(
    workflow: Option<&repo::WorkflowNow>,
    workflow_id: Uuid,
) -> Result<&repo::WorkflowNow, ApiError> {
    match workflow {
        Some(workflow) if workflow.deleted => Err(ApiError::Conflict {
            code: "workflow_deleted",
            message: format!("workflow {workflow_id} was deleted; its executions are not replayed"),
        }),
        Some(workflow) if !workflow.enabled => Err(ApiError::Conflict {
            code: "workflow_disabled",
            message: format!(
                "workflow {workflow_id} is disabled; enable it to replay its executions"
            ),
        }),
        Some(workflow) => Ok(workflow),
        None => Err(ApiError::Conflict {
            code: "workflow_deleted",
            message: format!(
                "workflow {workflow_id} does not exist; its executions are not replayed"
            ),
        }),
    }
}

async fn check_workflow(state: &AppState, workflow_id: Uuid) -> Result<(), ApiError> {
    match crate::repo::workflows::state_of(&state.pool, workflow_id).await? {
        None => Err(ApiError::NotFound("workflow")),
        Some((enabled, deleted)) => {
            let now = repo::WorkflowNow {
                key: String::new(),
                current_version: 0,
                enabled,
                deleted,
            };
            runnable(Some(&now), workflow_id).map(|_| ())
        }
    }
}

/// The body, or the default when it is empty.
fn parse_optional<T: Default + serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    // `null` is an absent body too.
    serde_json::from_slice::<Option<T>>(body)
        .map(Option::unwrap_or_default)
        .map_err(|err| {
            ApiError::bad_request(
                "invalid_json",
                format!("the request body is not valid JSON for this call: {err}"),
            )
        })
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::Unprocessable {
        code: "invalid_replay",
        message: message.into(),
    }
}
