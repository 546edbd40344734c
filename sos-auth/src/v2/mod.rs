//! AWS Signature Version 2 (`AWS access:signature`, HMAC-SHA1), header and query forms.
//!
//! SOS's first S3 front end accepted only V2 (the s3cmd quick start's `signature_v2 = True`)
//! and many S3-compatible stores still do. The string to sign is:
//!
//! ```text
//! METHOD \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders CanonicalizedResource
//! ```
//! - `Date` is empty when `x-amz-date` is sent (this signer always sends it, as s3cmd does;
//!   the AWS developer guide says so, even though botocore writes both);
//! - `CanonicalizedAmzHeaders`: every `x-amz-*` header, lower-cased, sorted, `name:value\n`,
//!   values trimmed, several values joined with `,`;
//! - `CanonicalizedResource`: `/bucket` when the bucket is in the host name, then the path as
//!   sent, then the S3 sub-resources present in the query (decoded, sorted).

mod string_to_sign;

pub(crate) use string_to_sign::{StringToSign, bucket_from_host};

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Uri};
use sha1::Sha1;

use crate::encoding::{base64, encode_raw};
use crate::time::http_date;
use crate::uri_parts::UriParts;
use crate::{Credentials, Error, Result};

const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");

/// Signs S3 requests with Signature Version 2.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use sos_auth::{Credentials, SigV2Signer};
///
/// let signer = SigV2Signer::new(Credentials::new("EXOabc", "secret")).with_host_base("sos.exo.io");
/// let mut request = http::Request::get("https://my-new-bucket.sos.exo.io/picture.jpg").body(())?;
/// signer.sign_at(&mut request, UNIX_EPOCH + Duration::from_secs(1_767_323_045))?;
/// assert!(request.headers()["authorization"].to_str()?.starts_with("AWS EXOabc:"));
/// // The bucket came from the host name:
/// let sts = signer.string_to_sign_at(&request, UNIX_EPOCH)?;
/// assert!(sts.ends_with("\n/my-new-bucket/picture.jpg"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct SigV2Signer {
    credentials: Arc<Credentials>,
    host_base: Option<Arc<str>>,
}

impl SigV2Signer {
    /// A V2 signer that treats every request as path-style.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials: Arc::new(credentials),
            host_base: None,
        }
    }

    /// The endpoint's host (s3cmd's `host_base`, e.g. `sos.exo.io` or `s3.localhost:7480`):
    /// a request to `BUCKET.host_base` is virtual-host style, and its canonical resource
    /// starts with `/BUCKET`.
    #[must_use]
    pub fn with_host_base(mut self, host_base: impl Into<String>) -> Self {
        self.host_base = Some(host_base.into().into());
        self
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// [`sign_at`](Self::sign_at) with the system clock.
    ///
    /// # Errors
    /// As `sign_at`.
    pub fn sign<B>(&self, request: &mut Request<B>) -> Result<()> {
        self.sign_at(request, SystemTime::now())
    }

    /// Signs `request` in place: sets `x-amz-date`, `x-amz-security-token` (with a session
    /// token) and `authorization: AWS ACCESS:SIGNATURE`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the access key or token is not a valid header value.
    pub fn sign_at<B>(&self, request: &mut Request<B>, time: SystemTime) -> Result<()> {
        let date = HeaderValue::try_from(http_date(time))
            .map_err(|_| Error::InvalidRequest("unrepresentable date".to_owned()))?;
        let token = self.token_value()?;
        let sts = StringToSign::for_headers(
            request.method(),
            UriParts::of(request.uri()),
            request.headers(),
            &[
                ("x-amz-date", date.as_bytes()),
                (
                    "x-amz-security-token",
                    token.as_ref().map_or(&b""[..], HeaderValue::as_bytes),
                ),
            ],
            "",
            self.host_base.as_deref(),
        )?;
        let signature = self.signature(&sts.text());
        let access_key = self.credentials.access_key();
        let mut auth = String::with_capacity(5 + access_key.len() + signature.len());
        auth.push_str("AWS ");
        auth.push_str(access_key);
        auth.push(':');
        auth.push_str(&signature);
        let auth = HeaderValue::try_from(auth).map_err(|_| {
            Error::InvalidRequest("the access key is not a valid header value".to_owned())
        })?;
        let headers = request.headers_mut();
        headers.insert(X_AMZ_DATE, date);
        if let Some(token) = token {
            headers.insert(X_AMZ_SECURITY_TOKEN, token);
        }
        headers.insert(AUTHORIZATION, auth);
        Ok(())
    }

    /// The string to sign of a header-signed request (a debugging aid).
    ///
    /// # Errors
    /// As [`sign_at`](Self::sign_at).
    pub fn string_to_sign_at<B>(&self, request: &Request<B>, time: SystemTime) -> Result<String> {
        let date = http_date(time);
        let token = self
            .credentials
            .session_token()
            .map(|t| t.expose_secret().as_bytes());
        let mut overrides = vec![("x-amz-date", date.as_bytes())];
        overrides.extend(token.map(|t| ("x-amz-security-token", t)));
        Ok(StringToSign::for_headers(
            request.method(),
            UriParts::of(request.uri()),
            request.headers(),
            &overrides,
            "",
            self.host_base.as_deref(),
        )?
        .text())
    }

    /// A pre-signed URL valid for `expires_in` from now.
    ///
    /// # Errors
    /// As [`presign_at`](Self::presign_at).
    pub fn presign(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        expires_in: Duration,
    ) -> Result<String> {
        self.presign_at(method, uri, headers, SystemTime::now() + expires_in)
    }

    /// A pre-signed URL (query form) valid until `expires`: `uri` with `AWSAccessKeyId`,
    /// `Expires` (Unix seconds) and `Signature` appended (and `x-amz-security-token` with a
    /// session token), as text.
    ///
    /// `headers` are signed too (`Content-Type`, `Content-MD5`, `x-amz-*`): whoever uses the
    /// URL must send them with these values.
    ///
    /// # Errors
    /// [`Error::InvalidExpiry`] for an expiry before 1970; [`Error::InvalidRequest`] for a URI
    /// without a host.
    pub fn presign_at(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        expires: SystemTime,
    ) -> Result<String> {
        self.presign_parts(method, UriParts::of(uri), headers, expires)
    }

    /// [`presign_at`](Self::presign_at) for a URL in text (`https://host/path?query`): no
    /// `http::Uri` is built.
    ///
    /// # Errors
    /// As `presign_at`; [`Error::InvalidRequest`] also for text that is not an absolute URL
    /// of visible ASCII characters (percent-encode the rest) or that has a `#fragment`.
    pub fn presign_url_at(
        &self,
        method: &Method,
        url: &str,
        headers: &HeaderMap,
        expires: SystemTime,
    ) -> Result<String> {
        self.presign_parts(method, UriParts::parse_absolute(url)?, headers, expires)
    }

    fn presign_parts(
        &self,
        method: &Method,
        uri: UriParts<'_>,
        headers: &HeaderMap,
        expires: SystemTime,
    ) -> Result<String> {
        let expires = expires
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::InvalidExpiry {
                seconds: 0,
                min: 1,
                max: u64::MAX,
            })?
            .as_secs();
        let mut buf = [0u8; 20];
        let expires_text = std::str::from_utf8(crate::v4::itoa(expires, &mut buf)).unwrap_or("0");
        let token = self
            .credentials
            .session_token()
            .map(|t| t.expose_secret().as_bytes());
        let mut overrides = Vec::with_capacity(1);
        overrides.extend(token.map(|t| ("x-amz-security-token", t)));
        let sts = StringToSign::for_headers(
            method,
            uri,
            headers,
            &overrides,
            expires_text,
            self.host_base.as_deref(),
        )?;
        let signature = self.signature(&sts.text());

        let authority = uri.authority().ok_or_else(|| {
            Error::InvalidRequest("a pre-signed URL needs an absolute URI".to_owned())
        })?;
        let query = uri.query();
        let mut url = String::with_capacity(uri.path().len() + query.len() + 160);
        url.push_str(uri.scheme());
        url.push_str("://");
        url.push_str(authority);
        url.push_str(uri.path_or_root());
        url.push('?');
        url.push_str(query);
        if !query.is_empty() {
            url.push('&');
        }
        let mut push = |p: &[u8]| url.push_str(std::str::from_utf8(p).unwrap_or_default());
        push(b"AWSAccessKeyId=");
        encode_raw(self.credentials.access_key().as_bytes(), &mut push);
        push(b"&Expires=");
        push(expires_text.as_bytes());
        if let Some(token) = token {
            push(b"&x-amz-security-token=");
            encode_raw(token, &mut push);
        }
        push(b"&Signature=");
        encode_raw(signature.as_bytes(), &mut push);
        Ok(url)
    }

    /// `base64(HMAC-SHA1(secret, message))`: the V2 signature of any string to sign (browser
    /// POST uploads sign their base64 policy document this way).
    pub fn sign_string(&self, message: &str) -> String {
        self.signature(message)
    }

    /// `base64(HMAC-SHA1(secret, string_to_sign))`.
    pub(crate) fn signature(&self, string_to_sign: &str) -> String {
        sign_v2(
            self.credentials.secret_key().expose_secret(),
            string_to_sign,
        )
    }

    fn token_value(&self) -> Result<Option<HeaderValue>> {
        self.credentials
            .session_token()
            .map(|t| HeaderValue::from_str(t.expose_secret()))
            .transpose()
            .map_err(|_| {
                Error::InvalidRequest("the session token is not a valid header value".to_owned())
            })
    }
}

/// `base64(HMAC-SHA1(secret, string_to_sign))`.
pub(crate) fn sign_v2(secret: &str, string_to_sign: &str) -> String {
    let mut mac = match Hmac::<Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(string_to_sign.as_bytes());
    base64(&mac.finalize().into_bytes())
}
