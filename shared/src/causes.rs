//! Error messages with their causes: tokio-postgres, reqwest and hyper keep the useful part
//! of an error (a refused connection, a failed TLS handshake and why) in its sources, out
//! of its own message.

use std::error::Error;

/// `error`'s message followed by each of its sources', `: `-separated; a source whose text
/// the message already ends with is not repeated.
pub fn text(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn sources_follow_the_message() {
        let error = Outer(std::io::Error::other("inner"));
        assert_eq!(super::text(&error), "outer: inner");
        assert_eq!(super::text(&std::io::Error::other("alone")), "alone");
    }
}
