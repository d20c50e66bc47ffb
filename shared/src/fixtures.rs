//! Workflow documents from docs/workflows.md for tests and benchmarks (feature `testkit`).

use serde_json::{Value, json};

/// docs/workflows.md's example: a sync payment callback with basic auth (`shop` / `s3cret`) whose
/// condition answers paid callers `200 {"code":0,"id":<id>}` and others
/// `400 {"code":1,"message":"not paid"}`.
pub fn payment_callback() -> Value {
    json!({
      "title": "Payment callback",
      "sync": true,
      "enabled": true,
      "trigger": {
        "type": "webhook",
        "basicAuthentication": {"username": "shop", "password": "s3cret"},
        "request": {
          "headers": [{"key": "X-Request-Id"}],
          "query":   [{"key": "source", "alias": "Source"}],
          "body":    [{"key": "id"}, {"key": "status"}, {"key": "amount", "alias": "Amount"}]
        },
        "response": {"statusCode": 200, "body": "ok"}
      },
      "options": {"timeout": 5000},
      "nodes": [
        {"key": "paid", "type": "condition",
         "config": {"rejectOnFalse": false, "engine": "basic",
                    "calculation": {"group": {"type": "and", "calculations": [
                      {"calculator": "equal", "operands": ["{{$context.body.status}}", "paid"]}]}}},
         "branches": {
           "true":  [{"key": "ok",  "type": "response", "config": {"statusCode": 200, "body": {"code": 0, "id": "{{$context.body.id}}"}}}],
           "false": [{"key": "bad", "type": "response", "config": {"statusCode": 400, "body": {"code": 1, "message": "not paid"}}}]
         }}
      ]
    })
}
