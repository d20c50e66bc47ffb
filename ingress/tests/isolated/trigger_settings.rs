//! `allowedIps` (403), `rateLimit` (429) and `signature` (401): for each, the call that is
//! let through and the call that is refused, and where each check sits in docs/webhooks.md's order
//! (the rate limit counts only calls that passed authentication).

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::harness::{Harness, definition, json_of};

/// Status, headers and JSON body of a refusal.
async fn refusal(response: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, json_of(response).await)
}

fn stripe_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn allowed_ips_admit_listed_callers_and_refuse_others_with_403() {
    let harness = Harness::start().await;
    harness.put(definition(
        "elsewhere01",
        false,
        json!({"allowedIps": ["10.0.0.0/8", "2001:db8::/32"]}),
    ));
    harness.put(definition(
        "localonly01",
        false,
        json!({"allowedIps": ["192.0.2.0/24", "127.0.0.1"]}),
    ));

    // The test client calls from 127.0.0.1; a forged X-Forwarded-For is not trusted by default.
    let refused = harness
        .http
        .post(harness.webhook("elsewhere01"))
        .header("x-forwarded-for", "10.1.2.3")
        .json(&json!({"a": 1}))
        .send()
        .await
        .expect("call");
    let (status, _, body) = refusal(refused).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"error": "forbidden", "message": "Calls from 127.0.0.1 are not allowed to this webhook."})
    );
    assert!(harness.executions().is_empty());

    let admitted = harness
        .http
        .post(harness.webhook("localonly01"))
        .json(&json!({"a": 1}))
        .send()
        .await
        .expect("call");
    assert_eq!(admitted.status(), 200);
    assert_eq!(harness.executions().len(), 1);
}

/// The status a call to `url` forwarded for `forwarded` (no header: `None`) gets.
async fn status_forwarded(harness: &Harness, url: &str, forwarded: Option<&str>) -> u16 {
    let mut call = harness.http.post(url);
    if let Some(forwarded) = forwarded {
        call = call.header("x-forwarded-for", forwarded);
    }
    let answer = call.send().await.expect("call");
    let status = answer.status().as_u16();
    if status != 200 {
        let (_, _, body) = refusal(answer).await;
        assert_eq!(body["error"], "forbidden", "{forwarded:?}");
    }
    status
}

#[tokio::test]
async fn behind_trusted_proxies_the_right_most_untrusted_forwarded_for_address_is_the_caller() {
    // The test's calls come from 127.0.0.1: here, the load balancer.
    let harness = Harness::start_with(|config| {
        config.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
    })
    .await;
    harness.put(definition(
        "behindlb001",
        false,
        json!({"allowedIps": ["203.0.113.0/24"]}),
    ));
    let url = harness.webhook("behindlb001");
    for (forwarded, expected) in [
        (Some("203.0.113.9"), 200),
        // What a caller writes left of its own address is not read.
        (Some("198.51.100.1, 203.0.113.9"), 200),
        // A caller at 198.51.100.1 claiming a listed address is refused.
        (Some("203.0.113.9, 198.51.100.1"), 403),
        (Some("not-an-address"), 403),
        // No header: the proxy itself called, and 127.0.0.1 is not listed.
        (None, 403),
    ] {
        assert_eq!(
            status_forwarded(&harness, &url, forwarded).await,
            expected,
            "{forwarded:?}"
        );
    }
    assert_eq!(harness.executions().len(), 2);
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_for_is_ignored() {
    let harness = Harness::start().await;
    harness.put(definition(
        "directonly1",
        false,
        json!({"allowedIps": ["203.0.113.0/24"]}),
    ));
    let url = harness.webhook("directonly1");
    assert_eq!(
        status_forwarded(&harness, &url, Some("203.0.113.9")).await,
        403
    );
    assert!(harness.executions().is_empty());
}

#[tokio::test]
async fn calls_beyond_the_rate_limit_get_429_with_retry_after_until_the_workflow_changes() {
    let harness = Harness::start().await;
    let limit = json!({"rateLimit": {"perSecond": 0.1, "burst": 2}});
    harness.put(definition("limited0002", false, limit.clone()));
    let url = harness.webhook("limited0002");
    for _ in 0..2 {
        let admitted = harness.http.post(&url).send().await.expect("call");
        assert_eq!(admitted.status(), 200);
    }
    let refused = harness.http.post(&url).send().await.expect("call");
    let (status, headers, body) = refusal(refused).await;
    assert_eq!(status, 429);
    // One call every 10 s: the next fits in just under 10 s, rounded up.
    assert_eq!(headers["retry-after"], "10");
    assert_eq!(body["error"], "rate_limited");
    assert_eq!(
        body["message"],
        "Too many calls to this webhook; nothing was accepted, retry after 10 s."
    );
    assert_eq!(harness.executions().len(), 2);

    // A new version of the workflow starts with a full bucket.
    let mut changed = definition("limited0002", false, limit);
    changed.version = 2;
    harness.put(changed);
    harness.announce_change("limited0002").await;
    let mut status = 429;
    for _ in 0..100 {
        status = harness
            .http
            .post(&url)
            .send()
            .await
            .expect("call")
            .status()
            .as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, 200);
    assert_eq!(harness.executions().len(), 3);
}

#[tokio::test]
async fn unauthenticated_calls_do_not_use_up_the_real_senders_rate_limit() {
    let harness = Harness::start().await;
    harness.put(definition(
        "limitauth01",
        false,
        json!({"rateLimit": {"perSecond": 0.01, "burst": 1},
               "basicAuthentication": {"username": "shop", "password": "s3cret"}}),
    ));
    let url = harness.webhook("limitauth01");
    // A flood without credentials, or with wrong ones, is refused with 401 and counts for
    // nothing.
    for password in [None, Some("guess"), None, Some("s3cre"), None] {
        let mut call = harness.http.post(&url);
        if let Some(password) = password {
            call = call.basic_auth("shop", Some(password));
        }
        let refused = call.send().await.expect("call");
        assert_eq!(refused.status(), 401);
    }
    let sender = || {
        harness
            .http
            .post(&url)
            .basic_auth("shop", Some("s3cret"))
            .send()
    };
    assert_eq!(sender().await.expect("call").status(), 200);
    // The real sender's own second call within the window is the one that is limited.
    let (status, headers, body) = refusal(sender().await.expect("call")).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "100");
    assert_eq!(body["error"], "rate_limited");
    assert_eq!(harness.executions().len(), 1);
}

#[tokio::test]
async fn forged_signatures_do_not_use_up_the_real_senders_rate_limit() {
    let harness = Harness::start().await;
    harness.put(definition(
        "limitsign01",
        false,
        json!({"rateLimit": {"perSecond": 0.01, "burst": 1},
               "signature": {"scheme": "stripe", "secrets": ["whsec_real"]}}),
    ));
    let url = harness.webhook("limitsign01");
    let body = r#"{"id":"evt_1"}"#;
    let call = |secret: &str| {
        harness
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("stripe-signature", stripe_signature(secret, now(), body))
            .body(body)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(call("whsec_guess").await.expect("call").status(), 401);
    }
    assert_eq!(call("whsec_real").await.expect("call").status(), 200);
    let (status, _, refused) = refusal(call("whsec_real").await.expect("call")).await;
    assert_eq!(status, 429);
    assert_eq!(refused["error"], "rate_limited");
    assert_eq!(harness.executions().len(), 1);
}

#[tokio::test]
async fn signed_calls_are_admitted_and_unsigned_stale_or_forged_ones_get_401() {
    let harness = Harness::start().await;
    harness.put(definition(
        "stripehook1",
        false,
        json!({"signature": {"scheme": "stripe", "secrets": ["whsec_old", "whsec_new"]}}),
    ));
    let url = harness.webhook("stripehook1");
    let body = r#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
    let call = |signature: Option<String>, body: &'static str| {
        let mut request = harness
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        request.send()
    };

    // Either secret signs while a rotation is under way.
    for secret in ["whsec_old", "whsec_new"] {
        let admitted = call(Some(stripe_signature(secret, now(), body)), body)
            .await
            .expect("call");
        assert_eq!(admitted.status(), 200, "{secret}");
    }
    let executions = harness.executions();
    assert_eq!(executions.len(), 2);
    assert_eq!(
        executions[0].2.context["body"],
        json!({"id": "evt_1", "type": "payment_intent.succeeded"})
    );

    let refusals = [
        (None, "The Stripe-Signature header is missing."),
        (
            Some(stripe_signature("whsec_other", now(), body)),
            "The signature does not match the request body.",
        ),
        (
            Some(stripe_signature("whsec_new", now() - 600, body)),
            "The signature timestamp is more than 300 seconds away from now.",
        ),
    ];
    for (signature, message) in refusals {
        let (status, headers, answer) = refusal(call(signature, body).await.expect("call")).await;
        assert_eq!(status, 401, "{message}");
        assert!(!headers.contains_key("www-authenticate"));
        assert_eq!(
            answer,
            json!({"error": "invalid_signature", "message": message})
        );
    }
    // The signature covers the raw bytes: the same JSON re-spaced is another body.
    let respaced = r#"{"id": "evt_1", "type": "payment_intent.succeeded"}"#;
    let forged = call(Some(stripe_signature("whsec_new", now(), body)), respaced)
        .await
        .expect("call");
    assert_eq!(forged.status(), 401);
    assert_eq!(harness.executions().len(), 2);
}

#[tokio::test]
async fn the_signature_is_checked_after_415_and_before_the_body_is_parsed() {
    let harness = Harness::start().await;
    harness.put(definition(
        "signedorder",
        false,
        json!({"signature": {"scheme": "stripe", "secrets": ["whsec_k"]}}),
    ));
    let url = harness.webhook("signedorder");
    let broken = "{\"id\": ";
    let send = |content_type: &'static str, signature: String| {
        harness
            .http
            .post(&url)
            .header("content-type", content_type)
            .header("stripe-signature", signature)
            .body(broken)
            .send()
    };
    let unsupported = send("image/png", "t=1,v1=00".into()).await.expect("call");
    assert_eq!(unsupported.status(), 415);
    let unsigned = send("application/json", "t=1,v1=00".into())
        .await
        .expect("call");
    assert_eq!(unsigned.status(), 401);
    let signed = send(
        "application/json",
        stripe_signature("whsec_k", now(), broken),
    )
    .await
    .expect("call");
    let (status, _, body) = refusal(signed).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_body");
    assert!(harness.executions().is_empty());
}
