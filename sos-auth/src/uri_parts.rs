//! The parts of a request target that signing reads: scheme, authority, path and query.
//!
//! Borrowed from an [`http::Uri`], or split out of an absolute URL in text without building a
//! `Uri` (pre-signers that assemble the URL themselves skip a parse and a copy that way).

use http::Uri;

use crate::{Error, Result};

/// Scheme, authority, path and query of a request target, borrowed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UriParts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: &'a str,
}

impl<'a> UriParts<'a> {
    /// The parts of `uri`.
    pub(crate) fn of(uri: &'a Uri) -> Self {
        Self {
            scheme: uri.scheme_str(),
            authority: uri.authority().map(http::uri::Authority::as_str),
            path: uri.path(),
            query: uri.query().unwrap_or(""),
        }
    }

    /// Splits an absolute URL (`scheme://authority/path?query`).
    ///
    /// Checks what `http::Uri` would refuse and signing depends on: a scheme and a non-empty
    /// authority; only visible ASCII (no spaces, controls or raw non-ASCII: encode them); no
    /// fragment (it is never sent, so it cannot be signed).
    pub(crate) fn parse_absolute(url: &'a str) -> Result<Self> {
        let bytes = url.as_bytes();
        // Folded rather than short-circuited so that it compiles to a vector loop.
        let invalid = bytes.iter().fold(false, |bad, &b| {
            bad | !(0x21..=0x7e).contains(&b) | (b == b'#')
        });
        if invalid {
            return Err(Error::InvalidRequest(
                "a URL to sign may hold visible ASCII only, without a fragment: \
                 percent-encode spaces and non-ASCII characters"
                    .to_owned(),
            ));
        }
        let not_absolute = || {
            Error::InvalidRequest(
                "a pre-signed URL needs an absolute URL (scheme://host/path)".to_owned(),
            )
        };
        // Byte scans rather than `str` pattern searches: those set up a searcher per call,
        // which costs more than these URLs take to scan.
        let scheme_len = bytes
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
            .unwrap_or(bytes.len());
        if scheme_len == 0
            || !bytes[0].is_ascii_alphabetic()
            || bytes.get(scheme_len..scheme_len + 3) != Some(b"://")
        {
            return Err(not_absolute());
        }
        let scheme = &url[..scheme_len];
        let rest = &url[scheme_len + 3..];
        let authority_end = rest
            .bytes()
            .position(|b| b == b'/' || b == b'?')
            .unwrap_or(rest.len());
        let (authority, target) = rest.split_at(authority_end);
        if authority.is_empty() {
            return Err(not_absolute());
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Ok(Self {
            scheme: Some(scheme),
            authority: Some(authority),
            path,
            query,
        })
    }

    /// The scheme, `https` when the target has none.
    pub(crate) fn scheme(&self) -> &'a str {
        self.scheme.unwrap_or("https")
    }

    /// The authority (`host[:port]`, possibly with user info), if the target is absolute.
    pub(crate) fn authority(&self) -> Option<&'a str> {
        self.authority
    }

    /// The path as sent (`""` for none; callers sign `/` then).
    pub(crate) fn path(&self) -> &'a str {
        self.path
    }

    /// The path, `/` when empty.
    pub(crate) fn path_or_root(&self) -> &'a str {
        if self.path.is_empty() { "/" } else { self.path }
    }

    /// The query without its `?` (`""` for none).
    pub(crate) fn query(&self) -> &'a str {
        self.query
    }

    /// The `Host` value a client sends: the authority without user info and without the
    /// scheme's default port.
    pub(crate) fn host(&self) -> Option<&'a str> {
        let authority = self.authority?;
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let default_port = match self.scheme {
            Some("https") => ":443",
            _ => ":80",
        };
        Some(authority.strip_suffix(default_port).unwrap_or(authority))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text and `http::Uri` give the same parts for every URL both accept.
    #[test]
    fn text_and_uri_agree() {
        for url in [
            "https://bucket.sos-ch-gva-2.exo.io/photos/a%20b.jpg?versionId=3&x=y",
            "http://127.0.0.1:7480/bucket/key",
            "https://example.com",
            "https://example.com?list-type=2",
            "https://example.com:443/k",
            "http://example.com:80/k",
            "https://user@example.com:8443//double//slash/./dot",
            "https://[::1]:9000/b/k?a=1&a=2",
            "https://h/k?empty=",
        ] {
            let uri: Uri = url.parse().unwrap();
            let (a, b) = (UriParts::of(&uri), UriParts::parse_absolute(url).unwrap());
            assert_eq!(a.scheme(), b.scheme(), "{url}");
            assert_eq!(a.authority(), b.authority(), "{url}");
            assert_eq!(a.path_or_root(), b.path_or_root(), "{url}");
            assert_eq!(a.query(), b.query(), "{url}");
            assert_eq!(a.host(), b.host(), "{url}");
        }
    }

    #[test]
    fn host_drops_user_info_and_default_port() {
        let parts = |u| UriParts::parse_absolute(u).unwrap().host();
        assert_eq!(parts("https://u:p@h:443/k"), Some("h"));
        assert_eq!(parts("http://h:80/k"), Some("h"));
        assert_eq!(parts("https://h:80/k"), Some("h:80"));
        assert_eq!(parts("http://h:7480/k"), Some("h:7480"));
    }

    #[test]
    fn refuses_what_cannot_be_signed() {
        for url in [
            "",
            "/bucket/key",
            "bucket/key",
            "https:///key",
            "https://",
            "://h/k",
            "1http://h/k",
            "https://h/a b",
            "https://h/caf\u{e9}",
            "https://h/k\n",
            "https://h/k#frag",
            "https://h/k?q=\t",
        ] {
            let err = UriParts::parse_absolute(url).unwrap_err();
            assert!(matches!(err, Error::InvalidRequest(_)), "{url:?}: {err:?}");
        }
    }
}
