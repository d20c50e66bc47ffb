//! The settings table: every environment variable a service reads, its default and what
//! it does. The loader and `--help` both read it, so names and defaults are written once.

use super::Service::{self, ConfigApi, Executor, Ingress};

/// One setting.
pub struct Setting {
    /// Its environment variable.
    pub env: &'static str,
    /// What it sets, as `--help` shows it.
    pub help: &'static str,
    /// Its value while the variable is unset (`None`: unset).
    pub default: fn(Service) -> Option<&'static str>,
    /// The services that read it.
    pub used_by: &'static [Service],
}

const ALL: &[Service] = &[Ingress, Executor, ConfigApi];

/// Every setting of every service.
pub const SETTINGS: &[Setting] = &[
    Setting {
        env: "HOOKFLOW_DATABASE_URL",
        help: "PostgreSQL connection URL",
        default: |_| Some("postgres://postgres@127.0.0.1:5432/hookflow"),
        used_by: &[Executor, ConfigApi],
    },
    Setting {
        env: "HOOKFLOW_AMQP_URL",
        help: "RabbitMQ connection URL",
        default: |_| Some("amqp://guest:guest@127.0.0.1:5672/%2f"),
        used_by: ALL,
    },
    Setting {
        env: "HOOKFLOW_LISTEN",
        help: "Address (host:port) the HTTP server binds",
        default: |service| Some(service.default_listen()),
        used_by: ALL,
    },
    Setting {
        env: "HOOKFLOW_CONFIG_API_URL",
        help: "Base URL of config-api, to fetch trigger definitions from",
        default: |_| Some("http://127.0.0.1:13001"),
        used_by: &[Ingress],
    },
    Setting {
        env: "HOOKFLOW_PUBLIC_URL",
        help: "Base of the webhook URLs config-api hands out",
        default: |_| Some("http://localhost:13000"),
        used_by: &[ConfigApi],
    },
    Setting {
        env: "HOOKFLOW_ADMIN_TOKEN",
        help: "Bearer token of the config-api REST API (required unless HOOKFLOW_INSECURE_NO_AUTH)",
        default: |_| None,
        used_by: &[ConfigApi],
    },
    Setting {
        env: "HOOKFLOW_INSECURE_NO_AUTH",
        help: "Let config-api serve without an admin token (development only)",
        default: |_| Some("false"),
        used_by: &[ConfigApi],
    },
    Setting {
        env: "HOOKFLOW_AMQP_PREFIX",
        help: "Prefix of every exchange and queue name",
        default: |_| Some("hookflow"),
        used_by: ALL,
    },
    Setting {
        env: "HOOKFLOW_MAX_BODY_BYTES",
        help: "Largest accepted webhook body, in bytes",
        default: |_| Some("2097152"),
        used_by: &[Ingress],
    },
    Setting {
        env: "HOOKFLOW_SHUTDOWN_GRACE_SECS",
        help: "Seconds a draining service may take to finish what it holds",
        default: |_| Some("25"),
        used_by: ALL,
    },
    Setting {
        env: "HOOKFLOW_LOG_FORMAT",
        help: "Log format: text, or json for one JSON object per line",
        default: |_| Some("text"),
        used_by: ALL,
    },
    Setting {
        env: "HOOKFLOW_EXECUTOR_PREFETCH",
        help: "Executions in flight per queue (at least 1)",
        default: |_| Some("32"),
        used_by: &[Executor],
    },
    Setting {
        env: "HOOKFLOW_EXECUTOR_MAX_INFLIGHT_BYTES",
        help: "Bytes of execution messages in flight per queue, counted at their built size (1 to 4294967295)",
        default: |_| Some("134217728"),
        used_by: &[Executor],
    },
    Setting {
        env: "HOOKFLOW_MAX_LOOP_ITERATIONS",
        help: "Iterations one loop node may run; a loop whose target asks for more raises (1 to 1000000)",
        default: |_| Some("1000"),
        used_by: &[Executor],
    },
    Setting {
        env: "HOOKFLOW_MAX_INFLIGHT_PUBLISHES",
        help: "Publishes awaiting a confirm before webhook calls get 503 (at least 1)",
        default: |_| Some("1024"),
        used_by: &[Ingress],
    },
    Setting {
        env: "HOOKFLOW_PUBLISH_TIMEOUT_MS",
        help: "Milliseconds to wait for a publisher confirm before answering 503 (at least 1)",
        default: |_| Some("5000"),
        used_by: &[Ingress],
    },
    Setting {
        env: "HOOKFLOW_DELIVERY_LIMIT",
        help: "Deliveries of one execution before it is dead-lettered",
        default: |_| Some("5"),
        used_by: ALL,
    },
    Setting {
        env: "HOOKFLOW_DATABASE_POOL_SIZE",
        help: "Maximum size of the database pool (at least 1)",
        default: |_| Some("16"),
        used_by: &[Executor, ConfigApi],
    },
    Setting {
        env: "HOOKFLOW_TRUSTED_PROXIES",
        help: "Proxies in front of ingress (comma-separated CIDRs or addresses): behind them a caller's address for allowedIps is the right-most X-Forwarded-For entry not among them",
        default: |_| None,
        used_by: &[Ingress],
    },
    Setting {
        env: "HOOKFLOW_TRIGGER_CACHE_MAX_AGE_MS",
        help: "Milliseconds ingress serves a cached trigger definition before asking config-api again (1 to 25000)",
        default: |_| Some("10000"),
        used_by: &[Ingress],
    },
    Setting {
        env: "HOOKFLOW_TRIGGER_CACHE_ENTRIES",
        help: "Trigger definitions ingress keeps cached at most (100 to 1000000); unknown keys make room first",
        default: |_| Some("10000"),
        used_by: &[Ingress],
    },
    Setting {
        env: "HOOKFLOW_MAX_BODY_DEPTH",
        help: "Deepest nesting of arrays and objects in a webhook body",
        default: |_| Some("32"),
        used_by: &[Ingress],
    },
    Setting {
        env: "HOOKFLOW_MAX_BODY_VALUES",
        help: "Most values (object keys included) in a webhook body, and most parameters in its query or form body",
        default: |_| Some("20000"),
        used_by: &[Ingress],
    },
    Setting {
        env: "HOOKFLOW_MAX_BUFFERED_BYTES",
        help: "Bytes of all webhook bodies read or held at once; past it calls get 503",
        default: |_| Some("67108864"),
        used_by: &[Ingress],
    },
    Setting {
        env: "HOOKFLOW_BODY_READ_TIMEOUT_MS",
        help: "Milliseconds a webhook caller may take to send its body; then 408",
        default: |_| Some("10000"),
        used_by: &[Ingress],
    },
    Setting {
        env: "HOOKFLOW_CLIENT_REQUEST_TIMEOUT_MS",
        help: "Milliseconds a client may take to send a request's head",
        default: |_| Some("5000"),
        used_by: &[Ingress],
    },
    Setting {
        env: "HOOKFLOW_MAX_CONNECTIONS",
        help: "Connections ingress serves at once, split across its HTTP worker threads",
        default: |_| Some("4096"),
        used_by: &[Ingress],
    },
    Setting {
        env: "HOOKFLOW_NODE_TIMEOUT_MS",
        help: "Milliseconds one CEL expression of a node may compute; then the execution ends as error (1 to 3600000)",
        default: |_| Some("2000"),
        used_by: &[Executor],
    },
    Setting {
        env: "HOOKFLOW_EXECUTION_TIMEOUT_MS",
        help: "Milliseconds the CEL expressions of one execution may compute together; waiting (delay nodes, HTTP calls) does not count (1 to 3600000)",
        default: |_| Some("10000"),
        used_by: &[Executor],
    },
    Setting {
        env: "HOOKFLOW_MAX_VALUE_BYTES",
        help: "Largest string or list an expression or template may build, in bytes (1024 to 1073741824)",
        default: |_| Some("1048576"),
        used_by: &[Executor],
    },
    Setting {
        env: "HOOKFLOW_MAX_EXECUTION_BYTES",
        help: "Bytes the job results of one execution may hold together, loops and parallel branches included; past it the execution ends as error (1024 to 1073741824)",
        default: |_| Some("16777216"),
        used_by: &[Executor],
    },
    Setting {
        env: "HOOKFLOW_EVAL_THREADS",
        help: "CEL expressions an executor evaluates at once, each on a blocking thread (1 to 256)",
        default: |_| Some("4"),
        used_by: &[Executor],
    },
    Setting {
        env: "HOOKFLOW_INTERNAL_TOKEN",
        help: "Token with which ingress fetches trigger definitions from config-api (required; not the admin token)",
        default: |_| None,
        used_by: &[Ingress, ConfigApi],
    },
    Setting {
        env: "HOOKFLOW_SECRET_KEY",
        help: "Key that encrypts stored secrets: 32 bytes as 64 hex characters (config-api seals, the executor opens secret variables)",
        default: |_| None,
        used_by: &[ConfigApi, Executor],
    },
    Setting {
        env: "HOOKFLOW_SECRET_KEYS_OLD",
        help: "Earlier secret keys, comma-separated: still read, re-encrypted with HOOKFLOW_SECRET_KEY when next written",
        default: |_| None,
        used_by: &[ConfigApi, Executor],
    },
    Setting {
        env: "HOOKFLOW_REQUEST_ALLOWED_NETWORKS",
        help: "Comma-separated CIDR ranges (or addresses) that request nodes may call although they are loopback, private, link-local or unique-local",
        default: |_| None,
        used_by: &[Executor],
    },
    Setting {
        env: "HOOKFLOW_REQUEST_MAX_RESPONSE_BYTES",
        help: "Largest answer a request node reads, in bytes; a larger one fails the job (at least 1)",
        default: |_| Some("10485760"),
        used_by: &[Executor],
    },
    Setting {
        env: "HOOKFLOW_CONSOLE",
        help: "Whether config-api serves the web console at /",
        default: |_| Some("true"),
        used_by: &[ConfigApi],
    },
    Setting {
        env: "HOOKFLOW_CONSOLE_DIR",
        help: "Directory of the console's built files",
        default: |_| Some("console/dist"),
        used_by: &[ConfigApi],
    },
    Setting {
        env: "HOOKFLOW_TLS_CA_FILE",
        help: "PEM file of CA certificates trusted besides the system's, for TLS to PostgreSQL (sslmode=verify-ca/verify-full), RabbitMQ (amqps://) and config-api (https://)",
        default: |_| None,
        used_by: ALL,
    },
    Setting {
        env: "OTEL_EXPORTER_OTLP_ENDPOINT",
        help: "OTLP collector endpoint; unset: no trace export",
        default: |_| None,
        used_by: ALL,
    },
    Setting {
        env: "OTEL_EXPORTER_OTLP_PROTOCOL",
        help: "OTLP protocol: grpc, http/protobuf or http/json",
        default: |_| Some("http/protobuf"),
        used_by: ALL,
    },
    Setting {
        env: "OTEL_SERVICE_NAME",
        help: "Service name in traces",
        default: |service| Some(service.name()),
        used_by: ALL,
    },
];

/// The settings `service` reads, for its `--help`.
pub fn help(service: Service) -> String {
    let mut help = String::from("Settings (environment variables):\n");
    for setting in SETTINGS.iter().filter(|s| s.used_by.contains(&service)) {
        help.push_str(&format!("  {}\n          {}", setting.env, setting.help));
        if let Some(default) = (setting.default)(service) {
            help.push_str(&format!(" [default: {default}]"));
        }
        help.push('\n');
    }
    help
}
