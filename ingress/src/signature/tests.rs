//! Vectors from the providers' documentation where one exists (GitHub, Slack, Standard
//! Webhooks), otherwise computed independently with Python's `hmac` module.

use actix_web::http::header::{HeaderName, HeaderValue};
use serde_json::json;

use super::*;

const STRIPE_BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
const STRIPE_AT: i64 = 1_700_000_000;
/// HMAC-SHA256(`whsec_test_secret`, `1700000000.` + body).
const STRIPE_SIG: &str = "22d8dc182f5c588077683bd378368e29765bfe5df2560112b4f28fef120f0e31";
/// The same, signed with `whsec_old`.
const STRIPE_OLD_SIG: &str = "112b8f3347b5153a9d788c594c4995aa89ddabd6ed8707eec0ae9f30fb646011";

fn settings(value: serde_json::Value) -> SignatureSettings {
    serde_json::from_value(value).expect("settings")
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(
            HeaderName::try_from(*name).expect("name"),
            HeaderValue::try_from(*value).expect("value"),
        );
    }
    map
}

/// The caller-facing message of a refusal, asserting it is `invalid_signature`.
fn refusal(result: Result<(), WebhookError>) -> String {
    match result {
        Err(err @ WebhookError::InvalidSignature(_)) => {
            assert_eq!(err.code(), "invalid_signature");
            err.to_string()
        }
        other => panic!("expected invalid_signature, got {other:?}"),
    }
}

fn stripe(secrets: &[&str]) -> SignatureSettings {
    settings(json!({"scheme": "stripe", "secrets": secrets}))
}

#[test]
fn stripe_accepts_any_v1_signature_of_any_secret() {
    let value = format!("t={STRIPE_AT},v1={STRIPE_SIG},v0=ignored");
    let signed = headers(&[("stripe-signature", &value)]);
    assert!(
        verify_at(
            &stripe(&["whsec_test_secret"]),
            &signed,
            STRIPE_BODY,
            STRIPE_AT
        )
        .is_ok()
    );

    // Rotation: the old secret still signs while both are configured.
    let old = format!("t={STRIPE_AT},v1={STRIPE_OLD_SIG}");
    let rotating = stripe(&["whsec_test_secret", "whsec_old"]);
    let by_old = headers(&[("stripe-signature", &old)]);
    assert!(verify_at(&rotating, &by_old, STRIPE_BODY, STRIPE_AT).is_ok());
    let message = refusal(verify_at(
        &stripe(&["whsec_test_secret"]),
        &by_old,
        STRIPE_BODY,
        STRIPE_AT,
    ));
    assert_eq!(message, "The signature does not match the request body.");

    // Stripe sends one v1 per active secret on its side.
    let both = format!("t={STRIPE_AT},v1={STRIPE_OLD_SIG},v1={STRIPE_SIG}");
    let by_both = headers(&[("stripe-signature", &both)]);
    assert!(
        verify_at(
            &stripe(&["whsec_test_secret"]),
            &by_both,
            STRIPE_BODY,
            STRIPE_AT
        )
        .is_ok()
    );
}

#[test]
fn stripe_refuses_stale_tampered_and_malformed_requests() {
    let settings = stripe(&["whsec_test_secret"]);
    let value = format!("t={STRIPE_AT},v1={STRIPE_SIG}");
    let signed = headers(&[("stripe-signature", &value)]);

    assert!(verify_at(&settings, &signed, STRIPE_BODY, STRIPE_AT + 300).is_ok());
    let message = refusal(verify_at(&settings, &signed, STRIPE_BODY, STRIPE_AT + 301));
    assert_eq!(
        message,
        "The signature timestamp is more than 300 seconds away from now."
    );
    refusal(verify_at(&settings, &signed, STRIPE_BODY, STRIPE_AT - 301));

    let mut tampered = STRIPE_BODY.to_vec();
    tampered[8] = b'2';
    refusal(verify_at(&settings, &signed, &tampered, STRIPE_AT));

    let message = refusal(verify_at(
        &settings,
        &HeaderMap::new(),
        STRIPE_BODY,
        STRIPE_AT,
    ));
    assert_eq!(message, "The Stripe-Signature header is missing.");
    for broken in [
        format!("v1={STRIPE_SIG}"),
        format!("t={STRIPE_AT}"),
        "t=1,v1=zz".into(),
    ] {
        let message = refusal(verify_at(
            &settings,
            &headers(&[("stripe-signature", &broken)]),
            STRIPE_BODY,
            STRIPE_AT,
        ));
        assert_eq!(
            message, "The Stripe-Signature header is malformed.",
            "{broken}"
        );
    }
}

#[test]
fn tolerance_is_configurable_and_zero_turns_it_off() {
    let value = format!("t={STRIPE_AT},v1={STRIPE_SIG}");
    let signed = headers(&[("stripe-signature", &value)]);
    let strict =
        settings(json!({"scheme": "stripe", "secrets": ["whsec_test_secret"], "tolerance": 10}));
    assert!(verify_at(&strict, &signed, STRIPE_BODY, STRIPE_AT + 10).is_ok());
    refusal(verify_at(&strict, &signed, STRIPE_BODY, STRIPE_AT + 11));
    let unchecked =
        settings(json!({"scheme": "stripe", "secrets": ["whsec_test_secret"], "tolerance": 0}));
    assert!(verify_at(&unchecked, &signed, STRIPE_BODY, STRIPE_AT + 86_400 * 365).is_ok());
}

#[test]
fn github_matches_its_documented_example() {
    // docs.github.com, "Validating webhook deliveries".
    let settings = settings(json!({"scheme": "github", "secrets": ["It's a Secret to Everybody"]}));
    let signed = headers(&[(
        "x-hub-signature-256",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    )]);
    assert!(verify_at(&settings, &signed, b"Hello, World!", 0).is_ok());
    refusal(verify_at(&settings, &signed, b"Hello, World?", 0));
    let unprefixed = headers(&[(
        "x-hub-signature-256",
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    )]);
    let message = refusal(verify_at(&settings, &unprefixed, b"Hello, World!", 0));
    assert_eq!(message, "The X-Hub-Signature-256 header is malformed.");
}

#[test]
fn standard_webhooks_matches_its_documented_example() {
    // The Standard Webhooks / Svix documentation example.
    let settings = settings(json!({
        "scheme": "standard-webhooks",
        "secrets": ["whsec_bm90IHRoaXMgb25l", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
    }));
    let body = br#"{"test": 2432232314}"#;
    let signed = headers(&[
        ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("webhook-timestamp", "1614265330"),
        (
            "webhook-signature",
            "v1,bm90IHRoaXMgb25l v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ]);
    assert!(verify_at(&settings, &signed, body, 1_614_265_330).is_ok());
    refusal(verify_at(&settings, &signed, body, 1_614_265_330 + 301));
    refusal(verify_at(
        &settings,
        &signed,
        br#"{"test": 1}"#,
        1_614_265_330,
    ));

    let other_id = headers(&[
        ("webhook-id", "msg_other"),
        ("webhook-timestamp", "1614265330"),
        (
            "webhook-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ]);
    refusal(verify_at(&settings, &other_id, body, 1_614_265_330));

    let svix = headers(&[
        ("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("svix-timestamp", "1614265330"),
        (
            "svix-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ]);
    assert!(verify_at(&settings, &svix, body, 1_614_265_330).is_ok());
    let message = refusal(verify_at(&settings, &HeaderMap::new(), body, 1_614_265_330));
    assert_eq!(message, "The webhook-id header is missing.");
}

#[test]
fn shopify_signs_the_body_in_base64() {
    let settings = settings(json!({"scheme": "shopify", "secrets": ["shpss_secret"]}));
    let body = br#"{"id":820982911946154508,"email":"jon@doe.ca"}"#;
    let signed = headers(&[(
        "x-shopify-hmac-sha256",
        "Py5rRrvmrqKGlfxC3SZLuEhx+L9Ad7OBHIVcWvJqO8A=",
    )]);
    assert!(verify_at(&settings, &signed, body, 0).is_ok());
    refusal(verify_at(&settings, &signed, b"{}", 0));
    let wrong = headers(&[(
        "x-shopify-hmac-sha256",
        "Qy5rRrvmrqKGlfxC3SZLuEhx+L9Ad7OBHIVcWvJqO8A=",
    )]);
    refusal(verify_at(&settings, &wrong, body, 0));
}

#[test]
fn slack_matches_its_documented_example() {
    // api.slack.com, "Verifying requests from Slack".
    let settings =
        settings(json!({"scheme": "slack", "secrets": ["8f742231b10e8888abcd99yyyzzz85a5"]}));
    let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let signed = headers(&[
        ("x-slack-request-timestamp", "1531420618"),
        (
            "x-slack-signature",
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        ),
    ]);
    assert!(verify_at(&settings, &signed, body, 1_531_420_618).is_ok());
    refusal(verify_at(&settings, &signed, body, 1_531_420_618 + 301));
    let replayed_later = headers(&[
        ("x-slack-request-timestamp", "1531420619"),
        (
            "x-slack-signature",
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        ),
    ]);
    refusal(verify_at(&settings, &replayed_later, body, 1_531_420_618));
}

#[test]
fn generic_hmac_follows_its_settings() {
    let default = settings(json!({"scheme": "hmac", "secrets": ["k1"]}));
    let hex256 = "958a91d085768abe7198288c5e5b2e19398498ed33e20d8353ec2cf5cbd33729";
    assert!(verify_at(&default, &headers(&[("x-signature", hex256)]), b"hello", 0).is_ok());
    let upper = hex256.to_uppercase();
    assert!(verify_at(&default, &headers(&[("x-signature", &upper)]), b"hello", 0).is_ok());
    refusal(verify_at(
        &default,
        &headers(&[("x-signature", hex256)]),
        b"hello!",
        0,
    ));

    let prefixed = settings(
        json!({"scheme": "hmac", "secrets": ["other", "k1"], "header": "X-Hook-Sig",
                                   "algorithm": "sha1", "prefix": "sha1="}),
    );
    let sha1 = "sha1=4c250fed12e3571a29a32917139ac5d39a28a66c";
    assert!(verify_at(&prefixed, &headers(&[("x-hook-sig", sha1)]), b"hello", 0).is_ok());
    let message = refusal(verify_at(
        &prefixed,
        &headers(&[("x-hook-sig", "4c250fed12e3571a29a32917139ac5d39a28a66c")]),
        b"hello",
        0,
    ));
    assert_eq!(message, "The X-Hook-Sig header is malformed.");

    let base64 = settings(
        json!({"scheme": "hmac", "secrets": ["k1"], "algorithm": "sha512", "encoding": "base64"}),
    );
    let sha512 =
        "xOUxaP/LE4PHMx4riHqM5f/vY21ijbjOBPBzL12wN/CHLpneWTi7T5kFh8b7l0vmwtAEPTbRW/ghs7rHU1oTZg==";
    assert!(verify_at(&base64, &headers(&[("x-signature", sha512)]), b"hello", 0).is_ok());
    // A truncated digest, and a SHA-256 digest where SHA-512 is configured, both fail.
    refusal(verify_at(
        &base64,
        &headers(&[("x-signature", &sha512[..40])]),
        b"hello",
        0,
    ));
    let sha256_as_base64 = "lYqR0IV2ir5xmCiMXlsuGTmEmO0z4g2DU+ws9cvTNyk=";
    refusal(verify_at(
        &base64,
        &headers(&[("x-signature", sha256_as_base64)]),
        b"hello",
        0,
    ));
}

#[test]
fn unknown_schemes_fail_closed() {
    // An unknown scheme cannot be read, so no trigger carrying one admits a call.
    let unknown =
        serde_json::from_value::<SignatureSettings>(json!({"scheme": "paypal", "secrets": ["k"]}));
    assert!(unknown.is_err(), "{unknown:?}");
}

#[test]
fn hex_decoding_is_strict() {
    assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
    assert_eq!(decode_hex("0"), None);
    assert_eq!(decode_hex("zz"), None);
    assert_eq!(decode_hex(""), None);
}
