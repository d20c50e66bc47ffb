//! Turning a request body into a valid workflow document (docs/workflows.md), naming every problem.
//! The checks are the engine's validator's; this service adds only what concerns the
//! secrets it stores (a masked value stands for a stored one).

use serde_json::Value;
use shared::engine::{Problem, read_document};
use shared::model::{MASKED_PASSWORD, WorkflowDocument};
use shared::secret::Secret;

use crate::error::ApiError;

/// Parses and validates a document sent to create a workflow.
pub fn for_create(body: Value) -> Result<WorkflowDocument, ApiError> {
    let (doc, mut problems) = deserialize(body)?;
    if let Some(auth) = &doc.trigger.basic_authentication
        && auth.password == MASKED_PASSWORD
    {
        problems.push(problem(
            "trigger.basicAuthentication.password",
            "set a real password: the masked value only keeps a stored password when updating",
        ));
    }
    for (i, secret) in signature_secrets(&doc).iter().enumerate() {
        if secret == MASKED_PASSWORD {
            problems.push(problem(
                format!("trigger.signature.secrets[{i}]"),
                "set a real secret: the masked value only keeps a stored secret when updating",
            ));
        }
    }
    reject_if_any(doc, problems)
}

/// Parses and validates a document sent to replace a workflow; masked secrets are
/// resolved later, against the stored version, by [`restore_secrets`].
pub fn for_update(body: Value) -> Result<WorkflowDocument, ApiError> {
    let (doc, problems) = deserialize(body)?;
    reject_if_any(doc, problems)
}

/// Puts stored secrets back where a client round-tripped masked ones (GET shows
/// `********`; PUTting that back means "unchanged"): the basic-auth password of the same
/// username, and each masked signature secret from the same position in the stored list
/// (so `["********", "new"]` adds a secret while keeping the first).
pub fn restore_secrets(
    doc: &mut WorkflowDocument,
    stored: &WorkflowDocument,
) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    if let Some(auth) = doc.trigger.basic_authentication.as_mut()
        && auth.password == MASKED_PASSWORD
    {
        match &stored.trigger.basic_authentication {
            Some(old) if old.username == auth.username => auth.password.clone_from(&old.password),
            _ => problems.push(problem(
                "trigger.basicAuthentication.password",
                "the masked password only keeps the stored password of the same username; send the new password",
            )),
        }
    }
    let stored_secrets = signature_secrets(stored);
    if let Some(signature) = doc.trigger.signature.as_mut() {
        for (i, secret) in signature.secrets.iter_mut().enumerate() {
            if secret != MASKED_PASSWORD {
                continue;
            }
            match stored_secrets.get(i) {
                Some(old) => secret.clone_from(old),
                None => problems.push(problem(
                    format!("trigger.signature.secrets[{i}]"),
                    "the masked value only keeps the stored secret at the same position, and there is none; send the secret",
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidWorkflow(problems))
    }
}

fn signature_secrets(doc: &WorkflowDocument) -> &[Secret] {
    doc.trigger
        .signature
        .as_ref()
        .map_or(&[], |signature| signature.secrets.as_slice())
}

/// The document in `body` and every problem the validator finds in it, and any text
/// the store cannot hold.
fn deserialize(body: Value) -> Result<(WorkflowDocument, Vec<Problem>), ApiError> {
    let (doc, mut problems) =
        read_document(body).map_err(|problem| ApiError::InvalidWorkflow(vec![problem]))?;
    if let Ok(stored) = serde_json::to_value(&doc) {
        nul_characters(&stored, "", &mut problems);
    }
    Ok((doc, problems))
}

/// PostgreSQL's `jsonb` cannot hold the NUL character (`\u0000`) in any string.
fn nul_characters(value: &Value, path: &str, problems: &mut Vec<Problem>) {
    let at = |inner: &str| {
        if path.is_empty() {
            inner.to_owned()
        } else if inner.starts_with('[') {
            format!("{path}{inner}")
        } else {
            format!("{path}.{inner}")
        }
    };
    match value {
        Value::String(text) if text.contains('\0') => problems.push(problem(
            path,
            "text must not contain the NUL character (\\u0000)",
        )),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nul_characters(item, &at(&format!("[{i}]")), problems);
            }
        }
        Value::Object(fields) => {
            for (name, item) in fields {
                let inner = at(name);
                if name.contains('\0') {
                    problems.push(problem(
                        inner.clone(),
                        "a name must not contain the NUL character (\\u0000)",
                    ));
                }
                nul_characters(item, &inner, problems);
            }
        }
        _ => {}
    }
}

fn reject_if_any(
    doc: WorkflowDocument,
    problems: Vec<Problem>,
) -> Result<WorkflowDocument, ApiError> {
    if problems.is_empty() {
        Ok(doc)
    } else {
        Err(ApiError::InvalidWorkflow(problems))
    }
}

fn problem(path: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem::new(path, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use serde_json::json;

    fn problems_of(result: Result<WorkflowDocument, ApiError>) -> Vec<Problem> {
        match result {
            Err(ApiError::InvalidWorkflow(problems)) => problems,
            other => panic!("expected invalid_workflow, got {other:?}"),
        }
    }

    fn paths(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.path.as_str()).collect()
    }

    #[test]
    fn a_minimal_document_is_valid() {
        let doc = for_create(json!({"title": "t", "trigger": {"type": "webhook"}})).expect("ok");
        assert!(doc.enabled);
        assert!(!doc.sync);
    }

    #[test]
    fn names_every_problem_at_once() {
        let problems = problems_of(for_create(json!({
            "title": " ",
            "trigger": {
                "type": "schedule",
                "request": {"headers": [{"key": "Authorization"}], "body": [{"key": ""}]},
                "response": {"statusCode": 99}
            },
            "options": {"timeout": 0}
        })));
        assert_eq!(
            paths(&problems),
            [
                "title",
                "trigger.type",
                "trigger.request.headers[0].key",
                "trigger.request.body[0].key",
                "trigger.response.statusCode",
                "options.timeout",
            ]
        );
    }

    #[test]
    fn engine_problems_come_after_ours() {
        let problems = problems_of(for_create(json!({
            "title": "",
            "trigger": {"type": "webhook"},
            "nodes": [
                {"key": "a", "type": "teleport"},
                {"key": "a", "type": "end", "config": {"endStatus": 1}}
            ]
        })));
        let paths = paths(&problems);
        assert_eq!(paths[0], "title");
        assert!(paths.contains(&"nodes[0].type"), "{problems:?}");
        assert!(paths.contains(&"nodes[1].key"), "{problems:?}");
    }

    #[test]
    fn a_type_error_is_reported_with_its_path() {
        let problems = problems_of(for_create(json!({
            "title": "t",
            "trigger": {"request": {"query": [{"key": 5}]}}
        })));
        assert_eq!(paths(&problems), ["trigger.request.query[0].key"]);
        let missing = problems_of(for_create(json!({"trigger": {}})));
        assert_eq!(missing[0].path, "");
        assert!(missing[0].message.contains("title"), "{missing:?}");
    }

    #[test]
    fn text_the_store_cannot_hold_is_a_problem() {
        let problems = problems_of(for_create(json!({
            "title": "t\u{0}",
            "nodes": [{"key": "e", "type": "end", "config": {"endStatus": 1, "note\u{0}": "x\u{0}"}}],
            "trigger": {}
        })));
        assert_eq!(
            paths(&problems),
            [
                "title",
                "nodes[0].config.note\u{0}",
                "nodes[0].config.note\u{0}"
            ]
        );
    }

    #[test]
    fn a_masked_password_cannot_create() {
        let problems = problems_of(for_create(json!({
            "title": "t",
            "trigger": {"basicAuthentication": {"username": "u", "password": MASKED_PASSWORD}}
        })));
        assert_eq!(paths(&problems), ["trigger.basicAuthentication.password"]);
    }

    fn with_auth(username: &str, password: &str) -> WorkflowDocument {
        for_update(json!({
            "title": "t",
            "trigger": {"basicAuthentication": {"username": username, "password": password}}
        }))
        .expect("doc")
    }

    #[test]
    fn the_masked_password_keeps_the_stored_one() {
        let stored = with_auth("shop", "s3cret");
        let mut sent = with_auth("shop", MASKED_PASSWORD);
        restore_secrets(&mut sent, &stored).expect("restored");
        assert_eq!(sent, stored);

        let mut changed = with_auth("shop", "new");
        restore_secrets(&mut changed, &stored).expect("kept");
        assert_eq!(
            changed.trigger.basic_authentication.expect("auth").password,
            "new"
        );
    }

    #[test]
    fn the_masked_password_of_another_user_is_refused() {
        let stored = with_auth("shop", "s3cret");
        let mut sent = with_auth("other", MASKED_PASSWORD);
        assert!(matches!(
            restore_secrets(&mut sent, &stored),
            Err(ApiError::InvalidWorkflow(_))
        ));
    }

    fn with_secrets(secrets: &[&str]) -> WorkflowDocument {
        for_update(json!({
            "title": "t",
            "trigger": {"signature": {"scheme": "github", "secrets": secrets}}
        }))
        .expect("doc")
    }

    fn secrets_of(doc: WorkflowDocument) -> Vec<String> {
        let secrets = doc.trigger.signature.expect("signature").secrets;
        secrets
            .iter()
            .map(|s| s.expose_secret().to_owned())
            .collect()
    }

    #[test]
    fn masked_signature_secrets_keep_the_stored_ones_by_position() {
        let stored = with_secrets(&["old-secret-0123456789", "older-secret-0123456789"]);
        let mut sent = with_secrets(&[MASKED_PASSWORD, MASKED_PASSWORD]);
        restore_secrets(&mut sent, &stored).expect("restored");
        assert_eq!(sent, stored);

        let mut rotated = with_secrets(&[MASKED_PASSWORD, "new-secret-0123456789"]);
        restore_secrets(&mut rotated, &stored).expect("rotated");
        assert_eq!(
            secrets_of(rotated),
            ["old-secret-0123456789", "new-secret-0123456789"]
        );

        let mut beyond = with_secrets(&[MASKED_PASSWORD, MASKED_PASSWORD, MASKED_PASSWORD]);
        let problems = problems_of(restore_secrets(&mut beyond, &stored).map(|()| stored.clone()));
        assert_eq!(paths(&problems), ["trigger.signature.secrets[2]"]);
    }

    #[test]
    fn masked_signature_secrets_cannot_create() {
        let problems = problems_of(for_create(json!({
            "title": "t",
            "trigger": {"signature": {"scheme": "github", "secrets": ["real-secret-0123456789", MASKED_PASSWORD]}}
        })));
        assert_eq!(paths(&problems), ["trigger.signature.secrets[1]"]);
    }
}
