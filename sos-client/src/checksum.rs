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
    /// `Content-MD5` when the body is not already covered by a signed SHA-256 (V4 with
    /// a signed or chunk-signed payload, which the server checks); nothing more when it is.
    /// Every byte is checked once by the server, and hashed as few times as possible.
    #[default]
    Auto,
    /// `Content-MD5`: the server refuses a body that does not match (`BadDigest`).
    Md5,
    /// `x-amz-checksum-crc32c`: faster to compute; servers that do not know it ignore it.
    Crc32c,
    /// None beyond what the signature covers.
    None,
}

impl Checksum {
    /// What to send for a body whose payload is (`signed`) or is not covered by a signed
    /// SHA-256.
    pub(crate) fn resolve(self, signed: bool) -> Checksum {
        match self {
            Checksum::Auto if signed => Checksum::None,
            Checksum::Auto => Checksum::Md5,
            other => other,
        }
    }

    /// The header that carries the checksum of `data`, if any (after [`resolve`]).
    pub(crate) fn header(self, data: &[u8]) -> Option<(http::HeaderName, HeaderValue)> {
        let mut state = self.start()?;
        state.update(data);
        Some(state.finish())
    }

    fn start(self) -> Option<Running> {
        match self {
            Checksum::Md5 | Checksum::Auto => Some(Running::Md5(Md5::new())),
            Checksum::Crc32c => Some(Running::Crc32c(0)),
            Checksum::None => None,
        }
    }

    /// The header for `len` bytes of `path` from `offset`, read once (bounded buffer).
    pub(crate) async fn file_header(
        self,
        path: &std::path::Path,
        offset: u64,
        len: u64,
    ) -> crate::Result<Option<(http::HeaderName, HeaderValue)>> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let Some(mut state) = self.start() else {
            return Ok(None);
        };
        let io = |e| crate::Error::io(path, e);
        let mut file = tokio::fs::File::open(path).await.map_err(io)?;
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(io)?;
        let mut left = len;
        let mut buf = vec![0u8; 256 * 1024];
        while left > 0 {
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
            let n = file.read(&mut buf[..want]).await.map_err(io)?;
            if n == 0 {
                return Err(io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file became shorter during the upload",
                )));
            }
            state.update(&buf[..n]);
            left -= n as u64;
        }
        Ok(Some(state.finish()))
    }
}

enum Running {
    Md5(Md5),
    Crc32c(u32),
}

impl Running {
    fn update(&mut self, data: &[u8]) {
        match self {
            Running::Md5(md5) => md5.update(data),
            Running::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
        }
    }

    fn finish(self) -> (http::HeaderName, HeaderValue) {
        match self {
            Running::Md5(md5) => (
                http::HeaderName::from_static("content-md5"),
                base64_value(&md5.finalize()),
            ),
            Running::Crc32c(crc) => (
                http::HeaderName::from_static("x-amz-checksum-crc32c"),
                base64_value(&crc.to_be_bytes()),
            ),
        }
    }
}

fn base64_value(bytes: &[u8]) -> HeaderValue {
    // Base64 is always a valid header value.
    HeaderValue::try_from(STANDARD.encode(bytes)).unwrap_or(HeaderValue::from_static(""))
}

/// `base64(md5(data))` as a header value.
pub(crate) fn content_md5(data: &[u8]) -> HeaderValue {
    base64_value(&Md5::digest(data))
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
        assert_eq!(Checksum::Auto.resolve(true), Checksum::None);
        assert_eq!(Checksum::Auto.resolve(false), Checksum::Md5);
        assert_eq!(Checksum::Crc32c.resolve(true), Checksum::Crc32c);
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[tokio::test]
    async fn file_ranges_hash_like_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..700_000u32).map(|i| i as u8).collect();
        std::fs::write(&path, &data).unwrap();
        for checksum in [Checksum::Md5, Checksum::Crc32c] {
            let from_file = checksum.file_header(&path, 1000, 600_000).await.unwrap();
            assert_eq!(from_file, checksum.header(&data[1000..601_000]));
        }
        assert!(
            Checksum::Md5
                .file_header(&path, 600_000, 200_000)
                .await
                .is_err()
        );
    }
}
