//! Pre-signed URLs for any method.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use sos_auth::{Credentials, MAX_PRESIGN_EXPIRY, SigV2Signer, SigV4Signer};

use crate::key::{check_key, check_new_key};
use crate::percent::{is_unreserved, push_escaped};
use crate::{Endpoint, Error, Result};

/// Which signature a URL carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureVersion {
    /// AWS Signature Version 4 (`X-Amz-*` parameters; expiry 1 s ..= 7 days).
    #[default]
    V4,
    /// AWS Signature Version 2 (`AWSAccessKeyId`, `Expires`, `Signature`).
    V2,
}

/// Holds credentials and an endpoint, and pre-signs requests. Derived keys are cached, so a
/// backend signs many thousands of URLs a second; clones share the cache.
///
/// ```
/// use std::time::Duration;
/// use sos_auth::Credentials;
/// use sos_presign::{Endpoint, Presigner, Zone};
///
/// let presigner = Presigner::new(Credentials::new("EXOabc", "secret"), Endpoint::zone(Zone::ChGva2));
/// let url = presigner
///     .get_object("invoices", "2026/Rechnung März.pdf")
///     .expires_in(Duration::from_secs(300))
///     .attachment("Rechnung März.pdf")
///     .sign()?;
/// assert!(url.url.starts_with("https://sos-ch-gva-2.exo.io/invoices/2026/Rechnung%20M%C3%A4rz.pdf?"));
/// assert!(url.url.contains("response-content-disposition="));
/// # Ok::<(), sos_presign::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Presigner {
    endpoint: Endpoint,
    v4: SigV4Signer,
    v2: SigV2Signer,
    version: SignatureVersion,
}

impl Presigner {
    /// A V4 pre-signer for `endpoint`.
    pub fn new(credentials: Credentials, endpoint: Endpoint) -> Self {
        Self {
            v4: SigV4Signer::new(credentials.clone(), endpoint.region()),
            v2: SigV2Signer::new(credentials).with_host_base(endpoint.host()),
            endpoint,
            version: SignatureVersion::V4,
        }
    }

    /// Signs with this version.
    #[must_use]
    pub fn with_signature_version(mut self, version: SignatureVersion) -> Self {
        self.version = version;
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The V4 signer (shares its key cache with this pre-signer).
    pub fn v4_signer(&self) -> &SigV4Signer {
        &self.v4
    }

    /// The V2 signer.
    pub fn v2_signer(&self) -> &SigV2Signer {
        &self.v2
    }

    /// The signature version used.
    pub fn signature_version(&self) -> SignatureVersion {
        self.version
    }

    /// A download URL ([GetObject](https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html)).
    pub fn get_object<'a>(&'a self, bucket: &'a str, key: &'a str) -> PresignRequest<'a> {
        self.request(Method::GET, bucket, key)
    }

    /// An upload URL ([PutObject](https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html)).
    pub fn put_object<'a>(&'a self, bucket: &'a str, key: &'a str) -> PresignRequest<'a> {
        self.request(Method::PUT, bucket, key)
    }

    /// A HEAD URL (metadata without the body).
    pub fn head_object<'a>(&'a self, bucket: &'a str, key: &'a str) -> PresignRequest<'a> {
        self.request(Method::HEAD, bucket, key)
    }

    /// A DELETE URL.
    pub fn delete_object<'a>(&'a self, bucket: &'a str, key: &'a str) -> PresignRequest<'a> {
        self.request(Method::DELETE, bucket, key)
    }

    /// A URL that uploads one part of a multipart upload
    /// ([UploadPart](https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html)), so a
    /// browser can send a big file in parts. `part_number` is 1 ..= 10000.
    pub fn upload_part<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        upload_id: &str,
        part_number: u16,
    ) -> PresignRequest<'a> {
        let mut req = self.request(Method::PUT, bucket, key);
        if !(1..=10_000).contains(&part_number) {
            req.error = Some(Error::InvalidKey("part number must be 1 to 10000"));
        }
        req.query
            .push(("partNumber".to_owned(), part_number.to_string()));
        req.query
            .push(("uploadId".to_owned(), upload_id.to_owned()));
        req
    }

    /// A URL for any method on an object (or on the bucket when `key` is empty).
    pub fn request<'a>(
        &'a self,
        method: Method,
        bucket: &'a str,
        key: &'a str,
    ) -> PresignRequest<'a> {
        PresignRequest {
            presigner: self,
            method,
            bucket,
            key,
            query: Vec::new(),
            headers: HeaderMap::new(),
            expiry: Expiry::In(Duration::from_secs(3600)),
            error: None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Expiry {
    In(Duration),
    At(SystemTime),
}

/// A pre-signed request being built. Ends with [`sign`](Self::sign).
#[derive(Debug)]
#[must_use = "a request does nothing until it is signed"]
pub struct PresignRequest<'a> {
    presigner: &'a Presigner,
    method: Method,
    bucket: &'a str,
    key: &'a str,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    expiry: Expiry,
    error: Option<Error>,
}

impl PresignRequest<'_> {
    /// Valid for this long from signing (default one hour; V4 allows 1 s ..= 7 days).
    pub fn expires_in(mut self, duration: Duration) -> Self {
        self.expiry = Expiry::In(duration);
        self
    }

    /// Valid until this time (V2 states it as is; V4 turns it into a duration from signing).
    pub fn expires_at(mut self, time: SystemTime) -> Self {
        self.expiry = Expiry::At(time);
        self
    }

    fn response(self, name: &str, value: &str) -> Self {
        self.query(name, value)
    }

    /// The version of the object the URL is for (`versionId`: GET, HEAD or DELETE of one
    /// version of a versioned object).
    pub fn version_id(self, version_id: &str) -> Self {
        self.query("versionId", version_id)
    }

    /// Any other query parameter the request carries, encoded here: a sub-resource with an
    /// empty value (`tagging`, `acl`: written without `=`), `partNumber` of a GET, ...
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Overrides the `Content-Type` of the response.
    pub fn response_content_type(self, value: &str) -> Self {
        self.response("response-content-type", value)
    }

    /// Overrides the `Content-Disposition` of the response (see [`attachment`](Self::attachment)).
    pub fn response_content_disposition(self, value: &str) -> Self {
        self.response("response-content-disposition", value)
    }

    /// Makes browsers save the download as `filename` (any UTF-8; see [`crate::attachment`]).
    pub fn attachment(self, filename: &str) -> Self {
        let value = crate::attachment(filename);
        self.response_content_disposition(&value)
    }

    /// Overrides the `Cache-Control` of the response.
    pub fn response_cache_control(self, value: &str) -> Self {
        self.response("response-cache-control", value)
    }

    /// Overrides the `Expires` of the response.
    pub fn response_expires(self, value: &str) -> Self {
        self.response("response-expires", value)
    }

    /// Overrides the `Content-Language` of the response.
    pub fn response_content_language(self, value: &str) -> Self {
        self.response("response-content-language", value)
    }

    /// Overrides the `Content-Encoding` of the response.
    pub fn response_content_encoding(self, value: &str) -> Self {
        self.response("response-content-encoding", value)
    }

    /// Signs a header that whoever uses the URL must send with exactly this value.
    ///
    /// The value is kept as it is signed: blanks at both ends trimmed, inner runs of spaces
    /// and tabs made one space (servers differ on tabs: the RADOS Gateway collapses spaces
    /// only). It must be printable ASCII: browsers and most clients cannot send anything
    /// else in a header (encode other text first, e.g. RFC 2047 for metadata).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let refuse = |reason| Error::InvalidHeader {
            name: name.to_owned(),
            reason,
        };
        let Ok(header) = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()) else {
            self.error.get_or_insert(refuse("not a header name"));
            return self;
        };
        if !value
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
        {
            self.error.get_or_insert(refuse(
                "the value must be printable ASCII (spaces and tabs allowed)",
            ));
            return self;
        }
        let signed = value
            .split([' ', '\t'])
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        match HeaderValue::from_str(&signed) {
            Ok(v) => {
                self.headers.append(header, v);
            }
            Err(_) => {
                self.error.get_or_insert(refuse("not a header value"));
            }
        }
        self
    }

    /// The upload must be sent with this `Content-Type`.
    pub fn content_type(self, value: &str) -> Self {
        self.header("content-type", value)
    }

    /// The upload must be sent with this canned ACL (`x-amz-acl`, e.g. `public-read`).
    pub fn acl(self, canned_acl: &str) -> Self {
        self.header("x-amz-acl", canned_acl)
    }

    /// The upload must carry this user metadata (`x-amz-meta-{name}`).
    pub fn metadata(self, name: &str, value: &str) -> Self {
        self.header(&format!("x-amz-meta-{name}"), value)
    }

    /// Signs with the system clock.
    ///
    /// # Errors
    /// As [`sign_at`](Self::sign_at).
    pub fn sign(self) -> Result<PresignedRequest> {
        self.sign_at(SystemTime::now())
    }

    /// Signs as of `time`.
    ///
    /// # Errors
    /// [`Error::InvalidBucket`], [`Error::InvalidKey`], [`Error::InvalidHeader`],
    /// [`Error::InvalidExpiry`] (V4 beyond 7 days, or an expiry not after `time`).
    pub fn sign_at(self, time: SystemTime) -> Result<PresignedRequest> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if !self.key.is_empty() {
            // The 1024-byte limit is S3's for new objects; existing keys (Garage holds
            // longer ones) stay readable and deletable.
            if matches!(self.method, Method::PUT | Method::POST) {
                check_new_key(self.key)?;
            } else {
                check_key(self.key)?;
            }
        }
        // Room for the query below and the signature's parameters (about 330 bytes with
        // a short access key), so that signing extends this buffer without moving it.
        let room = 400
            + self.presigner.v4.credentials().access_key().len() * 3
            + self
                .query
                .iter()
                .map(|(k, v)| 3 * (k.len() + v.len()) + 2)
                .sum::<usize>();
        let mut url = self
            .presigner
            .endpoint
            .object_url_with_room(self.bucket, self.key, room)?;
        for (i, (k, v)) in self.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            encode_component(k, &mut url);
            if !v.is_empty() {
                url.push('=');
                encode_component(v, &mut url);
            }
        }
        let (expires_in, expires_at) = match self.expiry {
            Expiry::In(d) => (d, time + d),
            Expiry::At(t) => (t.duration_since(time).unwrap_or_default(), t),
        };
        // What the URL says, to the second: V4 signs whole seconds from the signing second,
        // V2 the expiry's second.
        let whole_seconds = |t: SystemTime| {
            let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            UNIX_EPOCH + Duration::from_secs(secs)
        };
        let expires_at = match self.presigner.version {
            SignatureVersion::V4 => whole_seconds(time) + Duration::from_secs(expires_in.as_secs()),
            SignatureVersion::V2 => whole_seconds(expires_at),
        };
        let max = match self.presigner.version {
            SignatureVersion::V4 => MAX_PRESIGN_EXPIRY.as_secs(),
            SignatureVersion::V2 => u64::MAX,
        };
        if expires_in.as_secs() == 0 || expires_in.as_secs() > max {
            return Err(Error::InvalidExpiry {
                seconds: expires_in.as_secs(),
                min: 1,
                max,
            });
        }
        let signed = match self.presigner.version {
            SignatureVersion::V4 => {
                let whole = Duration::from_secs(expires_in.as_secs());
                self.presigner
                    .v4
                    .presign_url_at(&self.method, url, &self.headers, whole, time)?
            }
            SignatureVersion::V2 => {
                self.presigner
                    .v2
                    .presign_url_at(&self.method, &url, &self.headers, expires_at)?
            }
        };
        Ok(PresignedRequest {
            method: self.method,
            url: signed,
            headers: self.headers,
            expires_at,
        })
    }
}

/// Percent-encodes a query name or value (everything but unreserved characters).
fn encode_component(text: &str, out: &mut String) {
    for b in text.bytes() {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else {
            push_escaped(b, out);
        }
    }
}

/// A pre-signed request: the URL, and the headers that must be sent with it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PresignedRequest {
    /// The method the URL is valid for.
    pub method: Method,
    /// The URL.
    pub url: String,
    /// Headers that were signed: the user of the URL must send them, with these values.
    pub headers: HeaderMap,
    /// When the URL stops working.
    pub expires_at: SystemTime,
}
