//! What may stand as an HTTP header name: an RFC 9110 `token`.

/// Whether `name` is a valid header name: one or more `tchar`s (letters, digits and
/// ``!#$%&'*+-.^_`|~``).
pub fn is_valid(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_tchar)
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
}
