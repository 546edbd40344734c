//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`) for S3: header signing, pre-signed URLs and
//! streaming (`aws-chunked`) uploads.
//!
//! The contract, as for every signer of this crate:
//! - the request's URI is what will be sent; the signer encodes its path and query the way
//!   the server will (decode `%XX`, then encode once), so an already-encoded URI is never
//!   encoded twice;
//! - a signer that fails leaves the request untouched;
//! - time is a parameter (`*_at`); the variants without `_at` read the system clock.

mod canonical_request;
mod signing_key;
mod streaming;
mod string_to_sign;

pub use signing_key::{SigningKey, SigningKeyCache};
pub use streaming::{ChunkSigner, ChunkVerifier, DecodedBody, TrailingChecksum};

pub(crate) use canonical_request::{CanonicalRequest, is_signable};
pub(crate) use string_to_sign::{
    ALGORITHM, StringToSignKey, canonical_request_hash, signature, write_scope,
    write_string_to_sign,
};

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Uri};

use crate::encoding::{encode_raw, hex32};
use crate::inline_list::StackBuf;
use crate::time::AmzDate;
use crate::uri_parts::UriParts;
use crate::{Credentials, Error, Result};

/// `x-amz-date`
pub const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
/// `x-amz-content-sha256`
pub const X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");
/// `x-amz-security-token`
pub const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");

/// The longest expiry of a V4 pre-signed URL: 7 days.
pub const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

const EMPTY_SHA256: [u8; 32] = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];
const EMPTY_SHA256_HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const UNSIGNED: &str = "UNSIGNED-PAYLOAD";
const STREAMING: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
const UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
const STREAMING_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";

/// What `x-amz-content-sha256` says about the body.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum PayloadHash {
    /// The SHA-256 of the body: the server checks the body against it.
    Sha256([u8; 32]),
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature.
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: the body is `aws-chunked`, each chunk signed
    /// (see [`SigV4Signer::sign_streaming_at`]).
    Streaming,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: the body is `aws-chunked`, chunks unsigned,
    /// with trailing headers after the last one (a checksum named by `x-amz-trailer`). What
    /// the `aws` CLI and the AWS SDKs send for uploads over HTTPS.
    UnsignedTrailer,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks, then signed trailing
    /// headers. What the AWS SDKs send for uploads over plain HTTP (see
    /// [`SigV4Signer::sign_streaming_with_trailer_at`]).
    StreamingTrailer,
}

impl PayloadHash {
    /// The hash of an empty body (GET, HEAD, DELETE).
    pub const EMPTY: Self = Self::Sha256(EMPTY_SHA256);

    /// Hashes `body`.
    pub fn of(body: &[u8]) -> Self {
        use sha2::Digest;
        Self::Sha256(sha2::Sha256::digest(body).into())
    }

    /// Parses the value of an `x-amz-content-sha256` header.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            UNSIGNED => Some(Self::Unsigned),
            STREAMING => Some(Self::Streaming),
            UNSIGNED_TRAILER => Some(Self::UnsignedTrailer),
            STREAMING_TRAILER => Some(Self::StreamingTrailer),
            hex if hex.len() == 64 => {
                let mut out = [0u8; 32];
                for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
                    let s = std::str::from_utf8(pair).ok()?;
                    out[i] = u8::from_str_radix(s, 16).ok()?;
                }
                Some(Self::Sha256(out))
            }
            _ => None,
        }
    }

    /// The header value, without allocating.
    pub(crate) fn text(&self) -> PayloadText {
        match self {
            Self::Sha256(h) if *h == EMPTY_SHA256 => PayloadText::Static(EMPTY_SHA256_HEX),
            Self::Sha256(h) => PayloadText::Hex(hex32(h)),
            Self::Unsigned => PayloadText::Static(UNSIGNED),
            Self::Streaming => PayloadText::Static(STREAMING),
            Self::UnsignedTrailer => PayloadText::Static(UNSIGNED_TRAILER),
            Self::StreamingTrailer => PayloadText::Static(STREAMING_TRAILER),
        }
    }
}

pub(crate) enum PayloadText {
    Static(&'static str),
    Hex([u8; 64]),
}

impl PayloadText {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Static(s) => s.as_bytes(),
            Self::Hex(h) => h,
        }
    }

    fn header_value(&self) -> HeaderValue {
        // Constants, so the static values are checked at compile time, not on every request.
        const EMPTY: HeaderValue = HeaderValue::from_static(EMPTY_SHA256_HEX);
        const UNSIGNED_VALUE: HeaderValue = HeaderValue::from_static(UNSIGNED);
        const STREAMING_VALUE: HeaderValue = HeaderValue::from_static(STREAMING);
        match self {
            Self::Static(EMPTY_SHA256_HEX) => EMPTY,
            Self::Static(UNSIGNED) => UNSIGNED_VALUE,
            Self::Static(STREAMING) => STREAMING_VALUE,
            Self::Static(s) => HeaderValue::from_static(s),
            Self::Hex(h) => HeaderValue::from_bytes(h).unwrap_or(EMPTY),
        }
    }
}

/// Signs S3 requests with SigV4 for one region and service (`s3` by default).
///
/// Cheap to clone; clones and [`for_region`](Self::for_region) share one
/// [`SigningKeyCache`], so a key is derived once per day and scope.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use sos_auth::{Credentials, PayloadHash, SigV4Signer};
///
/// let signer = SigV4Signer::new(Credentials::new("EXOabc", "secret"), "ch-gva-2");
/// let mut request = http::Request::get("https://sos-ch-gva-2.exo.io/my-bucket/photo.jpg")
///     .header("range", "bytes=0-1023")
///     .body(())?;
/// let now = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
/// signer.sign_at(&mut request, PayloadHash::EMPTY, now)?;
/// let auth = request.headers()["authorization"].to_str()?;
/// assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=EXOabc/20260102/ch-gva-2/s3/aws4_request, \
///     SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature="));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct SigV4Signer {
    credentials: Arc<Credentials>,
    region: Arc<str>,
    service: Arc<str>,
    cache: Arc<SigningKeyCache>,
    credential_text: Arc<CredentialText>,
}

/// The `X-Amz-*` parameters of a pre-signed URL, written on the stack (a session token
/// may spill them to the heap).
type QueryParams = StackBuf<384>;

/// Appends the `X-Amz-*` parameters (as [`SigV4Signer::query_signature`] wrote them) and
/// `&X-Amz-Signature={signature}` to a URL that ends with `?` or `&`.
fn append_query_signature(url: &mut String, params: &str, signature: &[u8; 64]) {
    url.push_str(params);
    url.push_str("&X-Amz-Signature=");
    // Lower-case hex digits, one char each.
    url.extend(signature.iter().map(|&b| char::from(b)));
}

/// The credential (`{access key}/{date}/{region}/{service}/aws4_request`) on both sides of
/// its date, written once per signer rather than on every request: as the `Authorization`
/// header has it, and percent-encoded as the `X-Amz-Credential` of pre-signed URLs.
#[derive(Debug)]
struct CredentialText {
    /// `AWS4-HMAC-SHA256 Credential={access key}/`
    header_before_date: Vec<u8>,
    /// `/{region}/{service}/aws4_request, SignedHeaders=`
    header_after_date: Vec<u8>,
    /// `{access key}%2F`
    query_before_date: Vec<u8>,
    /// `%2F{region}%2F{service}%2Faws4_request`
    query_after_date: Vec<u8>,
}

impl CredentialText {
    fn new(access_key: &str, region: &str, service: &str) -> Arc<Self> {
        let after: [&[u8]; 5] = [
            b"/",
            region.as_bytes(),
            b"/",
            service.as_bytes(),
            b"/aws4_request",
        ];
        let mut header_before_date = Vec::with_capacity(access_key.len() + 30);
        header_before_date.extend_from_slice(ALGORITHM.as_bytes());
        header_before_date.extend_from_slice(b" Credential=");
        header_before_date.extend_from_slice(access_key.as_bytes());
        header_before_date.push(b'/');
        let mut header_after_date = after.concat();
        header_after_date.extend_from_slice(b", SignedHeaders=");
        let mut query_before_date = Vec::with_capacity(access_key.len() + 3);
        encode_raw(access_key.as_bytes(), &mut query_before_date);
        query_before_date.extend_from_slice(b"%2F");
        let mut query_after_date = Vec::with_capacity(region.len() + service.len() + 24);
        for piece in after {
            encode_raw(piece, &mut query_after_date);
        }
        Arc::new(Self {
            header_before_date,
            header_after_date,
            query_before_date,
            query_after_date,
        })
    }
}

impl SigV4Signer {
    /// A signer for `region` and the `s3` service.
    pub fn new(credentials: Credentials, region: impl Into<String>) -> Self {
        let region: Arc<str> = region.into().into();
        let service: Arc<str> = "s3".into();
        Self {
            credential_text: CredentialText::new(credentials.access_key(), &region, &service),
            credentials: Arc::new(credentials),
            region,
            service,
            cache: Arc::new(SigningKeyCache::new()),
        }
    }

    /// Uses another service name in the credential scope.
    #[must_use]
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into().into();
        self.credential_text =
            CredentialText::new(self.credentials.access_key(), &self.region, &self.service);
        self
    }

    /// The same credentials for another region, sharing the key cache.
    #[must_use]
    pub fn for_region(&self, region: impl Into<String>) -> Self {
        let region: Arc<str> = region.into().into();
        Self {
            credential_text: CredentialText::new(
                self.credentials.access_key(),
                &region,
                &self.service,
            ),
            region,
            ..self.clone()
        }
    }

    /// The region of the credential scope.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The service of the credential scope.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The shared key cache.
    pub fn key_cache(&self) -> &SigningKeyCache {
        &self.cache
    }

    /// [`sign_at`](Self::sign_at) with the system clock.
    ///
    /// # Errors
    /// As `sign_at`.
    pub fn sign<B>(&self, request: &mut Request<B>, payload: PayloadHash) -> Result<()> {
        self.sign_at(request, payload, SystemTime::now())
    }

    /// Signs `request` in place: sets `x-amz-date`, `x-amz-content-sha256`,
    /// `x-amz-security-token` (with a session token) and `authorization`.
    ///
    /// Every header present is signed except hop-by-hop ones and `user-agent`/`expect`.
    /// `Host` is signed from the header if set, else from the URI's authority (default port
    /// left out, as HTTP clients send it; in lower case, and a URI host written in capitals
    /// is then set in lower case in the request too, so that every client sends the host
    /// that was signed).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when there is no host, or the access key or token is not a
    /// valid header value. The request is then unchanged.
    pub fn sign_at<B>(
        &self,
        request: &mut Request<B>,
        payload: PayloadHash,
        time: SystemTime,
    ) -> Result<()> {
        let date = AmzDate::new(time);
        let payload = payload.text();
        let signed = self.header_signature(
            request.method(),
            request.uri(),
            request.headers(),
            &date,
            &payload,
        )?;
        let headers = request.headers_mut();
        headers.insert(X_AMZ_DATE, date_value(&date));
        headers.insert(X_AMZ_CONTENT_SHA256, payload.header_value());
        if let Some(token) = signed.token {
            headers.insert(X_AMZ_SECURITY_TOKEN, token);
        }
        headers.insert(AUTHORIZATION, signed.authorization);
        send_signed_host(request);
        Ok(())
    }

    /// The canonical request the signer hashes for `request` (debugging aid: compare it
    /// with the one a server reports in a `SignatureDoesNotMatch` error).
    ///
    /// # Errors
    /// As [`sign_at`](Self::sign_at).
    pub fn canonical_request_at<B>(
        &self,
        request: &Request<B>,
        payload: PayloadHash,
        time: SystemTime,
    ) -> Result<String> {
        let date = AmzDate::new(time);
        let payload = payload.text();
        let token = self.token_bytes();
        let overrides = overrides(&date, payload.as_bytes(), token);
        let canonical = CanonicalRequest::new(
            request.method().as_str(),
            UriParts::of(request.uri()),
            request.headers(),
            &overrides[..if token.is_some() { 3 } else { 2 }],
            is_signable,
            payload.as_bytes(),
        )?;
        Ok(canonical.to_text(""))
    }

    /// The string to sign for `request` (debugging aid, like
    /// [`canonical_request_at`](Self::canonical_request_at)).
    ///
    /// # Errors
    /// As [`sign_at`](Self::sign_at).
    pub fn string_to_sign_at<B>(
        &self,
        request: &Request<B>,
        payload: PayloadHash,
        time: SystemTime,
    ) -> Result<String> {
        let canonical = self.canonical_request_at(request, payload, time)?;
        let hash = hex32(&<sha2::Sha256 as sha2::Digest>::digest(canonical.as_bytes()).into());
        let mut out = Vec::with_capacity(160);
        write_string_to_sign(
            &AmzDate::new(time),
            &self.region,
            &self.service,
            &hash,
            &mut |p: &[u8]| {
                out.extend_from_slice(p);
            },
        );
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn token_bytes(&self) -> Option<&[u8]> {
        self.credentials
            .session_token()
            .map(|t| t.expose_secret().as_bytes())
    }

    fn header_signature(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        date: &AmzDate,
        payload: &PayloadText,
    ) -> Result<HeaderSignature> {
        let uri = UriParts::of(uri);
        let token = self.token_bytes();
        let token_value = token
            .map(HeaderValue::from_bytes)
            .transpose()
            .map_err(|_| {
                Error::InvalidRequest("the session token is not a valid header value".to_owned())
            })?;
        let overrides = overrides(date, payload.as_bytes(), token);
        let canonical = CanonicalRequest::new(
            method.as_str(),
            uri,
            headers,
            &overrides[..if token.is_some() { 3 } else { 2 }],
            is_signable,
            payload.as_bytes(),
        )?;
        let hash = canonical_request_hash(&canonical, "");
        let key = self.string_to_sign_key(date);
        let sig = signature(&key, date, &self.region, &self.service, &hash);

        // Exact capacity: `HeaderValue::try_from(Vec)` then takes the buffer without a copy.
        let text = &self.credential_text;
        let capacity = text.header_before_date.len()
            + 8
            + text.header_after_date.len()
            + canonical.signed_headers_len()
            + ", Signature=".len()
            + 64;
        // Built as bytes: every piece is ASCII, and the header value checks them once.
        let mut auth: Vec<u8> = Vec::with_capacity(capacity);
        auth.extend_from_slice(&text.header_before_date);
        auth.extend_from_slice(&date.as_bytes()[..8]);
        auth.extend_from_slice(&text.header_after_date);
        canonical.write_signed_headers(&mut |p: &[u8]| auth.extend_from_slice(p));
        auth.extend_from_slice(b", Signature=");
        auth.extend_from_slice(&sig);
        debug_assert_eq!(auth.len(), capacity);
        let authorization = HeaderValue::try_from(auth).map_err(|_| {
            Error::InvalidRequest(
                "the access key, region or service is not a valid header value".to_owned(),
            )
        })?;
        Ok(HeaderSignature {
            authorization,
            token: token_value,
            signature: sig,
        })
    }

    pub(crate) fn mac(&self, date: &AmzDate) -> crate::sha256::HmacKey {
        self.cache.mac(
            self.credentials.secret_key(),
            &date.as_bytes()[..8],
            &self.region,
            &self.service,
        )
    }

    /// The key for this signer's strings to sign at `date` (see [`StringToSignKey`]).
    fn string_to_sign_key(&self, date: &AmzDate) -> StringToSignKey {
        self.cache.string_to_sign_key(
            self.credentials.secret_key(),
            date,
            &self.region,
            &self.service,
        )
    }

    /// `hex(HMAC(signing key of the day, message))`: the V4 signature of any string to sign,
    /// with the cached key. Browser POST uploads sign their base64 policy document this way.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use sos_auth::{Credentials, SigV4Signer};
    /// let signer = SigV4Signer::new(Credentials::new("AK", "secret"), "ch-gva-2");
    /// let sig = signer.sign_string_at(b"eyJleHBpcmF0aW9uIjogIi4uLiJ9", UNIX_EPOCH + Duration::from_secs(1_767_323_045));
    /// assert_eq!(sig.len(), 64);
    /// ```
    pub fn sign_string_at(&self, message: &[u8], time: SystemTime) -> String {
        let mac = self.mac(&AmzDate::new(time));
        String::from_utf8_lossy(&hex32(&mac.mac(message))).into_owned()
    }

    /// `ACCESS_KEY/YYYYMMDD/region/service/aws4_request`, the credential of a signature made
    /// at `time` (the `x-amz-credential` field of a POST upload).
    pub fn credential_at(&self, time: SystemTime) -> String {
        let mut out = String::with_capacity(self.credentials.access_key().len() + 48);
        out.push_str(self.credentials.access_key());
        out.push('/');
        write_scope(
            &AmzDate::new(time),
            &self.region,
            &self.service,
            &mut |p: &[u8]| {
                out.push_str(std::str::from_utf8(p).unwrap_or_default());
            },
        );
        out
    }

    /// [`presign_at`](Self::presign_at) with the system clock.
    ///
    /// # Errors
    /// As `presign_at`.
    pub fn presign(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        expires_in: Duration,
    ) -> Result<String> {
        self.presign_at(method, uri, headers, expires_in, SystemTime::now())
    }

    /// A pre-signed URL (query signing): `uri` with the `X-Amz-*` parameters appended.
    ///
    /// `headers` are extra headers to sign (`content-type`, `x-amz-acl`, ...); whoever uses
    /// the URL must send them with these values. `host` is always signed. The payload is
    /// `UNSIGNED-PAYLOAD`, as S3 expects of pre-signed URLs. The URL comes back as text, what
    /// it is handed out as; `.parse::<http::Uri>()` it to send it. Its host is in lower case,
    /// as it is signed (unless `headers` has a `host`, signed and kept as given).
    ///
    /// # Errors
    /// [`Error::InvalidExpiry`] outside 1 s ..= 7 days (never clamped silently);
    /// [`Error::InvalidRequest`] when the URI is not absolute.
    pub fn presign_at(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        expires_in: Duration,
        time: SystemTime,
    ) -> Result<String> {
        let parts = UriParts::of(uri);
        let authority = parts.authority().ok_or_else(|| {
            Error::InvalidRequest("a pre-signed URL needs an absolute URI".to_owned())
        })?;
        let mut params = QueryParams::new();
        let (params, signature) =
            self.query_signature(method, parts, headers, expires_in, time, &mut params)?;
        let (scheme, path, query) = (parts.scheme(), parts.path_or_root(), parts.query());
        let mut url = String::with_capacity(
            scheme.len() + authority.len() + path.len() + query.len() + params.len() + 90,
        );
        url.push_str(scheme);
        url.push_str("://");
        let at = url.len();
        url.push_str(authority);
        if !headers.contains_key(http::header::HOST) {
            lowercase_host(&mut url[at..]);
        }
        url.push_str(path);
        url.push('?');
        url.push_str(query);
        if !query.is_empty() {
            url.push('&');
        }
        append_query_signature(&mut url, params, &signature);
        Ok(url)
    }

    /// [`presign_at`](Self::presign_at) for a URL in text (`https://host/path?query`), as
    /// pre-signers that assemble the URL themselves have it: no `http::Uri` is built, and a
    /// `String` passed in is extended in place.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use http::{HeaderMap, Method};
    /// use sos_auth::{Credentials, SigV4Signer};
    ///
    /// let signer = SigV4Signer::new(Credentials::new("EXO_KEY", "secret"), "ch-gva-2");
    /// let url = signer.presign_url_at(
    ///     &Method::GET,
    ///     "https://sos-ch-gva-2.exo.io/bucket/report%202026.pdf",
    ///     &HeaderMap::new(),
    ///     Duration::from_secs(600),
    ///     UNIX_EPOCH + Duration::from_secs(1_767_323_045),
    /// )?;
    /// assert!(url.starts_with("https://sos-ch-gva-2.exo.io/bucket/report%202026.pdf?X-Amz-Algorithm="));
    /// assert!(url.contains("&X-Amz-Expires=600&"));
    /// # Ok::<(), sos_auth::Error>(())
    /// ```
    ///
    /// # Errors
    /// As `presign_at`; [`Error::InvalidRequest`] also for text that is not an absolute URL
    /// of visible ASCII characters (percent-encode the rest) or that has a `#fragment`.
    pub fn presign_url_at(
        &self,
        method: &Method,
        url: impl Into<String>,
        headers: &HeaderMap,
        expires_in: Duration,
        time: SystemTime,
    ) -> Result<String> {
        let mut url = url.into();
        let mut params = QueryParams::new();
        let (params, signature, root_at, separator, authority) = {
            let parts = UriParts::parse_absolute(&url)?;
            let (params, signature) =
                self.query_signature(method, parts, headers, expires_in, time, &mut params)?;
            let authority_at = parts.scheme().len() + "://".len();
            let authority = authority_at..authority_at + parts.authority().map_or(0, str::len);
            // `https://host` is sent (and signed) as `https://host/`.
            let root_at = parts.path().is_empty().then_some(authority.end);
            let separator = if !parts.query().is_empty() {
                "&"
            } else if url.ends_with('?') {
                ""
            } else {
                "?"
            };
            (params, signature, root_at, separator, authority)
        };
        if let Some(authority) = url.get_mut(authority)
            && !headers.contains_key(http::header::HOST)
        {
            lowercase_host(authority);
        }
        url.reserve(params.len() + 90);
        if let Some(at) = root_at {
            url.insert(at, '/');
        }
        url.push_str(separator);
        append_query_signature(&mut url, params, &signature);
        Ok(url)
    }

    /// Writes the `X-Amz-*` parameters of a pre-signed URL (all but the signature) to
    /// `params` and returns them as text, with the signature. `uri` is absolute (both
    /// callers have checked its authority).
    fn query_signature<'p>(
        &self,
        method: &Method,
        uri: UriParts<'_>,
        headers: &HeaderMap,
        expires_in: Duration,
        time: SystemTime,
        params: &'p mut QueryParams,
    ) -> Result<(&'p str, [u8; 64])> {
        let seconds = expires_in.as_secs();
        if !(1..=MAX_PRESIGN_EXPIRY.as_secs()).contains(&seconds) || expires_in.subsec_nanos() != 0
        {
            return Err(Error::InvalidExpiry {
                seconds,
                min: 1,
                max: MAX_PRESIGN_EXPIRY.as_secs(),
            });
        }
        let date = AmzDate::new(time);
        let canonical = CanonicalRequest::new(
            method.as_str(),
            uri,
            headers,
            &[],
            is_signable,
            b"UNSIGNED-PAYLOAD",
        )?;
        params.push(b"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
        params.push(&self.credential_text.query_before_date);
        params.push(date.date().as_bytes());
        params.push(&self.credential_text.query_after_date);
        params.push(b"&X-Amz-Date=");
        params.push(date.as_bytes());
        params.push(b"&X-Amz-Expires=");
        params.push(itoa(seconds, &mut [0u8; 20]));
        if let Some(token) = self.credentials.session_token() {
            params.push(b"&X-Amz-Security-Token=");
            encode_raw(token.expose_secret().as_bytes(), params);
        }
        params.push(b"&X-Amz-SignedHeaders=");
        canonical.write_signed_headers(&mut |p: &[u8]| encode_raw(p, params));
        // All ASCII by construction; checked once, as the canonical query needs text.
        let text = std::str::from_utf8(params.as_slice())
            .map_err(|_| Error::InvalidRequest("the URI is not ASCII".to_owned()))?;
        let hash = canonical_request_hash(&canonical, text);
        let key = self.string_to_sign_key(&date);
        let signature = signature(&key, &date, &self.region, &self.service, &hash);
        Ok((text, signature))
    }

    /// Signs a streaming upload (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) and returns the
    /// [`ChunkSigner`] that signs each chunk of the body.
    ///
    /// Sets `x-amz-decoded-content-length` (the real body length) and `content-length` (the
    /// length on the wire, chunk framing included, see [`ChunkSigner::encoded_length`])
    /// before signing. Use this to upload a body without hashing it first; the chunks are
    /// signed as they are sent.
    ///
    /// `content-encoding`: a coding of the object's own (`gzip`) gets `aws-chunked` in front
    /// (`aws-chunked,gzip`), as AWS's guide asks and Garage requires; S3 stores `gzip`.
    /// Without one, none is added: S3 tells the framing from `x-amz-content-sha256`
    /// (minio-go and the AWS SDK for .NET send no `content-encoding`), and the RADOS Gateway
    /// stores the header as sent, so every such object would be served with
    /// `Content-Encoding: aws-chunked`, which browsers and HTTP clients refuse to decode.
    /// A request that already says `aws-chunked` is left as it is.
    ///
    /// # Errors
    /// As [`sign_at`](Self::sign_at).
    pub fn sign_streaming_at<B>(
        &self,
        request: &mut Request<B>,
        decoded_length: u64,
        chunk_size: usize,
        time: SystemTime,
    ) -> Result<ChunkSigner> {
        self.streaming(request, decoded_length, chunk_size, None, time)
    }

    /// As [`sign_streaming_at`](Self::sign_streaming_at), for a body that ends with a
    /// trailing checksum (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`, as the AWS SDKs
    /// upload over plain HTTP): also sets `x-amz-trailer`, and counts the trailer in
    /// `content-length`. End the body with [`ChunkSigner::write_trailer`] and the checksum
    /// of the data, computed as it streams.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use sos_auth::{Credentials, SigV4Signer, TrailingChecksum};
    /// # let signer = SigV4Signer::new(Credentials::new("AK", "secret"), "ch-gva-2");
    /// # let time = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
    /// let mut request = http::Request::put("https://sos-ch-gva-2.exo.io/b/k").body(())?;
    /// let mut chunks =
    ///     signer.sign_streaming_with_trailer_at(&mut request, 5, 65_536, TrailingChecksum::Crc32, time)?;
    /// let body = chunks.encode_body_with_trailer(b"hello", "NhCmhg==")?; // CRC32 of `hello`
    /// assert_eq!(request.headers()["content-length"], body.len().to_string().as_str());
    /// assert_eq!(request.headers()["x-amz-trailer"], "x-amz-checksum-crc32");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`sign_at`](Self::sign_at).
    pub fn sign_streaming_with_trailer_at<B>(
        &self,
        request: &mut Request<B>,
        decoded_length: u64,
        chunk_size: usize,
        trailer: TrailingChecksum,
        time: SystemTime,
    ) -> Result<ChunkSigner> {
        self.streaming(request, decoded_length, chunk_size, Some(trailer), time)
    }

    fn streaming<B>(
        &self,
        request: &mut Request<B>,
        decoded_length: u64,
        chunk_size: usize,
        trailer: Option<TrailingChecksum>,
        time: SystemTime,
    ) -> Result<ChunkSigner> {
        if chunk_size == 0 {
            return Err(Error::InvalidRequest(
                "chunk size must be at least 1 byte".to_owned(),
            ));
        }
        let date = AmzDate::new(time);
        let (payload, encoded) = match trailer {
            None => (
                PayloadHash::Streaming.text(),
                ChunkSigner::checked_encoded_length(decoded_length, chunk_size, None),
            ),
            Some(t) => (
                PayloadHash::StreamingTrailer.text(),
                ChunkSigner::checked_encoded_length(decoded_length, chunk_size, Some(t)),
            ),
        };
        let encoded = encoded.ok_or_else(|| {
            Error::InvalidRequest(format!(
                "{decoded_length} bytes in chunks of {chunk_size} is too long a body"
            ))
        })?;
        // Sign a copy of the headers with the streaming ones added, so a failure leaves the
        // request as it was.
        let mut headers = request.headers().clone();
        // Several `content-encoding` lines are one list (RFC 9110 5.3): kept in order, as
        // one value.
        let codings: Vec<&[u8]> = headers
            .get_all(http::header::CONTENT_ENCODING)
            .iter()
            .map(HeaderValue::as_bytes)
            .collect();
        if !codings.is_empty()
            && !codings
                .iter()
                .flat_map(|v| v.split(|&b| b == b','))
                .any(|c| c.trim_ascii().eq_ignore_ascii_case(b"aws-chunked"))
        {
            let mut value = b"aws-chunked".to_vec();
            for coding in codings {
                value.push(b',');
                value.extend_from_slice(coding);
            }
            let value = HeaderValue::from_bytes(&value)
                .map_err(|_| Error::InvalidRequest("bad content-encoding".to_owned()))?;
            headers.insert(http::header::CONTENT_ENCODING, value);
        }
        headers.insert(
            HeaderName::from_static("x-amz-decoded-content-length"),
            HeaderValue::from(decoded_length),
        );
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(encoded));
        if let Some(t) = trailer {
            headers.insert(
                HeaderName::from_static("x-amz-trailer"),
                HeaderValue::from_static(t.header_name()),
            );
        }
        let signed =
            self.header_signature(request.method(), request.uri(), &headers, &date, &payload)?;
        headers.insert(X_AMZ_DATE, date_value(&date));
        headers.insert(X_AMZ_CONTENT_SHA256, payload.header_value());
        if let Some(token) = signed.token {
            headers.insert(X_AMZ_SECURITY_TOKEN, token);
        }
        headers.insert(AUTHORIZATION, signed.authorization);
        *request.headers_mut() = headers;
        send_signed_host(request);
        Ok(ChunkSigner::new(
            self.mac(&date),
            date,
            &self.region,
            &self.service,
            signed.signature,
            chunk_size,
            trailer,
        ))
    }
}

struct HeaderSignature {
    authorization: HeaderValue,
    token: Option<HeaderValue>,
    signature: [u8; 64],
}

/// Lowers the host of `authority` (`[userinfo@]host[:port]`): the signers sign a host taken
/// from the URI in lower case (see `CanonicalRequest::new`), so the URL they hand out
/// carries it so, and every client sends the host that was signed.
fn lowercase_host(authority: &mut str) {
    let host_at = authority.rfind('@').map_or(0, |i| i + 1);
    if let Some(host) = authority.get_mut(host_at..) {
        host.make_ascii_lowercase();
    }
}

/// When the host signed came from the request's URI (there is no `Host` header) and has
/// capitals, sets the URI's host in lower case, as it was signed: curl and hyper send the
/// host as written, reqwest and browsers in lower case.
fn send_signed_host<B>(request: &mut Request<B>) {
    // The scan first: it is cheaper than the header lookup, and nearly always ends it.
    let Some(authority) = request.uri().authority() else {
        return;
    };
    if !authority.as_str().bytes().any(|b| b.is_ascii_uppercase())
        || request.headers().contains_key(http::header::HOST)
    {
        return;
    }
    let mut lower = authority.as_str().to_owned();
    lowercase_host(&mut lower);
    let mut parts = request.uri().clone().into_parts();
    let Ok(authority) = lower.parse() else {
        return;
    };
    parts.authority = Some(authority);
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
}

fn overrides<'a>(
    date: &'a AmzDate,
    payload: &'a [u8],
    token: Option<&'a [u8]>,
) -> [(&'a str, &'a [u8]); 3] {
    [
        ("x-amz-content-sha256", payload),
        ("x-amz-date", date.as_bytes()),
        ("x-amz-security-token", token.unwrap_or_default()),
    ]
}

/// The `x-amz-date` header value of `date`. The last one made on this thread is kept:
/// requests signed within one second share it (a reference count instead of an
/// allocation, a copy and a check per request).
fn date_value(date: &AmzDate) -> HeaderValue {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(u64, HeaderValue)>> =
            const { std::cell::RefCell::new(None) };
    }
    let make = || {
        HeaderValue::from_bytes(date.as_bytes())
            .unwrap_or(HeaderValue::from_static("19700101T000000Z"))
    };
    // `try_with`: a thread being torn down (signing from another thread-local's
    // destructor) has no cache any more; the value is made afresh then.
    LAST.try_with(|last| {
        let Ok(mut last) = last.try_borrow_mut() else {
            return make();
        };
        if let Some((unix, value)) = &*last
            && *unix == date.unix_seconds()
        {
            return value.clone();
        }
        let value = make();
        *last = Some((date.unix_seconds(), value.clone()));
        value
    })
    .unwrap_or_else(|_| make())
}

/// Decimal digits of `n` in `buf`, without allocating.
pub(crate) fn itoa(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}
