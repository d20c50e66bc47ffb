//! TLS to the real PostgreSQL and RabbitMQ, through a TLS-terminating proxy whose
//! certificate a CA made at test time signed: what each `sslmode` checks, `amqps://`, and
//! the errors a URL asking for TLS gets from a server that cannot give it.

use std::{net::SocketAddr, time::Duration};

use shared::{
    broker::AmqpBroker,
    config::{Config, Service},
    db,
    testkit::{
        TestEnv,
        tls::{Preamble, TestCa, TlsProxy},
    },
    tls::ExtraRoots,
};

const POSTGRES: &str = "127.0.0.1:5432";
const RABBITMQ: &str = "127.0.0.1:5672";

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("address")
}

fn postgres_proxy(ca: &TestCa, names: &[&str], preamble: Preamble) -> TlsProxy {
    TlsProxy::start(ca.server_config(names), addr(POSTGRES), preamble)
}

fn database_url(proxy: &TlsProxy, sslmode: &str) -> String {
    format!(
        "postgres://postgres@127.0.0.1:{}/postgres?sslmode={sslmode}&connect_timeout=5",
        proxy.addr.port()
    )
}

/// What `SELECT 1` on a fresh pool for `url` gives: the number, or the error's text.
async fn select_one(url: &str, roots: &ExtraRoots) -> Result<i32, String> {
    let pool = db::pool(url, 1, roots).map_err(|e| e.to_string())?;
    let client = pool.get().await.map_err(|e| shared::causes::text(&e))?;
    let row = client
        .query_one("SELECT 1", &[])
        .await
        .map_err(|e| shared::causes::text(&e))?;
    Ok(row.get(0))
}

#[tokio::test]
async fn verify_full_connects_through_tls_with_the_private_ca() {
    let ca = TestCa::new();
    let proxy = postgres_proxy(&ca, &["localhost", "127.0.0.1"], Preamble::Postgres);
    // The CA as an operator gives it: a PEM file.
    let dir = std::env::temp_dir().join(format!("hookflow-tls-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("ca.pem");
    std::fs::write(&file, ca.pem()).expect("write CA");
    let roots = ExtraRoots::from_pem_file(file.to_str().expect("utf-8")).expect("CA file");
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(
        select_one(&database_url(&proxy, "verify-full"), &roots).await,
        Ok(1)
    );
    assert_eq!(proxy.handshakes(), 1, "the connection went through TLS");
}

#[tokio::test]
async fn verify_full_refuses_a_certificate_no_trusted_root_signed() {
    let ca = TestCa::new();
    let proxy = postgres_proxy(&ca, &["127.0.0.1"], Preamble::Postgres);
    let error = select_one(&database_url(&proxy, "verify-full"), &ExtraRoots::default())
        .await
        .expect_err("untrusted certificate");
    assert!(
        error.contains("error performing TLS handshake") && error.contains("UnknownIssuer"),
        "{error}"
    );
    // Another CA does not help either.
    let error = select_one(&database_url(&proxy, "verify-ca"), &TestCa::new().roots())
        .await
        .expect_err("certificate of another CA");
    assert!(error.contains("invalid peer certificate"), "{error}");
}

#[tokio::test]
async fn verify_ca_accepts_a_trusted_certificate_for_another_name_and_verify_full_does_not() {
    let ca = TestCa::new();
    let proxy = postgres_proxy(&ca, &["db.internal.example"], Preamble::Postgres);
    let error = select_one(&database_url(&proxy, "verify-full"), &ca.roots())
        .await
        .expect_err("certificate for another name");
    assert!(
        error.contains("certificate not valid for name \"127.0.0.1\""),
        "{error}"
    );
    assert_eq!(
        select_one(&database_url(&proxy, "verify-ca"), &ca.roots()).await,
        Ok(1)
    );
}

#[tokio::test]
async fn require_and_prefer_encrypt_without_checking_the_certificate_as_libpq_does() {
    let ca = TestCa::new();
    let proxy = postgres_proxy(&ca, &["db.internal.example"], Preamble::Postgres);
    for sslmode in ["require", "prefer"] {
        assert_eq!(
            select_one(&database_url(&proxy, sslmode), &ExtraRoots::default()).await,
            Ok(1),
            "{sslmode}"
        );
    }
    assert_eq!(proxy.handshakes(), 2, "both went through TLS");
}

#[tokio::test]
async fn require_against_a_server_without_tls_fails_and_prefer_and_disable_connect_in_the_clear() {
    let ca = TestCa::new();
    let proxy = postgres_proxy(&ca, &["127.0.0.1"], Preamble::PostgresWithoutTls);
    for sslmode in ["require", "verify-ca", "verify-full"] {
        let error = select_one(&database_url(&proxy, sslmode), &ca.roots())
            .await
            .expect_err("no TLS to be had");
        assert!(
            error.contains("server does not support TLS"),
            "{sslmode}: {error}"
        );
    }
    assert_eq!(
        select_one(&database_url(&proxy, "prefer"), &ca.roots()).await,
        Ok(1)
    );
    // `disable` sends no SSLRequest; this proxy answers only those, so it goes straight to
    // the server.
    let plain = format!("postgres://postgres@{POSTGRES}/postgres?sslmode=disable");
    assert_eq!(select_one(&plain, &ca.roots()).await, Ok(1));
    assert_eq!(proxy.handshakes(), 0);
}

fn amqp_config(env: &TestEnv, url: String, roots: ExtraRoots) -> Config {
    let mut config = env.config(Service::Executor);
    config.amqp_url = url;
    config.tls_ca = roots;
    config
}

#[tokio::test]
async fn amqps_with_the_private_ca_connects_and_the_broker_becomes_ready() {
    let env = TestEnv::new().await;
    let ca = TestCa::new();
    let proxy = TlsProxy::start(
        ca.server_config(&["localhost"]),
        addr(RABBITMQ),
        Preamble::None,
    );
    let url = format!("amqps://guest:guest@localhost:{}/%2f", proxy.addr.port());
    let config = amqp_config(&env, url, ca.roots());

    let connection = AmqpBroker::connect(&config).await.expect("AMQPS connects");
    let channel = connection.create_channel().await.expect("channel");
    assert!(channel.status().connected());
    let _ = connection.close(200, "done".into()).await;

    let broker = AmqpBroker::start(&config);
    assert!(broker.wait_ready(Duration::from_secs(10)).await);
    assert!(proxy.handshakes() >= 2, "both connections went through TLS");
    drop(broker);
}

#[tokio::test]
async fn amqps_refuses_an_untrusted_certificate_and_a_server_without_tls_saying_so() {
    let env = TestEnv::new().await;
    let ca = TestCa::new();
    let proxy = TlsProxy::start(
        ca.server_config(&["localhost"]),
        addr(RABBITMQ),
        Preamble::None,
    );
    let untrusted = amqp_config(
        &env,
        format!("amqps://guest:guest@localhost:{}/%2f", proxy.addr.port()),
        ExtraRoots::default(),
    );
    let error = AmqpBroker::connect(&untrusted)
        .await
        .expect_err("untrusted certificate")
        .to_string();
    assert!(
        error.contains(&format!(
            "TLS handshake with localhost:{} failed",
            proxy.addr.port()
        )) && error.contains("UnknownIssuer"),
        "{error}"
    );
    let broker = AmqpBroker::start(&untrusted);
    assert!(!broker.wait_ready(Duration::from_secs(2)).await);

    // RabbitMQ's plain port answers a TLS ClientHello with its AMQP header.
    let plain = amqp_config(
        &env,
        format!("amqps://guest:guest@{RABBITMQ}/%2f"),
        ca.roots(),
    );
    let error = AmqpBroker::connect(&plain)
        .await
        .expect_err("no TLS on the plain port")
        .to_string();
    assert!(
        error.contains(&format!("TLS handshake with {RABBITMQ} failed")),
        "{error}"
    );
    drop(broker);
}
