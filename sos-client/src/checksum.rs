//! Checksums sent with uploads: `Content-MD5` (every S3 server checks it) or CRC32C
//! (`x-amz-checksum-crc32c`, checked by newer servers and stored with the object).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;
use md5::{Digest, Md5};

/// The checksum sent with each upload request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Checksum {
    /// `Content-MD5`: the server refuses a body that does not match (`BadDigest`).
    #[default]
    Md5,
    /// `x-amz-checksum-crc32c`: faster to compute; servers that do not know it ignore it.
    Crc32c,
    /// None beyond what the signature covers.
    None,
}

impl Checksum {
    /// The header that carries the checksum of `data`, if any.
    pub(crate) fn header(self, data: &[u8]) -> Option<(http::HeaderName, HeaderValue)> {
        match self {
            Checksum::Md5 => Some((
                http::HeaderName::from_static("content-md5"),
                content_md5(data),
            )),
            Checksum::Crc32c => {
                let crc = crc32c::crc32c(data).to_be_bytes();
                let value = HeaderValue::try_from(STANDARD.encode(crc)).ok()?;
                Some((
                    http::HeaderName::from_static("x-amz-checksum-crc32c"),
                    value,
                ))
            }
            Checksum::None => None,
        }
    }
}

/// `base64(md5(data))` as a header value.
pub(crate) fn content_md5(data: &[u8]) -> HeaderValue {
    let digest = Md5::digest(data);
    // Base64 is always a valid header value.
    HeaderValue::try_from(STANDARD.encode(digest)).unwrap_or(HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // RFC 1864 example body, and the CRC32C check value of "123456789" (0xE3069283).
        assert_eq!(content_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
        let (_, v) = Checksum::Crc32c.header(b"123456789").unwrap();
        assert_eq!(v, STANDARD.encode(0xE306_9283u32.to_be_bytes()).as_str());
        assert!(Checksum::None.header(b"x").is_none());
    }
}
