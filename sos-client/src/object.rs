//! Objects: put, get, head, delete, delete many, ACL. (Copies: `copy.rs`.)

use std::ops::{Bound, RangeBounds};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use http::Method;
use http::header::{HeaderName, HeaderValue};
use sos_acl::{AccessControlPolicy, CannedAcl, X_AMZ_ACL};

use crate::body::{ByteStream, RequestBody};
use crate::checksum::Checksum;
use crate::client::{Client, Operation};
use crate::metadata::{Metadata, ObjectInfo};
use crate::tagging::Tags;
use crate::xml::element;
use crate::{Error, ErrorCode, Result};

/// S3's longest key, in UTF-8 bytes (checked when an object is created: put, copy,
/// multipart upload).
pub const MAX_KEY_BYTES: usize = 1024;

/// Checks the key of any request: not empty. Its length is left to the server: some
/// (Garage) hold keys longer than S3's 1024 bytes, which must stay readable and deletable
/// (the aws CLI leaves the length to the server too).
pub(crate) fn check_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::InvalidKey("empty".to_owned()));
    }
    Ok(())
}

/// Checks the key an object is created under (put, copy, multipart upload): 1 to 1024
/// bytes, S3's limit.
pub(crate) fn check_new_key(key: &str) -> Result<()> {
    check_key(key)?;
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::InvalidKey(format!(
            "{} bytes long; S3 allows {MAX_KEY_BYTES}",
            key.len()
        )));
    }
    Ok(())
}

fn header(name: &'static str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let value = HeaderValue::try_from(value)
        .map_err(|_| Error::InvalidInput(format!("`{value}` cannot be the value of {name}")))?;
    Ok((HeaderName::from_static(name), value))
}

/// Parses `2026-01-02T03:04:05.000Z` (S3's listing dates): an RFC 3339 date-time, its
/// offset `Z`, `±HH:MM` or left out (UTC). Anything else, a day past the end of its month
/// (`2026-02-30`) included, is `None`.
pub(crate) fn parse_iso8601(text: &str) -> Option<SystemTime> {
    let t = text.trim().as_bytes();
    // Fixed-width fields of ASCII digits (`str::parse` would take a sign).
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        t.get(range)?.iter().try_fold(0i64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
        })
    };
    if t.len() < 19
        || t[4] != b'-'
        || t[7] != b'-'
        || t[10] != b'T'
        || t[13] != b':'
        || t[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=month_days).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut rest = &t[19..];
    let mut nanos = 0u32;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        // Nanoseconds: the first nine digits, padded.
        nanos = (0..9).fold(0, |acc, i| {
            acc * 10
                + fraction
                    .get(i)
                    .filter(|_| i < digits)
                    .map_or(0, |d| u32::from(d - b'0'))
        });
        rest = &fraction[digits..];
    }
    let offset = match rest {
        b"" | b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |a: u8, b: u8| {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            };
            let (h, m) = (two(*h1, *h2)?, two(*m1, *m2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = h * 60 + m;
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm), in signed arithmetic: year 0 is valid.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset * 60;
    let whole = Duration::from_secs(secs.unsigned_abs());
    let time = if secs >= 0 {
        UNIX_EPOCH.checked_add(whole)?
    } else {
        UNIX_EPOCH.checked_sub(whole)?
    };
    time.checked_add(Duration::from_nanos(u64::from(nanos)))
}

/// The answer to a successful upload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PutObjectOutput {
    /// The ETag, quotes removed (the MD5 of the body for a single PUT).
    pub etag: Option<String>,
    /// `x-amz-version-id`, on versioned buckets.
    pub version_id: Option<String>,
}

impl PutObjectOutput {
    pub(crate) fn from_response(response: &reqwest::Response) -> Self {
        let info = ObjectInfo::from_headers(response.headers());
        Self {
            etag: info.etag,
            version_id: info.version_id,
        }
    }
}

/// A PUT of one object. Made by [`Client::put_object`].
#[derive(Debug)]
#[must_use = "nothing is sent until `send` is awaited"]
pub struct PutObject<'a> {
    client: &'a Client,
    bucket: &'a str,
    key: &'a str,
    body: RequestBody,
    metadata: Metadata,
    acl: Option<CannedAcl>,
    tags: Tags,
    checksum: Checksum,
    extra: Vec<(HeaderName, HeaderValue)>,
    error: Option<Error>,
}

impl<'a> PutObject<'a> {
    /// The body, in memory.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = RequestBody::Bytes(body.into());
        self
    }

    /// The body, `len` bytes from a stream. Sent once, never retried (the stream cannot be
    /// replayed); for large or unknown-length data use [`Client::upload`]. A stream that
    /// fails or ends before `len` bytes is an error, and nothing is stored; so is one with
    /// more bytes ready when `len` is reached (one that stays open with nothing more to
    /// give, a channel whose sender lives on, is taken as ended).
    ///
    /// Over plain http with V4 signed payloads (the default there) a stream goes in signed
    /// chunks; with a [`content_encoding`](Self::content_encoding) of its own, that is sent
    /// as `aws-chunked,<coding>`, which S3 and Garage store as `<coding>` but s3s-fs and the
    /// RADOS Gateway store as sent. Bodies in memory and files are hashed whole instead and
    /// keep the coding alone; so does a stream with [`PayloadSigning::Unsigned`](crate::PayloadSigning::Unsigned) or over https.
    pub fn stream<S, E>(mut self, stream: S, len: u64) -> Self
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let stream = stream.map_err(std::io::Error::other).boxed();
        self.body = RequestBody::Stream {
            stream: std::sync::Mutex::new(Some(stream)),
            len,
        };
        self
    }

    /// The body, a whole file (read when sent, and again on a retry). The file's size is
    /// read when `send` runs.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.body = RequestBody::File {
            path: path.into(),
            offset: 0,
            len: u64::MAX,
        };
        self
    }

    /// All metadata at once (replaces what was set).
    pub fn metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
    }

    /// `Content-Type`.
    pub fn content_type(mut self, value: impl Into<String>) -> Self {
        self.metadata.content_type = Some(value.into());
        self
    }

    /// `Content-Encoding` (`gzip`, ...: how the stored bytes are encoded; see
    /// [`stream`](Self::stream) for streams over plain http).
    pub fn content_encoding(mut self, value: impl Into<String>) -> Self {
        self.metadata.content_encoding = Some(value.into());
        self
    }

    /// `Content-Disposition`.
    pub fn content_disposition(mut self, value: impl Into<String>) -> Self {
        self.metadata.content_disposition = Some(value.into());
        self
    }

    /// `Cache-Control`.
    pub fn cache_control(mut self, value: impl Into<String>) -> Self {
        self.metadata.cache_control = Some(value.into());
        self
    }

    /// `Expires` (an HTTP date).
    pub fn expires(mut self, value: impl Into<String>) -> Self {
        self.metadata.expires = Some(value.into());
        self
    }

    /// User metadata `x-amz-meta-{name}`.
    pub fn user_metadata(mut self, name: impl AsRef<str>, value: impl Into<String>) -> Self {
        self.metadata = self.metadata.user(name, value);
        self
    }

    /// A canned ACL (`x-amz-acl`).
    pub fn acl(mut self, acl: CannedAcl) -> Self {
        self.acl = Some(acl);
        self
    }

    pub(crate) fn maybe_acl(mut self, acl: Option<CannedAcl>) -> Self {
        self.acl = acl;
        self
    }

    /// The object's tags (`x-amz-tagging`), checked by S3's rules when sent (see [`Tags`]).
    /// Servers without tagging (Garage) store the object without them.
    ///
    /// ```no_run
    /// # async fn f(client: sos_client::Client) -> sos_client::Result<()> {
    /// use sos_client::Tags;
    /// client
    ///     .put_object("reports", "2026/q4.pdf")
    ///     .file("q4.pdf")
    ///     .tags(Tags::new().with("classification", "internal").with("year", "2026"))
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn tags(mut self, tags: Tags) -> Self {
        self.tags = tags;
        self
    }

    /// The checksum sent with the body (default [`Checksum::Auto`]: `Content-MD5` unless a
    /// signed SHA-256 already covers it; streams of a caller get none).
    pub fn checksum(mut self, checksum: Checksum) -> Self {
        self.checksum = checksum;
        self
    }

    /// Only create: fail with `PreconditionFailed` if the key exists (`If-None-Match: *`;
    /// servers that do not know the header ignore it).
    pub fn if_not_exists(mut self) -> Self {
        match header("if-none-match", "*") {
            Ok(h) => self.extra.push(h),
            Err(e) => self.error = Some(e),
        }
        self
    }

    /// Sends it.
    ///
    /// # Errors
    /// Invalid input (bucket name, key, metadata, [tags](Error::InvalidTag)), the server's
    /// error, transport.
    pub async fn send(mut self) -> Result<PutObjectOutput> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        check_new_key(self.key)?;
        let tagging = self.tags.header_value()?;
        if let RequestBody::File { path, len, .. } = &mut self.body
            && *len == u64::MAX
        {
            *len = tokio::fs::metadata(&*path)
                .await
                .map_err(|e| Error::io(path.clone(), e))?
                .len();
        }
        let mut op = Operation::new("PutObject", Method::PUT)
            .bucket(self.bucket)
            .key(self.key);
        self.metadata.apply(&mut op.headers)?;
        if let Some(acl) = self.acl {
            op.headers.insert(X_AMZ_ACL, acl.header_value());
        }
        if let Some((name, value)) = tagging {
            op.headers.insert(name, value);
        }
        self.client
            .add_checksum(&mut op.headers, self.checksum, &self.body)
            .await?;
        for (name, value) in self.extra {
            op.headers.insert(name, value);
        }
        let response = self.client.send(op.body(self.body)).await?;
        Ok(PutObjectOutput::from_response(&response))
    }
}

/// A GET of one object. Made by [`Client::get_object`].
#[derive(Debug)]
#[must_use = "nothing is sent until `send` is awaited"]
pub struct GetObject<'a> {
    client: &'a Client,
    bucket: &'a str,
    key: &'a str,
    headers: Vec<(HeaderName, HeaderValue)>,
    query: Vec<(&'static str, Option<String>)>,
    error: Option<Error>,
}

/// A downloaded object: its metadata and its body as a stream.
#[derive(Debug)]
#[non_exhaustive]
pub struct GetObjectOutput {
    /// Metadata (for a ranged GET, `content_length` is the range's).
    pub info: ObjectInfo,
    /// `(first, last, total)` of a ranged answer (`Content-Range`).
    pub content_range: Option<(u64, u64, u64)>,
    /// The bytes.
    pub body: ByteStream,
}

impl<'a> GetObject<'a> {
    fn push(mut self, name: &'static str, value: &str) -> Self {
        match header(name, value) {
            Ok(h) => self.headers.push(h),
            Err(e) => self.error = Some(e),
        }
        self
    }

    /// Only these bytes: `.range(0..1024)`, `.range(1_000_000..)`.
    pub fn range(self, range: impl RangeBounds<u64>) -> Self {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => Some(e),
            Bound::Excluded(&0) => {
                let mut this = self;
                this.error = Some(Error::InvalidInput("an empty range".to_owned()));
                return this;
            }
            Bound::Excluded(&e) => Some(e - 1),
            Bound::Unbounded => None,
        };
        if end.is_some_and(|e| e < start) {
            let mut this = self;
            this.error = Some(Error::InvalidInput("an empty range".to_owned()));
            return this;
        }
        let value = match end {
            Some(end) => format!("bytes={start}-{end}"),
            None => format!("bytes={start}-"),
        };
        self.push("range", &value)
    }

    /// Only the last `n` bytes.
    pub fn last_bytes(self, n: u64) -> Self {
        self.push("range", &format!("bytes=-{n}"))
    }

    /// Only if the ETag matches (else `PreconditionFailed`).
    pub fn if_match(self, etag: &str) -> Self {
        self.push("if-match", &quote(etag))
    }

    /// Only if the ETag differs (else `NotModified`).
    pub fn if_none_match(self, etag: &str) -> Self {
        self.push("if-none-match", &quote(etag))
    }

    /// Only if changed since (else `NotModified`).
    pub fn if_modified_since(self, time: SystemTime) -> Self {
        self.push("if-modified-since", &httpdate::fmt_http_date(time))
    }

    /// A specific version.
    pub fn version_id(mut self, version: impl Into<String>) -> Self {
        self.query.push(("versionId", Some(version.into())));
        self
    }

    /// Overrides the `Content-Type` of the answer.
    pub fn response_content_type(mut self, value: impl Into<String>) -> Self {
        self.query
            .push(("response-content-type", Some(value.into())));
        self
    }

    /// Overrides the `Content-Disposition` of the answer.
    pub fn response_content_disposition(mut self, value: impl Into<String>) -> Self {
        self.query
            .push(("response-content-disposition", Some(value.into())));
        self
    }

    /// Sends it; the body streams as it is read.
    ///
    /// # Errors
    /// `NoSuchKey`, `NoSuchBucket`, `InvalidRange`, `PreconditionFailed`, `NotModified`,
    /// transport.
    pub async fn send(mut self) -> Result<GetObjectOutput> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut op = Operation::new("GetObject", Method::GET)
            .bucket(self.bucket)
            .key(self.key);
        op.query = self.query;
        for (name, value) in self.headers {
            op.headers.insert(name, value);
        }
        let response = self.client.send(op).await?;
        let info = ObjectInfo::from_headers(response.headers());
        let content_range = response
            .headers()
            .get(http::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_content_range);
        Ok(GetObjectOutput {
            info,
            content_range,
            body: ByteStream::from_response(response),
        })
    }

    /// Sends it and reads the whole body.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn bytes(self) -> Result<Bytes> {
        self.send().await?.body.collect().await
    }
}

pub(crate) fn quote(etag: &str) -> String {
    if etag.starts_with('"') || etag == "*" {
        etag.to_owned()
    } else {
        format!("\"{etag}\"")
    }
}

/// `bytes 0-99/1234`, only when it can be true: `first <= last < total` (RFC 9110, 14.4).
fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let digits = |s: &str| -> Option<u64> {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (first, last, total) = (digits(first)?, digits(last)?, digits(total)?);
    (first <= last && last < total).then_some((first, last, total))
}

/// One key of a batch delete that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteError {
    /// The key.
    pub key: String,
    /// The version, when one was named ([`Client::delete_object_versions`]).
    pub version_id: Option<String>,
    /// The S3 error code.
    pub code: ErrorCode,
    /// The message.
    pub message: String,
}

/// The answer to [`Client::delete_objects`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteObjectsOutput {
    /// Keys deleted (S3 reports a key that did not exist as deleted).
    pub deleted: Vec<String>,
    /// Keys that could not be deleted, each with its error.
    pub errors: Vec<DeleteError>,
}

/// S3's limit of keys in one `?delete` request.
pub const MAX_KEYS_PER_DELETE: usize = 1000;

pub(crate) fn delete_object_op<'a>(
    bucket: &'a str,
    key: &'a str,
    version: Option<&str>,
) -> Operation<'a> {
    let op = Operation::new("DeleteObject", Method::DELETE)
        .bucket(bucket)
        .key(key);
    match version {
        Some(v) => op.param("versionId", v),
        None => op,
    }
}

/// Sorts the failure of one key's `DELETE` in a batch delete: a refusal of that key (as a
/// `?delete` request reports it, e.g. `AccessDenied`) comes back `Ok`, to be reported with
/// the key; what fails every request (no bucket, bad credentials, a server down after the
/// retries, transport) comes back `Err`, failing the whole call.
fn fails_key_only(error: Error) -> std::result::Result<crate::ServiceError, Error> {
    let whole = error.is_retryable();
    match error {
        Error::Service(service)
            if !whole
                && !matches!(
                    service.code,
                    ErrorCode::NoSuchBucket
                        | ErrorCode::InvalidAccessKeyId
                        | ErrorCode::SignatureDoesNotMatch
                        | ErrorCode::RequestTimeTooSkewed
                ) =>
        {
            Ok(*service)
        }
        other => Err(other),
    }
}

impl Client {
    /// Uploads one object in one request: bytes, a file or a stream of known length.
    /// For big files, streams of unknown length and parallel parts, see
    /// [`upload`](Client::upload).
    pub fn put_object<'a>(&'a self, bucket: &'a str, key: &'a str) -> PutObject<'a> {
        PutObject {
            client: self,
            bucket,
            key,
            body: RequestBody::Empty,
            metadata: Metadata::default(),
            acl: None,
            tags: Tags::new(),
            checksum: Checksum::Auto,
            extra: Vec::new(),
            error: None,
        }
    }

    /// Downloads an object, whole or a range, as a stream.
    pub fn get_object<'a>(&'a self, bucket: &'a str, key: &'a str) -> GetObject<'a> {
        GetObject {
            client: self,
            bucket,
            key,
            headers: Vec::new(),
            query: Vec::new(),
            error: None,
        }
    }

    /// The metadata of an object.
    ///
    /// # Errors
    /// `NoSuchKey` (derived from the 404: HEAD answers have no body), transport.
    pub async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectInfo> {
        let headers = self.head_headers(bucket, key, None).await?;
        Ok(ObjectInfo::from_headers(&headers))
    }

    /// The headers of a `HeadObject` of `key` (of one version of it, when given), as they
    /// came: [`head_object`](Self::head_object) reads them, a copy forwards its metadata
    /// headers byte for byte.
    pub(crate) async fn head_headers(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<http::HeaderMap> {
        let mut op = Operation::new("HeadObject", Method::HEAD)
            .bucket(bucket)
            .key(key);
        if let Some(version) = version_id {
            op = op.param("versionId", version);
        }
        let mut response = self.send(op).await?;
        Ok(std::mem::take(response.headers_mut()))
    }

    /// Whether an object exists (`false` on `NoSuchKey`; other errors are errors).
    ///
    /// # Errors
    /// As [`head_object`](Self::head_object), except `NoSuchKey`.
    pub async fn object_exists(&self, bucket: &str, key: &str) -> Result<bool> {
        match self.head_object(bucket, key).await {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some(&ErrorCode::NoSuchKey) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes an object (deleting a missing key succeeds, as in S3).
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, transport.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        self.send(delete_object_op(bucket, key, None)).await?;
        Ok(())
    }

    /// Deletes many keys with `?delete` requests of up to 1000 keys each; per-key failures
    /// are reported in the output, not as an error.
    ///
    /// A key XML 1.0 cannot carry (control characters other than tab, line feed and carriage
    /// return; U+FFFE, U+FFFF) would make the server refuse the whole request
    /// (`MalformedXML`), so such keys are deleted one by one with `DELETE` requests, their
    /// results reported in the same output.
    ///
    /// # Errors
    /// An empty key, or a key the client cannot send (see [`Error::InvalidKey`]), before any
    /// request; a whole request failed (`NoSuchBucket`, `AccessDenied`, transport).
    pub async fn delete_objects<I, K>(&self, bucket: &str, keys: I) -> Result<DeleteObjectsOutput>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        let items: Vec<(String, Option<String>)> = keys
            .into_iter()
            .map(|k| (k.as_ref().to_owned(), None))
            .collect();
        let (deleted, errors) = self.delete_many(bucket, &items).await?;
        Ok(DeleteObjectsOutput {
            deleted: deleted.into_iter().map(|(key, _)| key).collect(),
            errors,
        })
    }

    /// Deletes keys, or versions of keys, with `?delete` requests of up to 1000 each; keys
    /// XML 1.0 cannot carry one by one. What was deleted (as named), and what failed.
    pub(crate) async fn delete_many(
        &self,
        bucket: &str,
        items: &[(String, Option<String>)],
    ) -> Result<(Vec<(String, Option<String>)>, Vec<DeleteError>)> {
        let (batched, single): (Vec<_>, Vec<_>) = items.iter().partition(|(k, v)| {
            crate::xml::can_carry(k) && v.as_deref().is_none_or(crate::xml::can_carry)
        });
        for (key, _) in &batched {
            check_key(key)?;
        }
        for (key, version) in &single {
            self.target(&delete_object_op(bucket, key, version.as_deref()))?;
        }
        let (mut deleted, mut errors) = (Vec::new(), Vec::new());
        for batch in batched.chunks(MAX_KEYS_PER_DELETE) {
            let mut xml = String::from("<Delete><Quiet>false</Quiet>");
            for (key, version) in batch {
                xml.push_str("<Object>");
                element(&mut xml, "Key", key);
                if let Some(v) = version {
                    element(&mut xml, "VersionId", v);
                }
                xml.push_str("</Object>");
            }
            xml.push_str("</Delete>");
            let op = Operation::new("DeleteObjects", Method::POST)
                .bucket(bucket)
                .sub_resource("delete")
                .xml_body(xml)
                .idempotent(true);
            let doc = self.send_xml(op).await?;
            let version_of = |el: &crate::xml::Element| {
                el.text_of("VersionId")
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            for done in doc.children("Deleted") {
                deleted.push((done.required("Key")?.to_owned(), version_of(done)));
            }
            for error in doc.children("Error") {
                errors.push(DeleteError {
                    key: error.required("Key")?.to_owned(),
                    version_id: version_of(error),
                    code: ErrorCode::parse(error.text_of("Code").unwrap_or("")),
                    message: error.text_of("Message").unwrap_or_default().to_owned(),
                });
            }
        }
        for (key, version) in single {
            match self
                .send(delete_object_op(bucket, key, version.as_deref()))
                .await
            {
                Ok(_) => deleted.push((key.clone(), version.clone())),
                Err(e) => match fails_key_only(e) {
                    Ok(service) => errors.push(DeleteError {
                        key: key.clone(),
                        version_id: version.clone(),
                        code: service.code,
                        message: service.message,
                    }),
                    Err(e) => return Err(e),
                },
            }
        }
        Ok((deleted, errors))
    }

    /// The ACL of an object.
    ///
    /// # Errors
    /// `NoSuchKey`, `AccessDenied`, an ACL document that cannot be read, transport.
    pub async fn get_object_acl(&self, bucket: &str, key: &str) -> Result<AccessControlPolicy> {
        let op = Operation::new("GetObjectAcl", Method::GET)
            .bucket(bucket)
            .key(key)
            .sub_resource("acl");
        let body = crate::client::read_xml_body(self.send(op).await?).await?;
        Ok(AccessControlPolicy::from_xml(&body)?)
    }

    /// Sets a full ACL on an object.
    ///
    /// # Errors
    /// More grants than S3 allows before sending ([`sos_acl::Error::TooManyGrants`]);
    /// `MalformedACLError`, `AccessDenied`, transport.
    pub async fn put_object_acl(
        &self,
        bucket: &str,
        key: &str,
        acl: &AccessControlPolicy,
    ) -> Result<()> {
        acl.validate()?;
        let op = Operation::new("PutObjectAcl", Method::PUT)
            .bucket(bucket)
            .key(key)
            .sub_resource("acl")
            .xml_body(acl.to_xml());
        self.send(op).await?;
        Ok(())
    }

    /// Sets a canned ACL on an object (`public-read`, `private`, ...).
    ///
    /// # Errors
    /// `AccessDenied`, `NoSuchKey`, transport.
    pub async fn set_object_acl(&self, bucket: &str, key: &str, acl: CannedAcl) -> Result<()> {
        let op = Operation::new("PutObjectAcl", Method::PUT)
            .bucket(bucket)
            .key(key)
            .sub_resource("acl")
            .header(X_AMZ_ACL, acl.header_value());
        self.send(op).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601() {
        let t = parse_iso8601("2026-01-02T03:04:05.678Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap(),
            Duration::from_millis(1_767_323_045_678)
        );
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(UNIX_EPOCH));
        assert!(parse_iso8601("2026-13-02T03:04:05Z").is_none());
        assert!(parse_iso8601("garbage").is_none());
        let secs = |text| {
            parse_iso8601(text).map(|t| match t.duration_since(UNIX_EPOCH) {
                Ok(d) => i128::try_from(d.as_nanos()).unwrap(),
                Err(e) => -i128::try_from(e.duration().as_nanos()).unwrap(),
            })
        };
        // Year 0 is a date (January and February of it underflowed, and panicked).
        assert_eq!(
            secs("0000-01-01T00:00:00Z"),
            Some(-62_167_219_200_000_000_000)
        );
        assert_eq!(
            secs("0000-02-29T00:00:00Z"),
            Some(-62_162_121_600_000_000_000)
        );
        assert_eq!(
            secs("9999-12-31T23:59:59.999999999Z"),
            Some(253_402_300_799_999_999_999)
        );
        // Offsets are applied; no offset is UTC.
        assert_eq!(
            secs("2026-01-02T04:04:05.678+01:00"),
            secs("2026-01-02T03:04:05.678Z")
        );
        assert_eq!(secs("2026-01-02T03:04:05"), secs("2026-01-02T03:04:05Z"));
        for bad in [
            "2026-02-30T25:61:61Z",
            "2026-02-30T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "+026-01-01T00:00:00Z",
            "2026-+1-01T00:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00Zjunk",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00-00-00Z",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
        assert!(parse_iso8601("2024-02-29T00:00:00Z").is_some());
    }

    #[test]
    fn content_range() {
        assert_eq!(parse_content_range("bytes 0-99/1234"), Some((0, 99, 1234)));
        assert_eq!(parse_content_range("bytes */1234"), None);
        // Ranges that cannot be: a caller computing `last - first + 1` must not underflow.
        for bad in [
            "bytes 9-3/10",
            "bytes 0-10/10",
            "bytes +1-3/10",
            "bytes 0-3/+10",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn keys() {
        assert!(check_key("").is_err());
        assert!(check_new_key("").is_err());
        // Longer than S3 allows: refused for a new object, left to the server otherwise.
        assert!(check_new_key(&"a".repeat(1025)).is_err());
        check_key(&"a".repeat(1025)).unwrap();
        check_new_key(&"é".repeat(512)).unwrap();
    }
}
