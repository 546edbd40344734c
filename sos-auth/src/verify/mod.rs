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
            if params.contains("Signature") {
                return Err(Error::MalformedSignature(
                    "a V4 pre-signed query (X-Amz-Algorithm) and a V2 one (Signature): only \
                     one may be given"
                        .to_owned(),
                ));
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
        // The SigV4 rule: lower-case names, sorted, each once; anything else is refused, not
        // reordered. (The RADOS Gateway is laxer: it sorts and de-duplicates the canonical
        // headers itself and signs the list as sent, so it accepts such a list signed as
        // sent; Garage refuses it.)
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
        // Sorted (checked above): looked up by bisection, so that a request with thousands of
        // signed headers costs no more than sorting them (a scan per header was quadratic).
        let signed = |name: &str| names.binary_search(&name).is_ok();
        if !signed("host") {
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
            .filter(|n| n.starts_with("x-amz-") && *n != "x-amz-content-sha256" && !signed(n))
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
            signed,
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
        // Seconds since 1970, any number of them in S3; past what the clock can hold
        // (`u64::MAX`) is no time at all (adding it panicked).
        let expires_at = UNIX_EPOCH
            .checked_add(Duration::from_secs(expires))
            .ok_or_else(|| Error::MalformedSignature("Expires is not a time".to_owned()))?;
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

/// Hostile requests: `Authorization` headers, pre-signed queries, dates and `aws-chunked`
/// bodies put together from their parts with hostile values, and valid ones damaged.
#[cfg(test)]
mod hostile {
    use proptest::prelude::*;
    use proptest::sample::Index;

    use super::*;
    use crate::{SigV4Signer, TrailingChecksum};

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_767_323_045) // 20260102T030405Z
    }

    fn creds() -> Credentials {
        Credentials::new("AKID", "secret")
    }

    fn verifier() -> Verifier {
        Verifier::from_credentials([creds()]).with_host_base("s3.localhost")
    }

    const DATES: &[&str] = &[
        "20260102T030405Z",
        "20260102T030406Z",
        "20260230T000000Z",
        "20261301T000000Z",
        "20260102T250000Z",
        "20260102T235960Z",
        "00000101T000000Z",
        "99991231T235959Z",
        "19691231T235959Z",
        "2026010T030405Z",
        "+0260102T030405Z",
        "20260102 030405Z",
        "Fri, 02 Jan 2026 03:04:05 GMT",
        "Fri, 02 Jan 2026 03:04:05 +0000",
        "Sun, 31 Feb 2026 25:61:61 GMT",
        "",
    ];

    const NUMBERS: &[&str] = &[
        "0",
        "1",
        "604800",
        "604801",
        "1767323045",
        "1767326645",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "-1",
        "+5",
        "%2B5",
        " 5",
        "",
    ];

    fn scope() -> impl Strategy<Value = String> {
        let part = |options: &'static [&'static str]| prop::sample::select(options);
        (
            part(&["AKID", "", "AK/ID", "UNKNOWN"]),
            part(&["20260102", "20260103", "2026010", "2026O102", ""]),
            part(&["us-east-1", "", "ch-gva-2"]),
            part(&["s3", "iam", ""]),
            part(&["aws4_request", "aws4_request/", ""]),
            0usize..5,
        )
            .prop_map(|(ak, date, region, service, end, keep)| {
                [ak, date, region, service, end][..=keep].join("/")
            })
    }

    fn signed_headers() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(
                &[
                    "host",
                    "x-amz-date",
                    "x-amz-content-sha256",
                    "x-amz-meta-a",
                    "content-type",
                    "Host",
                    "",
                    "a b",
                    "x-amz-missing",
                ][..],
            ),
            0..6,
        )
        .prop_map(|names| names.join(";"))
    }

    /// `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`, its parts
    /// repeated, left out, reordered, with stray commas; or a V2 `AWS AK:SIG`.
    fn authorization() -> impl Strategy<Value = String> {
        let part = prop_oneof![
            scope().prop_map(|s| format!("Credential={s}")),
            signed_headers().prop_map(|s| format!("SignedHeaders={s}")),
            "[0-9a-f]{0,70}".prop_map(|s| format!("Signature={s}")),
            prop::sample::select(&["Other=x", "novalue", "=", "Signature", ""][..])
                .prop_map(str::to_owned),
        ];
        let v4 = (
            prop::sample::select(
                &["AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256  ", "AWS4-HMAC-SHA1 "][..],
            ),
            prop::collection::vec(part, 0..6),
            prop::sample::select(&[",", ", ", " ,", ",,"][..]),
        )
            .prop_map(|(algorithm, parts, sep)| format!("{algorithm}{}", parts.join(sep)));
        let v2 = (
            prop::sample::select(&["AWS ", "AWS  ", "AWS"][..]),
            "[A-Z:]{0,6}",
            "[A-Za-z0-9+/=:]{0,30}",
        )
            .prop_map(|(a, ak, sig)| format!("{a}{ak}:{sig}"));
        prop_oneof![3 => v4, 1 => v2, 1 => "[ -~]{0,60}"]
    }

    /// A pre-signed query: complete V4 or V2 ones with hostile values, or any parameters,
    /// repeated, left out, in any order.
    fn query() -> impl Strategy<Value = String> {
        let algorithm = prop::sample::select(&["AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", ""][..])
            .prop_map(|v| format!("X-Amz-Algorithm={v}"));
        let credential = scope()
            .prop_map(|s| format!("X-Amz-Credential={}", s.replace('/', "%2F")))
            .boxed();
        let date = prop::sample::select(DATES)
            .prop_map(|d| format!("X-Amz-Date={}", d.replace(' ', "%20")));
        let expires = prop::sample::select(NUMBERS)
            .prop_map(|n| format!("X-Amz-Expires={}", n.replace(' ', "%20")));
        let signed = signed_headers()
            .prop_map(|s| format!("X-Amz-SignedHeaders={}", s.replace(' ', "%20")))
            .boxed();
        let signature = "[0-9a-f]{0,64}".prop_map(|s| format!("X-Amz-Signature={s}"));
        let v2_expires = prop::sample::select(NUMBERS)
            .prop_map(|n| format!("Expires={}", n.replace(' ', "%20")));
        let v2_signature = "[A-Za-z0-9%+]{0,30}".prop_map(|s| format!("Signature={s}"));
        let other = prop::sample::select(
            &[
                "X-Amz-Security-Token=t",
                "AWSAccessKeyId=AKID",
                "AWSAccessKeyId=",
                "x-amz-meta-a=%0A",
                "x-amz-acl=private",
                "acl",
                "%",
                "%zz=%",
                "&&",
            ][..],
        )
        .prop_map(str::to_owned);
        let v4 = (
            algorithm.clone(),
            credential.clone(),
            date.clone(),
            expires.clone(),
            signed.clone(),
            signature.clone(),
        )
            .prop_map(|p| [p.0, p.1, p.2, p.3, p.4, p.5].join("&"));
        let v2 = (
            v2_expires.clone(),
            v2_signature.clone(),
            prop::option::of(other.clone()),
        )
            .prop_map(|(e, s, o)| {
                let mut params = vec!["AWSAccessKeyId=AKID".to_owned(), e, s];
                params.extend(o);
                params.join("&")
            });
        let param = prop_oneof![
            algorithm,
            credential,
            date,
            expires,
            signed,
            signature,
            v2_expires,
            v2_signature,
            other,
        ];
        let any = prop::collection::vec(param, 0..9).prop_map(|params| params.join("&"));
        prop_oneof![v4, v2, any]
    }

    proptest! {
        /// Whatever the request says, the verifier answers with a value or an error; a made up
        /// signature is never a valid one.
        #[test]
        fn hostile_requests_get_an_answer(
            auth in prop::option::of(authorization()),
            query in query(),
            amz_date in prop::option::of(prop::sample::select(DATES)),
            date in prop::option::of(prop::sample::select(DATES)),
            payload in prop::option::of(prop::sample::select(&[
                "UNSIGNED-PAYLOAD",
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "E3B0",
                "",
            ][..])),
            host in prop::sample::select(&["b.s3.localhost", "s3.localhost", "127.0.0.1:9000", ""][..]),
        ) {
            let uri = format!("http://{}/b/k?{query}", if host.is_empty() { "h" } else { host });
            let Ok(uri) = uri.parse::<Uri>() else { return Ok(()) };
            let mut builder = Request::get(uri);
            let headers = [
                ("authorization", auth.as_deref()),
                ("x-amz-date", amz_date),
                ("date", date),
                ("x-amz-content-sha256", payload),
                ("host", Some(host).filter(|h| !h.is_empty())),
                ("x-amz-decoded-content-length", Some("5")),
            ];
            for (name, value) in headers {
                if let Some(value) = value.and_then(|v| http::HeaderValue::from_str(v).ok()) {
                    builder = builder.header(name, value);
                }
            }
            let request = builder.body(()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let verified = verifier().verify_at(&request, now());
            prop_assert!(verified.is_err(), "{:?}", verified.map(|v| v.access_key));
        }
    }

    /// A signed streaming upload: the request, and its body framed in chunks.
    fn streaming(trailer: bool) -> (Request<()>, Vec<u8>) {
        let mut request = Request::put("http://127.0.0.1:9000/b/k").body(()).unwrap();
        let signer = SigV4Signer::new(creds(), "us-east-1");
        let body = if trailer {
            signer
                .sign_streaming_with_trailer_at(&mut request, 11, 4, TrailingChecksum::Crc32, now())
                .unwrap()
                .encode_body_with_trailer(b"hello world", "DUoRhQ==")
                .unwrap()
        } else {
            signer
                .sign_streaming_at(&mut request, 11, 4, now())
                .unwrap()
                .encode_body(b"hello world")
        };
        (request, body)
    }

    #[derive(Debug, Clone)]
    enum Edit {
        Cut(Index),
        Delete(Index, usize),
        Insert(Index, &'static str),
        Repeat(Index, Index),
        Byte(Index, u8),
    }

    const PIECES: &[&str] = &[
        "\r\n",
        ";chunk-signature=",
        "10000000000000000",
        "FFFFFFFFFFFFFFFF",
        "7FFFFFFFFFFFFFFF",
        "+5",
        " 5",
        "-1",
        "0x5",
        "0",
        "g",
        "x-amz-trailer-signature:",
        "x-amz-checksum-crc32:",
        ":",
        "\r",
        "\n",
    ];

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            1 => any::<Index>().prop_map(Edit::Cut),
            1 => (any::<Index>(), 1usize..20).prop_map(|(i, n)| Edit::Delete(i, n)),
            3 => (any::<Index>(), prop::sample::select(PIECES)).prop_map(|(i, p)| Edit::Insert(i, p)),
            1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Repeat(a, b)),
            1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Byte(i, b)),
        ]
    }

    fn apply(body: &mut Vec<u8>, edit: &Edit) {
        let len = body.len();
        match edit {
            Edit::Cut(i) => body.truncate(i.index(len + 1)),
            Edit::Delete(i, n) => {
                let at = i.index(len + 1);
                body.drain(at..(at + n).min(len));
            }
            Edit::Insert(i, piece) => {
                let at = i.index(len + 1);
                body.splice(at..at, piece.bytes());
            }
            Edit::Repeat(a, b) => {
                let (a, b) = (a.index(len + 1), b.index(len + 1));
                let copy = body[a.min(b)..a.max(b)].to_vec();
                body.splice(a.max(b)..a.max(b), copy);
            }
            Edit::Byte(i, b) if len > 0 => body[i.index(len)] = *b,
            Edit::Byte(..) => {}
        }
    }

    proptest! {
        /// A damaged `aws-chunked` body is an error, or (an edit that changes nothing that is
        /// signed, like a leading zero in a size) the same data: never other data, never a
        /// panic.
        #[test]
        fn damaged_chunked_bodies_are_refused(
            trailer in any::<bool>(),
            edits in prop::collection::vec(edit(), 1..4),
        ) {
            let (request, mut body) = streaming(trailer);
            for e in &edits {
                apply(&mut body, e);
            }
            let verified = verifier().verify_at(&request, now()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut chunks = verified.chunk_verifier().ok_or_else(|| TestCaseError::fail("no chunks"))?;
            if let Ok(decoded) = chunks.decode_body(&body) {
                prop_assert_eq!(decoded.data, b"hello world");
            }
        }
    }

    #[test]
    fn valid_chunked_bodies_decode() {
        for trailer in [false, true] {
            let (request, body) = streaming(trailer);
            let verified = verifier().verify_at(&request, now()).unwrap();
            let decoded = verified
                .chunk_verifier()
                .unwrap()
                .decode_body(&body)
                .unwrap();
            assert_eq!(decoded.data, b"hello world");
        }
    }

    #[test]
    fn an_expires_past_what_the_clock_holds_is_an_error() {
        // `UNIX_EPOCH + u64::MAX seconds` panicked.
        for expires in ["18446744073709551615", "9223372036854775808"] {
            let uri = format!("http://h/b/k?AWSAccessKeyId=AKID&Signature=x&Expires={expires}");
            let request = Request::get(uri).body(()).unwrap();
            let err = verifier().verify_at(&request, now()).unwrap_err();
            assert!(
                matches!(&err, Error::MalformedSignature(m) if m.contains("Expires")),
                "{expires}: {err}"
            );
        }
        // Far in the future but a time: on to the signature.
        let request =
            Request::get("http://h/b/k?AWSAccessKeyId=AKID&Signature=x&Expires=9223372036")
                .body(())
                .unwrap();
        assert!(matches!(
            verifier().verify_at(&request, now()),
            Err(Error::SignatureMismatch)
        ));
    }

    #[test]
    fn huge_headers_are_read_in_linear_time() {
        let started = std::time::Instant::now();
        // 20 000 signed headers: every one of them was looked for in the list of names.
        let mut names: Vec<String> = (0..20_000).map(|i| format!("x-amz-h{i:05}")).collect();
        names.extend(["host".to_owned(), "x-amz-date".to_owned()]);
        names.sort();
        let mut builder = Request::get("http://h/b/k")
            .header("x-amz-date", "20260102T030405Z")
            .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
        for name in names.iter().filter(|n| n.starts_with("x-amz-h")) {
            builder = builder.header(name.as_str(), "v");
        }
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=AKID/20260102/us-east-1/s3/aws4_request, \
             SignedHeaders={}, Signature=00",
            names.join(";")
        );
        let request = builder.header("authorization", auth).body(()).unwrap();
        assert!(matches!(
            verifier().verify_at(&request, now()),
            Err(Error::SignatureMismatch)
        ));
        // 64 KiB of commas, of `a=b` parts, of one value.
        for auth in [
            format!("AWS4-HMAC-SHA256 {}", ",".repeat(65_536)),
            format!("AWS4-HMAC-SHA256 {}", "a=b,".repeat(16_384)),
            format!("AWS4-HMAC-SHA256 Credential={}", "a/".repeat(32_768)),
            format!("AWS {}:{}", "A".repeat(32_768), "s".repeat(32_768)),
        ] {
            let request = Request::get("http://h/b/k")
                .header("authorization", auth)
                .header("x-amz-date", "20260102T030405Z")
                .body(())
                .unwrap();
            assert!(verifier().verify_at(&request, now()).is_err());
        }
        // Chunk-size lines of 1 MiB, and sizes past u64.
        let (request, _) = streaming(false);
        let mut chunks = verifier()
            .verify_at(&request, now())
            .unwrap()
            .chunk_verifier()
            .unwrap();
        for body in [
            format!("{};chunk-signature=x\r\n", "1".repeat(1 << 20)),
            format!("5;chunk-signature={}\r\n", "0".repeat(1 << 20)),
            "10000000000000000;chunk-signature=x\r\n".to_owned(),
            "FFFFFFFFFFFFFFFF;chunk-signature=x\r\n".to_owned(),
            "1".repeat(1 << 20),
        ] {
            assert!(matches!(
                chunks.clone().decode_body(body.as_bytes()),
                Err(Error::MalformedSignature(_) | Error::SignatureMismatch)
            ));
        }
        chunks.decode_body(b"").unwrap_err();
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    }
}
