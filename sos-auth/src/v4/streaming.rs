//! `aws-chunked` bodies signed chunk by chunk (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, and
//! `...-PAYLOAD-TRAILER` with a trailing checksum).
//!
//! Each chunk is framed as `hex(len);chunk-signature=SIG\r\n DATA \r\n`, and the body ends
//! with a zero-length chunk. Each signature chains on the previous one, starting from the
//! seed signature of the request's `Authorization` header:
//!
//! ```text
//! AWS4-HMAC-SHA256-PAYLOAD \n DATE \n SCOPE \n PREVIOUS-SIG \n sha256("") \n sha256(DATA)
//! ```
//!
//! With a trailer, the zero-length chunk's header is followed by the trailing header and its
//! signature, chained on the zero-length chunk's (`name:value\n` is the canonical form of
//! the trailing header):
//!
//! ```text
//! 0;chunk-signature=SIG \r\n name:value \r\n x-amz-trailer-signature:TSIG \r\n \r\n
//! TSIG = HMAC(AWS4-HMAC-SHA256-TRAILER \n DATE \n SCOPE \n SIG \n sha256(name:value\n))
//! ```

use sha2::{Digest, Sha256};

use super::{EMPTY_SHA256_HEX, write_scope};
use crate::encoding::hex32;
use crate::inline_list::StackBuf;
use crate::sha256::HmacKey;
use crate::time::AmzDate;
use crate::{Error, Result};

const CHUNK_SIGNATURE: &[u8] = b";chunk-signature=";
const TRAILER_SIGNATURE: &[u8] = b"x-amz-trailer-signature:";

/// The checksum a streaming upload sends as its trailing header (`x-amz-trailer`), computed
/// by the caller as the body streams and given base64-encoded, as S3 takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrailingChecksum {
    /// `x-amz-checksum-crc32`
    Crc32,
    /// `x-amz-checksum-crc32c`
    Crc32c,
    /// `x-amz-checksum-crc64nvme`
    Crc64Nvme,
    /// `x-amz-checksum-sha1`
    Sha1,
    /// `x-amz-checksum-sha256`
    Sha256,
}

impl TrailingChecksum {
    /// The trailing header's name.
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The length of its base64 value (fixed: the body length depends on it).
    pub fn value_len(self) -> usize {
        let bytes: usize = match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        };
        bytes.div_ceil(3) * 4
    }

    /// The bytes after the last data chunk: the final chunk's frame, the trailer and its
    /// signature.
    fn final_frame_len(self) -> u64 {
        let zero = 1 + CHUNK_SIGNATURE.len() + 64 + 2;
        let trailer = self.header_name().len() + 1 + self.value_len() + 2;
        let signature = TRAILER_SIGNATURE.len() + 64 + 2;
        (zero + trailer + signature + 2) as u64
    }
}

/// Signs the chunks of a streaming upload. Made by
/// [`SigV4Signer::sign_streaming_at`](super::SigV4Signer::sign_streaming_at).
#[derive(Clone)]
pub struct ChunkSigner {
    mac: HmacKey,
    date: AmzDate,
    scope: String,
    previous: [u8; 64],
    chunk_size: usize,
    trailer: Option<TrailingChecksum>,
}

impl std::fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("date", &self.date)
            .field("scope", &self.scope)
            .field("chunk_size", &self.chunk_size)
            .field("trailer", &self.trailer)
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
        trailer: Option<TrailingChecksum>,
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
            trailer,
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
        let hash = hex32(&Sha256::digest(data).into());
        self.chain(
            b"AWS4-HMAC-SHA256-PAYLOAD",
            &[EMPTY_SHA256_HEX.as_bytes(), &hash],
        )
    }

    /// Signs `algorithm \n date \n scope \n previous signature` and then each of `hashes`
    /// on a line of its own, and makes the result the previous signature.
    fn chain(&mut self, algorithm: &[u8], hashes: &[&[u8]]) -> &str {
        let mut text = StackBuf::<320>::new();
        for piece in [
            algorithm,
            b"\n",
            self.date.as_bytes(),
            b"\n",
            self.scope.as_bytes(),
            b"\n",
            &self.previous,
        ] {
            text.push(piece);
        }
        for hash in hashes {
            text.push(b"\n");
            text.push(hash);
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

    /// The trailing checksum this upload ends with, if it was signed with one
    /// ([`SigV4Signer::sign_streaming_with_trailer_at`](super::SigV4Signer::sign_streaming_with_trailer_at)).
    pub fn trailer(&self) -> Option<TrailingChecksum> {
        self.trailer
    }

    /// Signs the trailing header `name: value`, after the final (empty) chunk was signed,
    /// and returns the hex `x-amz-trailer-signature`.
    pub fn sign_trailer(&mut self, name: &str, value: &str) -> &str {
        let mut canonical = StackBuf::<128>::new();
        canonical.push(name.to_ascii_lowercase().as_bytes());
        canonical.push(b":");
        canonical.push(value.trim().as_bytes());
        canonical.push(b"\n");
        let hash = hex32(&Sha256::digest(canonical.as_slice()).into());
        self.chain(b"AWS4-HMAC-SHA256-TRAILER", &[&hash])
    }

    /// Appends the end of a body with a trailing checksum: the final chunk's frame, the
    /// trailing header with `value` (base64, as computed over the body) and its signature.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the upload was signed without a trailer, or `value`
    /// does not have the length of its checksum (the `Content-Length` counted on it).
    pub fn write_trailer(&mut self, value: &str, out: &mut Vec<u8>) -> Result<()> {
        let Some(trailer) = self.trailer else {
            return Err(Error::InvalidRequest(
                "this upload was signed without a trailing checksum".to_owned(),
            ));
        };
        let base64 = |v: &str| {
            let body = v.trim_end_matches('=');
            v.len() - body.len() <= 2
                && body
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        };
        if value.len() != trailer.value_len() || !base64(value) {
            return Err(Error::InvalidRequest(format!(
                "{} takes a base64 value of {} characters, not `{value}`",
                trailer.header_name(),
                trailer.value_len()
            )));
        }
        self.write_chunk_header(&[], out);
        out.extend_from_slice(trailer.header_name().as_bytes());
        out.push(b':');
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(TRAILER_SIGNATURE);
        let signature = *self
            .sign_trailer(trailer.header_name(), value)
            .as_bytes()
            .first_chunk::<64>()
            .unwrap_or(&[b'0'; 64]);
        out.extend_from_slice(&signature);
        out.extend_from_slice(b"\r\n\r\n");
        Ok(())
    }

    /// Frames a whole body that ends with a trailing checksum of `value` (see
    /// [`write_trailer`](Self::write_trailer)).
    ///
    /// # Errors
    /// As `write_trailer`.
    pub fn encode_body_with_trailer(&mut self, body: &[u8], value: &str) -> Result<Vec<u8>> {
        let mut out =
            Vec::with_capacity(body.len() + body.len() / self.chunk_size.max(1) * 90 + 300);
        for chunk in body.chunks(self.chunk_size) {
            self.write_chunk(chunk, &mut out);
        }
        self.write_trailer(value, &mut out)?;
        Ok(out)
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
    /// (the `Content-Length` of the request); `u64::MAX` when it would not fit.
    pub fn encoded_length(decoded_length: u64, chunk_size: usize) -> u64 {
        Self::checked_encoded_length(decoded_length, chunk_size, None).unwrap_or(u64::MAX)
    }

    /// [`encoded_length`](Self::encoded_length) of a body that ends with `trailer`.
    pub fn encoded_length_with_trailer(
        decoded_length: u64,
        chunk_size: usize,
        trailer: TrailingChecksum,
    ) -> u64 {
        Self::checked_encoded_length(decoded_length, chunk_size, Some(trailer)).unwrap_or(u64::MAX)
    }

    /// The length on the wire, `None` when it does not fit in a `u64`.
    pub(crate) fn checked_encoded_length(
        decoded_length: u64,
        chunk_size: usize,
        trailer: Option<TrailingChecksum>,
    ) -> Option<u64> {
        let chunk_size = chunk_size.max(1) as u64;
        let frame = |len: u64| -> Option<u64> {
            let hex_digits = if len == 0 {
                1
            } else {
                u64::from((64 - len.leading_zeros()).div_ceil(4))
            };
            (hex_digits + CHUNK_SIGNATURE.len() as u64 + 64 + 2 + 2).checked_add(len)
        };
        let full = decoded_length / chunk_size;
        let rest = decoded_length % chunk_size;
        let last = match trailer {
            // The final chunk's header, then the trailer and its signature.
            Some(t) => t.final_frame_len(),
            None => frame(0)?,
        };
        full.checked_mul(frame(chunk_size)?)?
            .checked_add(if rest > 0 { frame(rest)? } else { 0 })?
            .checked_add(last)
    }
}

/// Checks the chunk signatures of an `aws-chunked` upload as a server does. Made by
/// [`VerifiedRequest::chunk_verifier`](crate::VerifiedRequest::chunk_verifier) once the
/// request's own signature has been verified: the chain starts from it.
#[derive(Clone, Debug)]
pub struct ChunkVerifier {
    expected: ChunkSigner,
    trailer: bool,
    /// The request's `x-amz-trailer`, which the trailer must be.
    announced_trailer: Option<String>,
    /// The request's `x-amz-decoded-content-length`, which the data must add up to.
    decoded_length: Option<u64>,
}

/// A body taken apart by [`ChunkVerifier::decode_body`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodedBody {
    /// The data of the chunks, joined.
    pub data: Vec<u8>,
    /// The trailing header (`x-amz-checksum-*` name and value), when the upload had one:
    /// its signature is verified; check the value against `data`.
    pub trailer: Option<(String, String)>,
}

impl ChunkVerifier {
    pub(crate) fn new(expected: ChunkSigner, trailer: bool) -> Self {
        Self {
            expected,
            trailer,
            announced_trailer: None,
            decoded_length: None,
        }
    }

    /// What the request announced: `x-amz-trailer` and `x-amz-decoded-content-length`.
    pub(crate) fn announced(mut self, trailer: Option<&str>, decoded_length: Option<u64>) -> Self {
        self.announced_trailer = trailer.map(|t| t.trim().to_ascii_lowercase());
        self.decoded_length = decoded_length;
        self
    }

    /// Checks the signature of the next chunk (`data` empty for the final one).
    ///
    /// # Errors
    /// [`Error::SignatureMismatch`].
    pub fn verify_chunk(&mut self, data: &[u8], signature: &str) -> Result<()> {
        let expected = self.expected.sign_chunk(data);
        same(expected, signature)
    }

    /// Checks the signature of the trailing header, after the final chunk.
    ///
    /// # Errors
    /// [`Error::SignatureMismatch`].
    pub fn verify_trailer(&mut self, name: &str, value: &str, signature: &str) -> Result<()> {
        let expected = self.expected.sign_trailer(name, value);
        same(expected, signature)
    }

    /// Takes a whole `aws-chunked` body apart (`hex(len);chunk-signature=SIG\r\n DATA
    /// \r\n`..., the final empty chunk, and the trailer when the request announced one),
    /// checking every signature on the way, that the data adds up to the request's
    /// `x-amz-decoded-content-length` and that the trailer is the one its `x-amz-trailer`
    /// named. The trailer's value (a checksum of the data) is the caller's to check.
    ///
    /// # Errors
    /// [`Error::SignatureMismatch`] for a chunk or trailer signed otherwise;
    /// [`Error::MalformedSignature`] for a body that is not framed so, or that disagrees
    /// with what the request announced.
    pub fn decode_body(&mut self, mut body: &[u8]) -> Result<DecodedBody> {
        let malformed = |what: &str| Error::MalformedSignature(format!("aws-chunked body: {what}"));
        let line = |body: &mut &[u8]| -> Result<String> {
            let end = body
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or_else(|| malformed("a line without CRLF"))?;
            let text = std::str::from_utf8(&body[..end])
                .map_err(|_| malformed("a frame line that is not text"))?
                .to_owned();
            *body = &body[end + 2..];
            Ok(text)
        };
        let mut data = Vec::new();
        loop {
            let header = line(&mut body)?;
            let (size, signature) = header
                .split_once(";chunk-signature=")
                .ok_or_else(|| malformed("a chunk without chunk-signature"))?;
            if size.is_empty() || size.len() > 16 || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(malformed("a chunk size that is not 1 to 16 hex digits"));
            }
            let size =
                usize::from_str_radix(size, 16).map_err(|_| malformed("a chunk size too large"))?;
            let chunk = body
                .get(..size)
                .ok_or_else(|| malformed("a chunk shorter than its size"))?;
            self.verify_chunk(chunk, signature)?;
            data.extend_from_slice(chunk);
            body = &body[size..];
            if size == 0 && self.trailer {
                break;
            }
            if !body.starts_with(b"\r\n") {
                return Err(malformed("a chunk not followed by CRLF"));
            }
            body = &body[2..];
            if size == 0 {
                if !body.is_empty() {
                    return Err(malformed("bytes after the final chunk"));
                }
                self.check_length(&data)?;
                return Ok(DecodedBody {
                    data,
                    trailer: None,
                });
            }
        }
        self.check_length(&data)?;
        let trailer = line(&mut body)?;
        let (name, value) = trailer
            .split_once(':')
            .ok_or_else(|| malformed("a trailer that is not `name:value`"))?;
        let signature_line = line(&mut body)?;
        let signature = signature_line
            .strip_prefix("x-amz-trailer-signature:")
            .ok_or_else(|| malformed("a trailer without x-amz-trailer-signature"))?;
        self.verify_trailer(name, value, signature)?;
        if body != b"\r\n" {
            return Err(malformed("bytes after the trailer"));
        }
        let name = name.trim().to_ascii_lowercase();
        if let Some(announced) = &self.announced_trailer
            && *announced != name
        {
            return Err(Error::MalformedSignature(format!(
                "aws-chunked body: the trailer is `{name}`, the request announced `{announced}`"
            )));
        }
        Ok(DecodedBody {
            data,
            trailer: Some((name, value.trim().to_owned())),
        })
    }

    fn check_length(&self, data: &[u8]) -> Result<()> {
        match self.decoded_length {
            Some(announced) if announced != data.len() as u64 => {
                Err(Error::MalformedSignature(format!(
                    "aws-chunked body: {} bytes of data, the request announced {announced}",
                    data.len()
                )))
            }
            _ => Ok(()),
        }
    }
}

fn same(expected: &str, got: &str) -> Result<()> {
    use subtle::ConstantTimeEq;
    if bool::from(expected.as_bytes().ct_eq(got.as_bytes())) {
        Ok(())
    } else {
        Err(Error::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::{ChunkSigner, TrailingChecksum};
    use crate::{AmzDate, Credentials, Secret, SigV4Signer, SigningKey};

    /// The AWS example "PUT Object with trailing headers" (S3 API reference, "Signature
    /// calculations for trailing headers"): 64 KiB and 1 KiB of `a`, then a CRC32C trailer.
    #[test]
    fn aws_trailer_example() {
        let key = SigningKey::derive(
            &Secret::from("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "20130524",
            "us-east-1",
            "s3",
        );
        let seed = *b"106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
        let mut chunks = ChunkSigner::new(
            key.mac().clone(),
            AmzDate::parse("20130524T000000Z").unwrap(),
            "us-east-1",
            "s3",
            seed,
            65_536,
            Some(TrailingChecksum::Crc32c),
        );
        for (data, expected) in [
            (
                vec![b'a'; 65_536],
                "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
            ),
            (
                vec![b'a'; 1024],
                "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
            ),
            (
                Vec::new(),
                "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
            ),
        ] {
            assert_eq!(chunks.sign_chunk(&data), expected);
        }
        assert_eq!(
            chunks.sign_trailer("x-amz-checksum-crc32c", "sOO8/Q=="),
            "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
        );

        // The example's body, as a server receives it.
        let mut body = Vec::new();
        for (data, sig) in [
            (
                vec![b'a'; 65_536],
                "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
            ),
            (
                vec![b'a'; 1024],
                "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
            ),
        ] {
            body.extend_from_slice(
                format!("{:x};chunk-signature={sig}\r\n", data.len()).as_bytes(),
            );
            body.extend_from_slice(&data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(
            b"0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n\
              x-amz-checksum-crc32c:sOO8/Q==\r\n\
              x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n",
        );
        let verifier = || {
            super::ChunkVerifier::new(
                ChunkSigner::new(
                    key.mac().clone(),
                    AmzDate::parse("20130524T000000Z").unwrap(),
                    "us-east-1",
                    "s3",
                    seed,
                    1,
                    None,
                ),
                true,
            )
        };
        let decoded = verifier().decode_body(&body).unwrap();
        assert_eq!(decoded.data, vec![b'a'; 66_560]);
        assert_eq!(
            decoded.trailer,
            Some(("x-amz-checksum-crc32c".to_owned(), "sOO8/Q==".to_owned()))
        );
        // One byte of data changed, or of the trailer's value: refused.
        for at in [100, body.len() - 100] {
            let mut bad = body.clone();
            bad[at] ^= 1;
            assert!(
                matches!(
                    verifier().decode_body(&bad),
                    Err(crate::Error::SignatureMismatch)
                ),
                "byte {at}"
            );
        }
    }

    /// The chunk-signature vectors of other signers that start from a given signature rather
    /// than from a request (`tests/vectors/others/`, see `tests/other_signers.rs`): our chunk
    /// signer, set at that signature, signs the chunks and the trailer alike.
    #[test]
    fn chains_of_other_signers_from_a_given_signature() {
        let mut checked = 0;
        for file in [
            include_str!("../../tests/vectors/others/minio_go.json"),
            include_str!("../../tests/vectors/others/aws_c_auth.json"),
            include_str!("../../tests/vectors/others/aws_sdk_java_v2.json"),
        ] {
            let file: serde_json::Value = serde_json::from_str(file).unwrap();
            for case in file["cases"].as_array().unwrap() {
                // A chain from a seed that is no signature (aws-sdk-java-v2's `sig`) is checked
                // in `tests/other_signers.rs` only.
                let (Some(previous), None, None) = (
                    case["previous_signature"]
                        .as_str()
                        .filter(|p| p.len() == 64),
                    case.get("skip"),
                    case.get("signing_key"),
                ) else {
                    continue;
                };
                let text = |key: &str| case[key].as_str().unwrap();
                let date = AmzDate::parse(text("time")).unwrap();
                let key = SigningKey::derive(
                    &Secret::from(text("secret_key")),
                    date.date(),
                    text("region"),
                    "s3",
                );
                let mut chain = ChunkSigner::new(
                    key.mac().clone(),
                    date,
                    text("region"),
                    "s3",
                    *previous.as_bytes().first_chunk::<64>().unwrap(),
                    1,
                    None,
                );
                for chunk in case["chunks"].as_array().unwrap() {
                    let data = chunk["data"]["repeat"]
                        .as_str()
                        .unwrap()
                        .repeat(chunk["data"]["count"].as_u64().unwrap() as usize);
                    assert_eq!(
                        chain.sign_chunk(data.as_bytes()),
                        chunk["signature"].as_str().unwrap(),
                        "{}",
                        case["name"]
                    );
                }
                if let Some(trailer) = case.get("trailer") {
                    let field = |key: &str| trailer[key].as_str().unwrap();
                    assert_eq!(
                        chain.sign_trailer(field("name"), field("value")),
                        field("signature"),
                        "{}",
                        case["name"]
                    );
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 2);
    }

    #[test]
    fn a_body_with_a_trailer_is_as_long_as_announced() {
        let signer = SigV4Signer::new(Credentials::new("AK", "secret"), "ch-gva-2");
        let time = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
        for checksum in [
            TrailingChecksum::Crc32,
            TrailingChecksum::Crc32c,
            TrailingChecksum::Crc64Nvme,
            TrailingChecksum::Sha1,
            TrailingChecksum::Sha256,
        ] {
            for (len, chunk) in [(0usize, 8192usize), (1, 8192), (8192, 8192), (20_000, 8192)] {
                let mut request = http::Request::put("http://127.0.0.1/b/k").body(()).unwrap();
                let mut chunks = signer
                    .sign_streaming_with_trailer_at(&mut request, len as u64, chunk, checksum, time)
                    .unwrap();
                let value = "A".repeat(checksum.value_len());
                let body = chunks
                    .encode_body_with_trailer(&vec![7u8; len], &value)
                    .unwrap();
                let announced: usize = request.headers()["content-length"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert_eq!(body.len(), announced, "{checksum:?} {len}");
                assert_eq!(
                    announced as u64,
                    ChunkSigner::encoded_length_with_trailer(len as u64, chunk, checksum)
                );
                let text = String::from_utf8_lossy(&body);
                let tail = format!(
                    "\r\n{}:{value}\r\nx-amz-trailer-signature:",
                    checksum.header_name()
                );
                assert!(text.contains(&tail), "{text}");
                assert!(text.ends_with("\r\n\r\n"));
                assert_eq!(
                    request.headers()["x-amz-content-sha256"],
                    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
                );
            }
        }
        // A value of the wrong length, or a trailer the upload was not signed with: refused.
        let mut request = http::Request::put("http://127.0.0.1/b/k").body(()).unwrap();
        let mut chunks = signer
            .sign_streaming_with_trailer_at(&mut request, 1, 8192, TrailingChecksum::Crc32, time)
            .unwrap();
        assert!(chunks.write_trailer("short", &mut Vec::new()).is_err());
        let mut request = http::Request::put("http://127.0.0.1/b/k").body(()).unwrap();
        let mut plain = signer
            .sign_streaming_at(&mut request, 1, 8192, time)
            .unwrap();
        assert!(plain.write_trailer("NhCmhg==", &mut Vec::new()).is_err());
        assert_eq!(plain.trailer(), None);
    }

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
