use super::*;
use serde_json::json;

fn trigger(settings: serde_json::Value) -> serde_json::Value {
    json!({"title": "t", "trigger": settings})
}

/// The paths of every problem the document validator finds in a document of `trigger`.
fn paths(document: &serde_json::Value) -> Vec<String> {
    match crate::engine::parse_document(document.clone()) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.into_iter().map(|p| p.path).collect(),
    }
}

#[test]
fn valid_settings_have_no_problems() {
    let valid = trigger(json!({
        "signature": {"scheme": "hmac", "secrets": ["sixteen-bytes-ok", "another-long-key"], "header": "X-Sig",
                      "algorithm": "sha512", "encoding": "base64", "prefix": "sha512="},
        "rateLimit": {"perSecond": 0.5, "burst": 1},
        "allowedIps": ["10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1"]
    }));
    assert_eq!(paths(&valid), Vec::<String>::new());
    let standard = trigger(json!({
        "signature": {"scheme": "standard-webhooks",
                      "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", MASKED_PASSWORD]}
    }));
    assert_eq!(paths(&standard), Vec::<String>::new());
}

#[test]
fn signing_keys_shorter_than_sixteen_bytes_are_refused() {
    let short = trigger(json!({
        "signature": {"scheme": "github", "secrets": ["fifteen-bytes!!", "sixteen-bytes-ok", MASKED_PASSWORD]}
    }));
    assert_eq!(paths(&short), ["trigger.signature.secrets[0]"]);
    // `whsec_` alone decodes to no key at all; 15 bytes of base64 are too few as well.
    let standard = trigger(json!({
        "signature": {"scheme": "standard-webhooks",
                      "secrets": ["whsec_", "whsec_MTIzNDU2Nzg5MDEyMzQ1", "whsec_MTIzNDU2Nzg5MDEyMzQ1Ng=="]}
    }));
    let problems = crate::engine::parse_document(standard).expect_err("short keys");
    let named: Vec<(String, String)> = problems
        .into_iter()
        .map(|problem| (problem.path, problem.message))
        .collect();
    assert_eq!(
        named,
        [
            (
                "trigger.signature.secrets[0]".to_owned(),
                "a signing secret must be at least 16 bytes long once decoded; this one is 0"
                    .to_owned()
            ),
            (
                "trigger.signature.secrets[1]".to_owned(),
                "a signing secret must be at least 16 bytes long once decoded; this one is 15"
                    .to_owned()
            ),
        ]
    );
}

#[test]
fn every_bad_setting_is_named() {
    let bad = trigger(json!({
        "signature": {"scheme": "paypal", "secrets": []},
        "rateLimit": {"perSecond": 0, "burst": 0},
        "allowedIps": ["10.0.0.0/33", "example.com", "10.0.0.1"]
    }));
    assert_eq!(
        paths(&bad),
        [
            "trigger.signature.scheme",
            "trigger.signature.secrets",
            "trigger.rateLimit.perSecond",
            "trigger.rateLimit.burst",
            "trigger.allowedIps[0]",
            "trigger.allowedIps[1]",
        ]
    );
    let negative = trigger(json!({"rateLimit": {"perSecond": -3}}));
    assert_eq!(paths(&negative), ["trigger.rateLimit.perSecond"]);
}

#[test]
fn scheme_specific_settings_are_checked() {
    let hmac = trigger(json!({
        "signature": {"scheme": "hmac", "secrets": ["", "k"], "algorithm": "md5",
                      "encoding": "hex32", "header": "X Sig"}
    }));
    assert_eq!(
        paths(&hmac),
        [
            "trigger.signature.secrets[0]",
            "trigger.signature.algorithm",
            "trigger.signature.encoding",
            "trigger.signature.header",
        ]
    );
    let github = trigger(json!({
        "signature": {"scheme": "github", "secrets": ["k"], "header": "X-Other"}
    }));
    assert_eq!(paths(&github), ["trigger.signature.header"]);
    let standard = trigger(json!({
        "signature": {"scheme": "standard-webhooks", "secrets": ["whsec_not base64!"]}
    }));
    assert_eq!(paths(&standard), ["trigger.signature.secrets[0]"]);
}

#[test]
fn bare_addresses_are_single_hosts() {
    let host = parse_ip_range("192.168.1.7").expect("v4");
    assert_eq!(host.prefix_len(), 32);
    let host6 = parse_ip_range(" ::1 ").expect("v6");
    assert_eq!(host6.prefix_len(), 128);
    assert!(parse_ip_range("10.0.0.0/8").is_some());
    assert!(parse_ip_range("10.0.0.0/").is_none());
    assert!(parse_ip_range("").is_none());
}

#[test]
fn defaults_fill_in_unset_values() {
    let settings: SignatureSettings =
        serde_json::from_value(json!({"scheme": "hmac", "secrets": ["k"]})).expect("sig");
    assert_eq!(settings.tolerance_secs(), DEFAULT_SIGNATURE_TOLERANCE_SECS);
    assert_eq!(settings.header_name(), "X-Signature");
    assert_eq!(settings.hmac_algorithm(), HmacAlgorithm::Sha256);
    assert_eq!(settings.hmac_encoding(), SignatureEncoding::Hex);
    let limit = RateLimit {
        per_second: 2.5,
        burst: None,
    };
    assert_eq!(limit.burst_size(), 3);
    let slow = RateLimit {
        per_second: 0.1,
        burst: None,
    };
    assert_eq!(slow.burst_size(), 1);
}

#[test]
fn rates_read_back_as_written() {
    for rate in [
        json!({"perSecond": 100, "burst": 200}),
        json!({"perSecond": 0.5}),
    ] {
        let limit: RateLimit = serde_json::from_value(rate.clone()).expect("limit");
        assert_eq!(serde_json::to_value(&limit).expect("json"), rate);
    }
}

#[test]
fn address_lists_read_every_entry_and_name_a_bad_one() {
    assert_eq!(parse_ip_ranges(" ").expect("empty"), Vec::<IpNet>::new());
    let ranges = parse_ip_ranges(" 10.0.0.0/8 ,::1").expect("two");
    assert_eq!(ranges.len(), 2);
    assert!(ranges[1].contains(&"::1".parse::<IpAddr>().expect("ip")));
    assert_eq!(
        parse_ip_ranges("10.0.0.0/8,lb.internal").expect_err("bad"),
        "\"lb.internal\" is neither an IP address nor a CIDR range such as 10.0.0.0/8"
    );
}
