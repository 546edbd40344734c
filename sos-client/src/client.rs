//! The [`Client`] and the one path every request takes: URL, signature, send, retry, errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use http::header::{CONTENT_LENGTH, DATE, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use sos_auth::{Credentials, PayloadHash, SigV2Signer, SigV4Signer};
use sos_presign::{Endpoint, Presigner, SignatureVersion};
use tracing::Instrument;

use crate::body::{RequestBody, SIGNED_CHUNK_SIZE, aws_chunked, sha256_of};
use crate::config::{ClientBuilder, PayloadSigning};
use crate::error::{ErrorCode, ServiceError};
use crate::retry::RetryConfig;
use crate::xml::Element;
use crate::{Error, Result};

/// An S3 client: cheap to clone (clones share the connection pool, the signing-key cache
/// and the configuration), safe to use from many tasks.
///
/// ```no_run
/// use sos_client::{Client, Credentials, Endpoint, Zone};
/// # async fn f() -> sos_client::Result<()> {
/// let client = Client::builder()
///     .endpoint(Endpoint::zone(Zone::ChGva2))
///     .credentials(Credentials::new("EXOabc", "secret"))
///     .build()?;
/// client.create_bucket("my-backups").send().await?;
/// client.put_object("my-backups", "notes.txt").body("hello").send().await?;
/// let bytes = client.get_object("my-backups", "notes.txt").send().await?.body.collect().await?;
/// assert_eq!(bytes, "hello");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    http: reqwest::Client,
    endpoint: Endpoint,
    version: SignatureVersion,
    v4: SigV4Signer,
    v2: SigV2Signer,
    presigner: Presigner,
    retry: RetryConfig,
    payload_signing: PayloadSigning,
    /// Server time minus local time, learnt from a `RequestTimeTooSkewed` answer.
    clock_offset_ms: AtomicI64,
}

/// One S3 operation, before it is signed.
#[derive(Debug)]
pub(crate) struct Operation<'a> {
    /// For tracing: `PutObject`, `ListObjectsV2`...
    pub(crate) name: &'static str,
    pub(crate) method: Method,
    pub(crate) bucket: Option<&'a str>,
    pub(crate) key: Option<&'a str>,
    /// Query parameters; `None` values are bare sub-resources (`?acl`).
    pub(crate) query: Vec<(&'static str, Option<String>)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: RequestBody,
    /// Whether sending it twice is harmless.
    pub(crate) idempotent: bool,
    /// Whether a `200 OK` may carry an `<Error>` (copies, multipart completion): the
    /// answer is then read whole and checked within the attempt, so that the failure is
    /// retried like any other.
    pub(crate) may_fail_after_ok: bool,
}

impl<'a> Operation<'a> {
    pub(crate) fn new(name: &'static str, method: Method) -> Self {
        let idempotent = method != Method::POST;
        Self {
            name,
            method,
            bucket: None,
            key: None,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: RequestBody::Empty,
            idempotent,
            may_fail_after_ok: false,
        }
    }

    pub(crate) fn bucket(mut self, bucket: &'a str) -> Self {
        self.bucket = Some(bucket);
        self
    }

    pub(crate) fn key(mut self, key: &'a str) -> Self {
        self.key = Some(key);
        self
    }

    pub(crate) fn sub_resource(mut self, name: &'static str) -> Self {
        self.query.push((name, None));
        self
    }

    pub(crate) fn param(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, Some(value.into())));
        self
    }

    pub(crate) fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    pub(crate) fn body(mut self, body: RequestBody) -> Self {
        self.body = body;
        self
    }

    pub(crate) fn xml_body(mut self, xml: String) -> Self {
        let bytes = Bytes::from(xml);
        self.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        self.headers.insert(
            HeaderName::from_static("content-md5"),
            crate::checksum::content_md5(&bytes),
        );
        self.body = RequestBody::Bytes(bytes);
        self
    }

    pub(crate) fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// See [`Operation::may_fail_after_ok`].
    pub(crate) fn may_fail_after_ok(mut self) -> Self {
        self.may_fail_after_ok = true;
        self
    }
}

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from the environment and the user's files, as the AWS CLI and
    /// s3cmd are (see [`ClientBuilder::from_environment_in`]).
    ///
    /// # Errors
    /// No credentials or no endpoint found; a malformed file.
    pub fn from_environment(profile: Option<&str>) -> Result<Self> {
        ClientBuilder::from_environment(profile)?.build()
    }

    pub(crate) fn from_builder(builder: ClientBuilder) -> Result<Self> {
        let mut endpoint = builder.endpoint.clone().ok_or_else(|| {
            Error::Config(
                "no endpoint: give an SOS zone or an endpoint URL (e.g. AWS_ENDPOINT_URL, an \
                 AWS profile's endpoint_url, or host_base in ~/.s3cfg)"
                    .to_owned(),
            )
        })?;
        if let Some(addressing) = builder.addressing {
            endpoint = endpoint.with_addressing(addressing);
        }
        let credentials: Credentials = builder.credentials.clone().ok_or_else(|| {
            Error::Config("no credentials: set them on the builder or in the environment".into())
        })?;
        let http = builder.http_client()?;
        let presigner = Presigner::new(credentials.clone(), endpoint.clone())
            .with_signature_version(builder.signature);
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                v4: SigV4Signer::new(credentials.clone(), endpoint.region()),
                v2: SigV2Signer::new(credentials).with_host_base(endpoint.host()),
                presigner,
                version: builder.signature,
                retry: builder.retry,
                payload_signing: builder.payload_signing,
                endpoint,
                clock_offset_ms: AtomicI64::new(0),
            }),
        })
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// The signature version.
    pub fn signature_version(&self) -> SignatureVersion {
        self.inner.version
    }

    /// The retry policy.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.inner.retry
    }

    /// A pre-signer with this client's endpoint, credentials and signature version: URLs
    /// that let someone without credentials download, upload or delete (see
    /// [`sos_presign`]).
    ///
    /// ```
    /// # use sos_client::{Client, Credentials, Endpoint, Zone};
    /// # let client = Client::builder().endpoint(Endpoint::zone(Zone::AtVie1))
    /// #     .credentials(Credentials::new("EXOabc", "secret")).build()?;
    /// use std::time::Duration;
    /// let url = client.presigner().get_object("bucket", "report.pdf")
    ///     .expires_in(Duration::from_secs(900)).sign()?.url;
    /// assert!(url.starts_with("https://sos-at-vie-1.exo.io/bucket/report.pdf?X-Amz-Algorithm="));
    /// # Ok::<(), sos_client::Error>(())
    /// ```
    pub fn presigner(&self) -> &Presigner {
        &self.inner.presigner
    }

    /// Whether a body is covered by a signed SHA-256 the server checks: V4 with payload
    /// signing, for bodies in memory always, for files and streams over plain http (chunk
    /// signatures; over https they go unsigned, protected by TLS).
    pub(crate) fn signs_payload(&self, in_memory: bool) -> bool {
        self.inner.version == SignatureVersion::V4
            && self.inner.payload_signing != PayloadSigning::Unsigned
            && (in_memory || self.inner.endpoint.scheme() == "http")
    }

    /// Adds the header of `checksum` for `body` (resolved against how the body is signed;
    /// a file range is read once for it; caller streams get none).
    pub(crate) async fn add_checksum(
        &self,
        headers: &mut HeaderMap,
        checksum: crate::Checksum,
        body: &RequestBody,
    ) -> Result<()> {
        let header = match body {
            RequestBody::Bytes(bytes) => checksum.resolve(self.signs_payload(true)).header(bytes),
            RequestBody::File { path, offset, len } => {
                checksum
                    .resolve(self.signs_payload(false))
                    .file_header(path, *offset, *len)
                    .await?
            }
            RequestBody::Empty | RequestBody::Stream { .. } => None,
        };
        if let Some((name, value)) = header {
            headers.insert(name, value);
        }
        Ok(())
    }

    /// The clock the signatures use: the system clock, corrected by what the server said
    /// after a `RequestTimeTooSkewed`.
    fn now(&self) -> SystemTime {
        let offset = self.inner.clock_offset_ms.load(Ordering::Relaxed);
        let now = SystemTime::now();
        if offset >= 0 {
            now + Duration::from_millis(offset.unsigned_abs())
        } else {
            now - Duration::from_millis(offset.unsigned_abs())
        }
    }

    /// Builds the URL of an operation.
    fn url(&self, op: &Operation<'_>) -> Result<String> {
        let mut url = match op.bucket {
            Some(bucket) => {
                if let Some(key) = op.key {
                    crate::object::check_key(key)?;
                }
                self.inner
                    .endpoint
                    .object_url(bucket, op.key.unwrap_or(""))?
            }
            None => format!(
                "{}://{}/",
                self.inner.endpoint.scheme(),
                self.inner.endpoint.host()
            ),
        };
        for (i, (name, value)) in op.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            encode_query(name, &mut url);
            if let Some(value) = value {
                url.push('=');
                encode_query(value, &mut url);
            }
        }
        Ok(url)
    }

    /// The URL of an operation as reqwest sends it, and as it is signed; an error for input
    /// that cannot make that URL (checked before anything is sent).
    pub(crate) fn target(&self, op: &Operation<'_>) -> Result<(reqwest::Url, http::Uri)> {
        let url = self.url(op)?;
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| Error::InvalidInput(format!("cannot build a URL: {e}")))?;
        check_not_normalised(&url, &parsed)?;
        let uri: http::Uri = url
            .parse()
            .map_err(|e| Error::InvalidInput(format!("cannot build a URI: {e}")))?;
        Ok((parsed, uri))
    }

    /// Signs and sends `op`, retrying as the policy allows; returns the successful response
    /// (2xx, or 304 when `accept_not_modified`) or the error.
    pub(crate) async fn send(&self, mut op: Operation<'_>) -> Result<reqwest::Response> {
        let span = tracing::debug_span!(
            "s3",
            op = op.name,
            method = %op.method,
            bucket = op.bucket.unwrap_or(""),
            key = op.key.unwrap_or(""),
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        async move {
            let (parsed, uri) = self.target(&op)?;
            let max = if op.idempotent && op.body.replayable() {
                self.inner.retry.max_attempts()
            } else {
                1
            };
            let mut attempt = 1;
            let mut skew_fixed = false;
            loop {
                let result = self.attempt(&mut op, &uri, &parsed).await;
                let span = tracing::Span::current();
                span.record("attempts", attempt);
                let error = match result {
                    Ok(response) => {
                        span.record("status", response.status().as_u16());
                        return Ok(response);
                    }
                    Err(e) => e,
                };
                if let Some(status) = error.status() {
                    span.record("status", status.as_u16());
                }
                if let (Error::Service(e), false) = (&error, skew_fixed)
                    && e.code == ErrorCode::RequestTimeTooSkewed
                    && op.body.replayable()
                {
                    // Learn the server's clock and sign again, once.
                    skew_fixed = true;
                    tracing::warn!("clock skew reported by the server; adjusting");
                    continue;
                }
                if attempt >= max || !error.is_retryable() {
                    return Err(error);
                }
                let delay = self.inner.retry.delay(attempt);
                tracing::debug!(error = %error, attempt, ?delay, "retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
        }
        .instrument(span)
        .await
    }

    async fn attempt(
        &self,
        op: &mut Operation<'_>,
        uri: &http::Uri,
        url: &reqwest::Url,
    ) -> Result<reqwest::Response> {
        let mut signing = http::Request::builder()
            .method(op.method.clone())
            .uri(uri.clone())
            .body(())
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        *signing.headers_mut() = op.headers.clone();
        let len = op.body.len();
        if len > 0 || matches!(op.method, Method::PUT | Method::POST) {
            signing
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
        let now = self.now();
        let mut body = op.body.open().await?;
        if len == 0
            && matches!(
                op.body,
                RequestBody::File { .. } | RequestBody::Stream { .. }
            )
        {
            // Announced empty, so it must be: a caller's stream is read to its end (held to
            // its length, see `RequestBody::open`); HTTP would never poll it.
            while let Some(piece) = body.next().await {
                piece.map_err(|source| Error::Io { path: None, source })?;
            }
        }
        let reqwest_body = match self.inner.version {
            SignatureVersion::V2 => {
                self.inner.v2.sign_at(&mut signing, now)?;
                into_reqwest_body(&op.body, body)
            }
            SignatureVersion::V4 => {
                let https = self.inner.endpoint.scheme() == "https";
                let unsigned = self.inner.payload_signing == PayloadSigning::Unsigned;
                // A content coding of the object's own would go as `aws-chunked,gzip` in a
                // chunk-signed upload, which s3s-fs and the RADOS Gateway store as sent (S3
                // and Garage store `gzip`): such bodies are hashed whole instead, a file read
                // twice. A caller's stream cannot be, and keeps `aws-chunked,...`.
                let own_coding = op.headers.contains_key(http::header::CONTENT_ENCODING);
                match &op.body {
                    RequestBody::Empty => {
                        self.inner
                            .v4
                            .sign_at(&mut signing, PayloadHash::EMPTY, now)?;
                        into_reqwest_body(&op.body, body)
                    }
                    // Over plain http, a body in memory of more than one chunk goes with
                    // chunk signatures, like a file: each chunk is hashed as the one before
                    // it is sent, instead of the whole body before the request starts.
                    RequestBody::Bytes(bytes)
                        if unsigned || https || own_coding || bytes.len() <= SIGNED_CHUNK_SIZE =>
                    {
                        let hash = if unsigned {
                            PayloadHash::Unsigned
                        } else {
                            PayloadHash::of(bytes)
                        };
                        self.inner.v4.sign_at(&mut signing, hash, now)?;
                        reqwest::Body::from(bytes.clone())
                    }
                    // An empty file or stream: nothing to frame (the RADOS Gateway refuses an
                    // `aws-chunked` body of only the final chunk).
                    RequestBody::File { .. } | RequestBody::Stream { .. } if len == 0 => {
                        self.inner
                            .v4
                            .sign_at(&mut signing, PayloadHash::EMPTY, now)?;
                        reqwest::Body::from(Bytes::new())
                    }
                    RequestBody::File { path, .. } if own_coding && !unsigned && !https => {
                        // The file read once to hash it, then again to send it.
                        let hash = sha256_of(&mut body)
                            .await
                            .map_err(|e| Error::io(path.clone(), e))?;
                        self.inner
                            .v4
                            .sign_at(&mut signing, PayloadHash::Sha256(hash), now)?;
                        reqwest::Body::wrap_stream(op.body.open().await?)
                    }
                    RequestBody::File { .. } | RequestBody::Stream { .. } if unsigned || https => {
                        self.inner
                            .v4
                            .sign_at(&mut signing, PayloadHash::Unsigned, now)?;
                        reqwest::Body::wrap_stream(std::mem::replace(
                            &mut body,
                            futures_util::stream::empty().boxed(),
                        ))
                    }
                    RequestBody::Bytes(_)
                    | RequestBody::File { .. }
                    | RequestBody::Stream { .. } => {
                        let signer = self.inner.v4.sign_streaming_at(
                            &mut signing,
                            len,
                            SIGNED_CHUNK_SIZE,
                            now,
                        )?;
                        reqwest::Body::wrap_stream(aws_chunked(body, signer))
                    }
                }
            }
        };
        let mut request = reqwest::Request::new(op.method.clone(), url.clone());
        *request.headers_mut() = signing.into_parts().0.headers;
        *request.body_mut() = Some(reqwest_body);
        let response = self
            .inner
            .http
            .execute(request)
            .await
            .map_err(Error::transport)?;
        let status = response.status();
        if status == StatusCode::OK && op.may_fail_after_ok {
            return checked_after_ok(op, response).await;
        }
        if status.is_success() {
            return Ok(response);
        }
        Err(self.service_error(op, response).await)
    }

    /// Reads an error answer into a [`ServiceError`] (bounded: at most 1 MiB is read).
    async fn service_error(&self, op: &Operation<'_>, response: reqwest::Response) -> Error {
        let status = response.status();
        let headers = response.headers().clone();
        let body = if op.method == Method::HEAD {
            Vec::new()
        } else {
            // Unreadable or too long: the code then comes from the status.
            read_at_most(response, MAX_CHECKED_BODY)
                .await
                .unwrap_or_default()
        };
        let document = Element::parse(&body).ok().filter(|e| e.name == "Error");
        let fallback = ErrorCode::from_status(status, op.key.is_some());
        let error = service_error_of(status, &headers, document.as_ref(), fallback);
        if error.code == ErrorCode::RequestTimeTooSkewed {
            self.learn_clock(&headers, &body);
        }
        Error::from(error)
    }

    /// Sets the clock offset from the server's `Date` header (or `<ServerTime>`).
    fn learn_clock(&self, headers: &HeaderMap, body: &[u8]) {
        let server = headers
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|d| httpdate::parse_http_date(d).ok())
            .or_else(|| {
                let doc = Element::parse(body).ok()?;
                let text = doc.text_of("ServerTime")?;
                crate::object::parse_iso8601(text)
            });
        if let Some(server) = server {
            let now = SystemTime::now();
            let offset = match server.duration_since(now) {
                Ok(ahead) => i64::try_from(ahead.as_millis()).unwrap_or(i64::MAX),
                Err(behind) => -i64::try_from(behind.duration().as_millis()).unwrap_or(i64::MAX),
            };
            self.inner.clock_offset_ms.store(offset, Ordering::Relaxed);
        }
    }

    /// Sends `op` and reads a small XML answer.
    pub(crate) async fn send_xml(&self, op: Operation<'_>) -> Result<Element> {
        Ok(self.send_xml_with_headers(op).await?.1)
    }

    /// [`send_xml`](Self::send_xml), with the response's headers.
    pub(crate) async fn send_xml_with_headers(
        &self,
        op: Operation<'_>,
    ) -> Result<(http::HeaderMap, Element)> {
        let mut response = self.send(op).await?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let body = read_xml_body(response).await?;
        let doc = Element::parse(&body)?;
        if doc.name == "Error" {
            // An error after a 200 from an operation not marked `may_fail_after_ok`.
            return Err(Error::from(service_error_of(
                status,
                &headers,
                Some(&doc),
                ErrorCode::InternalError,
            )));
        }
        Ok((headers, doc))
    }
}

/// At most this much of an answer read into memory to look for an error (error documents
/// and the answers of copies and completions are a few hundred bytes).
const MAX_CHECKED_BODY: usize = 1 << 20;

/// The most of an XML answer read (a listing page of 1 000 keys of 1 024 bytes is about
/// 1.5 MB): a parsed document costs many times its size, so a server cannot make the client
/// hold an unbounded one.
const MAX_XML_BODY: usize = 32 << 20;

/// The body of an XML answer, at most [`MAX_XML_BODY`] bytes.
pub(crate) async fn read_xml_body(response: reqwest::Response) -> Result<Vec<u8>> {
    read_at_most(response, MAX_XML_BODY).await
}

/// The body of `response`: an [`Error::InvalidResponse`] when it is (or announces itself)
/// longer than `limit` bytes, a transport error when it breaks off.
async fn read_at_most(response: reqwest::Response, limit: usize) -> Result<Vec<u8>> {
    if let Some(announced) = response.content_length().filter(|&n| n > limit as u64) {
        return Err(Error::InvalidResponse(format!(
            "an answer of {announced} bytes (at most {limit} read)"
        )));
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.map_err(Error::transport)?);
        if body.len() > limit {
            return Err(Error::InvalidResponse(format!(
                "an answer over {limit} bytes"
            )));
        }
    }
    Ok(body)
}

/// Reads a `200 OK` answer whole: an `<Error>` document in it is the operation's failure
/// (S3 sends the status line before a copy or a completion is done), and so is a document
/// that never closes or a copy result without an ETag (the RADOS Gateway leaves the result
/// open when a copy fails after its first progress bytes): both are `InternalError`s, tried
/// again like any other. Anything else comes back as the response, its body in memory.
async fn checked_after_ok(
    op: &Operation<'_>,
    response: reqwest::Response,
) -> Result<reqwest::Response> {
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let failed = |what: &str| {
        let mut error = service_error_of(status, &headers, None, ErrorCode::InternalError);
        error.message = format!("{} answered 200 OK, then {what}", op.name);
        Error::from(error)
    };
    let Ok(body) = read_at_most(response, MAX_CHECKED_BODY).await else {
        return Err(failed("its answer broke off or was too long"));
    };
    match Element::parse(&body) {
        Ok(doc) if doc.name == "Error" => {
            return Err(Error::from(service_error_of(
                status,
                &headers,
                Some(&doc),
                ErrorCode::InternalError,
            )));
        }
        Ok(doc)
            if matches!(op.name, "CopyObject" | "UploadPartCopy")
                && doc.text_of("ETag").is_none_or(|e| e.trim().is_empty()) =>
        {
            return Err(failed("its result has no ETag"));
        }
        Ok(_) => {}
        Err(_) => return Err(failed("its answer is not a whole XML document")),
    }
    let mut rebuilt = http::Response::new(bytes::Bytes::from(body));
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(reqwest::Response::from(rebuilt))
}

/// An `<Error>` document received with `status`. A `200 OK` is kept as it came: whether the
/// failure is worth another try follows from its code (`InternalError`, `SlowDown`...), not
/// from a status it was not sent with (botocore makes every such answer a 500, and retries
/// an `AccessDenied` too). (The client builds these with the answer's headers; tests use
/// this.)
#[cfg(test)]
pub(crate) fn error_document(doc: &Element, status: StatusCode) -> Error {
    Error::from(service_error_of(
        status,
        &HeaderMap::new(),
        Some(doc),
        ErrorCode::InternalError,
    ))
}

/// The [`ServiceError`] of an answer: its status, the request ids of its headers, and what
/// its `<Error>` document says (code, message, ids, the resource named); `fallback` is the
/// code when the document names none.
fn service_error_of(
    status: StatusCode,
    headers: &HeaderMap,
    doc: Option<&Element>,
    fallback: ErrorCode,
) -> ServiceError {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut error = ServiceError {
        status,
        code: fallback,
        message: String::new(),
        request_id: header("x-amz-request-id"),
        host_id: header("x-amz-id-2"),
        resource: None,
    };
    if let Some(doc) = doc {
        if let Some(code) = doc.text_of("Code").filter(|c| !c.is_empty()) {
            error.code = ErrorCode::parse(code);
        }
        error.message = doc.text_of("Message").unwrap_or_default().to_owned();
        if let Some(id) = doc.text_of("RequestId").filter(|c| !c.is_empty()) {
            error.request_id = Some(id.to_owned());
        }
        if let Some(id) = doc.text_of("HostId").filter(|c| !c.is_empty()) {
            error.host_id = Some(id.to_owned());
        }
        error.resource = ["Resource", "Key", "BucketName"]
            .iter()
            .find_map(|n| doc.text_of(n).filter(|t| !t.is_empty()))
            .map(str::to_owned);
    }
    error
}

fn into_reqwest_body(
    body: &RequestBody,
    stream: futures_util::stream::BoxStream<'static, std::io::Result<Bytes>>,
) -> reqwest::Body {
    match body {
        RequestBody::Empty => reqwest::Body::from(Bytes::new()),
        RequestBody::Bytes(bytes) => reqwest::Body::from(bytes.clone()),
        _ => reqwest::Body::wrap_stream(stream),
    }
}

/// `reqwest::Url` resolves `.`/`..` segments (also written `%2E`), which would send the
/// request to another key; refuse such keys rather than touch the wrong object.
fn check_not_normalised(url: &str, parsed: &reqwest::Url) -> Result<()> {
    let ours = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    let ours = ours.split_once('?').map_or(ours, |(path, _)| path);
    if ours == parsed.path() {
        Ok(())
    } else {
        Err(Error::InvalidKey(
            "keys with `.` or `..` path segments cannot be sent through this client's HTTP stack"
                .to_owned(),
        ))
    }
}

/// Percent-encodes a query name or value: everything but the unreserved characters.
pub(crate) fn encode_query(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_after_a_200_is_retried_only_for_what_may_pass() {
        let doc = |code: &str| {
            Element::parse(
                format!("<Error><Code>{code}</Code><Message>m</Message></Error>").as_bytes(),
            )
            .unwrap()
        };
        for code in ["InternalError", "SlowDown", "ServiceUnavailable"] {
            let err = error_document(&doc(code), StatusCode::OK);
            assert!(err.is_retryable(), "{code}");
            assert_eq!(err.status(), Some(StatusCode::OK));
        }
        for code in ["AccessDenied", "NoSuchKey", "PreconditionFailed"] {
            assert!(
                !error_document(&doc(code), StatusCode::OK).is_retryable(),
                "{code}"
            );
        }
    }
}
