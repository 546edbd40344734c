//! `aws-chunked` bodies signed chunk by chunk (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`).
//!
//! Each chunk is framed as `hex(len);chunk-signature=SIG\r\n DATA \r\n`, and the body ends
//! with a zero-length chunk. Each signature chains on the previous one, starting from the
//! seed signature of the request's `Authorization` header:
//!
//! ```text
//! AWS4-HMAC-SHA256-PAYLOAD \n DATE \n SCOPE \n PREVIOUS-SIG \n sha256("") \n sha256(DATA)
//! ```

use sha2::{Digest, Sha256};

use super::{EMPTY_SHA256_HEX, write_scope};
use crate::encoding::hex32;
use crate::inline_list::StackBuf;
use crate::sha256::HmacKey;
use crate::time::AmzDate;

const CHUNK_SIGNATURE: &[u8] = b";chunk-signature=";

/// Signs the chunks of a streaming upload. Made by
/// [`SigV4Signer::sign_streaming_at`](super::SigV4Signer::sign_streaming_at).
pub struct ChunkSigner {
    mac: HmacKey,
    date: AmzDate,
    scope: String,
    previous: [u8; 64],
    chunk_size: usize,
}

impl std::fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("date", &self.date)
            .field("scope", &self.scope)
            .field("chunk_size", &self.chunk_size)
            .finish_non_exhaustive()
    }
}

impl ChunkSigner {
    pub(crate) fn new(
        mac: HmacKey,
        date: AmzDate,
        region: &str,
        service: &str,
        seed: [u8; 64],
        chunk_size: usize,
    ) -> Self {
        let mut scope = String::with_capacity(40);
        write_scope(&date, region, service, &mut |p: &[u8]| {
            scope.push_str(std::str::from_utf8(p).unwrap_or_default());
        });
        Self {
            mac,
            date,
            scope,
            previous: seed,
            chunk_size,
        }
    }

    /// The size of every chunk but the last.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// The signature of the last chunk signed (the seed signature before the first).
    pub fn previous_signature(&self) -> &str {
        std::str::from_utf8(&self.previous).unwrap_or_default()
    }

    /// Signs the next chunk (empty for the final one) and returns its hex signature.
    pub fn sign_chunk(&mut self, data: &[u8]) -> &str {
        let mut text = StackBuf::<320>::new();
        for piece in [
            b"AWS4-HMAC-SHA256-PAYLOAD\n".as_slice(),
            self.date.as_bytes(),
            b"\n",
            self.scope.as_bytes(),
            b"\n",
            &self.previous,
            b"\n",
            EMPTY_SHA256_HEX.as_bytes(),
            b"\n",
            &hex32(&Sha256::digest(data).into()),
        ] {
            text.push(piece);
        }
        self.previous = hex32(&self.mac.mac(text.as_slice()));
        self.previous_signature()
    }

    /// Appends the framed, signed `data` to `out`. An empty `data` writes the final chunk.
    pub fn write_chunk(&mut self, data: &[u8], out: &mut Vec<u8>) {
        out.reserve(data.len() + 90);
        self.write_chunk_header(data, out);
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }

    /// Signs `data` and appends only its frame header, `hex(len);chunk-signature=SIG\r\n`,
    /// to `out`: the caller sends the data itself and then `\r\n` (so a chunk already in a
    /// buffer of its own is not copied). An empty `data` is the final chunk, whose header is
    /// followed by `\r\n` alone.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use sos_auth::{Credentials, SigV4Signer};
    /// # let signer = SigV4Signer::new(Credentials::new("AK", "secret"), "ch-gva-2");
    /// # let mut request = http::Request::put("https://sos-ch-gva-2.exo.io/b/k").body(()).unwrap();
    /// # let time = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
    /// let mut chunks = signer.sign_streaming_at(&mut request, 3, 65_536, time)?;
    /// let mut header = Vec::new();
    /// chunks.write_chunk_header(b"abc", &mut header);
    /// assert!(header.starts_with(b"3;chunk-signature=") && header.ends_with(b"\r\n"));
    /// # Ok::<(), sos_auth::Error>(())
    /// ```
    pub fn write_chunk_header(&mut self, data: &[u8], out: &mut Vec<u8>) {
        use std::io::Write;
        // Writing into a `Vec` cannot fail.
        let _ = write!(out, "{:x}", data.len());
        out.extend_from_slice(CHUNK_SIGNATURE);
        let sig = *self
            .sign_chunk(data)
            .as_bytes()
            .first_chunk::<64>()
            .unwrap_or(&[b'0'; 64]);
        out.extend_from_slice(&sig);
        out.extend_from_slice(b"\r\n");
    }

    /// Frames a whole body: every chunk of [`chunk_size`](Self::chunk_size), then the
    /// final empty chunk.
    pub fn encode_body(&mut self, body: &[u8]) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(Self::encoded_length(body.len() as u64, self.chunk_size) as usize);
        for chunk in body.chunks(self.chunk_size) {
            self.write_chunk(chunk, &mut out);
        }
        self.write_chunk(&[], &mut out);
        out
    }

    /// The length on the wire of a `decoded_length`-byte body sent in `chunk_size` chunks
    /// (the `Content-Length` of the request).
    pub fn encoded_length(decoded_length: u64, chunk_size: usize) -> u64 {
        let chunk_size = chunk_size.max(1) as u64;
        let frame = |len: u64| -> u64 {
            let hex_digits = if len == 0 {
                1
            } else {
                u64::from((64 - len.leading_zeros()).div_ceil(4))
            };
            hex_digits + CHUNK_SIGNATURE.len() as u64 + 64 + 2 + len + 2
        };
        let full = decoded_length / chunk_size;
        let rest = decoded_length % chunk_size;
        full * frame(chunk_size) + if rest > 0 { frame(rest) } else { 0 } + frame(0)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use crate::{Credentials, SigV4Signer};

    #[test]
    fn a_header_with_its_data_is_the_whole_chunk() {
        let signer = SigV4Signer::new(Credentials::new("AK", "secret"), "ch-gva-2");
        let time = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
        let sizes = [1usize, 15, 16, 255, 256, 4096, 65_536, 0];
        let total = sizes.iter().sum::<usize>() as u64;
        let start = || {
            let mut request = http::Request::put("http://127.0.0.1/b/k").body(()).unwrap();
            signer
                .sign_streaming_at(&mut request, total, 65_536, time)
                .unwrap()
        };
        let (mut whole, mut split) = (start(), start());
        for size in sizes {
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let mut expected = Vec::new();
            whole.write_chunk(&data, &mut expected);
            let mut got = Vec::new();
            split.write_chunk_header(&data, &mut got);
            assert!(got.starts_with(format!("{size:x};chunk-signature=").as_bytes()));
            got.extend_from_slice(&data);
            got.extend_from_slice(b"\r\n");
            assert_eq!(got, expected, "{size} bytes");
        }
    }
}
