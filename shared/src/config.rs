//! Service configuration: the defaults of the settings table layered under the environment
//! (docs/configuration.md), parsed and checked once at start-up into typed values.

mod read;
mod settings;
#[cfg(test)]
mod tests;

use std::{
    net::SocketAddr,
    num::{NonZeroU16, NonZeroU32, NonZeroU64, NonZeroUsize},
    str::FromStr,
};

use figment::Figment;
use ipnet::IpNet;
use secrecy::SecretString;
use url::Url;

use crate::tls::ExtraRoots;
use read::{Reader, flag, http_url, layers, networks, within};
pub use settings::{SETTINGS, Setting, help};

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

    /// Name of its binary.
    pub fn binary(self) -> &'static str {
        match self {
            Service::Ingress => "ingress",
            Service::Executor => "executor",
            Service::ConfigApi => "config-api",
        }
    }

    /// What it does, for `--help`.
    pub fn about(self) -> &'static str {
        match self {
            Service::Ingress => "Hookflow ingress: serves webhook URLs and queues their executions",
            Service::Executor => "Hookflow executor: runs workflow executions and records them",
            Service::ConfigApi => {
                "Hookflow config-api: stores and versions workflows, serves execution history"
            }
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, carrying the trace id.
    Json,
}

impl FromStr for LogFormat {
    type Err = &'static str;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected text or json"),
        }
    }
}

/// How spans travel to the OTLP collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// `grpc`.
    Grpc,
    /// `http/protobuf`.
    HttpProtobuf,
    /// `http/json`.
    HttpJson,
}

impl FromStr for OtlpProtocol {
    type Err = &'static str;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "grpc" => Ok(OtlpProtocol::Grpc),
            "http/protobuf" => Ok(OtlpProtocol::HttpProtobuf),
            "http/json" => Ok(OtlpProtocol::HttpJson),
            _ => Err("expected grpc, http/protobuf or http/json"),
        }
    }
}

/// Every setting of every service, parsed; each service reads the ones it needs. The
/// environment variable of each is in [`SETTINGS`].
#[derive(Debug, Clone)]
pub struct Config {
    /// PostgreSQL connection URL (executor, config-api).
    pub database_url: String,
    /// RabbitMQ connection URL.
    pub amqp_url: String,
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// Base URL of config-api, used by ingress to fetch trigger definitions.
    pub config_api_url: Url,
    /// Base of the webhook URLs that config-api hands out.
    pub public_url: Url,
    /// Bearer token of the config-api REST API.
    pub admin_token: Option<SecretString>,
    /// Lets config-api start without an admin token (development only).
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
    pub executor_prefetch: NonZeroU16,
    /// Bytes of execution messages an executor holds at once per queue, each counted at
    /// what it builds to; past it the consumer takes no more deliveries until some finish.
    pub executor_max_inflight_bytes: NonZeroU32,
    /// Iterations one loop node may run; a loop whose target asks for more raises
    /// (executor).
    pub max_loop_iterations: u32,
    /// Webhook publishes an ingress keeps in flight before answering 503.
    pub max_inflight_publishes: NonZeroUsize,
    /// How long ingress waits for a publisher confirm before answering 503.
    pub publish_timeout_ms: NonZeroU64,
    /// The proxies (load balancers) in front of ingress: when the TCP peer is one of them,
    /// a webhook caller's address (for `allowedIps`) is the right-most `X-Forwarded-For`
    /// entry that is not one of them. Empty: the peer is the caller.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long ingress serves a trigger definition from its cache before asking
    /// config-api again, so that a lost change event cannot keep a change from taking
    /// effect (ingress).
    pub trigger_cache_max_age_ms: u64,
    /// Trigger definitions ingress keeps cached at most (ingress).
    pub trigger_cache_entries: usize,
    /// Deliveries of one execution before it is dead-lettered.
    pub delivery_limit: u32,
    /// Maximum size of the database pool.
    pub database_pool_size: NonZeroUsize,
    /// OTLP collector endpoint; no endpoint, no export.
    pub otel_endpoint: Option<String>,
    /// OTLP protocol.
    pub otel_protocol: OtlpProtocol,
    /// Service name in traces.
    pub otel_service_name: String,
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
    /// Milliseconds one CEL expression of a node may compute (executor).
    pub node_timeout_ms: u64,
    /// Milliseconds the CEL expressions of one execution may compute together (executor).
    pub execution_timeout_ms: u64,
    /// Largest string or list an expression or template may build, in bytes (executor).
    pub max_value_bytes: usize,
    /// Bytes the job results of one execution may hold together (executor).
    pub max_execution_bytes: usize,
    /// CEL expressions an executor evaluates at once (executor).
    pub eval_threads: usize,
    /// The credential with which ingress fetches trigger definitions (secrets included)
    /// from config-api; never the admin token (ingress, config-api).
    pub internal_token: Option<SecretString>,
    /// Key that encrypts stored secrets: 32 bytes as 64 hex characters (config-api).
    pub secret_key: Option<SecretString>,
    /// Earlier secret keys, comma-separated: what they encrypted stays readable and is
    /// encrypted with `secret_key` when next written (config-api).
    pub secret_keys_old: Option<SecretString>,
    /// Ranges that request nodes may call although the outbound address policy refuses
    /// them by default (executor).
    pub request_allowed_networks: Vec<IpNet>,
    /// Largest answer a request node reads, in bytes (executor).
    pub request_max_response_bytes: NonZeroU64,
    /// Whether config-api serves the web console at `/`.
    pub console: bool,
    /// Directory of the console's built files (config-api).
    pub console_dir: String,
    /// CA certificates trusted besides the system's roots for outgoing TLS
    /// (`HOOKFLOW_TLS_CA_FILE`), read when the configuration is loaded.
    pub tls_ca: ExtraRoots,
}

/// The settings that do not parse, one line each, naming its environment variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  {}", .0.join("\n  "))]
pub struct ConfigError(pub Vec<String>);

impl Config {
    /// Defaults for `service`, as in docs/configuration.md.
    pub fn defaults(service: Service) -> Self {
        Config::read(&layers(service, |_| None)).expect("the defaults of SETTINGS parse")
    }

    /// Defaults for `service` overridden by the environment; every setting that does not
    /// parse is named in the error.
    pub fn load(service: Service) -> Result<Self, ConfigError> {
        Config::read(&layers(service, |env| std::env::var(env).ok()))
    }

    fn read(layers: &Figment) -> Result<Self, ConfigError> {
        let mut settings = Reader {
            layers,
            errors: Vec::new(),
        };
        let database_url = settings.parse("HOOKFLOW_DATABASE_URL");
        let amqp_url = settings.parse("HOOKFLOW_AMQP_URL");
        let listen = settings.parse("HOOKFLOW_LISTEN");
        let config_api_url = settings.parse_with("HOOKFLOW_CONFIG_API_URL", http_url);
        let public_url = settings.parse_with("HOOKFLOW_PUBLIC_URL", http_url);
        let admin_token = settings.optional("HOOKFLOW_ADMIN_TOKEN");
        let insecure_no_auth = settings.parse_with("HOOKFLOW_INSECURE_NO_AUTH", flag);
        let amqp_prefix = settings.parse("HOOKFLOW_AMQP_PREFIX");
        let max_body_bytes = settings.parse("HOOKFLOW_MAX_BODY_BYTES");
        let shutdown_grace_secs = settings.parse("HOOKFLOW_SHUTDOWN_GRACE_SECS");
        let log_format = settings.parse("HOOKFLOW_LOG_FORMAT");
        let executor_prefetch = settings.parse("HOOKFLOW_EXECUTOR_PREFETCH");
        let executor_max_inflight_bytes = settings.parse("HOOKFLOW_EXECUTOR_MAX_INFLIGHT_BYTES");
        // Every iteration's jobs are recorded in the execution's one transaction.
        let max_loop_iterations =
            settings.parse_with("HOOKFLOW_MAX_LOOP_ITERATIONS", within(1, 1_000_000));
        let max_inflight_publishes = settings.parse("HOOKFLOW_MAX_INFLIGHT_PUBLISHES");
        let publish_timeout_ms = settings.parse("HOOKFLOW_PUBLISH_TIMEOUT_MS");
        let trusted_proxies = settings
            .optional("HOOKFLOW_TRUSTED_PROXIES")
            .and_then(|list| {
                let list = list.unwrap_or_default();
                crate::trigger_settings::parse_ip_ranges(&list)
                    .or_else(|reason| settings.invalid("HOOKFLOW_TRUSTED_PROXIES", &list, &reason))
            });
        // Together with a fetch's 5 s timeout, a change takes effect within 30 s.
        let trigger_cache_max_age_ms =
            settings.parse_with("HOOKFLOW_TRIGGER_CACHE_MAX_AGE_MS", within(1, 25_000));
        let trigger_cache_entries =
            settings.parse_with("HOOKFLOW_TRIGGER_CACHE_ENTRIES", within(100, 1_000_000));
        let delivery_limit = settings.parse("HOOKFLOW_DELIVERY_LIMIT");
        let database_pool_size = settings.parse("HOOKFLOW_DATABASE_POOL_SIZE");
        let otel_endpoint = settings.optional("OTEL_EXPORTER_OTLP_ENDPOINT");
        let otel_protocol = settings.parse("OTEL_EXPORTER_OTLP_PROTOCOL");
        let otel_service_name = settings.parse("OTEL_SERVICE_NAME");
        // Deeper bodies could not be read back by the executor (see `shape`).
        let max_body_depth = settings.parse_with(
            "HOOKFLOW_MAX_BODY_DEPTH",
            within(1, crate::shape::MAX_DEPTH_CEILING),
        );
        let max_body_values =
            settings.parse_with("HOOKFLOW_MAX_BODY_VALUES", within(1, usize::MAX));
        let max_buffered_bytes =
            settings.parse_with("HOOKFLOW_MAX_BUFFERED_BYTES", within(1, usize::MAX));
        let body_read_timeout_ms =
            settings.parse_with("HOOKFLOW_BODY_READ_TIMEOUT_MS", within(1, u64::MAX));
        let client_request_timeout_ms =
            settings.parse_with("HOOKFLOW_CLIENT_REQUEST_TIMEOUT_MS", within(1, u64::MAX));
        let max_connections =
            settings.parse_with("HOOKFLOW_MAX_CONNECTIONS", within(1, usize::MAX));
        let node_timeout_ms = settings.parse_with("HOOKFLOW_NODE_TIMEOUT_MS", within(1, 3_600_000));
        let execution_timeout_ms =
            settings.parse_with("HOOKFLOW_EXECUTION_TIMEOUT_MS", within(1, 3_600_000));
        let max_value_bytes =
            settings.parse_with("HOOKFLOW_MAX_VALUE_BYTES", within(1024, 1 << 30));
        let max_execution_bytes =
            settings.parse_with("HOOKFLOW_MAX_EXECUTION_BYTES", within(1024, 1 << 30));
        let eval_threads = settings.parse_with("HOOKFLOW_EVAL_THREADS", within(1, 256));
        let internal_token = settings.optional("HOOKFLOW_INTERNAL_TOKEN");
        let secret_key = settings.optional("HOOKFLOW_SECRET_KEY");
        let secret_keys_old = settings.optional("HOOKFLOW_SECRET_KEYS_OLD");
        let request_allowed_networks =
            settings.list_with("HOOKFLOW_REQUEST_ALLOWED_NETWORKS", networks);
        let request_max_response_bytes = settings.parse("HOOKFLOW_REQUEST_MAX_RESPONSE_BYTES");
        let console = settings.parse_with("HOOKFLOW_CONSOLE", flag);
        let console_dir = settings.parse("HOOKFLOW_CONSOLE_DIR");
        let tls_ca = settings.parse_optional("HOOKFLOW_TLS_CA_FILE", |path| {
            ExtraRoots::from_pem_file(path.trim())
        });
        if !settings.errors.is_empty() {
            return Err(ConfigError(settings.errors));
        }
        Ok(Config {
            database_url: database_url?,
            amqp_url: amqp_url?,
            listen: listen?,
            config_api_url: config_api_url?,
            public_url: public_url?,
            admin_token: admin_token?.map(SecretString::from),
            insecure_no_auth: insecure_no_auth?,
            amqp_prefix: amqp_prefix?,
            max_body_bytes: max_body_bytes?,
            shutdown_grace_secs: shutdown_grace_secs?,
            log_format: log_format?,
            executor_prefetch: executor_prefetch?,
            executor_max_inflight_bytes: executor_max_inflight_bytes?,
            max_loop_iterations: max_loop_iterations?,
            max_inflight_publishes: max_inflight_publishes?,
            publish_timeout_ms: publish_timeout_ms?,
            trusted_proxies: trusted_proxies?,
            trigger_cache_max_age_ms: trigger_cache_max_age_ms?,
            trigger_cache_entries: trigger_cache_entries?,
            delivery_limit: delivery_limit?,
            database_pool_size: database_pool_size?,
            otel_endpoint: otel_endpoint?.filter(|endpoint| !endpoint.is_empty()),
            otel_protocol: otel_protocol?,
            otel_service_name: otel_service_name?,
            max_body_depth: max_body_depth?,
            max_body_values: max_body_values?,
            max_buffered_bytes: max_buffered_bytes?,
            body_read_timeout_ms: body_read_timeout_ms?,
            client_request_timeout_ms: client_request_timeout_ms?,
            max_connections: max_connections?,
            node_timeout_ms: node_timeout_ms?,
            execution_timeout_ms: execution_timeout_ms?,
            max_value_bytes: max_value_bytes?,
            max_execution_bytes: max_execution_bytes?,
            eval_threads: eval_threads?,
            internal_token: internal_token?.map(SecretString::from),
            secret_key: secret_key?.map(SecretString::from),
            secret_keys_old: secret_keys_old?.map(SecretString::from),
            request_allowed_networks: request_allowed_networks?,
            request_max_response_bytes: request_max_response_bytes?,
            console: console?,
            console_dir: console_dir?,
            tls_ca: tls_ca?.unwrap_or_default(),
        })
    }

    /// The bounds of CEL and template evaluation (executor).
    pub fn eval_limits(&self) -> crate::engine::EvalLimits {
        crate::engine::EvalLimits {
            node_time: std::time::Duration::from_millis(self.node_timeout_ms),
            execution_time: std::time::Duration::from_millis(self.execution_timeout_ms),
            max_value_bytes: self.max_value_bytes,
            threads: self.eval_threads,
        }
    }

    /// The shape limits of webhook bodies and queries.
    pub fn shape_limits(&self) -> crate::shape::ShapeLimits {
        crate::shape::ShapeLimits {
            max_depth: self.max_body_depth,
            max_values: self.max_body_values,
        }
    }
}
