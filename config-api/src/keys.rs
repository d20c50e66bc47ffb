//! Webhook keys: the id in `/api/webhook:trigger/{key}` (docs/webhooks.md).

use rand::Rng;

const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Length of every webhook key.
pub const KEY_LEN: usize = 11;

/// A fresh random key: 11 lowercase letters and digits (about 57 bits).
pub fn generate() -> String {
    let mut rng = rand::rng();
    (0..KEY_LEN)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// The webhook URL ingress serves for `key`.
pub fn webhook_url(public_url: &str, key: &str) -> String {
    format!(
        "{}/api/webhook:trigger/{key}",
        public_url.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_eleven_lowercase_alphanumerics() {
        for _ in 0..100 {
            let key = generate();
            assert_eq!(key.len(), KEY_LEN);
            assert!(
                key.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
                "{key}"
            );
        }
        assert_ne!(generate(), generate());
    }

    #[test]
    fn webhook_url_joins_without_double_slash() {
        assert_eq!(
            webhook_url("http://localhost:13000/", "abc"),
            "http://localhost:13000/api/webhook:trigger/abc"
        );
    }
}
