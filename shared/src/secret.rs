//! A secret a workflow stores (a basic-auth password, a signing secret).

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

/// A stored secret: `Debug` shows `[REDACTED]` and there is no `Display`, so a log line
/// cannot print it by accident; code that needs it calls `expose_secret`. Serialised as
/// the text it is: it travels to the database and to ingress (the API masks it first).
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "String")]
pub struct Secret(SecretString);

impl ExposeSecret<str> for Secret {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose_secret())
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Secret(text.into())
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Secret(text.into())
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose_secret() == other.expose_secret()
    }
}

/// Compares with a plain value, such as the masked placeholder.
impl PartialEq<str> for Secret {
    fn eq(&self, other: &str) -> bool {
        self.expose_secret() == other
    }
}

impl PartialEq<&str> for Secret {
    fn eq(&self, other: &&str) -> bool {
        self.expose_secret() == *other
    }
}

#[cfg(test)]
mod tests {
    use crate::model::BasicAuth;

    #[test]
    fn debug_redacts_and_json_carries_the_text() {
        let auth = BasicAuth {
            username: "shop".into(),
            password: "s3cret".into(),
        };
        let printed = format!("{auth:?}");
        assert!(
            printed.contains("shop") && !printed.contains("s3cret"),
            "{printed}"
        );
        let json = serde_json::to_value(&auth).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"username": "shop", "password": "s3cret"})
        );
        let back: BasicAuth = serde_json::from_value(json).expect("parse");
        assert_eq!(back, auth);
        assert_eq!(back.password, "s3cret");
    }
}
