//! Checking signatures as a server does: V4 and V2, header and query forms.
//!
//! Parse the `Authorization` header or the pre-signed query, look up the secret, recompute
//! the signature, compare in constant time, and check the time: the request's clock must be
//! within the allowed skew (15 minutes, as S3) and a pre-signed URL must not have expired.
//! The body is not read: for V4 the verified [`PayloadHash`] is returned, and a server
//! checks the body against it as it streams in.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Request, Uri};
use subtle::ConstantTimeEq;

use crate::encoding::{Component, percent_decode};
use crate::time::AmzDate;
use crate::uri_parts::UriParts;
use crate::v2::{StringToSign, bucket_from_host, sign_v2};
use crate::v4::{
    ALGORITHM, CanonicalRequest, ChunkSigner, ChunkVerifier, MAX_PRESIGN_EXPIRY, PayloadHash,
    SigningKey, StringToSignKey, canonical_request_hash, signature,
};
use crate::{Credentials, Error, Result, Secret};

/// Which signature a request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureVersion {
    /// SigV4 in the `Authorization` header.
    V4Header,
    /// SigV4 pre-signed URL (`X-Amz-Signature`).
    V4Query,
    /// SigV2 in the `Authorization` header.
    V2Header,
    /// SigV2 pre-signed URL (`Signature`, `Expires`).
    V2Query,
}

/// What a successful verification tells.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedRequest {
    /// The access key that signed.
    pub access_key: String,
    /// The form of the signature.
    pub version: SignatureVersion,
    /// The region of the V4 credential scope.
    pub region: Option<String>,
    /// When it was signed (V4, V2 header).
    pub signed_at: Option<SystemTime>,
    /// When a pre-signed URL stops being valid.
    pub expires_at: Option<SystemTime>,
    /// The V4 payload hash the body must match (`None` for V2).
    pub payload: Option<PayloadHash>,
    /// For `aws-chunked` uploads signed chunk by chunk: the chain from the request's
    /// signature.
    chunks: Option<ChunkVerifier>,
}

impl VerifiedRequest {
    /// For an upload whose chunks are signed ([`PayloadHash::Streaming`] or
    /// [`PayloadHash::StreamingTrailer`], header signature), the verifier of its body: each
    /// chunk's signature chains on the request's.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// use sos_auth::{Credentials, SigV4Signer, Verifier};
    /// # let now = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
    /// let creds = Credentials::new("EXOabc", "secret");
    /// let mut request = http::Request::put("https://sos-ch-gva-2.exo.io/b/k").body(())?;
    /// let mut chunks = SigV4Signer::new(creds.clone(), "ch-gva-2")
    ///     .sign_streaming_at(&mut request, 5, 65_536, now)?;
    /// let body = chunks.encode_body(b"hello");
    ///
    /// let verified = Verifier::from_credentials([creds]).verify_at(&request, now)?;
    /// let decoded = verified.chunk_verifier().unwrap().decode_body(&body)?;
    /// assert_eq!(decoded.data, b"hello");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn chunk_verifier(&self) -> Option<ChunkVerifier> {
        self.chunks.clone()
    }
}

type Lookup = dyn Fn(&str) -> Option<Secret> + Send + Sync;

/// Verifies signed requests.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use sos_auth::{Credentials, Error, PayloadHash, SigV4Signer, Verifier};
///
/// let creds = Credentials::new("EXOabc", "secret");
/// let now = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
/// let mut request = http::Request::get("http://127.0.0.1:9000/bucket/key").body(())?;
/// SigV4Signer::new(creds.clone(), "ch-gva-2").sign_at(&mut request, PayloadHash::EMPTY, now)?;
///
/// let verifier = Verifier::from_credentials([creds]);
/// assert_eq!(verifier.verify_at(&request, now)?.access_key, "EXOabc");
/// let an_hour_later = now + Duration::from_secs(3600);
/// assert!(matches!(verifier.verify_at(&request, an_hour_later), Err(Error::RequestTimeTooSkewed { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Verifier {
    lookup: Box<Lookup>,
    max_skew: Duration,
    host_base: Option<String>,
    region: Option<String>,
    service: String,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("max_skew", &self.max_skew)
            .field("host_base", &self.host_base)
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier that finds secrets with `lookup(access_key)`.
    pub fn new(lookup: impl Fn(&str) -> Option<Secret> + Send + Sync + 'static) -> Self {
        Self {
            lookup: Box::new(lookup),
            max_skew: Duration::from_secs(15 * 60),
            host_base: None,
            region: None,
            service: "s3".to_owned(),
        }
    }

    /// A verifier that knows these credentials.
    pub fn from_credentials(credentials: impl IntoIterator<Item = Credentials>) -> Self {
        let keys: HashMap<String, Secret> = credentials
            .into_iter()
            .map(|c| (c.access_key().to_owned(), c.secret_key().clone()))
            .collect();
        Self::new(move |ak| keys.get(ak).cloned())
    }

    /// The clock skew tolerated (15 minutes by default, as S3).
    #[must_use]
    pub fn with_max_skew(mut self, skew: Duration) -> Self {
        self.max_skew = skew;
        self
    }

    /// The server's host for virtual-host requests (see [`SigV2Signer::with_host_base`](crate::SigV2Signer::with_host_base)); V2 needs it.
    #[must_use]
    pub fn with_host_base(mut self, host_base: impl Into<String>) -> Self {
        self.host_base = Some(host_base.into());
        self
    }

    /// Accept V4 signatures only for this region (any region by default).
    #[must_use]
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Accept V4 signatures scoped to this service (`s3` by default). S3 refuses a
    /// credential scope naming another service: a signing key is derived per service, so
    /// that one given out for another service cannot sign S3 requests.
    #[must_use]
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// [`verify_at`](Self::verify_at) with the system clock.
    ///
    /// # Errors
    /// As `verify_at`.
    pub fn verify<B>(&self, request: &Request<B>) -> Result<VerifiedRequest> {
        self.verify_at(request, SystemTime::now())
    }

    /// Verifies `request` as of `now`.
    ///
    /// A request carries one signature: one `Authorization` header, or a pre-signed query
    /// (as S3, which answers "Only one auth mechanism allowed" to a request with both), and
    /// each parameter of a pre-signed query once.
    ///
    /// # Errors
    /// [`Error::MissingSignature`], [`Error::MalformedSignature`],
    /// [`Error::UnsupportedAlgorithm`], [`Error::UnknownAccessKey`], [`Error::InvalidScope`],
    /// [`Error::RequestTimeTooSkewed`], [`Error::Expired`], [`Error::HeadersNotSigned`]
    /// (V4: an `x-amz-*` header the signature does not cover) or
    /// [`Error::SignatureMismatch`].
    pub fn verify_at<B>(&self, request: &Request<B>, now: SystemTime) -> Result<VerifiedRequest> {
        let query = request.uri().query().unwrap_or("");
        let mut auths = request
            .headers()
            .get_all(http::header::AUTHORIZATION)
            .iter();
        if let Some(auth) = auths.next() {
            if auths.next().is_some() {
                return Err(Error::MalformedSignature(
                    "more than one Authorization header".to_owned(),
                ));
            }
            if query_has(query, "X-Amz-Algorithm") || query_has(query, "Signature") {
                return Err(Error::MalformedSignature(
                    "an Authorization header and a pre-signed query (X-Amz-Algorithm or \
                     Signature): only one may be given"
                        .to_owned(),
                ));
            }
            let auth = auth
                .to_str()
                .map_err(|_| Error::MalformedSignature("Authorization is not ASCII".to_owned()))?;
            return match auth.split_once(' ') {
                Some((ALGORITHM, rest)) => self.verify_v4_header(request, rest, now),
                Some(("AWS", rest)) => self.verify_v2_header(request, rest, now),
                _ => Err(Error::UnsupportedAlgorithm(
                    auth.split(' ').next().unwrap_or("").to_owned(),
                )),
            };
        }
        let params = QueryParams::parse(query);
        if let Some(algorithm) = params.single("X-Amz-Algorithm")? {
            if algorithm != ALGORITHM {
                return Err(Error::UnsupportedAlgorithm(algorithm.to_owned()));
            }
            return self.verify_v4_query(request, &params, now);
        }
        if params.contains("Signature") && params.contains("AWSAccessKeyId") {
            return self.verify_v2_query(request, &params, now);
        }
        Err(Error::MissingSignature)
    }

    fn secret(&self, access_key: &str) -> Result<Secret> {
        (self.lookup)(access_key).ok_or_else(|| Error::UnknownAccessKey(access_key.to_owned()))
    }

    fn check_skew(&self, signed_at: SystemTime, shown: &str, now: SystemTime) -> Result<()> {
        let skew = match now.duration_since(signed_at) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        if skew > self.max_skew {
            return Err(Error::RequestTimeTooSkewed {
                request_time: shown.to_owned(),
                server_time: AmzDate::new(now).to_string(),
                max_skew_secs: self.max_skew.as_secs(),
            });
        }
        Ok(())
    }

    fn check_scope(&self, scope: &Scope<'_>, date: &AmzDate) -> Result<()> {
        if scope.date != date.date() {
            return Err(Error::InvalidScope(format!(
                "scope date {} is not the request date {}",
                scope.date,
                date.date()
            )));
        }
        if scope.terminator != "aws4_request" {
            return Err(Error::InvalidScope(format!(
                "scope must end with aws4_request, not `{}`",
                scope.terminator
            )));
        }
        if scope.service != self.service {
            return Err(Error::InvalidScope(format!(
                "service `{}` is not `{}`",
                scope.service, self.service
            )));
        }
        if let Some(region) = &self.region
            && scope.region != region
        {
            return Err(Error::InvalidScope(format!(
                "region `{}` is not `{region}`",
                scope.region
            )));
        }
        Ok(())
    }

    fn verify_v4_header<B>(
        &self,
        request: &Request<B>,
        rest: &str,
        now: SystemTime,
    ) -> Result<VerifiedRequest> {
        let (mut credential, mut signed_headers, mut sig) = (None, None, None);
        for part in rest.split(',') {
            let (k, v) = part.trim().split_once('=').ok_or_else(|| {
                Error::MalformedSignature(format!("`{}` is not key=value", part.trim()))
            })?;
            let slot = match k {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut sig,
                _ => continue,
            };
            if slot.replace(v).is_some() {
                return Err(Error::MalformedSignature(format!(
                    "Authorization has {k} more than once"
                )));
            }
        }
        let missing =
            |what: &str| Error::MalformedSignature(format!("Authorization has no {what}"));
        let scope = Scope::parse(credential.ok_or_else(|| missing("Credential"))?)?;
        let signed_headers = signed_headers.ok_or_else(|| missing("SignedHeaders"))?;
        let sig = sig.ok_or_else(|| missing("Signature"))?;
        let headers = request.headers();
        let date_text =
            header_str(headers, "x-amz-date").ok_or_else(|| missing("x-amz-date header"))?;
        let date = AmzDate::parse(date_text).ok_or_else(|| {
            Error::MalformedSignature(format!("x-amz-date `{date_text}` is not YYYYMMDDTHHMMSSZ"))
        })?;
        self.check_scope(&scope, &date)?;
        self.check_skew(date.system_time(), date_text, now)?;
        let payload_text = header_str(headers, "x-amz-content-sha256")
            .ok_or_else(|| missing("x-amz-content-sha256 header"))?;
        let payload = PayloadHash::parse(payload_text).ok_or_else(|| {
            Error::MalformedSignature(format!(
                "x-amz-content-sha256 `{payload_text}` is not a payload hash"
            ))
        })?;
        let key = self.check_v4(
            request,
            &scope,
            signed_headers,
            payload_text,
            &date,
            sig,
            false,
        )?;
        let chunks = match payload {
            PayloadHash::Streaming | PayloadHash::StreamingTrailer => {
                let seed = *sig.as_bytes().first_chunk::<64>().unwrap_or(&[b'0'; 64]);
                let trailer = payload == PayloadHash::StreamingTrailer;
                let signer = ChunkSigner::new(
                    key.mac().clone(),
                    date,
                    scope.region,
                    scope.service,
                    seed,
                    1,
                    None,
                );
                let decoded_length = header_str(headers, "x-amz-decoded-content-length")
                    .and_then(|v| v.trim().parse().ok());
                Some(
                    ChunkVerifier::new(signer, trailer)
                        .announced(header_str(headers, "x-amz-trailer"), decoded_length),
                )
            }
            _ => None,
        };
        Ok(VerifiedRequest {
            access_key: scope.access_key.to_owned(),
            version: SignatureVersion::V4Header,
            region: Some(scope.region.to_owned()),
            signed_at: Some(date.system_time()),
            expires_at: None,
            payload: Some(payload),
            chunks,
        })
    }

    fn verify_v4_query<B>(
        &self,
        request: &Request<B>,
        params: &QueryParams,
        now: SystemTime,
    ) -> Result<VerifiedRequest> {
        let get = |name: &str| {
            params
                .single(name)?
                .ok_or_else(|| Error::MalformedSignature(format!("pre-signed URL has no {name}")))
        };
        // Signed as any other parameter, but said once like the others.
        params.single("X-Amz-Security-Token")?;
        let scope = Scope::parse(get("X-Amz-Credential")?)?;
        let date_text = get("X-Amz-Date")?;
        let date = AmzDate::parse(date_text).ok_or_else(|| {
            Error::MalformedSignature(format!("X-Amz-Date `{date_text}` is not YYYYMMDDTHHMMSSZ"))
        })?;
        let expires: u64 = get("X-Amz-Expires")?
            .parse()
            .map_err(|_| Error::MalformedSignature("X-Amz-Expires is not a number".to_owned()))?;
        // S3: "The minimum value you can set is 1, and the maximum is 604800 (seven days)".
        if expires == 0 || expires > MAX_PRESIGN_EXPIRY.as_secs() {
            return Err(Error::MalformedSignature(format!(
                "X-Amz-Expires {expires} is not between 1 and {}",
                MAX_PRESIGN_EXPIRY.as_secs()
            )));
        }
        self.check_scope(&scope, &date)?;
        let signed_at = date.system_time();
        if signed_at > now {
            self.check_skew(signed_at, date_text, now)?;
        }
        let expires_at = signed_at + Duration::from_secs(expires);
        if now > expires_at {
            return Err(Error::Expired {
                expired_at: AmzDate::new(expires_at).to_string(),
            });
        }
        let payload_text =
            header_str(request.headers(), "x-amz-content-sha256").unwrap_or("UNSIGNED-PAYLOAD");
        let payload = PayloadHash::parse(payload_text);
        self.check_v4(
            request,
            &scope,
            get("X-Amz-SignedHeaders")?,
            payload_text,
            &date,
            get("X-Amz-Signature")?,
            true,
        )?;
        Ok(VerifiedRequest {
            access_key: scope.access_key.to_owned(),
            version: SignatureVersion::V4Query,
            region: Some(scope.region.to_owned()),
            signed_at: Some(signed_at),
            expires_at: Some(expires_at),
            payload,
            chunks: None,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn check_v4<B>(
        &self,
        request: &Request<B>,
        scope: &Scope<'_>,
        signed_headers: &str,
        payload_text: &str,
        date: &AmzDate,
        sig: &str,
        query: bool,
    ) -> Result<SigningKey> {
        let names: Vec<&str> = signed_headers.split(';').collect();
        // As S3 defines it, and as the canonical request writes it: lower-case names, sorted,
        // each once. A list in another order or with repeats is refused rather than
        // reordered: S3 and the RADOS Gateway sign the list as sent, so they refuse it too.
        let well_formed = names
            .iter()
            .all(|n| !n.is_empty() && !n.bytes().any(|b| b.is_ascii_uppercase() || b == b' '))
            && names.windows(2).all(|w| w[0] < w[1]);
        if !well_formed {
            return Err(Error::MalformedSignature(format!(
                "SignedHeaders `{signed_headers}` is not a sorted list of distinct lower-case names"
            )));
        }
        for name in &names {
            let present = request.headers().contains_key(*name)
                || (*name == "host" && request.uri().authority().is_some());
            if !present {
                return Err(Error::MalformedSignature(format!(
                    "signed header `{name}` is not in the request"
                )));
            }
        }
        if !names.contains(&"host") {
            return Err(Error::MalformedSignature(
                "host must be a signed header".to_owned(),
            ));
        }
        // Every `x-amz-*` header must be signed, as S3 requires, except
        // `x-amz-content-sha256`: its value is in the canonical request either way.
        let mut unsigned: Vec<&str> = request
            .headers()
            .keys()
            .map(http::HeaderName::as_str)
            .filter(|n| {
                n.starts_with("x-amz-") && *n != "x-amz-content-sha256" && !names.contains(n)
            })
            .collect();
        if !unsigned.is_empty() {
            unsigned.dedup();
            return Err(Error::HeadersNotSigned(unsigned.join(", ")));
        }
        let secret = self.secret(scope.access_key)?;
        let canonical = CanonicalRequest::new(
            request.method().as_str(),
            UriParts::of(request.uri()),
            request.headers(),
            &[],
            |n| names.contains(&n),
            payload_text.as_bytes(),
        )?;
        let canonical = if query {
            canonical.skipping_query_param("X-Amz-Signature")
        } else {
            canonical
        };
        let key = SigningKey::derive(&secret, scope.date, scope.region, scope.service);
        let string_key = StringToSignKey::new(key.mac().clone());
        let matches = |canonical: &CanonicalRequest<'_>| {
            let hash = canonical_request_hash(canonical, "");
            let expected = signature(&string_key, date, scope.region, scope.service, &hash);
            bool::from(expected.ct_eq(sig.as_bytes()))
        };
        // A host taken from the URI (HTTP/2 has no Host header) is checked as received, then,
        // when it has capitals, in lower case as our signers and botocore sign it.
        let lowers = canonical.lowers_host();
        let either_host = |canonical: &CanonicalRequest<'_>| {
            matches(&canonical.clone().keeping_host_case()) || (lowers && matches(canonical))
        };
        // A repeated query parameter: SigV4 sorts its values; MinIO's clients keep them in
        // the order sent. Both cover every value, so both are accepted.
        if either_host(&canonical)
            || (canonical.has_repeated_query_names()
                && either_host(&canonical.clone().with_values_in_sent_order()))
        {
            Ok(key)
        } else {
            Err(Error::SignatureMismatch)
        }
    }

    fn verify_v2_header<B>(
        &self,
        request: &Request<B>,
        rest: &str,
        now: SystemTime,
    ) -> Result<VerifiedRequest> {
        // `AWS AKID:signature`, one space: the gateway reads `AWS  AKID` as the key ` AKID`.
        let (access_key, sig) = rest.trim_end().rsplit_once(':').ok_or_else(|| {
            Error::MalformedSignature("V2 Authorization is not `AWS access:signature`".to_owned())
        })?;
        let headers = request.headers();
        let shown = header_str(headers, "x-amz-date")
            .or_else(|| header_str(headers, "date"))
            .ok_or_else(|| {
                Error::MalformedSignature("V2 request has neither x-amz-date nor Date".to_owned())
            })?;
        let signed_at = parse_http_date(shown)
            .ok_or_else(|| Error::MalformedSignature(format!("`{shown}` is not an HTTP date")))?;
        self.check_skew(signed_at, shown, now)?;
        let attempt = |uri: &Uri| -> Result<()> {
            let sts = StringToSign::for_headers(
                request.method(),
                UriParts::of(uri),
                headers,
                &[],
                "",
                self.host_base.as_deref(),
            )?;
            let checked = self.check_v2(access_key, &sts.text(), sig);
            if let (Err(Error::SignatureMismatch), Some(amz_date)) =
                (&checked, header_str(headers, "x-amz-date"))
            {
                // The developer guide's own example ("Object DELETE") puts the x-amz-date
                // value on the Date line and leaves it out of the x-amz-* lines, against its
                // stated rule (empty Date line). Clients written from that example sign so;
                // accept it too.
                let alternate = StringToSign::for_headers(
                    request.method(),
                    UriParts::of(uri),
                    headers,
                    &[("x-amz-date", b"")],
                    amz_date,
                    self.host_base.as_deref(),
                )?;
                self.check_v2(access_key, &alternate.text(), sig)
            } else {
                checked
            }
        };
        self.attempt_v2(request, attempt)?;
        Ok(VerifiedRequest {
            access_key: access_key.to_owned(),
            version: SignatureVersion::V2Header,
            region: None,
            signed_at: Some(signed_at),
            expires_at: None,
            payload: None,
            chunks: None,
        })
    }

    fn verify_v2_query<B>(
        &self,
        request: &Request<B>,
        params: &QueryParams,
        now: SystemTime,
    ) -> Result<VerifiedRequest> {
        let get = |name: &str| {
            params
                .single(name)?
                .ok_or_else(|| Error::MalformedSignature(format!("pre-signed URL has no {name}")))
        };
        let expires_text = get("Expires")?;
        let expires: u64 = expires_text
            .parse()
            .map_err(|_| Error::MalformedSignature("Expires is not a number".to_owned()))?;
        let expires_at = UNIX_EPOCH + Duration::from_secs(expires);
        if now > expires_at {
            return Err(Error::Expired {
                expired_at: expires_text.to_owned(),
            });
        }
        let amz = params.amz_headers(request.headers())?;
        let overrides: Vec<(&str, &[u8])> = amz
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        let access_key = get("AWSAccessKeyId")?;
        let sig = get("Signature")?;
        self.attempt_v2(request, |uri| {
            let sts = StringToSign::for_headers(
                request.method(),
                UriParts::of(uri),
                request.headers(),
                &overrides,
                expires_text,
                self.host_base.as_deref(),
            )?;
            self.check_v2(access_key, &sts.text(), sig)
        })?;
        Ok(VerifiedRequest {
            access_key: access_key.to_owned(),
            version: SignatureVersion::V2Query,
            region: None,
            signed_at: None,
            expires_at: Some(expires_at),
            payload: None,
            chunks: None,
        })
    }

    /// Runs `attempt` on the request's URI and, when the signature does not match a
    /// path-style request for a bucket alone (`/bucket?acl`), once more with a trailing slash
    /// (`/bucket/?acl`): botocore (the `aws` CLI, boto3) signs bucket requests so, and S3
    /// accepts both.
    fn attempt_v2<B>(
        &self,
        request: &Request<B>,
        attempt: impl Fn(&Uri) -> Result<()>,
    ) -> Result<()> {
        let uri = request.uri();
        match attempt(uri) {
            Err(Error::SignatureMismatch) => {
                match self.bucket_path_with_slash(uri, request.headers()) {
                    Some(alternate) => attempt(&alternate),
                    None => Err(Error::SignatureMismatch),
                }
            }
            other => other,
        }
    }

    /// `/bucket` → `/bucket/` for a path-style request naming only a bucket.
    fn bucket_path_with_slash(&self, uri: &Uri, headers: &HeaderMap) -> Option<Uri> {
        let path = uri.path();
        let bucket = path.strip_prefix('/')?;
        if bucket.is_empty() || bucket.contains('/') {
            return None;
        }
        let host = header_str(headers, "host").or_else(|| uri.authority().map(|a| a.as_str()));
        if let (Some(host), Some(base)) = (host, self.host_base.as_deref())
            && bucket_from_host(host, base).is_some()
        {
            return None; // virtual-host: the path is a key
        }
        let path_and_query = match uri.query() {
            Some(query) => format!("{path}/?{query}"),
            None => format!("{path}/"),
        };
        let mut parts = uri.clone().into_parts();
        parts.path_and_query = Some(path_and_query.parse().ok()?);
        Uri::from_parts(parts).ok()
    }

    fn check_v2(&self, access_key: &str, string_to_sign: &str, sig: &str) -> Result<()> {
        let secret = self.secret(access_key)?;
        let expected = sign_v2(secret.expose_secret(), string_to_sign);
        if bool::from(expected.as_bytes().ct_eq(sig.as_bytes())) {
            Ok(())
        } else {
            Err(Error::SignatureMismatch)
        }
    }
}

struct Scope<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
}

impl<'a> Scope<'a> {
    /// `AK/YYYYMMDD/region/service/aws4_request`; the access key may itself hold `/`.
    fn parse(credential: &'a str) -> Result<Self> {
        let mut parts = credential.rsplitn(5, '/');
        let (Some(terminator), Some(service), Some(region), Some(date), Some(access_key)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(Error::MalformedSignature(format!(
                "credential `{}/...` is not AK/DATE/REGION/SERVICE/aws4_request",
                credential.split('/').next().unwrap_or("")
            )));
        };
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) || access_key.is_empty() {
            return Err(Error::MalformedSignature(
                "malformed credential scope".to_owned(),
            ));
        }
        Ok(Self {
            access_key,
            date,
            region,
            service,
            terminator,
        })
    }
}

/// An HTTP date; also the RFC 2822 `+0000` zone that older clients (and the AWS examples)
/// write instead of `GMT`, and SigV4's `YYYYMMDDTHHMMSSZ`, which the RADOS Gateway and s3s
/// take in a V2 `x-amz-date`.
fn parse_http_date(text: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(text)
        .ok()
        .or_else(|| {
            let gmt = text.strip_suffix("+0000")?;
            httpdate::parse_http_date(&format!("{gmt}GMT")).ok()
        })
        .or_else(|| AmzDate::parse(text).map(|d| d.system_time()))
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the query has a parameter named `name` (decoded), without decoding the others.
fn query_has(query: &str, name: &str) -> bool {
    query.split('&').any(|pair| {
        let k = pair.split_once('=').map_or(pair, |(k, _)| k);
        if k.bytes().any(|b| b == b'%' || b == b'+') {
            percent_decode(k, Component::Query) == name.as_bytes()
        } else {
            k == name
        }
    })
}

/// The decoded parameters of a query, in the order sent.
struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    fn parse(query: &str) -> Self {
        let decode =
            |s: &str| String::from_utf8_lossy(&percent_decode(s, Component::Query)).into_owned();
        Self(
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The value of a parameter that says how to verify: it must be given at most once (S3
    /// compatible stores refuse a repeated `X-Amz-Signature`; which of two values a server
    /// would use is anyone's guess).
    fn single(&self, name: &str) -> Result<Option<&str>> {
        let mut values = self.0.iter().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(Error::MalformedSignature(format!(
                "query parameter {name} is given more than once"
            )));
        }
        Ok(first)
    }

    /// The `x-amz-*` values of a V2 pre-signed URL: its `x-amz-*` query parameters count as
    /// headers of that name (botocore moves the headers it signed there, and the RADOS
    /// Gateway signs `x-amz-meta-*` and `x-amz-security-token` from the query). A name both
    /// sent as a header and in the query has both values, header first, so that a signature
    /// over one of them does not cover the other. A control character (which no header
    /// value holds) is refused: a decoded line break would write lines of its own into the
    /// string to sign.
    fn amz_headers(&self, headers: &HeaderMap) -> Result<Vec<(String, String)>> {
        let mut amz: Vec<(String, String)> = Vec::new();
        for (k, v) in &self.0 {
            let name = k.to_ascii_lowercase();
            if !name.starts_with("x-amz-") {
                continue;
            }
            if name.chars().chain(v.chars()).any(char::is_control) {
                return Err(Error::MalformedSignature(format!(
                    "query parameter {name} holds a control character"
                )));
            }
            if let Some((_, value)) = amz.iter_mut().find(|(n, _)| *n == name) {
                value.push(',');
                value.push_str(v.trim());
                continue;
            }
            let mut value = String::new();
            for h in headers.get_all(name.as_str()) {
                value.push_str(String::from_utf8_lossy(h.as_bytes()).trim());
                value.push(',');
            }
            value.push_str(v.trim());
            amz.push((name, value));
        }
        Ok(amz)
    }
}
