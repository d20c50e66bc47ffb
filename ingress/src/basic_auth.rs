//! HTTP Basic authentication of webhook callers, compared in constant time.

use actix_web::http::header::{self, HeaderMap};
use base64::Engine;
use secrecy::ExposeSecret;
use shared::model::BasicAuth;
use subtle::ConstantTimeEq;

use crate::error::WebhookError;

/// Checks the request's `Authorization: Basic ...` against the configured credentials.
pub fn verify(headers: &HeaderMap, expected: &BasicAuth) -> Result<(), WebhookError> {
    let Some((username, password)) = presented(headers) else {
        return Err(WebhookError::Unauthorized);
    };
    // Both halves are always compared (no short circuit) so that timing does not tell
    // a caller whether the user name alone was right.
    let user_ok = username.as_bytes().ct_eq(expected.username.as_bytes());
    let password_ok = password
        .as_bytes()
        .ct_eq(expected.password.expose_secret().as_bytes());
    if bool::from(user_ok & password_ok) {
        Ok(())
    } else {
        Err(WebhookError::Unauthorized)
    }
}

/// The user name and password of a well-formed Basic `Authorization` header.
fn presented(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some((username.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn expected() -> BasicAuth {
        BasicAuth {
            username: "shop".into(),
            password: "s3cret:with:colons".into(),
        }
    }

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(value).expect("header value"),
        );
        headers
    }

    fn basic(user_and_password: &str) -> HeaderMap {
        let encoded = base64::engine::general_purpose::STANDARD.encode(user_and_password);
        with_authorization(&format!("Basic {encoded}"))
    }

    #[test]
    fn right_credentials_pass() {
        assert!(verify(&basic("shop:s3cret:with:colons"), &expected()).is_ok());
        let encoded = base64::engine::general_purpose::STANDARD.encode("shop:s3cret:with:colons");
        assert!(
            verify(
                &with_authorization(&format!("basic {encoded}")),
                &expected()
            )
            .is_ok()
        );
    }

    #[test]
    fn missing_or_wrong_credentials_fail() {
        let refused = [
            HeaderMap::new(),
            basic("shop:wrong"),
            basic("other:s3cret:with:colons"),
            basic("shop"),
            basic("shop:s3cret:with:colons "),
            with_authorization("Bearer abc"),
            with_authorization("Basic not-base64!"),
        ];
        for headers in refused {
            assert!(
                matches!(
                    verify(&headers, &expected()),
                    Err(WebhookError::Unauthorized)
                ),
                "{headers:?}"
            );
        }
    }
}
