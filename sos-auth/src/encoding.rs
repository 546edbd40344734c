//! Percent-encoding and hex, the way SigV4 wants them.
//!
//! S3 servers verify a signature by decoding the request path and query, then encoding each
//! part once with RFC 3986 rules (unreserved `A-Z a-z 0-9 - _ . ~` kept, everything else
//! `%XX` upper-case). The signer does the same to whatever the caller sent, so `a%7eb`,
//! `a~b` and `a%7Eb` all sign alike, and the signature matches what the server computes.

use crate::inline_list::ByteSink;

/// Which part of a URI a component comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Component {
    /// A path: `/` is kept, `+` is a literal plus.
    Path,
    /// A query name or value: `/` is encoded, `+` means a space (as servers decode it).
    Query,
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// The RFC 3986 rule for unreserved characters, without branches (so that a fold over a
/// slice of it compiles to a vector loop). Byte by byte, [`is_unreserved`]'s table is faster.
#[inline]
const fn unreserved_by_rule(c: u8) -> bool {
    c.is_ascii_alphanumeric() | (c == b'-') | (c == b'_') | (c == b'.') | (c == b'~')
}

/// RFC 3986 unreserved characters, as a table: this test runs on every byte signed.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = unreserved_by_rule(b as u8);
        b += 1;
    }
    table
};

/// RFC 3986 unreserved characters.
#[inline]
pub(crate) const fn is_unreserved(b: u8) -> bool {
    UNRESERVED[b as usize]
}

#[inline]
const fn is_upper_hex(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'A'..=b'F')
}

#[inline]
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Feeds the canonical encoding of `input` to `emit`, in as few slices as possible.
///
/// `input` may be raw or already percent-encoded: valid `%XX` escapes are decoded first, so
/// nothing is ever encoded twice.
pub(crate) fn canonical_encode(input: &[u8], component: Component, emit: &mut impl ByteSink) {
    let keep = |b: u8| is_unreserved(b) || (component == Component::Path && b == b'/');
    let mut run = 0;
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if keep(b) {
            i += 1;
            continue;
        }
        if b == b'%'
            && i + 2 < input.len()
            && let (Some(hi), Some(lo)) = (hex_value(input[i + 1]), hex_value(input[i + 2]))
        {
            let decoded = hi << 4 | lo;
            let canonical_escape = !keep(decoded)
                && input[i + 1] == HEX_UPPER[hi as usize]
                && input[i + 2] == HEX_UPPER[lo as usize];
            if canonical_escape {
                i += 3;
                continue;
            }
            emit.put(&input[run..i]);
            emit_byte(decoded, keep(decoded), emit);
            i += 3;
            run = i;
            continue;
        }
        emit.put(&input[run..i]);
        let b = if component == Component::Query && b == b'+' {
            b' '
        } else {
            b
        };
        emit_byte(b, false, emit);
        i += 1;
        run = i;
    }
    emit.put(&input[run..]);
}

#[inline]
fn emit_byte(b: u8, raw: bool, emit: &mut impl ByteSink) {
    if raw {
        emit.put(&[b]);
    } else {
        emit.put(&[
            b'%',
            HEX_UPPER[(b >> 4) as usize],
            HEX_UPPER[(b & 15) as usize],
        ]);
    }
}

/// Encodes raw bytes (that are not encoded yet: a signature, a token, a key) with every
/// byte but the unreserved ones as `%XX`. Unlike [`canonical_encode`], nothing is decoded:
/// `%` and `+` are data here.
pub(crate) fn encode_raw(input: &[u8], emit: &mut impl ByteSink) {
    // Access keys, dates and regions have nothing to escape: one branch-free (vectorised)
    // scan, then one copy.
    let escapes = input
        .iter()
        .fold(false, |any, &b| any | !unreserved_by_rule(b));
    if !escapes {
        emit.put(input);
        return;
    }
    let mut run = 0;
    for (i, &b) in input.iter().enumerate() {
        if !is_unreserved(b) {
            emit.put(&input[run..i]);
            emit_byte(b, false, emit);
            run = i + 1;
        }
    }
    emit.put(&input[run..]);
}

/// Whether `canonical_encode` would return `input` unchanged: every byte unreserved (or `/`
/// in a path), every escape `%XX` in upper case and of a byte that must be escaped.
pub(crate) fn is_canonical(input: &[u8], component: Component) -> bool {
    let path = component == Component::Path;
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if is_unreserved(b) || (path && b == b'/') {
            i += 1;
        } else if b == b'%'
            && i + 2 < input.len()
            && is_upper_hex(input[i + 1])
            && is_upper_hex(input[i + 2])
        {
            let decoded =
                hex_value(input[i + 1]).unwrap_or(0) << 4 | hex_value(input[i + 2]).unwrap_or(0);
            if is_unreserved(decoded) || (path && decoded == b'/') {
                return false;
            }
            i += 3;
        } else {
            return false;
        }
    }
    true
}

/// The canonical encoding as a `String`.
pub(crate) fn canonical_string(input: &[u8], component: Component) -> String {
    let mut out = Vec::with_capacity(input.len() + 8);
    canonical_encode(input, component, &mut out);
    // Only ASCII is ever emitted: unreserved characters and `%XX` escapes.
    String::from_utf8(out).unwrap_or_default()
}

/// Percent-decodes `%XX` escapes (`+` becomes a space when `component` is a query).
pub(crate) fn percent_decode(input: &str, component: Component) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' if component == Component::Query => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Lower-case hex of `bytes` into `out` (which is twice as long).
#[inline]
pub(crate) fn hex_into(bytes: &[u8], out: &mut [u8]) {
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = HEX_LOWER[(b >> 4) as usize];
        out[2 * i + 1] = HEX_LOWER[(b & 15) as usize];
    }
}

/// Lower-case hex of a 32-byte digest.
#[inline]
pub(crate) fn hex32(bytes: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    hex_into(bytes, &mut out);
    out
}

/// Standard base64 (with padding), for SigV2 signatures and POST policies.
pub(crate) fn base64(input: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let n = match *chunk {
            [a, b, c] => u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c),
            [a, b] => u32::from(a) << 16 | u32::from(b) << 8,
            [a] => u32::from(a) << 16,
            _ => 0,
        };
        let chars = [18, 12, 6, 0].map(|shift| char::from(TABLE[(n >> shift & 63) as usize]));
        let keep = chunk.len() + 1;
        for (i, c) in chars.into_iter().enumerate() {
            out.push(if i < keep { c } else { '=' });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> String {
        canonical_string(s.as_bytes(), Component::Path)
    }
    fn query(s: &str) -> String {
        canonical_string(s.as_bytes(), Component::Query)
    }

    #[test]
    fn path_rules() {
        assert_eq!(path("/a b/c~d"), "/a%20b/c~d");
        assert_eq!(path("/a%20b"), "/a%20b");
        assert_eq!(path("/a%7eb%7E"), "/a~b~");
        assert_eq!(path("/a%2fb"), "/a/b");
        assert_eq!(path("/a+b=c"), "/a%2Bb%3Dc");
        assert_eq!(path("/%e6%97%a5"), "/%E6%97%A5");
        assert_eq!(path("/日"), "/%E6%97%A5");
        assert_eq!(path("//x//"), "//x//");
        assert_eq!(path("/100%"), "/100%25");
        assert_eq!(path("/%zz%4"), "/%25zz%254");
        assert!(is_canonical(b"/a%20b/c", Component::Path));
        assert!(!is_canonical(b"/a%7Eb", Component::Path));
        assert!(!is_canonical(b"/a b", Component::Path));
    }

    #[test]
    fn query_rules() {
        assert_eq!(query("a/b"), "a%2Fb");
        assert_eq!(query("a+b"), "a%20b");
        assert_eq!(query("a%2Bb"), "a%2Bb");
        assert_eq!(query(""), "");
        assert_eq!(percent_decode("a%2Bb+c", Component::Query), b"a+b c");
        assert_eq!(percent_decode("a+b%", Component::Path), b"a+b%");
    }

    proptest::proptest! {
        /// The fast check agrees with the encoder on any input.
        #[test]
        fn is_canonical_agrees_with_encoder(bytes in proptest::collection::vec(proptest::prop_oneof![
            proptest::prelude::any::<u8>(),
            proptest::sample::select(b"%%%%2F7e7EaAfF/+".to_vec()),
        ], 0..24)) {
            for component in [Component::Path, Component::Query] {
                let mut out = Vec::new();
                canonical_encode(&bytes, component, &mut out);
                proptest::prop_assert_eq!(is_canonical(&bytes, component), out == bytes, "{:?} {:?}", component, bytes);
            }
        }
    }

    #[test]
    fn base64_matches_rfc4648() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }
}
