//! Service configuration: defaults layered under `HOOKFLOW_*` environment variables (SPEC §1).

use std::net::SocketAddr;

use figment::{
    Figment,
    providers::{Env, Serialized},
};
use serde::{Deserialize, Serialize};

/// Which service a configuration is for; it decides the default listen port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The webhook front door.
    Ingress,
    /// The node-graph workers.
    Executor,
    /// The workflow store and REST API.
    ConfigApi,
}

impl Service {
    /// Default `HOOKFLOW_LISTEN` address of the service.
    pub fn default_listen(self) -> &'static str {
        match self {
            Service::Ingress => "0.0.0.0:13000",
            Service::ConfigApi => "0.0.0.0:13001",
            Service::Executor => "0.0.0.0:13002",
        }
    }

    /// Name reported to tracing when `OTEL_SERVICE_NAME` is not set.
    pub fn name(self) -> &'static str {
        match self {
            Service::Ingress => "hookflow-ingress",
            Service::Executor => "hookflow-executor",
            Service::ConfigApi => "hookflow-config-api",
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, carrying the trace id.
    Json,
}

/// Every setting of every service; each service reads the ones it needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// PostgreSQL connection URL (executor, config-api).
    pub database_url: String,
    /// RabbitMQ connection URL.
    pub amqp_url: String,
    /// Address the HTTP server binds.
    pub listen: String,
    /// Base URL of config-api, used by ingress to fetch trigger definitions.
    pub config_api_url: String,
    /// Base of the webhook URLs that config-api hands out.
    pub public_url: String,
    /// Bearer token of the config-api REST API.
    pub admin_token: Option<String>,
    /// Lets config-api start without an admin token (development only).
    #[serde(deserialize_with = "flag")]
    pub insecure_no_auth: bool,
    /// Prefix of every exchange and queue name.
    pub amqp_prefix: String,
    /// Largest accepted webhook body.
    pub max_body_bytes: usize,
    /// How long a draining service may take to finish what it holds.
    pub shutdown_grace_secs: u64,
    /// Log format.
    pub log_format: LogFormat,
    /// Executions an executor runs at once per queue (AMQP prefetch).
    pub executor_prefetch: u16,
    /// Webhook publishes an ingress keeps in flight before answering 503.
    pub max_inflight_publishes: usize,
    /// How long ingress waits for a publisher confirm before answering 503.
    pub publish_timeout_ms: u64,
    /// Whether ingress takes a webhook caller's address (for `allowedIps`) from the
    /// left-most `X-Forwarded-For` entry instead of the TCP peer; only for deployments
    /// behind a load balancer that sets that header.
    #[serde(deserialize_with = "flag")]
    pub trust_forwarded_for: bool,
    /// Deliveries of one execution before it is dead-lettered.
    pub delivery_limit: u32,
    /// Maximum size of the database pool.
    pub database_pool_size: usize,
    /// OTLP collector endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`); no endpoint, no export.
    #[serde(default)]
    pub otel_endpoint: Option<String>,
    /// OTLP protocol (`OTEL_EXPORTER_OTLP_PROTOCOL`): `grpc`, `http/protobuf` or `http/json`.
    #[serde(default)]
    pub otel_protocol: Option<String>,
    /// Service name in traces (`OTEL_SERVICE_NAME`).
    #[serde(default)]
    pub otel_service_name: Option<String>,
    /// Deepest nesting of arrays and objects in a webhook body (ingress).
    pub max_body_depth: usize,
    /// Most values (object keys included) in a webhook body, and most parameters in its
    /// query string or form body (ingress).
    pub max_body_values: usize,
    /// Bytes of all webhook bodies being read or held at once by one ingress; past it calls
    /// get 503 (ingress).
    pub max_buffered_bytes: usize,
    /// How long a webhook caller may take to send its body, in milliseconds; then 408
    /// (ingress).
    pub body_read_timeout_ms: u64,
    /// How long a client may take to send a request's head, in milliseconds (ingress).
    pub client_request_timeout_ms: u64,
    /// Connections each HTTP worker thread serves at once (ingress).
    pub max_connections: usize,
    /// The credential with which ingress fetches trigger definitions (secrets included)
    /// from config-api; never the admin token (ingress, config-api).
    #[serde(default)]
    pub internal_token: Option<String>,
    /// Key that encrypts stored secrets: 32 bytes as 64 hex characters (config-api).
    #[serde(default)]
    pub secret_key: Option<String>,
    /// Earlier secret keys, comma-separated: what they encrypted stays readable and is
    /// encrypted with `secret_key` when next written (config-api).
    #[serde(default)]
    pub secret_keys_old: Option<String>,
    /// Whether config-api serves the web console at `/`.
    #[serde(deserialize_with = "flag")]
    pub console: bool,
    /// Directory of the console's built files (config-api).
    pub console_dir: String,
}

/// A boolean setting as operators write it: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`.
fn flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Number(i64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Bool(b) => Ok(b),
        Raw::Number(0) => Ok(false),
        Raw::Number(1) => Ok(true),
        Raw::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" | "" => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "expected true/false or 1/0, found {other:?}"
            ))),
        },
        Raw::Number(n) => Err(serde::de::Error::custom(format!(
            "expected true/false or 1/0, found {n}"
        ))),
    }
}

impl Config {
    /// Defaults for `service`, as in SPEC §1.
    pub fn defaults(service: Service) -> Self {
        Config {
            database_url: "postgres://postgres@127.0.0.1:5432/hookflow".into(),
            amqp_url: "amqp://guest:guest@127.0.0.1:5672/%2f".into(),
            listen: service.default_listen().into(),
            config_api_url: "http://127.0.0.1:13001".into(),
            public_url: "http://localhost:13000".into(),
            admin_token: None,
            insecure_no_auth: false,
            amqp_prefix: "hookflow".into(),
            max_body_bytes: 2 * 1024 * 1024,
            shutdown_grace_secs: 25,
            log_format: LogFormat::Text,
            executor_prefetch: 32,
            max_inflight_publishes: 1024,
            publish_timeout_ms: 5000,
            trust_forwarded_for: false,
            delivery_limit: 5,
            database_pool_size: 16,
            otel_endpoint: None,
            otel_protocol: None,
            otel_service_name: None,
            max_body_depth: 32,
            max_body_values: 20_000,
            max_buffered_bytes: 64 * 1024 * 1024,
            body_read_timeout_ms: 10_000,
            client_request_timeout_ms: 5_000,
            max_connections: 4096,
            internal_token: None,
            secret_key: None,
            secret_keys_old: None,
            console: true,
            console_dir: "console/dist".into(),
        }
    }

    /// Defaults for `service` overridden by `HOOKFLOW_*` and the standard `OTEL_*`
    /// environment variables.
    pub fn load(service: Service) -> Result<Self, Box<figment::Error>> {
        Figment::from(Serialized::defaults(Config::defaults(service)))
            .merge(Env::prefixed("HOOKFLOW_").ignore(&["otel_endpoint", "otel_protocol"]))
            .merge(
                Env::raw()
                    .only(&[
                        "OTEL_EXPORTER_OTLP_ENDPOINT",
                        "OTEL_EXPORTER_OTLP_PROTOCOL",
                        "OTEL_SERVICE_NAME",
                    ])
                    .map(|key| {
                        match key.as_str().to_ascii_lowercase().as_str() {
                            "otel_exporter_otlp_endpoint" => "otel_endpoint",
                            "otel_exporter_otlp_protocol" => "otel_protocol",
                            _ => "otel_service_name",
                        }
                        .into()
                    }),
            )
            .extract()
            .map_err(Box::new)
    }

    /// The shape limits of webhook bodies and queries.
    pub fn shape_limits(&self) -> crate::shape::ShapeLimits {
        crate::shape::ShapeLimits {
            max_depth: self.max_body_depth,
            max_values: self.max_body_values,
        }
    }

    /// The listen address, parsed.
    pub fn listen_addr(&self) -> Result<SocketAddr, std::net::AddrParseError> {
        self.listen.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec() {
        let config = Config::defaults(Service::ConfigApi);
        assert_eq!(config.listen, "0.0.0.0:13001");
        assert_eq!(config.amqp_prefix, "hookflow");
        assert_eq!(config.max_body_bytes, 2 * 1024 * 1024);
        assert!(!config.trust_forwarded_for);
        assert_eq!(Config::defaults(Service::Executor).listen, "0.0.0.0:13002");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn environment_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("HOOKFLOW_AMQP_PREFIX", "t1");
            jail.set_env("HOOKFLOW_MAX_BODY_BYTES", "10");
            jail.set_env("HOOKFLOW_INSECURE_NO_AUTH", "true");
            jail.set_env("HOOKFLOW_TRUST_FORWARDED_FOR", "true");
            jail.set_env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
            let config = Config::load(Service::Ingress).expect("config");
            assert_eq!(config.amqp_prefix, "t1");
            assert_eq!(config.max_body_bytes, 10);
            assert!(config.insecure_no_auth);
            assert!(config.trust_forwarded_for);
            assert_eq!(
                config.otel_endpoint.as_deref(),
                Some("http://collector:4318")
            );
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn flags_accept_the_spelling_of_the_spec() {
        // SPEC §1 writes `HOOKFLOW_INSECURE_NO_AUTH=1`.
        for (value, expected) in [("1", true), ("true", true), ("0", false), ("false", false)] {
            figment::Jail::expect_with(|jail| {
                jail.set_env("HOOKFLOW_INSECURE_NO_AUTH", value);
                let config = Config::load(Service::ConfigApi).expect("config");
                assert_eq!(config.insecure_no_auth, expected, "{value}");
                Ok(())
            });
        }
    }
}
