//! docs/webhooks.md's refusals that ingress decides from the request alone, asserted the same way
//! over the in-process broker (`isolated`) and through the whole stack (`e2e`).

use reqwest::{Client, Method};
use serde_json::Value;

async fn error_code(response: reqwest::Response) -> Value {
    let body: Value = response.json().await.expect("a JSON error body");
    assert!(body["message"].is_string(), "{body}");
    body["error"].clone()
}

/// Every method but POST on the webhook at `url`: 405 with `Allow: POST`.
pub async fn assert_only_post_is_allowed(http: &Client, url: &str) {
    for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
        let response = http
            .request(method.clone(), url)
            .send()
            .await
            .expect("call");
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(response.headers()["allow"], "POST", "{method}");
        assert_eq!(error_code(response).await, "method_not_allowed");
    }
}

/// Bodies the webhook at `url` cannot parse: an unsupported Content-Type is 415, a body
/// that is not the JSON it claims is 400 naming the problem.
pub async fn assert_unparseable_bodies_are_refused(http: &Client, url: &str) {
    for (content_type, body) in [
        ("application/octet-stream", "\u{1}\u{2}"),
        ("application/pdf", "%PDF-1.4"),
    ] {
        let unsupported = http
            .post(url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("call");
        assert_eq!(unsupported.status(), 415, "{content_type}");
        assert_eq!(error_code(unsupported).await, "unsupported_media_type");
    }

    let broken = http
        .post(url)
        .header("content-type", "application/json")
        .body("{\"id\": 1,")
        .send()
        .await
        .expect("call");
    assert_eq!(broken.status(), 400);
    let body: Value = broken.json().await.expect("a JSON error body");
    assert_eq!(body["error"], "invalid_body");
    assert!(
        body["message"].as_str().expect("message").contains("JSON"),
        "{body}"
    );
}

/// The webhook at `url` guarded by basic auth for `username`:`password`: no credentials,
/// a wrong password and a wrong user are each 401 with the `Basic` challenge.
pub async fn assert_wrong_credentials_are_refused(
    http: &Client,
    url: &str,
    username: &str,
    password: &str,
) {
    let wrong_password = format!("{password}!");
    let attempts = [
        None,
        Some((username, wrong_password.as_str())),
        Some(("someone-else", password)),
    ];
    for credentials in attempts {
        let mut request = http.post(url);
        if let Some((user, pass)) = credentials {
            request = request.basic_auth(user, Some(pass));
        }
        let response = request.send().await.expect("call");
        assert_eq!(response.status(), 401, "{credentials:?}");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Basic realm=\"webhook\"",
            "{credentials:?}"
        );
        assert_eq!(error_code(response).await, "unauthorized");
    }
}
