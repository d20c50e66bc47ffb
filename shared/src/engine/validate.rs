//! `validate_document`: every problem of a workflow document, each with its path. This is
//! the one validator: config-api adds only what depends on what it stores (masked secrets).

use std::collections::HashMap;

use secrecy::ExposeSecret;
use serde_json::Value;

use super::{node::ValidationCtx, registry::Registry};
use crate::model::{FieldSpec, Node, ResponseSpec, Trigger, WorkflowDocument};
use crate::problem::Problem;
use crate::template;
use crate::trigger_settings;

/// Every problem of `doc` for the built-in node types (empty when it is valid).
pub fn validate_document(doc: &WorkflowDocument) -> Vec<Problem> {
    validate_with(Registry::shared_builtin(), doc)
}

/// Reads a workflow document sent as JSON and checks it: the document, or every problem.
pub fn parse_document(body: Value) -> Result<WorkflowDocument, Vec<Problem>> {
    match read_document(body) {
        Ok((doc, problems)) if problems.is_empty() => Ok(doc),
        Ok((_, problems)) => Err(problems),
        Err(problem) => Err(vec![problem]),
    }
}

/// Reads a workflow document sent as JSON: the document with every problem found in it,
/// or, when it does not deserialise, the first wrong value.
pub fn read_document(mut body: Value) -> Result<(WorkflowDocument, Vec<Problem>), Problem> {
    // The signature settings are read on their own, so that their problems are named
    // along with the rest of the document's instead of stopping it at the first.
    let signature = body
        .get_mut("trigger")
        .and_then(Value::as_object_mut)
        .and_then(|trigger| trigger.remove("signature"))
        .filter(|signature| !signature.is_null());
    let mut doc: WorkflowDocument = serde_path_to_error::deserialize(body).map_err(|err| {
        let path = match err.path().to_string() {
            root if root == "." => String::new(),
            path => path,
        };
        Problem::new(path, err.into_inner().to_string())
    })?;
    let mut signature_problems = Vec::new();
    match signature.map(|signature| trigger_settings::parse_signature(&signature)) {
        Some(Ok(signature)) => doc.trigger.signature = Some(signature),
        Some(Err(problems)) => signature_problems = problems,
        None => {}
    }
    let problems = walk(Registry::shared_builtin(), &doc, signature_problems);
    Ok((doc, problems))
}

pub(crate) fn validate_with(registry: &Registry, doc: &WorkflowDocument) -> Vec<Problem> {
    walk(registry, doc, Vec::new())
}

/// Every problem of `doc`, with those already found reading its signature settings.
fn walk(
    registry: &Registry,
    doc: &WorkflowDocument,
    signature_problems: Vec<Problem>,
) -> Vec<Problem> {
    let mut walk = Walk {
        registry,
        ctx: ValidationCtx { sync: doc.sync },
        first_use: HashMap::new(),
        problems: Vec::new(),
    };
    if doc.title.trim().is_empty() {
        walk.problem("title", "title must not be empty");
    }
    walk.trigger(&doc.trigger, signature_problems);
    if doc.options.timeout == Some(0) {
        walk.problem(
            "options.timeout",
            "timeout must be a positive number of milliseconds",
        );
    }
    if let Some(answer) = &doc.options.timeout_response {
        walk.timeout_response(answer, doc.sync);
    }
    walk.chain(&doc.nodes, "nodes");
    walk.problems
}

struct Walk<'a> {
    registry: &'a Registry,
    ctx: ValidationCtx,
    /// Where each key was first used, to name both places of a duplicate.
    first_use: HashMap<&'a str, String>,
    problems: Vec<Problem>,
}

impl<'a> Walk<'a> {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(path, message));
    }

    fn trigger(&mut self, trigger: &Trigger, signature_problems: Vec<Problem>) {
        if trigger.kind != "webhook" {
            self.problem(
                "trigger.type",
                format!(
                    "the trigger type must be \"webhook\", not \"{}\"",
                    trigger.kind
                ),
            );
        }
        if let Some(auth) = &trigger.basic_authentication {
            if auth.username.is_empty() {
                self.problem(
                    "trigger.basicAuthentication.username",
                    "username must not be empty",
                );
            }
            if auth.password.expose_secret().is_empty() {
                self.problem(
                    "trigger.basicAuthentication.password",
                    "password must not be empty",
                );
            }
        }
        for (i, header) in trigger.request.headers.iter().enumerate() {
            if header.key.eq_ignore_ascii_case("authorization") {
                self.problem(
                    format!("trigger.request.headers[{i}].key"),
                    "the Authorization header is never passed to workflows",
                );
            }
        }
        for (part, fields) in [
            ("headers", &trigger.request.headers),
            ("query", &trigger.request.query),
            ("body", &trigger.request.body),
        ] {
            self.declared_keys(part, fields);
        }
        // The same range as a response node's: a final answer a caller can be sent.
        if let Some(code) = trigger.response.status_code
            && !(200..=599).contains(&code)
        {
            self.problem(
                "trigger.response.statusCode",
                format!("the status code must be between 200 and 599, not {code}"),
            );
        }
        if let Some(body) = &trigger.response.body {
            self.templates(body, "trigger.response.body");
        }
        for (i, header) in trigger.response.headers.iter().enumerate() {
            let value = Value::String(header.value.clone());
            self.templates(&value, &format!("trigger.response.headers[{i}].value"));
        }
        if let Some(key) = &trigger.idempotency_key {
            self.templates(&Value::String(key.clone()), "trigger.idempotencyKey");
        }
        self.problems.extend(signature_problems);
        self.problems.extend(trigger_settings::problems(trigger));
    }

    fn timeout_response(&mut self, answer: &ResponseSpec, sync: bool) {
        if !sync {
            self.problem(
                "options.timeoutResponse",
                "only a sync workflow has a timeout answer: an async caller is answered at once with trigger.response",
            );
        }
        if let Some(code) = answer.status_code
            && !(200..=599).contains(&code)
        {
            self.problem(
                "options.timeoutResponse.statusCode",
                format!("the status code must be between 200 and 599, not {code}"),
            );
        }
        if let Some(body) = &answer.body {
            self.templates(body, "options.timeoutResponse.body");
        }
        for (i, header) in answer.headers.iter().enumerate() {
            if !crate::header_name::is_valid(&header.name) {
                self.problem(
                    format!("options.timeoutResponse.headers[{i}].name"),
                    "a header needs a valid name",
                );
            }
            let value = Value::String(header.value.clone());
            self.templates(
                &value,
                &format!("options.timeoutResponse.headers[{i}].value"),
            );
        }
    }

    fn declared_keys(&mut self, part: &str, fields: &[FieldSpec]) {
        for (i, field) in fields.iter().enumerate() {
            if field.key.trim().is_empty() {
                self.problem(
                    format!("trigger.request.{part}[{i}].key"),
                    "key must not be empty",
                );
            }
        }
    }

    fn chain(&mut self, nodes: &'a [Node], path: &str) {
        let mut terminated_at: Option<String> = None;
        for (i, node) in nodes.iter().enumerate() {
            let node_path = format!("{path}[{i}]");
            if let Some(terminator) = &terminated_at {
                self.problems.push(Problem::new(
                    node_path.clone(),
                    format!("this node never runs: the node at {terminator} ends the workflow"),
                ));
            }
            if self.node(node, &node_path) && terminated_at.is_none() {
                terminated_at = Some(node_path);
            }
        }
    }

    /// Checks one node and its branches; tells whether it ends the workflow.
    fn node(&mut self, node: &'a Node, path: &str) -> bool {
        self.key(node, path);
        if !matches!(node.config, Value::Object(_) | Value::Null) {
            self.problems.push(Problem::new(
                format!("{path}.config"),
                "a node's config must be an object",
            ));
        }
        self.templates(&node.config, &format!("{path}.config"));
        let Some(node_type) = self.registry.get(&node.kind) else {
            self.problems.push(Problem::new(
                format!("{path}.type"),
                format!(
                    "unknown node type \"{}\"; known types are {}",
                    node.kind,
                    self.registry.kinds().join(", ")
                ),
            ));
            for (name, branch) in &node.branches {
                self.chain(branch, &format!("{path}.branches.{name}"));
            }
            return false;
        };
        self.problems.extend(
            node_type
                .validate(node, &self.ctx)
                .into_iter()
                .map(|problem| problem.under(path)),
        );
        for name in node_type.required_branches(node) {
            if !node.branches.contains_key(*name) {
                self.problems.push(Problem::new(
                    format!("{path}.branches.{name}"),
                    format!(
                        "a {} node needs a \"{name}\" branch (an empty list when nothing should run)",
                        node.kind
                    ),
                ));
            }
        }
        for (name, branch) in &node.branches {
            let branch_path = format!("{path}.branches.{name}");
            if !node_type.accepts_branch(node, name) {
                self.problems.push(Problem::new(
                    branch_path.clone(),
                    format!("a {} node has no \"{name}\" branch", node.kind),
                ));
            }
            self.chain(branch, &branch_path);
        }
        node_type.terminates(node)
    }

    fn key(&mut self, node: &'a Node, path: &str) {
        let key_path = format!("{path}.key");
        if node.key.trim().is_empty() {
            self.problems
                .push(Problem::new(key_path, "every node needs a non-empty key"));
            return;
        }
        match self.first_use.get(node.key.as_str()) {
            Some(first) => self.problems.push(Problem::new(
                key_path,
                format!(
                    "the key \"{}\" is already used by the node at {first}",
                    node.key
                ),
            )),
            None => {
                self.first_use.insert(&node.key, path.to_owned());
            }
        }
    }

    fn templates(&mut self, value: &Value, path: &str) {
        for (inner, error) in template::check_value(value) {
            self.problems
                .push(Problem::new(inner, format!("template does not parse: {error}")).under(path));
        }
    }
}
