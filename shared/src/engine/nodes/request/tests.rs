use serde_json::json;

use super::config::{ContentType, parse};
use super::*;

fn problems(config: Value) -> Vec<(String, String)> {
    match parse(&config, Stage::Stored) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.into_iter().map(|p| (p.path, p.message)).collect(),
    }
}

fn rendered(config: Value) -> config::RequestConfig {
    parse(&config, Stage::Rendered).expect("a valid config")
}

#[test]
fn defaults_are_post_json_five_seconds_one_attempt() {
    let config = rendered(json!({"url": "https://api.example.com/orders", "data": {"id": 1}}));
    assert_eq!(config.method, reqwest::Method::POST);
    assert_eq!(config.content_type, ContentType::Json);
    assert_eq!(config.timeout.as_millis(), 5000);
    assert_eq!(config.retry.attempts, 1);
    assert!(!config.ignore_fail && !config.only_data);
    assert_eq!(config.body.as_deref(), Some(br#"{"id":1}"#.as_slice()));
}

#[test]
fn params_join_the_query_and_get_sends_no_body() {
    let config = rendered(json!({
        "method": "GET",
        "url": "https://api.example.com/orders?page=1",
        "params": [{"name": "q", "value": "a b&c"}, {"name": "n", "value": 2}],
        "data": {"ignored": true},
    }));
    assert_eq!(
        config.url.as_str(),
        "https://api.example.com/orders?page=1&q=a+b%26c&n=2"
    );
    assert_eq!(config.body, None);
}

#[test]
fn a_form_body_is_encoded_from_its_pairs() {
    let config = rendered(json!({
        "url": "http://api.example.com/",
        "contentType": "application/x-www-form-urlencoded",
        "data": [{"name": "amount", "value": 10}, {"name": "note", "value": "paid in full"}],
    }));
    assert_eq!(
        config.body.as_deref(),
        Some(b"amount=10&note=paid+in+full".as_slice())
    );
}

#[test]
fn every_wrong_setting_is_named() {
    assert_eq!(
        problems(json!({
            "method": "FETCH",
            "url": "ftp://files.example.com/",
            "contentType": "application/yaml",
            "headers": [{"name": "Bad Name", "value": "x"}],
            "timeout": 0,
            "retry": {"attempts": 9},
            "onlyData": "yes",
            "contentTypeTypo": null,
        })),
        [
            ("method".into(), "method must be one of GET, POST, PUT, PATCH, DELETE, not \"FETCH\"".into()),
            ("url".into(), "the url must be http:// or https://, not ftp:".into()),
            ("contentType".into(), "contentType must be one of application/json, application/x-www-form-urlencoded, text/plain, application/xml, not \"application/yaml\"".into()),
            ("headers[0].name".into(), "\"Bad Name\" is not a valid header name".into()),
            ("timeout".into(), "timeout must be a whole number of milliseconds from 1 to 60000".into()),
            ("onlyData".into(), "onlyData must be true or false".into()),
            ("retry.attempts".into(), "retry.attempts must be a whole number from 1 to 5".into()),
        ]
    );
    assert_eq!(
        problems(json!({"method": "GET"})),
        [("url".to_owned(), "a url is required".to_owned())]
    );
    assert_eq!(
        problems(json!({
            "url": "http://x.example/",
            "contentType": "application/x-www-form-urlencoded",
            "data": {"a": 1},
        })),
        [(
            "data".to_owned(),
            "a form body's data must be a list of {\"name\", \"value\"}".to_owned()
        )]
    );
}

#[test]
fn placeholders_are_checked_only_once_rendered() {
    assert_eq!(
        problems(json!({
            "method": "{{$context.body.method}}",
            "url": "{{$context.body.callback}}",
            "timeout": "{{$context.body.timeout}}",
            "contentType": "application/x-www-form-urlencoded",
            "data": "{{$context.body.form}}",
            "headers": [{"name": "Authorization", "value": "Bearer {{$context.body.token}}"}],
        })),
        Vec::<(String, String)>::new()
    );
    let flags =
        rendered(json!({"url": "http://x.example/", "ignoreFail": "true", "onlyData": "false"}));
    assert!(flags.ignore_fail && !flags.only_data);
    let wrong = parse(&json!({"url": "not a url"}), Stage::Rendered).expect_err("invalid");
    assert_eq!(wrong[0].path, "url");
}

#[test]
fn the_idempotency_key_names_execution_node_and_iterations() {
    assert_eq!(idempotency_key("0190-ab", "notify", &[]), "0190-ab:notify");
    assert_eq!(
        idempotency_key("0190-ab", "notify", &[2, 0]),
        "0190-ab:notify:2:0"
    );
}

#[test]
fn a_configured_idempotency_key_replaces_the_default_and_a_password_is_masked() {
    let config = rendered(json!({
        "url": "https://shop:pw@api.example.com/",
        "headers": [{"name": "Idempotency-Key", "value": "order-7"}],
        "data": "x",
    }));
    let headers = request_headers(&config, "e:n").expect("headers");
    assert_eq!(headers["idempotency-key"], "order-7");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        recorded_url(&config.url),
        "https://shop:********@api.example.com/"
    );
}
