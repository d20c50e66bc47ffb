//! The stack over TLS with a private CA: every service reaches PostgreSQL
//! (`sslmode=verify-full`) and RabbitMQ (`amqps://`) through TLS-terminating proxies, and
//! ingress reads trigger definitions from config-api over `https://`; a URL asking for TLS
//! of a server that has none, or whose certificate is not trusted, fails saying so.

use std::{net::SocketAddr, sync::Mutex, time::Duration};

use hookflow_ingress::triggers::ConfigApiClient;
use serde_json::json;
use shared::{
    config::Service,
    testkit::{
        TestEnv,
        tls::{Preamble, TestCa, TlsProxy},
    },
};

use crate::common::{Stack, json_of};

fn socket_of(url: &reqwest::Url) -> SocketAddr {
    let host = url.host_str().expect("host");
    let port = url.port().expect("port");
    format!("{host}:{port}").parse().expect("socket address")
}

fn echo_workflow() -> serde_json::Value {
    json!({
        "title": "over TLS",
        "sync": true,
        "trigger": {"type": "webhook"},
        "nodes": [{"key": "echo", "type": "response",
                   "config": {"statusCode": 200, "body": {"got": "{{$context.body.n}}"}}}]
    })
}

#[tokio::test]
async fn the_stack_runs_over_tls_trusting_a_private_ca() {
    let ca = TestCa::new();
    let server = ca.server_config(&["localhost"]);
    let postgres = TlsProxy::start(
        server.clone(),
        "127.0.0.1:5432".parse().expect("address"),
        Preamble::Postgres,
    );
    let rabbitmq = TlsProxy::start(
        server.clone(),
        "127.0.0.1:5672".parse().expect("address"),
        Preamble::None,
    );
    let config_api_proxy = Mutex::new(None);
    let env = TestEnv::new().await;
    let db_name = env.db_name.clone();
    let stack = Stack::start_in(env, |service, config| {
        config.tls_ca = ca.roots();
        config.amqp_url = format!("amqps://guest:guest@localhost:{}/%2f", rabbitmq.addr.port());
        config.database_url = format!(
            "postgres://postgres@localhost:{}/{db_name}?sslmode=verify-full",
            postgres.addr.port()
        );
        if service == Service::Ingress {
            let proxy = TlsProxy::start(
                server.clone(),
                socket_of(&config.config_api_url),
                Preamble::None,
            );
            config.config_api_url = format!("https://localhost:{}", proxy.addr.port())
                .parse()
                .expect("url");
            *config_api_proxy.lock().expect("lock") = Some(proxy);
        }
    })
    .await;
    let config_api_handshakes = || {
        config_api_proxy
            .lock()
            .expect("lock")
            .as_ref()
            .map_or(0, TlsProxy::handshakes)
    };
    // config-api migrated its database and every service connected to RabbitMQ over TLS.
    assert!(
        postgres.handshakes() >= 1,
        "config-api and executor use TLS"
    );
    assert!(rabbitmq.handshakes() >= 3, "each service connects with TLS");

    let workflow = stack.create_workflow(echo_workflow()).await;
    let response = stack.call(&workflow, json!({"n": 7})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(json_of(response).await, json!({"got": 7}));
    assert!(
        config_api_handshakes() >= 1,
        "ingress read the trigger over https"
    );
    let executions = stack.finished_executions(&workflow, 1).await;
    assert_eq!(executions[0]["status"], "resolved", "{executions:?}");
    stack.stop().await.expect("stop");
}

#[tokio::test]
async fn an_https_config_api_url_fails_clearly_on_a_plain_server_or_an_untrusted_certificate() {
    let stack = Stack::start().await;
    let workflow = stack.create_workflow(echo_workflow()).await;
    let plain = socket_of(&stack.ingress_config().config_api_url);

    // https:// to config-api's plain HTTP port.
    let mut config = stack.ingress_config();
    config.config_api_url = format!("https://{plain}").parse().expect("url");
    let error = ConfigApiClient::new(&config)
        .expect("client")
        .fetch(&workflow.key)
        .await
        .expect_err("no TLS on a plain port")
        .to_string();
    assert!(
        error.starts_with("config-api unreachable:") && error.contains("corrupt message"),
        "{error}"
    );

    // A certificate signed by a CA the service was not given.
    let proxy = TlsProxy::start(
        TestCa::new().server_config(&["localhost"]),
        plain,
        Preamble::None,
    );
    let https = format!("https://localhost:{}", proxy.addr.port());
    let mut config = stack.ingress_config();
    config.config_api_url = https.parse().expect("url");
    let error = ConfigApiClient::new(&config)
        .expect("client")
        .fetch(&workflow.key)
        .await
        .expect_err("untrusted certificate")
        .to_string();
    assert!(
        error.contains("invalid peer certificate: UnknownIssuer"),
        "{error}"
    );

    // What a caller of such an ingress gets: 503, safe to retry.
    let ingress = stack.extra_ingress(|config| {
        config.config_api_url = https.parse().expect("url");
    });
    let url = crate::common::webhook_on(&ingress, &workflow.key);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let response = loop {
        match stack.http.post(&url).json(&json!({"n": 1})).send().await {
            Ok(response) => break response,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) => panic!("ingress does not answer: {err}"),
        }
    };
    assert_eq!(response.status(), 503);
    assert_eq!(json_of(response).await["error"], "unavailable");
    stack.stop().await.expect("stop");
}
