//! Site domains: an http(s) URL or a bare host name, stored normalized.

use url::{Host, Url};

use crate::error::ApiError;

/// Normalizes a site domain.
///
/// `https://Example.com/` → `https://example.com`; `Example.com` → `example.com`;
/// `http://127.0.0.1:5004/` → `http://127.0.0.1:5004`. Paths, queries and fragments are
/// dropped (a site is an origin). Rejects empty input, spaces, other schemes
/// (`javascript:`, `ftp:`), credentials and anything that is not a host name or address.
pub fn normalize(raw: &str) -> Result<String, ApiError> {
    let bad = |why: &str| ApiError::bad_request(format!("domain {why}"));
    let input = raw.trim();
    if input.is_empty() {
        return Err(bad("is required"));
    }
    if input.len() > 253 + "https://".len() + 6 {
        return Err(bad("is too long"));
    }
    if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("must not contain spaces"));
    }
    let has_scheme = input.contains("://");
    let url = if has_scheme {
        Url::parse(input)
    } else {
        if input.contains(':') && !input.starts_with('[') && input.split(':').count() > 2 {
            return Err(bad("must be an http(s) URL or a host name"));
        }
        Url::parse(&format!("https://{input}"))
    }
    .map_err(|_| bad("must be an http(s) URL or a host name"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must use http or https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain credentials"));
    }
    let host = match url.host() {
        Some(Host::Domain(name)) => {
            let valid = !name.is_empty()
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                });
            if !valid {
                return Err(bad("is not a valid host name"));
            }
            name.to_owned()
        }
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => format!("[{ip}]"),
        None => return Err(bad("must name a host")),
    };
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok(if has_scheme {
        format!("{}://{host}{port}", url.scheme())
    } else {
        format!("{host}{port}")
    })
}

/// The bare host of a normalized domain (no scheme, no port): what a beacon's `Origin`
/// must match.
pub fn host(domain: &str) -> &str {
    let rest = domain.split_once("://").map_or(domain, |(_, rest)| rest);
    if let Some(v6) = rest.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    rest.split(':').next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_hosts_are_normalized() {
        let cases = [
            ("https://example.com", "https://example.com"),
            ("https://Example.COM/", "https://example.com"),
            ("http://127.0.0.1:5004/", "http://127.0.0.1:5004"),
            ("https://example.com:443/blog?x=1#y", "https://example.com"),
            ("example.com", "example.com"),
            ("  Sub.Example.com  ", "sub.example.com"),
            ("localhost:3000", "localhost:3000"),
            ("https://bücher.de", "https://xn--bcher-kva.de"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize(input).unwrap(), expected, "{input}");
        }
    }

    #[test]
    fn junk_is_rejected_naming_the_field() {
        for bad in [
            "",
            "   ",
            "javascript:alert(1)",
            "javascript://alert(1)",
            "ftp://example.com",
            "exa mple.com",
            "https://user:pw@example.com",
            "http://",
            "-bad-.com",
            "a..b",
            "<script>",
            "data:text/html,hi",
        ] {
            let err = normalize(bad).unwrap_err().to_string();
            assert!(err.starts_with("domain "), "{bad:?} gave {err}");
        }
    }

    #[test]
    fn host_strips_scheme_and_port() {
        assert_eq!(host("https://example.com"), "example.com");
        assert_eq!(host("example.com:8080"), "example.com");
        assert_eq!(host("http://[::1]:8080"), "::1");
    }
}
