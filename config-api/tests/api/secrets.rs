//! Secrets at rest: what PostgreSQL holds of a password or signing secret is ciphertext in
//! every version; only ingress's route reads them back; rotating the key keeps them readable,
//! and config-api seals every version with the current key when it starts.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::config::Service;
use shared::testkit::TestEnv;

use crate::helpers::{TestApi, id_of, refusal_to_start};

const OLD_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const NEW_KEY: &str = "aa0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eff";

fn guarded() -> Value {
    json!({
        "title": "guarded",
        "trigger": {
            "type": "webhook",
            "basicAuthentication": {"username": "shop", "password": "pa55word-at-rest"},
            "signature": {"scheme": "github", "secrets": ["whsec-at-rest"]}
        }
    })
}

/// Every stored version's document, as text.
async fn stored_documents(env: &TestEnv) -> Vec<String> {
    let client = env.pool().get().await.expect("connection");
    client
        .query(
            "SELECT document::text FROM workflow_versions ORDER BY version",
            &[],
        )
        .await
        .expect("versions")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

async fn start(env: TestEnv, key: &str, old: Option<&str>) -> TestApi {
    let mut config = env.config(Service::ConfigApi);
    config.secret_key = Some(key.into());
    config.secret_keys_old = old.map(Into::into);
    TestApi::start_with(env, config).await
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_are_stored_encrypted_and_served_only_to_ingress() {
    let api = TestApi::start().await;
    let created = api.create(guarded()).await;
    let (id, key) = (id_of(&created), created["key"].as_str().expect("key"));
    // A second version keeps both secrets through their masks.
    let mut masked = guarded();
    masked["title"] = json!("guarded v2");
    masked["trigger"]["basicAuthentication"]["password"] = json!("********");
    masked["trigger"]["signature"]["secrets"] = json!(["********"]);
    let updated = api.put(&format!("/api/workflows/{id}"), masked).await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);

    let stored = stored_documents(&api.env).await;
    assert_eq!(stored.len(), 2);
    for document in &stored {
        assert!(!document.contains("pa55word-at-rest"), "{document}");
        assert!(!document.contains("whsec-at-rest"), "{document}");
        assert!(document.contains("sealed:v1:"), "{document}");
    }

    let admin = api.get(&format!("/api/workflows/{id}")).await;
    assert_eq!(
        admin.body["trigger"]["basicAuthentication"]["password"],
        "********"
    );
    let trigger = api.get(&format!("/internal/triggers/{key}")).await;
    assert_eq!(trigger.status, StatusCode::OK);
    assert_eq!(trigger.body["version"], 2);
    assert_eq!(
        trigger.body["trigger"]["basicAuthentication"]["password"],
        "pa55word-at-rest"
    );
    assert_eq!(
        trigger.body["trigger"]["signature"]["secrets"],
        json!(["whsec-at-rest"])
    );
    api.stop().await;
}

/// The id a sealed value names its key by: the first four bytes of the key's SHA-256.
fn key_id(key: &str) -> String {
    use sha2::Digest;
    let bytes = const_hex::decode(key).expect("hex");
    const_hex::encode(&sha2::Sha256::digest(bytes)[..4])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_key_keeps_old_secrets_readable_and_every_version_is_sealed_anew() {
    let api = start(TestEnv::new().await, OLD_KEY, None).await;
    let created = api.create(guarded()).await;
    let (id, key) = (
        id_of(&created).to_owned(),
        created["key"].as_str().expect("key").to_owned(),
    );
    let TestApi { running, env, .. } = api;
    running.stop().await.expect("stopped");
    let under_old = stored_documents(&env).await;
    assert!(under_old[0].contains(&format!("sealed:v1:{}:", key_id(OLD_KEY))));

    // Restarted with a new key, the old one listed as old: what the old key sealed still
    // reads, and every stored version is sealed with the new key at start.
    let api = start(env, NEW_KEY, Some(OLD_KEY)).await;
    let trigger = api.get(&format!("/internal/triggers/{key}")).await;
    assert_eq!(
        trigger.body["trigger"]["basicAuthentication"]["password"],
        "pa55word-at-rest"
    );
    let mut masked = guarded();
    masked["trigger"]["basicAuthentication"]["password"] = json!("********");
    masked["trigger"]["signature"]["secrets"] = json!(["********"]);
    let updated = api.put(&format!("/api/workflows/{id}"), masked).await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    let TestApi { running, env, .. } = api;
    running.stop().await.expect("stopped");
    let stored = stored_documents(&env).await;
    assert_eq!(stored.len(), 2);
    assert_ne!(stored[0], under_old[0]);
    for document in &stored {
        assert!(
            document.contains(&format!("sealed:v1:{}:", key_id(NEW_KEY))),
            "{document}"
        );
        assert!(!document.contains(&key_id(OLD_KEY)), "{document}");
    }

    // The old key is no longer needed.
    let api = start(env, NEW_KEY, None).await;
    let trigger = api.get(&format!("/internal/triggers/{key}")).await;
    assert_eq!(trigger.status, StatusCode::OK);
    assert_eq!(
        trigger.body["trigger"]["signature"]["secrets"],
        json!(["whsec-at-rest"])
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_stored_before_encryption_are_sealed_when_config_api_starts() {
    let api = TestApi::start().await;
    let created = api.create(guarded()).await;
    let key = created["key"].as_str().expect("key").to_owned();
    let TestApi {
        running,
        env,
        config,
        ..
    } = api;
    running.stop().await.expect("stopped");
    // As a version written before secrets were encrypted holds them.
    let client = env.pool().get().await.expect("connection");
    client
        .batch_execute(
            "UPDATE workflow_versions SET document = jsonb_set(document, \
             '{trigger,basicAuthentication,password}', '\"plain-old-password\"')",
        )
        .await
        .expect("plain text");
    drop(client);
    assert!(stored_documents(&env).await[0].contains("plain-old-password"));

    let api = TestApi::start_with(env, config).await;
    let stored = stored_documents(&api.env).await;
    assert!(!stored[0].contains("plain-old-password"), "{}", stored[0]);
    let trigger = api.get(&format!("/internal/triggers/{key}")).await;
    assert_eq!(
        trigger.body["trigger"]["basicAuthentication"]["password"],
        "plain-old-password"
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn config_api_refuses_to_start_without_a_secret_key() {
    let env = TestEnv::new().await;
    for key in [None, Some("not hex")] {
        let mut config = env.config(Service::ConfigApi);
        config.secret_key = key.map(Into::into);
        let error = refusal_to_start(config).await;
        assert!(error.contains("HOOKFLOW_SECRET_KEY"), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_variables_are_sealed_anew_with_a_rotated_key_at_start() {
    let api = start(TestEnv::new().await, OLD_KEY, None).await;
    let created = api
        .post(
            "/api/variables",
            json!({"name": "API_KEY", "value": "var-at-rest", "secret": true}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let TestApi { running, env, .. } = api;
    running.stop().await.expect("stopped");
    let stored = |env: &TestEnv| {
        let pool = env.pool();
        async move {
            let client = pool.get().await.expect("connection");
            let row = client
                .query_one("SELECT value FROM variables WHERE name = 'API_KEY'", &[])
                .await
                .expect("variable");
            row.get::<_, String>(0)
        }
    };
    let under_old = stored(&env).await;
    assert!(under_old.starts_with(&format!("sealed:v1:{}:", key_id(OLD_KEY))));

    let api = start(env, NEW_KEY, Some(OLD_KEY)).await;
    let under_new = stored(&api.env).await;
    assert!(
        under_new.starts_with(&format!("sealed:v1:{}:", key_id(NEW_KEY))),
        "{under_new}"
    );
    // What the executor opens with the new key alone.
    let mut config = api.config.clone();
    config.secret_key = Some(NEW_KEY.into());
    config.secret_keys_old = None;
    let keys = shared::sealing::Secrets::from_config(&config).expect("keys");
    assert_eq!(keys.open(&under_new).expect("opens"), "var-at-rest");
    // `********` keeps the value across the rotation.
    let kept = api
        .put(
            "/api/variables/API_KEY",
            json!({"value": "********", "secret": true}),
        )
        .await;
    assert_eq!(kept.status, StatusCode::OK);
    assert_eq!(
        keys.open(&stored(&api.env).await).expect("opens"),
        "var-at-rest"
    );
    api.stop().await;
}
