use std::collections::HashMap;

use secrecy::ExposeSecret;

use super::*;

/// The configuration of `service` under the environment `set`, without touching the
/// process environment.
fn with(service: Service, set: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let set: HashMap<&str, &str> = set.iter().copied().collect();
    Config::read(&layers(service, |env| set.get(env).map(|v| v.to_string())))
}

fn errors(set: &[(&str, &str)]) -> Vec<String> {
    with(Service::Ingress, set).expect_err("invalid").0
}

#[test]
fn defaults_follow_the_spec() {
    let config = Config::defaults(Service::ConfigApi);
    assert_eq!(config.listen.to_string(), "0.0.0.0:13001");
    assert_eq!(config.amqp_prefix, "hookflow");
    assert_eq!(config.max_body_bytes, 2 * 1024 * 1024);
    assert!(config.trusted_proxies.is_empty());
    assert_eq!(config.trigger_cache_max_age_ms, 10_000);
    assert_eq!(config.trigger_cache_entries, 10_000);
    assert_eq!(
        Config::defaults(Service::Executor).listen.to_string(),
        "0.0.0.0:13002"
    );
    assert_eq!(config.executor_prefetch.get(), 32);
    assert_eq!(config.otel_service_name, "hookflow-config-api");
    assert_eq!(config.otel_protocol, OtlpProtocol::HttpProtobuf);
}

#[test]
#[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
fn environment_overrides_defaults() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("HOOKFLOW_AMQP_PREFIX", "t1");
        jail.set_env("HOOKFLOW_MAX_BODY_BYTES", "10");
        jail.set_env("HOOKFLOW_INSECURE_NO_AUTH", "true");
        jail.set_env("HOOKFLOW_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.0.7");
        jail.set_env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        let config = Config::load(Service::Ingress).expect("config");
        assert_eq!(config.amqp_prefix, "t1");
        assert_eq!(config.max_body_bytes, 10);
        assert!(config.insecure_no_auth);
        assert_eq!(config.trusted_proxies.len(), 2);
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
    // docs/configuration.md writes `HOOKFLOW_INSECURE_NO_AUTH=1`.
    for (value, expected) in [("1", true), ("true", true), ("0", false), ("false", false)] {
        figment::Jail::expect_with(|jail| {
            jail.set_env("HOOKFLOW_INSECURE_NO_AUTH", value);
            let config = Config::load(Service::ConfigApi).expect("config");
            assert_eq!(config.insecure_no_auth, expected, "{value}");
            Ok(())
        });
    }
}

#[test]
fn every_service_starts_from_valid_defaults() {
    for service in [Service::Ingress, Service::Executor, Service::ConfigApi] {
        with(service, &[]).expect("defaults parse");
    }
}

#[test]
fn values_are_read_as_written() {
    let config = with(Service::Ingress, &[("HOOKFLOW_ADMIN_TOKEN", "007")]).expect("config");
    let token = config.admin_token.expect("token");
    assert_eq!(token.expose_secret(), "007");
}

#[test]
fn the_admin_token_is_not_printed() {
    let config = with(
        Service::Ingress,
        &[("HOOKFLOW_ADMIN_TOKEN", "s3cret-token")],
    )
    .expect("config");
    let printed = format!("{config:?}");
    assert!(!printed.contains("s3cret-token"), "{printed}");
}

#[test]
fn a_listen_address_that_does_not_parse_names_its_variable() {
    assert_eq!(
        errors(&[("HOOKFLOW_LISTEN", "localhost")]),
        ["HOOKFLOW_LISTEN=\"localhost\": invalid socket address syntax"]
    );
}

#[test]
fn zero_where_at_least_one_is_needed_is_refused() {
    for env in [
        "HOOKFLOW_EXECUTOR_PREFETCH",
        "HOOKFLOW_MAX_INFLIGHT_PUBLISHES",
        "HOOKFLOW_PUBLISH_TIMEOUT_MS",
        "HOOKFLOW_DATABASE_POOL_SIZE",
    ] {
        assert_eq!(
            errors(&[(env, "0")]),
            [format!("{env}=\"0\": must be at least 1")]
        );
    }
}

#[test]
fn ingress_limits_are_checked_against_their_range() {
    for env in [
        "HOOKFLOW_MAX_BODY_VALUES",
        "HOOKFLOW_MAX_BUFFERED_BYTES",
        "HOOKFLOW_BODY_READ_TIMEOUT_MS",
        "HOOKFLOW_CLIENT_REQUEST_TIMEOUT_MS",
        "HOOKFLOW_MAX_CONNECTIONS",
    ] {
        let shown = errors(&[(env, "0")]);
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(
            shown[0].starts_with(&format!("{env}=\"0\": must be from 1 to ")),
            "{shown:?}"
        );
    }
    // The executor must be able to read back what ingress accepts.
    let ceiling = crate::shape::MAX_DEPTH_CEILING;
    assert_eq!(
        errors(&[("HOOKFLOW_MAX_BODY_DEPTH", "126")]),
        [format!(
            "HOOKFLOW_MAX_BODY_DEPTH=\"126\": must be from 1 to {ceiling}"
        )]
    );
    let config = with(Service::Ingress, &[("HOOKFLOW_MAX_BODY_DEPTH", "125")]).expect("ceiling");
    assert_eq!(config.max_body_depth, ceiling);
}

#[test]
fn the_loop_iteration_limit_is_checked_against_its_range() {
    assert_eq!(
        Config::defaults(Service::Executor).max_loop_iterations,
        crate::engine::DEFAULT_MAX_LOOP_ITERATIONS
    );
    for value in ["0", "1000001"] {
        assert_eq!(
            errors(&[("HOOKFLOW_MAX_LOOP_ITERATIONS", value)]),
            [format!(
                "HOOKFLOW_MAX_LOOP_ITERATIONS=\"{value}\": must be from 1 to 1000000"
            )]
        );
    }
    let config = with(Service::Executor, &[("HOOKFLOW_MAX_LOOP_ITERATIONS", "5")]).expect("5");
    assert_eq!(config.max_loop_iterations, 5);
}

#[test]
fn the_execution_size_limit_is_checked_against_its_range() {
    assert_eq!(
        Config::defaults(Service::Executor).max_execution_bytes,
        crate::engine::DEFAULT_MAX_EXECUTION_BYTES
    );
    for value in ["1023", "1073741825"] {
        assert_eq!(
            errors(&[("HOOKFLOW_MAX_EXECUTION_BYTES", value)]),
            [format!(
                "HOOKFLOW_MAX_EXECUTION_BYTES=\"{value}\": must be from 1024 to 1073741824"
            )]
        );
    }
    let config = with(
        Service::Executor,
        &[("HOOKFLOW_MAX_EXECUTION_BYTES", "65536")],
    )
    .expect("64 KiB");
    assert_eq!(config.max_execution_bytes, 65536);
}

#[test]
fn the_trigger_cache_size_is_checked_against_its_range() {
    for value in ["99", "1000001"] {
        assert_eq!(
            errors(&[("HOOKFLOW_TRIGGER_CACHE_ENTRIES", value)]),
            [format!(
                "HOOKFLOW_TRIGGER_CACHE_ENTRIES=\"{value}\": must be from 100 to 1000000"
            )]
        );
    }
    let config = with(
        Service::Ingress,
        &[("HOOKFLOW_TRIGGER_CACHE_ENTRIES", "50000")],
    )
    .expect("50,000 entries");
    assert_eq!(config.trigger_cache_entries, 50_000);
}

#[test]
fn numbers_out_of_range_or_not_numbers_are_refused() {
    assert_eq!(
        errors(&[("HOOKFLOW_EXECUTOR_PREFETCH", "70000")]),
        ["HOOKFLOW_EXECUTOR_PREFETCH=\"70000\": number too large to fit in target type"]
    );
    assert_eq!(
        errors(&[("HOOKFLOW_SHUTDOWN_GRACE_SECS", "soon")]),
        ["HOOKFLOW_SHUTDOWN_GRACE_SECS=\"soon\": invalid digit found in string"]
    );
}

#[test]
fn urls_formats_protocols_and_flags_are_checked() {
    assert_eq!(
        errors(&[("HOOKFLOW_CONFIG_API_URL", "config-api:13001")]),
        ["HOOKFLOW_CONFIG_API_URL=\"config-api:13001\": expected an http:// or https:// URL"]
    );
    assert_eq!(
        errors(&[("HOOKFLOW_CONFIG_API_URL", "/api")]),
        ["HOOKFLOW_CONFIG_API_URL=\"/api\": relative URL without a base"]
    );
    assert_eq!(
        errors(&[("HOOKFLOW_LOG_FORMAT", "JSON")]),
        ["HOOKFLOW_LOG_FORMAT=\"JSON\": expected text or json"]
    );
    assert_eq!(
        errors(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http")]),
        ["OTEL_EXPORTER_OTLP_PROTOCOL=\"http\": expected grpc, http/protobuf or http/json"]
    );
    assert_eq!(
        errors(&[("HOOKFLOW_TRUSTED_PROXIES", "10.0.0.0/8,lb")]),
        [
            "HOOKFLOW_TRUSTED_PROXIES=\"10.0.0.0/8,lb\": \"lb\" is neither an IP address nor a CIDR range such as 10.0.0.0/8"
        ]
    );
    assert_eq!(
        errors(&[("HOOKFLOW_TRIGGER_CACHE_MAX_AGE_MS", "30000")]),
        ["HOOKFLOW_TRIGGER_CACHE_MAX_AGE_MS=\"30000\": must be from 1 to 25000"]
    );
}

#[test]
fn every_bad_setting_is_reported_at_once() {
    let errors = errors(&[
        ("HOOKFLOW_LISTEN", "nowhere"),
        ("HOOKFLOW_EXECUTOR_PREFETCH", "0"),
    ]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    let shown = ConfigError(errors).to_string();
    assert!(shown.contains("HOOKFLOW_LISTEN=") && shown.contains("HOOKFLOW_EXECUTOR_PREFETCH="));
}

#[test]
fn help_lists_the_settings_of_the_service_with_their_defaults() {
    let help = help(Service::Ingress);
    assert!(help.contains("HOOKFLOW_LISTEN"), "{help}");
    assert!(help.contains("[default: 0.0.0.0:13000]"), "{help}");
    assert!(help.contains("HOOKFLOW_MAX_INFLIGHT_PUBLISHES"), "{help}");
    assert!(
        !help.contains("HOOKFLOW_DATABASE_URL"),
        "ingress reads no database: {help}"
    );
}

#[test]
fn request_node_settings_read_networks_and_a_response_limit() {
    let defaults = Config::defaults(Service::Executor);
    assert!(defaults.request_allowed_networks.is_empty());
    assert_eq!(defaults.request_max_response_bytes.get(), 10 * 1024 * 1024);

    let config = with(
        Service::Executor,
        &[
            (
                "HOOKFLOW_REQUEST_ALLOWED_NETWORKS",
                "127.0.0.1/32, 10.1.2.3,fd00::/8",
            ),
            ("HOOKFLOW_REQUEST_MAX_RESPONSE_BYTES", "1024"),
        ],
    )
    .expect("config");
    let networks: Vec<String> = config
        .request_allowed_networks
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(networks, ["127.0.0.1/32", "10.1.2.3/32", "fd00::/8"]);
    assert_eq!(config.request_max_response_bytes.get(), 1024);

    assert_eq!(
        errors(&[
            ("HOOKFLOW_REQUEST_ALLOWED_NETWORKS", "10.0.0.0/8,intranet"),
            ("HOOKFLOW_REQUEST_MAX_RESPONSE_BYTES", "0"),
        ]),
        [
            "HOOKFLOW_REQUEST_ALLOWED_NETWORKS=\"10.0.0.0/8,intranet\": \"intranet\" is neither an IP address nor a CIDR range such as 10.0.0.0/8",
            "HOOKFLOW_REQUEST_MAX_RESPONSE_BYTES=\"0\": must be at least 1",
        ]
    );
}

#[test]
fn a_tls_ca_file_that_cannot_be_used_names_its_variable_and_why() {
    let dir = std::env::temp_dir().join(format!("hookflow-ca-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let missing = dir.join("missing.pem");
    let missing = missing.to_str().expect("utf-8 path");
    let [error] = &errors(&[("HOOKFLOW_TLS_CA_FILE", missing)])[..] else {
        panic!("one error")
    };
    assert!(
        error.starts_with(&format!(
            "HOOKFLOW_TLS_CA_FILE=\"{missing}\": cannot read {missing}"
        )),
        "{error}"
    );
    let not_pem = dir.join("key.txt");
    std::fs::write(&not_pem, "just some text\n").expect("write");
    let not_pem = not_pem.to_str().expect("utf-8 path");
    assert_eq!(
        errors(&[("HOOKFLOW_TLS_CA_FILE", not_pem)]),
        [format!(
            "HOOKFLOW_TLS_CA_FILE=\"{not_pem}\": holds no PEM CERTIFICATE block"
        )]
    );
    let garbled = dir.join("garbled.pem");
    std::fs::write(
        &garbled,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let garbled = garbled.to_str().expect("utf-8 path");
    let [error] = &errors(&[("HOOKFLOW_TLS_CA_FILE", garbled)])[..] else {
        panic!("one error")
    };
    assert!(
        error.contains("a certificate cannot be a trust anchor"),
        "{error}"
    );
    // Unset or empty: the system's roots only.
    for set in [&[][..], &[("HOOKFLOW_TLS_CA_FILE", "")][..]] {
        assert!(
            with(Service::Executor, set)
                .expect("valid")
                .tls_ca
                .is_empty()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
