//! Trigger settings beyond basic authentication (`signature`, `rateLimit`, `allowedIps`): validated,
//! stored, and signature secrets write-only like the basic-auth password.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApi, id_of};

fn guarded(secrets: &[&str]) -> Value {
    json!({
        "title": "Stripe events",
        "trigger": {
            "type": "webhook",
            "signature": {"scheme": "stripe", "secrets": secrets, "tolerance": 120},
            "rateLimit": {"perSecond": 5, "burst": 10},
            "allowedIps": ["10.0.0.0/8", "2001:db8::1"]
        }
    })
}

fn secrets(body: &Value) -> Value {
    body["trigger"]["signature"]["secrets"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn signature_secrets_are_masked_and_survive_a_masked_round_trip() {
    let api = TestApi::start().await;
    let created = api.create(guarded(&["whsec_old_0123456789"])).await;
    let id = id_of(&created);
    let key = created["key"].as_str().expect("key");
    assert_eq!(secrets(&created), json!(["********"]));
    assert_eq!(
        created["trigger"]["signature"]["tolerance"],
        json!(120),
        "{created}"
    );
    assert_eq!(
        created["trigger"]["rateLimit"],
        json!({"perSecond": 5, "burst": 10})
    );
    assert_eq!(
        created["trigger"]["allowedIps"],
        json!(["10.0.0.0/8", "2001:db8::1"])
    );
    // Ingress gets the real secret.
    let trigger = api.get(&format!("/internal/triggers/{key}")).await;
    assert_eq!(secrets(&trigger.body), json!(["whsec_old_0123456789"]));

    // GET → edit → PUT, the way an editor does it, keeps the secret.
    let mut shown = api.get(&format!("/api/workflows/{id}")).await.body;
    assert_eq!(secrets(&shown), json!(["********"]));
    shown["title"] = json!("renamed");
    let updated = api.put(&format!("/api/workflows/{id}"), shown).await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    assert_eq!(secrets(&updated.body), json!(["********"]));
    let trigger = api.get(&format!("/internal/triggers/{key}")).await;
    assert_eq!(trigger.body["version"], 2);
    assert_eq!(secrets(&trigger.body), json!(["whsec_old_0123456789"]));

    // Rotation: keep the first by its mask, add a second.
    let rotating = api
        .put(
            &format!("/api/workflows/{id}"),
            guarded(&["********", "whsec_new_0123456789"]),
        )
        .await;
    assert_eq!(rotating.status, StatusCode::OK, "{:?}", rotating.body);
    assert_eq!(secrets(&rotating.body), json!(["********", "********"]));
    let trigger = api.get(&format!("/internal/triggers/{key}")).await;
    assert_eq!(
        secrets(&trigger.body),
        json!(["whsec_old_0123456789", "whsec_new_0123456789"])
    );
    let versions = api.get(&format!("/api/workflows/{id}/versions")).await;
    for version in versions.body["items"].as_array().expect("items") {
        for secret in secrets(version).as_array().expect("secrets") {
            assert_eq!(secret, "********", "{version}");
        }
    }

    // A mask with nothing stored at its position is refused, naming it.
    let refused = api
        .put(
            &format!("/api/workflows/{id}"),
            guarded(&["********", "********", "********"]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["error"], "invalid_workflow");
    assert_eq!(
        refused.body["problems"][0]["path"],
        "trigger.signature.secrets[2]"
    );
    // ... and so is a mask on create.
    let refused = api.post("/api/workflows", guarded(&["********"])).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.body["problems"][0]["path"],
        "trigger.signature.secrets[0]"
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_settings_are_refused_naming_each_problem() {
    let api = TestApi::start().await;
    let refused = api
        .post(
            "/api/workflows",
            json!({
                "title": "bad",
                "trigger": {
                    "signature": {"scheme": "paypal", "secrets": []},
                    "rateLimit": {"perSecond": 0, "burst": 0},
                    "allowedIps": ["10.0.0.0/8", "10.0.0.0/40", "localhost"]
                }
            }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let paths: Vec<&str> = refused.body["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["path"].as_str().expect("path"))
        .collect();
    assert_eq!(
        paths,
        [
            "trigger.signature.scheme",
            "trigger.signature.secrets",
            "trigger.rateLimit.perSecond",
            "trigger.rateLimit.burst",
            "trigger.allowedIps[1]",
            "trigger.allowedIps[2]",
        ]
    );
    let scheme = &refused.body["problems"][0]["message"];
    assert!(
        scheme.as_str().expect("message").contains("stripe, github"),
        "{scheme}"
    );
    let listed = api.get("/api/workflows").await;
    assert_eq!(listed.body["items"], json!([]));
    api.stop().await;
}
