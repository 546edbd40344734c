//! Step 1 of SigV4: the canonical request, streamed into the hasher piece by piece.
//!
//! ```text
//! METHOD \n CanonicalURI \n CanonicalQuery \n (name:value\n)* \n SignedHeaders \n PayloadHash
//! ```
//! S3 rules: the path is encoded once (S3 does not double-encode, unlike other services) and
//! not normalised (`//` and `.` segments stay); query names and values are encoded, then
//! sorted; header values are trimmed and inner runs of blanks collapsed; multiple values of
//! one header are joined with `,`.

use http::HeaderMap;

use crate::encoding::{Component, canonical_encode, canonical_string, is_canonical};
use crate::inline_list::{ByteSink, InlineList, insertion_sort_by};
use crate::uri_parts::UriParts;
use crate::{Error, Result};

/// Whether a header (lower-case name) takes part in a signature. Left out: hop-by-hop
/// headers a proxy may drop or rewrite, and the ones SDKs leave out (`user-agent`, `expect`,
/// `x-amzn-trace-id`), so that a signature survives the HTTP stack that sends it.
pub(crate) fn is_signable(name: &str) -> bool {
    !matches!(
        name,
        "authorization"
            | "connection"
            | "expect"
            | "keep-alive"
            | "proxy-authorization"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "user-agent"
            | "x-amzn-trace-id"
    )
}

/// One header value to sign. A header sent several times appears once per value, next to
/// each other after sorting (the sort is stable, so their order is kept).
#[derive(Clone, Copy)]
pub(crate) struct Header<'a> {
    name: &'a str,
    value: &'a [u8],
    /// Signed in lower case: a host taken from the URI (see [`CanonicalRequest::new`]).
    lowercase: bool,
}

impl Default for Header<'_> {
    fn default() -> Self {
        Self {
            name: "",
            value: b"",
            lowercase: false,
        }
    }
}

/// The inputs of a canonical request, borrowed from the request.
#[derive(Clone)]
pub(crate) struct CanonicalRequest<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    skip_param: &'a str,
    /// Values of a repeated query parameter in the order sent rather than sorted.
    values_as_sent: bool,
    headers: InlineList<Header<'a>, 12>,
    payload_hash: &'a [u8],
}

impl<'a> CanonicalRequest<'a> {
    /// Collects what is signed.
    ///
    /// `overrides` are headers the signer sets (`x-amz-date`, ...): they replace any of the
    /// same name in `map`. `filter` says which of `map`'s headers are signed: [`is_signable`]
    /// for a signer, the `SignedHeaders` list for a verifier (which signs what the client
    /// listed, `user-agent` or `expect` included, as servers do).
    pub(crate) fn new(
        method: &'a str,
        uri: UriParts<'a>,
        map: &'a HeaderMap,
        overrides: &[(&'a str, &'a [u8])],
        filter: impl Fn(&str) -> bool,
        payload_hash: &'a [u8],
    ) -> Result<Self> {
        let mut headers = InlineList::<Header<'a>, 12>::new();
        let mut has_host = false;
        // One pass over the map: values come with their names, no lookups by name later.
        for (name, value) in map {
            let n = name.as_str();
            has_host |= name == http::header::HOST;
            if !filter(n) || overrides.iter().any(|(o, _)| *o == n) {
                continue;
            }
            headers.push(Header {
                name: n,
                value: value.as_bytes(),
                lowercase: false,
            });
        }
        if !has_host && !overrides.iter().any(|(o, _)| *o == "host") {
            let host = uri.host().ok_or_else(|| {
                Error::InvalidRequest("the URI has no host and there is no Host header".to_owned())
            })?;
            // Host names are case-insensitive, and most clients send them in lower case
            // (reqwest, browsers, urllib3: the WHATWG URL rules); botocore signs them so.
            // The signers send what they sign: they lower the URI's host as well.
            headers.push(Header {
                name: "host",
                value: host.as_bytes(),
                lowercase: host.bytes().any(|b| b.is_ascii_uppercase()),
            });
        }
        for (name, value) in overrides {
            headers.push(Header {
                name,
                value,
                lowercase: false,
            });
        }
        insertion_sort_by(headers.as_mut_slice(), |a, b| a.name < b.name);
        Ok(Self {
            method,
            path: uri.path(),
            query: uri.query(),
            skip_param: "",
            values_as_sent: false,
            headers,
            payload_hash,
        })
    }

    /// Signs a host taken from the URI as written rather than in lower case (a verifier
    /// checks what it received).
    pub(crate) fn keeping_host_case(mut self) -> Self {
        for h in self.headers.as_mut_slice() {
            h.lowercase = false;
        }
        self
    }

    /// Whether a host taken from the URI is signed in lower case (it has capitals).
    pub(crate) fn lowers_host(&self) -> bool {
        self.headers.as_slice().iter().any(|h| h.lowercase)
    }

    /// Leaves the query parameter `name` out (a verifier drops `X-Amz-Signature`).
    pub(crate) fn skipping_query_param(mut self, name: &'a str) -> Self {
        self.skip_param = name;
        self
    }

    /// Keeps the values of a repeated query parameter in the order they were sent (sorting
    /// by name only), as MinIO's clients (minio-go, minio-java) sign them; SigV4 sorts them
    /// by value. A verifier tries this form when the other fails.
    pub(crate) fn with_values_in_sent_order(mut self) -> Self {
        self.values_as_sent = true;
        self
    }

    /// Whether a query parameter is sent more than once (its values' order then matters).
    pub(crate) fn has_repeated_query_names(&self) -> bool {
        let names = self
            .query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').map_or(p, |(k, _)| k));
        let mut seen = Vec::new();
        for name in names {
            let name = canonical_string(name.as_bytes(), Component::Query);
            if seen.contains(&name) {
                return true;
            }
            seen.push(name);
        }
        false
    }

    /// Writes the canonical request to `out`; `extra_query` is appended to the URI's query
    /// (pre-signing adds its `X-Amz-*` parameters there).
    pub(crate) fn write(&self, extra_query: &str, out: &mut impl ByteSink) {
        out.put(self.method.as_bytes());
        out.put(b"\n");
        let path = if self.path.is_empty() { "/" } else { self.path };
        canonical_encode(path.as_bytes(), Component::Path, out);
        out.put(b"\n");
        write_query(
            self.query,
            extra_query,
            self.skip_param,
            self.values_as_sent,
            out,
        );
        out.put(b"\n");
        let mut previous = "";
        for h in self.headers.as_slice() {
            if h.name == previous {
                // The same header again: values are joined with commas.
                out.put(b",");
            } else {
                if !previous.is_empty() {
                    out.put(b"\n");
                }
                out.put(h.name.as_bytes());
                out.put(b":");
                previous = h.name;
            }
            if h.lowercase {
                write_lowercase(h.value, out);
            } else {
                write_trimmed(h.value, out);
            }
        }
        if !previous.is_empty() {
            out.put(b"\n");
        }
        out.put(b"\n");
        self.write_signed_headers(out);
        out.put(b"\n");
        out.put(self.payload_hash);
    }

    /// Feeds `host;x-amz-date;...` to `emit`.
    pub(crate) fn write_signed_headers(&self, emit: &mut impl ByteSink) {
        let mut previous = "";
        for h in self.headers.as_slice() {
            if h.name == previous {
                continue;
            }
            if !previous.is_empty() {
                emit.put(b";");
            }
            emit.put(h.name.as_bytes());
            previous = h.name;
        }
    }

    /// The length of the signed-headers list.
    pub(crate) fn signed_headers_len(&self) -> usize {
        let mut len = 0;
        self.write_signed_headers(&mut |p: &[u8]| len += p.len());
        len
    }

    /// The canonical request as text (for debugging and tests; signing never builds it).
    pub(crate) fn to_text(&self, extra_query: &str) -> String {
        let mut out = Vec::with_capacity(256);
        self.write(extra_query, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Writes `value` in ASCII lower case.
fn write_lowercase(value: &[u8], out: &mut impl ByteSink) {
    let mut buf = [0u8; 64];
    for chunk in value.chunks(buf.len()) {
        let lower = &mut buf[..chunk.len()];
        lower.copy_from_slice(chunk);
        lower.make_ascii_lowercase();
        out.put(lower);
    }
}

/// Whether `value` holds a space or a tab. No early exit, so the compiler vectorises the
/// scan: every header value is checked, and most have no blank at all.
#[inline]
fn has_blank(value: &[u8]) -> bool {
    value.iter().fold(0u8, |acc, &b| {
        acc | u8::from(b == b' ') | u8::from(b == b'\t')
    }) != 0
}

/// Trims blanks at both ends and collapses inner runs of blanks to one space.
fn write_trimmed(value: &[u8], out: &mut impl ByteSink) {
    let is_blank = |b: &u8| *b == b' ' || *b == b'\t';
    if !has_blank(value) {
        // The common case: nothing to trim or collapse.
        out.put(value);
        return;
    }
    let Some(start) = value.iter().position(|b| !is_blank(b)) else {
        return;
    };
    let end = value
        .iter()
        .rposition(|b| !is_blank(b))
        .map_or(start, |e| e + 1);
    let value = &value[start..end];
    let mut run = 0;
    let mut i = 0;
    while i < value.len() {
        if is_blank(&value[i]) {
            out.put(&value[run..i]);
            out.put(b" ");
            while i < value.len() && is_blank(&value[i]) {
                i += 1;
            }
            run = i;
        } else {
            i += 1;
        }
    }
    out.put(&value[run..]);
}

/// Sorted, encoded `name=value` pairs joined with `&`.
///
/// `query` is the URI's query, canonicalised here (encoded once, `+` as a space); `extra` is
/// the signer's own `X-Amz-*` parameters, written in canonical form already, so only split.
/// A parameter named `skip` is left out. With `values_as_sent`, pairs are sorted by name only
/// (the sorts are stable), so a repeated name keeps its values in the order sent.
fn write_query(
    query: &str,
    extra: &str,
    skip: &str,
    values_as_sent: bool,
    emit: &mut impl ByteSink,
) {
    /// Splits `text` into `pairs`; false when a pair is not canonical (never for `trusted`).
    fn collect<'q>(
        text: &'q str,
        trusted: bool,
        skip: &str,
        pairs: &mut InlineList<(&'q str, &'q str), 12>,
    ) -> bool {
        let mut canonical = true;
        for part in text.split('&') {
            if part.is_empty() {
                continue;
            }
            let (k, v) = match part.bytes().position(|b| b == b'=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, ""),
            };
            if !skip.is_empty() && k == skip {
                continue;
            }
            if !trusted {
                canonical &= is_canonical(k.as_bytes(), Component::Query)
                    && is_canonical(v.as_bytes(), Component::Query);
            }
            pairs.push((k, v));
        }
        canonical
    }
    if query.is_empty() && skip.is_empty() {
        // A pre-signed URL of a plain object: the signer's own parameters are canonical and
        // written in sorted order already.
        emit.put(extra.as_bytes());
        return;
    }
    let mut pairs = InlineList::<(&str, &str), 12>::new();
    let all_canonical =
        collect(query, false, skip, &mut pairs) & collect(extra, true, skip, &mut pairs);
    if all_canonical {
        let pairs = pairs.as_mut_slice();
        if values_as_sent {
            insertion_sort_by(pairs, |a, b| a.0 < b.0);
        } else {
            insertion_sort_by(pairs, |a, b| a < b);
        }
        emit_pairs(pairs.iter().map(|(k, v)| (*k, *v)), emit);
    } else {
        // Rare: the caller sent something not yet in canonical form. Encode, then sort on
        // the encoded form as the server will.
        let mut owned: Vec<(String, String)> = pairs
            .as_slice()
            .iter()
            .map(|(k, v)| {
                (
                    canonical_string(k.as_bytes(), Component::Query),
                    canonical_string(v.as_bytes(), Component::Query),
                )
            })
            .collect();
        if values_as_sent {
            owned.sort_by(|a, b| a.0.cmp(&b.0));
        } else {
            owned.sort();
        }
        emit_pairs(owned.iter().map(|(k, v)| (k.as_str(), v.as_str())), emit);
    }
}

fn emit_pairs<'s>(pairs: impl Iterator<Item = (&'s str, &'s str)>, emit: &mut impl ByteSink) {
    for (i, (k, v)) in pairs.enumerate() {
        if i > 0 {
            emit.put(b"&");
        }
        emit.put(k.as_bytes());
        emit.put(b"=");
        emit.put(v.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(query: &str) -> String {
        let mut out = Vec::new();
        write_query(query, "", "", false, &mut |p: &[u8]| {
            out.extend_from_slice(p)
        });
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn query_sorted_after_encoding() {
        assert_eq!(text("b=2&a=1&a=0"), "a=0&a=1&b=2");
        assert_eq!(text("acl"), "acl=");
        assert_eq!(text("prefix=a/b&list-type=2"), "list-type=2&prefix=a%2Fb");
        assert_eq!(text("x=%7e&&y"), "x=~&y=");
        // `~` (0x7E) sorts after `%` (0x25) only once encoded; raw it would compare as `~`.
        assert_eq!(text("k=%2A&k=~"), "k=%2A&k=~");
    }

    #[test]
    fn header_values_trimmed_and_collapsed() {
        let mut out = Vec::new();
        write_trimmed(b"  a   b \t c  ", &mut out);
        assert_eq!(out, b"a b c");
        out.clear();
        write_trimmed(b"   ", &mut out);
        assert_eq!(out, b"");
        out.clear();
        write_trimmed(b"no-blank\tinside", &mut out);
        assert_eq!(out, b"no-blank inside");
        assert!(!has_blank(
            b"0123456789abcdef0123456789abcdef0123456789abcdef"
        ));
        assert!(has_blank(
            b"0123456789abcdef0123456789abcdef0123456789abcde\t"
        ));
    }
}
