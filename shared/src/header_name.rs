//! What may stand as an HTTP header name: an RFC 9110 `token`.

/// Whether `name` is a valid header name: one or more `tchar`s (letters, digits and
/// ``!#$%&'*+-.^_`|~``).
pub fn is_valid(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_tchar)
}

/// Headers that describe one connection rather than the answer (RFC 9110 §7.6.1), which
/// a configured answer may not set: the server frames and keeps its connections itself.
const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Whether `name` is a hop-by-hop header (`Connection`, `Keep-Alive`, `TE`, `Trailer`,
/// `Transfer-Encoding`, `Upgrade`, any `Proxy-*`), in any case.
pub fn is_hop_by_hop(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    HOP_BY_HOP.contains(&name.as_str()) || name.starts_with("proxy-")
}

/// Why `name` cannot be a configured answer's header, if it cannot.
pub fn answer_header_problem(name: &str) -> Option<String> {
    if !is_valid(name) {
        return Some("a header needs a valid name".into());
    }
    is_hop_by_hop(name).then(|| {
        format!(
            "{name} is a hop-by-hop header, which the server sets for each connection; \
             an answer cannot carry it"
        )
    })
}

/// Why `value` cannot be a header value, if it cannot: only visible ASCII, spaces and tabs
/// travel in a header.
pub fn value_problem(value: &str) -> Option<String> {
    let bad = value
        .chars()
        .find(|c| !(*c == '\t' || (' '..='~').contains(c)))?;
    Some(if bad.is_ascii() {
        format!("a header value cannot hold control characters (found {bad:?})")
    } else {
        format!(
            "a header value must be ASCII; {bad:?} is not (percent-encode it, or put it in the body)"
        )
    })
}

fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_header_names_and_nothing_else_is() {
        for good in ["X-Signature", "content-type", "a", "x_!#$%&'*+-.^_`|~9"] {
            assert!(is_valid(good), "{good}");
        }
        for bad in ["", "a b", "a:b", "x\u{e9}", "a\r\n", "(x)", "a/b"] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn hop_by_hop_headers_are_known_in_any_case() {
        for hop in [
            "Connection",
            "keep-alive",
            "TE",
            "Trailer",
            "Transfer-Encoding",
            "upgrade",
            "Proxy-Authenticate",
            "proxy-connection",
        ] {
            assert!(is_hop_by_hop(hop), "{hop}");
            assert!(answer_header_problem(hop).is_some(), "{hop}");
        }
        for end_to_end in ["Content-Type", "X-Proxy", "Tee", "Cache-Control"] {
            assert!(!is_hop_by_hop(end_to_end), "{end_to_end}");
            assert_eq!(answer_header_problem(end_to_end), None);
        }
    }

    #[test]
    fn only_visible_ascii_spaces_and_tabs_are_header_values() {
        assert_eq!(value_problem("text/plain; charset=utf-8\t ~"), None);
        assert_eq!(
            value_problem("caf\u{e9}").as_deref(),
            Some(
                "a header value must be ASCII; '\u{e9}' is not (percent-encode it, or put it in the body)"
            )
        );
        assert!(value_problem("a\r\nSet-Cookie: x").is_some());
        assert!(value_problem("\u{7f}").is_some());
    }
}
