//! Which URLs the SDK uses: `https:` ones, or `http:` to a loopback host
//! (`localhost`, 127.0.0.0/8, `[::1]`) for local development and the
//! emulator. Anything else is refused before use: Peliqan's `oauth_url` is
//! loaded in a popup the partner's page opened, where a `javascript:` or
//! `data:` URL would run with the page's origin; `peliqanUrl`, `tokenUrl`
//! and `connectorsUrl` receive credentials, which plain `http:` to another
//! host would send in clear text.
//!
//! The check reads a URL as a browser's URL parser does for these schemes
//! (the authority ends at `/`, `?` or `#`; the host follows the last `@`)
//! and refuses what it cannot read the same way without a full parser:
//! spaces, controls and backslashes, which browsers strip or turn into `/`
//! (<https://url.spec.whatwg.org/#concept-basic-url-parser>).

/// `url` starts with `prefix`, ASCII case-insensitively: the rest.
fn strip<'a>(url: &'a str, prefix: &str) -> Option<&'a str> {
    let head = url.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &url[prefix.len()..])
}

/// No byte a browser would drop or reinterpret.
fn plain(url: &str) -> bool {
    !url.bytes().any(|b| b <= b' ' || b == b'\\' || b == 0x7f)
}

/// Whether `url` is an absolute `https:` URL, or `http:` to a loopback host.
pub fn allowed(url: &str) -> bool {
    if !plain(url) {
        return false;
    }
    if let Some(rest) = strip(url, "https://") {
        return !rest.is_empty();
    }
    let Some(rest) = strip(url, "http://") else {
        return false;
    };
    // Byte loops rather than `split`/`rsplit`: smaller in the bundle.
    // The authority ends at `/`, `?` or `#`; the host follows its last `@`.
    let (mut start, mut end) = (0, rest.len());
    for (i, b) in rest.bytes().enumerate() {
        match b {
            b'/' | b'?' | b'#' => {
                end = i;
                break;
            }
            b'@' => start = i + 1,
            _ => {}
        }
    }
    let host_port = &rest[start..end];
    if let Some(port) = host_port.strip_prefix("[::1]") {
        return port.is_empty() || port.starts_with(':');
    }
    let host = host_port.split(':').next().unwrap_or_default();
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    // 127.a.b.c in decimal; other spellings a browser reads as 127/8
    // ("127.1", hex) are refused, which is safe.
    let Some(rest) = host.strip_prefix("127.") else {
        return false;
    };
    let (mut dots, mut digits) = (0, 0);
    for b in rest.bytes() {
        match b {
            b'.' if digits > 0 => (dots, digits) = (dots + 1, 0),
            b'0'..=b'9' if digits < 3 => digits += 1,
            _ => return false,
        }
    }
    dots == 2 && digits > 0
}

/// [`allowed`], or a path on the page's own origin (`/v1/token`), as a
/// token service beside the partner's app is often given.
pub fn allowed_or_path(url: &str) -> bool {
    allowed(url) || (url.starts_with('/') && !url.starts_with("//") && plain(url))
}

/// Why `url` (given as `what`) was refused, naming its scheme but never
/// the URL itself, which may carry a script or a secret.
pub fn refusal(what: &str, url: &str) -> String {
    let scheme = url.find(':').map_or("", |i| &url[..=i]);
    let scheme = if scheme.len() > 1
        && scheme[..scheme.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        scheme
    } else {
        "(none)"
    };
    [
        what,
        ": `",
        scheme,
        "` refused: only https: URLs, or http: to localhost, 127.0.0.1 or [::1]",
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_and_loopback_http_are_allowed() {
        for ok in [
            "https://x",
            "HTTPS://app.eu.peliqan.io/api",
            "http://127.0.0.1:8900",
            "http://127.0.0.1:8900/oauth/authorize?state=1",
            "http://127.255.0.1",
            "http://localhost:5173/",
            "http://LocalHost",
            "http://[::1]:8080/x",
            "http://user:pw@127.0.0.1/",
        ] {
            assert!(allowed(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(document.domain)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "http://example.com",
            "http://127.0.0.1.example.com/",
            "http://localhost.example.com/",
            "http://127.0.0.1@example.com/",
            "http://localhost:80@example.com/",
            "http://[::1].example.com/",
            "http://[::2]/",
            "http://example.com\\@127.0.0.1/",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "https://",
            "ftp://127.0.0.1/",
            "//127.0.0.1/",
            "/v1/token",
            "",
        ] {
            assert!(!allowed(bad), "{bad}");
        }
    }

    #[test]
    fn token_service_urls_may_also_be_paths_on_the_page_origin() {
        assert!(allowed_or_path("/v1/token"));
        assert!(allowed_or_path("https://t.acme.com/v1/token"));
        for bad in [
            "//evil.example/v1/token",
            "/\\evil.example/",
            "/\t/evil.example/",
            "v1/token",
            "http://t.acme.com/v1/token",
            "javascript:alert(1)",
        ] {
            assert!(!allowed_or_path(bad), "{bad}");
        }
    }

    #[test]
    fn refusals_name_the_scheme_but_not_the_url() {
        let m = refusal("oauth_url", "javascript:alert('secret')");
        assert_eq!(
            m,
            "oauth_url: `javascript:` refused: only https: URLs, or http: to localhost, \
             127.0.0.1 or [::1]"
        );
        assert!(refusal("peliqanUrl", "http://example.com").starts_with("peliqanUrl: `http:`"));
        assert!(refusal("tokenUrl", "app.example/x:y").starts_with("tokenUrl: `(none)`"));
        assert!(refusal("tokenUrl", "").starts_with("tokenUrl: `(none)`"));
    }
}
