//! Bearer-token authentication: the admin token for every `/api/*` route, and a token of
//! ingress's own for `/internal/*`, so that the secrets ingress needs are never served to
//! the admin token (nor the admin API to ingress's).

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{AUTHORIZATION, HeaderValue},
    middleware::Next,
    web,
};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use shared::config::Config;
use subtle::ConstantTimeEq;

use crate::error::ApiError;

/// Why the API cannot be protected as configured.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// Neither a token nor the explicit opt-out.
    #[error(
        "HOOKFLOW_ADMIN_TOKEN is not set; set it, or set HOOKFLOW_INSECURE_NO_AUTH=1 to run without authentication (development only)"
    )]
    MissingAdmin,
    /// An empty token would let anyone in with `Bearer `.
    #[error("HOOKFLOW_ADMIN_TOKEN is empty")]
    EmptyAdmin,
    /// Without it ingress could not fetch trigger definitions.
    #[error(
        "HOOKFLOW_INTERNAL_TOKEN is not set; set it (to the same value at ingress and config-api): ingress fetches trigger definitions with it"
    )]
    MissingInternal,
    /// The internal token must differ from the admin token.
    #[error(
        "HOOKFLOW_INTERNAL_TOKEN is empty or the same as HOOKFLOW_ADMIN_TOKEN; give ingress a token of its own"
    )]
    WeakInternal,
}

/// Who may call the API: holders of the admin token, or anyone when auth is switched off.
#[derive(Clone)]
pub struct AdminAuth {
    // Digests, so the comparison takes the same time whatever the token lengths.
    expected: Option<[u8; 32]>,
}

impl AdminAuth {
    /// The policy the configuration asks for.
    pub fn from_config(config: &Config) -> Result<Self, AuthConfigError> {
        match (&config.admin_token, config.insecure_no_auth) {
            (Some(token), _) if token.expose_secret().is_empty() => {
                Err(AuthConfigError::EmptyAdmin)
            }
            (Some(token), _) => Ok(AdminAuth {
                expected: Some(digest(token.expose_secret().as_bytes())),
            }),
            (None, true) => {
                tracing::warn!(
                    "config-api runs WITHOUT authentication (HOOKFLOW_INSECURE_NO_AUTH)"
                );
                Ok(AdminAuth { expected: None })
            }
            (None, false) => Err(AuthConfigError::MissingAdmin),
        }
    }

    /// Whether a request carrying this `Authorization` header may pass.
    pub fn allows(&self, header: Option<&HeaderValue>) -> bool {
        self.expected
            .as_ref()
            .is_none_or(|expected| carries(header, expected))
    }
}

/// Who may read trigger definitions: holders of the internal token, always required.
#[derive(Clone)]
pub struct InternalAuth {
    expected: [u8; 32],
}

impl InternalAuth {
    /// The internal token of the configuration; it must be set and differ from the admin
    /// token.
    pub fn from_config(config: &Config) -> Result<Self, AuthConfigError> {
        let token = config
            .internal_token
            .as_ref()
            .map(ExposeSecret::expose_secret)
            .ok_or(AuthConfigError::MissingInternal)?;
        let admin = config.admin_token.as_ref().map(ExposeSecret::expose_secret);
        if token.is_empty() || admin == Some(token) {
            return Err(AuthConfigError::WeakInternal);
        }
        Ok(InternalAuth {
            expected: digest(token.as_bytes()),
        })
    }

    /// Whether a request carrying this `Authorization` header may pass.
    pub fn allows(&self, header: Option<&HeaderValue>) -> bool {
        carries(header, &self.expected)
    }
}

/// Whether `header` is `Bearer <token>` for the token whose digest is `expected`.
fn carries(header: Option<&HeaderValue>, expected: &[u8; 32]) -> bool {
    let Some(token) = header.and_then(|value| bearer_token(value.as_bytes())) else {
        return false;
    };
    bool::from(digest(token).ct_eq(expected))
}

fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let (scheme, token) = value.split_at_checked(7)?;
    scheme.eq_ignore_ascii_case(b"bearer ").then_some(token)
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A bearer-token policy a scope is guarded by.
pub trait Policy: 'static {
    /// Whether a request carrying this `Authorization` header may pass.
    fn allows(&self, header: Option<&HeaderValue>) -> bool;
}

impl Policy for AdminAuth {
    fn allows(&self, header: Option<&HeaderValue>) -> bool {
        AdminAuth::allows(self, header)
    }
}

impl Policy for InternalAuth {
    fn allows(&self, header: Option<&HeaderValue>) -> bool {
        InternalAuth::allows(self, header)
    }
}

/// Middleware: answers 401 unless the request passes the scope's policy `P` (the admin token
/// for `/api`, the internal token for `/internal`).
pub async fn require<P: Policy>(
    auth: web::Data<P>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if !auth.allows(req.headers().get(AUTHORIZATION)) {
        return Err(ApiError::Unauthorized.into());
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::config::Service;

    fn config(token: Option<&str>, insecure: bool) -> Config {
        let mut config = Config::defaults(Service::ConfigApi);
        config.admin_token = token.map(Into::into);
        config.insecure_no_auth = insecure;
        config
    }

    fn header(value: &str) -> HeaderValue {
        HeaderValue::from_str(value).expect("header")
    }

    #[test]
    fn only_the_admin_token_passes() {
        let auth = AdminAuth::from_config(&config(Some("s3cret"), false)).expect("auth");
        assert!(auth.allows(Some(&header("Bearer s3cret"))));
        assert!(auth.allows(Some(&header("bearer s3cret"))));
        assert!(!auth.allows(Some(&header("Bearer s3cre"))));
        assert!(!auth.allows(Some(&header("Bearer s3cret "))));
        assert!(!auth.allows(Some(&header("Basic s3cret"))));
        assert!(!auth.allows(Some(&header("s3cret"))));
        assert!(!auth.allows(None));
    }

    #[test]
    fn refuses_to_run_unprotected_unless_asked() {
        assert!(matches!(
            AdminAuth::from_config(&config(None, false)),
            Err(AuthConfigError::MissingAdmin)
        ));
        assert!(matches!(
            AdminAuth::from_config(&config(Some(""), false)),
            Err(AuthConfigError::EmptyAdmin)
        ));
        let open = AdminAuth::from_config(&config(None, true)).expect("insecure");
        assert!(open.allows(None));
    }

    #[test]
    fn a_token_wins_over_the_opt_out() {
        let auth = AdminAuth::from_config(&config(Some("t"), true)).expect("auth");
        assert!(!auth.allows(None));
    }

    #[test]
    fn the_internal_token_is_required_and_its_own() {
        let mut config = config(Some("admin"), false);
        assert!(matches!(
            InternalAuth::from_config(&config),
            Err(AuthConfigError::MissingInternal)
        ));
        config.internal_token = Some("admin".into());
        assert!(matches!(
            InternalAuth::from_config(&config),
            Err(AuthConfigError::WeakInternal)
        ));
        config.internal_token = Some("ingress".into());
        let internal = InternalAuth::from_config(&config).expect("internal");
        assert!(internal.allows(Some(&header("Bearer ingress"))));
        assert!(!internal.allows(Some(&header("Bearer admin"))));
        assert!(!internal.allows(None));
    }
}
