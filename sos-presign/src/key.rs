//! Object keys and bucket names in URLs.

use crate::percent::{is_unreserved, push_escaped};
use crate::{Error, Result};

/// Encodes an object key for a URL path, once: every byte but `A-Z a-z 0-9 - _ . ~` and `/`
/// becomes `%XX`. A `.` or `..` segment has its dots encoded too (`%2E`), so that clients and
/// proxies that normalise paths (curl, browsers) leave it alone; servers decode it back, and
/// the signature is the same either way.
///
/// ```
/// assert_eq!(sos_presign::encode_key("photos/été 2026+.jpg"), "photos/%C3%A9t%C3%A9%202026%2B.jpg");
/// assert_eq!(sos_presign::encode_key("a/../b//c"), "a/%2E%2E/b//c");
/// ```
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + key.len() / 2);
    encode_key_into(key, &mut out);
    out
}

/// [`encode_key`] appended to `out`, in one pass over the bytes.
pub(crate) fn encode_key_into(key: &str, out: &mut String) {
    let bytes = key.as_bytes();
    // `key[run..]` is pending: only unreserved bytes and `/`, copied whole when the next
    // escape (or the end) comes. Non-ASCII characters are escaped byte by byte, so `run`
    // is a character boundary whenever the pending run is not empty.
    let mut run = 0;
    let mut segment = 0;
    let dots = |out: &mut String, run: &mut usize, start: usize, end: usize| {
        if matches!(&bytes[start..end], b"." | b"..") {
            out.push_str(&key[*run..start]);
            out.push_str(if end - start == 1 { "%2E" } else { "%2E%2E" });
            *run = end;
        }
    };
    for (j, &b) in bytes.iter().enumerate() {
        if b == b'/' {
            dots(out, &mut run, segment, j);
            segment = j + 1;
        } else if !is_unreserved(b) {
            if run < j {
                // A run of ASCII: both ends are character boundaries.
                out.push_str(&key[run..j]);
            }
            push_escaped(b, out);
            run = j + 1;
        }
    }
    dots(out, &mut run, segment, bytes.len());
    out.push_str(&key[run..]);
}

/// Checks the key of an object to create: 1 to 1024 bytes of UTF-8 (S3's limit).
pub(crate) fn check_new_key(key: &str) -> Result<()> {
    check_key(key)?;
    if key.len() > 1024 {
        return Err(Error::InvalidKey("longer than 1024 bytes"));
    }
    Ok(())
}

/// Checks the key of any other request: not empty. Its length is left to the server: some
/// (Garage) hold keys longer than S3's 1024 bytes, which must stay readable and deletable.
pub(crate) fn check_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::InvalidKey("empty"));
    }
    Ok(())
}

/// Checks the name of a bucket to create by S3's rules: 3 to 63 characters of lower-case
/// letters, digits, `.` and `-`, starting and ending with a letter or digit, no `..`, not an
/// IPv4 address, and no `.-` or `-.` (which cannot be part of a host name, and which the
/// RADOS Gateway refuses). A name that passes works with both path-style and virtual-host
/// addressing.
///
/// Requests to existing buckets are held to S3's older rules only (see
/// [`Endpoint::object_url`](crate::Endpoint::object_url)): stores still serve buckets
/// named before the current rules.
///
/// ```
/// use sos_presign::{check_bucket_name, Error};
/// assert!(check_bucket_name("my-backups.2026").is_ok());
/// assert!(matches!(check_bucket_name("My_Backups"), Err(Error::InvalidBucket { .. })));
/// ```
///
/// # Errors
/// [`Error::InvalidBucket`] with the rule the name breaks.
pub fn check_bucket_name(bucket: &str) -> Result<()> {
    let invalid = |reason| {
        Err(Error::InvalidBucket {
            bucket: bucket.to_owned(),
            reason,
        })
    };
    if !(3..=63).contains(&bucket.len()) {
        return invalid("must be 3 to 63 characters long");
    }
    // One pass gathers what the rules below ask about.
    let (mut allowed, mut double_dot, mut dot_dash, mut only_digits_and_dots) =
        (true, false, false, true);
    let mut previous = 0u8;
    for b in bucket.bytes() {
        allowed &= b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-';
        double_dot |= previous == b'.' && b == b'.';
        dot_dash |= matches!((previous, b), (b'.', b'-') | (b'-', b'.'));
        only_digits_and_dots &= b.is_ascii_digit() || b == b'.';
        previous = b;
    }
    if !allowed {
        return invalid("only lower-case letters, digits, `.` and `-` are allowed");
    }
    let first_last_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !first_last_ok(bucket.as_bytes()[0]) || !first_last_ok(bucket.as_bytes()[bucket.len() - 1]) {
        return invalid("must start and end with a letter or digit");
    }
    if double_dot {
        return invalid("must not contain `..`");
    }
    if only_digits_and_dots && bucket.parse::<std::net::Ipv4Addr>().is_ok() {
        return invalid("must not be an IP address");
    }
    if dot_dash {
        return invalid("`.-` and `-.` cannot be part of a host name");
    }
    Ok(())
}

/// Whether a bucket name can be the first labels of a host name (virtual-host addressing):
/// the rules of a new bucket's name.
pub(crate) fn is_host_label(bucket: &str) -> bool {
    check_bucket_name(bucket).is_ok()
}

/// Checks the name of the bucket a request addresses by S3's older rules, which stores still
/// hold buckets under (botocore checks the same): 1 to 255 letters (either case), digits,
/// `.`, `-` and `_`, not only dots.
pub(crate) fn check_existing_bucket(bucket: &str) -> Result<()> {
    let reason = if bucket.is_empty() || bucket.len() > 255 {
        "must be 1 to 255 characters long"
    } else if bucket.bytes().all(|b| b == b'.') {
        // `.` and `..` would be resolved away in a path-style URL.
        "cannot be made of dots only"
    } else if !bucket
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        "only letters, digits, `.`, `-` and `_` are allowed"
    } else {
        return Ok(());
    };
    Err(Error::InvalidBucket {
        bucket: bucket.to_owned(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_rules() {
        for ok in ["abc", "my-new-bucket", "a.b.c", "0123456789", "a-b.c-d"] {
            assert!(check_bucket_name(ok).is_ok(), "{ok}");
            assert!(check_existing_bucket(ok).is_ok(), "{ok}");
            assert!(is_host_label(ok), "{ok}");
        }
        for bad in [
            "ab",
            "ABC",
            "a_b",
            "-ab",
            "ab-",
            "a..b",
            "a.-b",
            "a-.b",
            "192.168.1.1",
            &"a".repeat(64),
        ] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
            assert!(!is_host_label(bad), "{bad}");
        }
        // Digits and dots that are not an IPv4 address are a valid name.
        assert!(check_bucket_name("1.2.3").is_ok());
        assert!(check_bucket_name("256.1.1.1").is_ok());
        assert!(check_bucket_name("10.0.0.1").is_err());
        // Older names stay addressable.
        for old in ["ab", "ABC", "My_Bucket", "a..b", "-x-", &"a".repeat(255)] {
            assert!(check_existing_bucket(old).is_ok(), "{old}");
        }
        for bad in [
            "",
            ".",
            "..",
            "...",
            "a/b",
            "a b",
            "a?b",
            "é",
            &"a".repeat(256),
        ] {
            assert!(check_existing_bucket(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_rules() {
        assert!(check_key("").is_err());
        assert!(check_new_key("").is_err());
        assert!(check_new_key(&"k".repeat(1024)).is_ok());
        assert!(check_new_key(&"k".repeat(1025)).is_err());
        assert!(check_key(&"k".repeat(1025)).is_ok());
        assert_eq!(encode_key("~user/a b"), "~user/a%20b");
        assert_eq!(encode_key("./x/."), "%2E/x/%2E");
        assert_eq!(encode_key("..."), "...");
        assert_eq!(encode_key("../a"), "%2E%2E/a");
    }

    /// The reference: split into segments, `.` and `..` segments escaped, every other byte
    /// but the unreserved ones escaped.
    fn encode_key_slowly(key: &str) -> String {
        let mut want = String::new();
        for (i, segment) in key.split('/').enumerate() {
            if i > 0 {
                want.push('/');
            }
            if segment == "." || segment == ".." {
                want.push_str(&"%2E".repeat(segment.len()));
                continue;
            }
            for b in segment.bytes() {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    want.push(char::from(b));
                } else {
                    want.push_str(&format!("%{b:02X}"));
                }
            }
        }
        want
    }

    #[test]
    fn keys_encode_byte_by_byte() {
        // Multi-byte characters next to each other, at the ends, and between ASCII runs.
        for key in [
            "é",
            "éé/x",
            "aé",
            "éa",
            "a éb/ü-ü/日本語.txt",
            "a+b=c&d",
            "x//y/",
            "é/./..",
            "../é",
            "./",
            "/.",
        ] {
            assert_eq!(encode_key(key), encode_key_slowly(key), "{key}");
        }
    }

    /// Every key of up to six pieces from an alphabet of the cases that matter (separator,
    /// dot, escaped ASCII, multi-byte, plain) encodes as the reference does.
    #[test]
    fn every_short_key_encodes_as_the_reference() {
        const PIECES: [&str; 6] = ["/", ".", " ", "é", "a", "日"];
        let mut n = 0;
        for len in 1..=6u32 {
            for mut code in 0..PIECES.len().pow(len) {
                let mut key = String::new();
                for _ in 0..len {
                    key.push_str(PIECES[code % PIECES.len()]);
                    code /= PIECES.len();
                }
                assert_eq!(encode_key(&key), encode_key_slowly(&key), "{key:?}");
                n += 1;
            }
        }
        assert_eq!(n, 6 + 36 + 216 + 1296 + 7776 + 46_656);
    }

    use proptest::prelude::*;

    proptest! {
        /// Any key is written in unreserved characters, `/` and `%XX` escapes, and reads back
        /// as itself; `.` and `..` segments are escaped (a URL parser would resolve them).
        #[test]
        fn any_key_is_encoded_and_decodes_back(
            key in prop_oneof![
                "\\PC{0,20}".boxed(),
                "[./a%]{0,12}".boxed(),
                prop::collection::vec(any::<char>(), 0..8).prop_map(String::from_iter).boxed(),
            ]
        ) {
            let encoded = encode_key(&key);
            prop_assert!(encoded.bytes().all(|b| is_unreserved(b) || b == b'/' || b == b'%'));
            prop_assert!(!encoded.split('/').any(|s| s == "." || s == ".."), "{}", encoded);
            let mut decoded = Vec::new();
            let mut bytes = encoded.bytes();
            while let Some(b) = bytes.next() {
                if b == b'%' {
                    let hex = [bytes.next().unwrap_or(0), bytes.next().unwrap_or(0)];
                    let hex = std::str::from_utf8(&hex).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    decoded.push(u8::from_str_radix(hex, 16).map_err(|e| TestCaseError::fail(e.to_string()))?);
                } else {
                    decoded.push(b);
                }
            }
            prop_assert_eq!(decoded, key.as_bytes());
        }

        /// A name valid for a new bucket is valid as an existing one and as a host label.
        #[test]
        fn bucket_rules_nest(name in prop_oneof!["[a-z0-9.-]{0,70}", "\\PC{0,10}"]) {
            if check_bucket_name(&name).is_ok() {
                prop_assert!(check_existing_bucket(&name).is_ok());
                prop_assert!(is_host_label(&name));
            }
        }
    }
}
