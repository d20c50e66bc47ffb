//! Secrets at rest: basic-auth passwords, signing secrets and secret variables are stored
//! encrypted with `HOOKFLOW_SECRET_KEY` (XChaCha20-Poly1305, a random nonce per value), so a
//! copy of the database, or of a backup, holds no usable secret. Keys rotate: values written
//! under a key of `HOOKFLOW_SECRET_KEYS_OLD` stay readable and are encrypted with the current
//! key when they are next written.
//!
//! A stored secret reads `sealed:v1:<key id>:<base64 of nonce and ciphertext>`; the key id is
//! the first four bytes of the key's SHA-256, so a value names the key it needs without
//! revealing it. Values without the prefix (stored before encryption) are read as they are
//! and sealed when next written.

use crate::config::Config;
use crate::model::WorkflowDocument;
use crate::secret::Secret;
use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce, aead::Aead};
use rand::RngCore;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

const PREFIX: &str = "sealed:v1:";
const NONCE_LEN: usize = 24;

/// Why the secret keys cannot be used as configured.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No current key.
    #[error(
        "HOOKFLOW_SECRET_KEY is not set; set it to 32 random bytes written as 64 hex characters (e.g. `openssl rand -hex 32`): stored secrets are encrypted with it"
    )]
    Missing,
    /// A key that is not 64 hex characters.
    #[error("{setting} must be 32 bytes written as 64 hex characters")]
    Malformed {
        /// The environment variable.
        setting: &'static str,
    },
}

/// Why a stored secret cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Sealed under a key that is neither current nor listed as old.
    #[error("a stored secret was encrypted with key {key_id}, which is not configured")]
    UnknownKey {
        /// The key id the value names.
        key_id: String,
    },
    /// The value is damaged or was not sealed with the key it names.
    #[error("a stored secret cannot be decrypted")]
    Damaged,
}

struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl Key {
    fn parse(hex: &str, setting: &'static str) -> Result<Key, KeyError> {
        let bytes: [u8; 32] =
            const_hex::decode_to_array(hex.trim()).map_err(|_| KeyError::Malformed { setting })?;
        let digest = Sha256::digest(bytes);
        Ok(Key {
            id: const_hex::encode(&digest[..4]),
            cipher: XChaCha20Poly1305::new(&bytes.into()),
        })
    }
}

/// Seals and opens stored secrets.
pub struct Secrets {
    current: Key,
    old: Vec<Key>,
}

impl Secrets {
    /// The keys of the configuration; the current one is required.
    pub fn from_config(config: &Config) -> Result<Secrets, KeyError> {
        let current = config
            .secret_key
            .as_ref()
            .map(ExposeSecret::expose_secret)
            .ok_or(KeyError::Missing)?;
        let current = Key::parse(current, "HOOKFLOW_SECRET_KEY")?;
        let old = config
            .secret_keys_old
            .as_ref()
            .map_or("", ExposeSecret::expose_secret)
            .split(',')
            .filter(|key| !key.trim().is_empty())
            .map(|key| Key::parse(key, "HOOKFLOW_SECRET_KEYS_OLD"))
            .collect::<Result<_, _>>()?;
        Ok(Secrets { current, old })
    }

    /// `value` encrypted with the current key. A value already sealed with the current key
    /// is kept; one sealed with an old key is re-encrypted.
    pub fn seal(&self, value: &str) -> Result<String, OpenError> {
        if let Some((key_id, _)) = parts(value)
            && key_id == self.current.id
        {
            return Ok(value.to_owned());
        }
        let plain = self.open(value)?;
        self.seal_plain(&plain)
    }

    /// `plain` encrypted with the current key, whatever it looks like (a value typed by a
    /// user may well start like a sealed one).
    pub fn seal_plain(&self, plain: &str) -> Result<String, OpenError> {
        let mut nonce = XNonce::default();
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .current
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .map_err(|_| OpenError::Damaged)?;
        let mut payload = nonce.to_vec();
        payload.extend_from_slice(&sealed);
        Ok(format!(
            "{PREFIX}{}:{}",
            self.current.id,
            STANDARD_NO_PAD.encode(payload)
        ))
    }

    /// The plain text of a stored value (a value without the prefix is plain already).
    pub fn open(&self, value: &str) -> Result<String, OpenError> {
        let Some((key_id, payload)) = parts(value) else {
            return Ok(value.to_owned());
        };
        let key = std::iter::once(&self.current)
            .chain(&self.old)
            .find(|key| key.id == key_id)
            .ok_or_else(|| OpenError::UnknownKey {
                key_id: key_id.to_owned(),
            })?;
        let payload = STANDARD_NO_PAD
            .decode(payload)
            .map_err(|_| OpenError::Damaged)?;
        if payload.len() < NONCE_LEN {
            return Err(OpenError::Damaged);
        }
        let (nonce, sealed) = payload.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| OpenError::Damaged)?;
        let plain = key
            .cipher
            .decrypt(&nonce, sealed)
            .map_err(|_| OpenError::Damaged)?;
        String::from_utf8(plain).map_err(|_| OpenError::Damaged)
    }

    /// The document with every secret sealed, as it is stored.
    pub fn seal_document(&self, doc: &WorkflowDocument) -> Result<WorkflowDocument, OpenError> {
        let mut sealed = doc.clone();
        for secret in secrets_of(&mut sealed) {
            *secret = self.seal(secret.expose_secret())?.into();
        }
        Ok(sealed)
    }

    /// A stored document with every secret in plain text, as ingress needs it.
    pub fn open_document(&self, doc: &mut WorkflowDocument) -> Result<(), OpenError> {
        for secret in secrets_of(doc) {
            *secret = self.open(secret.expose_secret())?.into();
        }
        Ok(())
    }
}

/// Key id and payload of a sealed value.
fn parts(value: &str) -> Option<(&str, &str)> {
    value.strip_prefix(PREFIX)?.split_once(':')
}

/// The secrets of a document: the basic-auth password and every signing secret.
fn secrets_of(doc: &mut WorkflowDocument) -> impl Iterator<Item = &mut Secret> {
    let trigger = &mut doc.trigger;
    let password = trigger
        .basic_authentication
        .as_mut()
        .map(|auth| &mut auth.password);
    let signing = trigger
        .signature
        .as_mut()
        .into_iter()
        .flat_map(|signature| signature.secrets.iter_mut());
    password.into_iter().chain(signing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Service;
    use serde_json::json;

    const KEY_A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const KEY_B: &str = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

    fn secrets(current: &str, old: Option<&str>) -> Secrets {
        let mut config = Config::defaults(Service::ConfigApi);
        config.secret_key = Some(current.into());
        config.secret_keys_old = old.map(Into::into);
        Secrets::from_config(&config).expect("keys")
    }

    #[test]
    fn sealed_values_open_to_the_plain_text_and_differ_each_time() {
        let keys = secrets(KEY_A, None);
        let first = keys.seal("s3cret").expect("seal");
        let second = keys.seal("s3cret").expect("seal");
        assert!(first.starts_with("sealed:v1:"), "{first}");
        assert!(!first.contains("s3cret"));
        assert_ne!(first, second, "a fresh nonce per value");
        assert_eq!(keys.open(&first).expect("open"), "s3cret");
        assert_eq!(keys.seal(&first).expect("kept"), first);
        // Stored before encryption: read as it is.
        assert_eq!(keys.open("plain").expect("plain"), "plain");
    }

    #[test]
    fn old_keys_stay_readable_and_are_replaced_when_written() {
        let before = secrets(KEY_A, None).seal("s3cret").expect("seal");
        let rotated = secrets(KEY_B, Some(KEY_A));
        assert_eq!(rotated.open(&before).expect("old key"), "s3cret");
        let resealed = rotated.seal(&before).expect("reseal");
        assert_ne!(resealed, before);
        assert_eq!(
            secrets(KEY_B, None).open(&resealed).expect("new key"),
            "s3cret"
        );
        assert!(matches!(
            secrets(KEY_B, None).open(&before),
            Err(OpenError::UnknownKey { .. })
        ));
    }

    #[test]
    fn tampered_values_do_not_open() {
        let keys = secrets(KEY_A, None);
        let sealed = keys.seal("s3cret").expect("seal");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert!(matches!(keys.open(&tampered), Err(OpenError::Damaged)));
    }

    #[test]
    fn keys_must_be_set_and_64_hex_characters() {
        let mut config = Config::defaults(Service::ConfigApi);
        assert!(matches!(
            Secrets::from_config(&config),
            Err(KeyError::Missing)
        ));
        config.secret_key = Some("abcd".into());
        let error = Secrets::from_config(&config).err().expect("short");
        assert_eq!(
            error.to_string(),
            "HOOKFLOW_SECRET_KEY must be 32 bytes written as 64 hex characters"
        );
        config.secret_key = Some(KEY_A.into());
        config.secret_keys_old = Some(format!("{KEY_B},zz").into());
        assert!(matches!(
            Secrets::from_config(&config),
            Err(KeyError::Malformed {
                setting: "HOOKFLOW_SECRET_KEYS_OLD"
            })
        ));
    }

    #[test]
    fn documents_are_sealed_and_opened_secret_by_secret() {
        let keys = secrets(KEY_A, None);
        let doc: WorkflowDocument = serde_json::from_value(json!({
            "title": "t",
            "trigger": {
                "basicAuthentication": {"username": "shop", "password": "pw"},
                "signature": {"scheme": "github", "secrets": ["one", "two"]}
            }
        }))
        .expect("doc");
        let sealed = keys.seal_document(&doc).expect("seal");
        let stored = serde_json::to_string(&sealed).expect("json");
        for secret in ["\"pw\"", "\"one\"", "\"two\""] {
            assert!(!stored.contains(secret), "{stored}");
        }
        assert!(stored.contains("\"username\":\"shop\""), "{stored}");
        let mut opened = sealed;
        keys.open_document(&mut opened).expect("open");
        assert_eq!(
            serde_json::to_value(&opened).expect("json"),
            serde_json::to_value(&doc).expect("json")
        );
    }
}
