//! The one error type, and the S3 error document parsed into codes a caller matches on.

use std::fmt;
use std::path::PathBuf;

use http::StatusCode;

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong.
///
/// Match on the S3 error code with [`Error::code`] (the whole answer is in
/// [`Error::Service`]):
/// ```
/// use sos_client::{Error, ErrorCode};
/// fn describe(e: &Error) -> &'static str {
///     match e.code() {
///         Some(ErrorCode::NoSuchKey) => "no such object",
///         Some(ErrorCode::AccessDenied) => "denied",
///         _ if e.is_retryable() => "try again later",
///         _ => "failed",
///     }
/// }
/// # let _ = describe;
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an S3 error (boxed: it is the large variant).
    #[error(transparent)]
    Service(Box<ServiceError>),
    /// A bucket name S3 refuses, caught before any request.
    #[error("invalid bucket name `{bucket}`: {reason}")]
    InvalidBucketName {
        /// The name.
        bucket: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// An object key that cannot be sent: empty, longer than S3's 1024 bytes for a new
    /// object, or with `.`/`..` path segments (which the HTTP stack would resolve).
    #[error("invalid object key: {0}")]
    InvalidKey(String),
    /// User metadata above S3's 2 KB limit, caught before sending.
    #[error("user metadata is {size} bytes, above S3's limit of {limit} bytes")]
    MetadataTooLarge {
        /// Bytes of `x-amz-meta-*` names and values.
        size: usize,
        /// The limit (2048).
        limit: usize,
    },
    /// Object tags S3 refuses (more than 10, a key or value too long, a character S3 does
    /// not allow, a repeated key, a key in the reserved `aws:` namespace), caught before any
    /// request (see [`Tags::validate`](crate::Tags::validate)).
    #[error("invalid tags: {0}")]
    InvalidTag(String),
    /// Other input that cannot make a valid request.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The client configuration is incomplete or wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// The request did not complete in time (connect or read timeout).
    #[error("timed out: {0}")]
    Timeout(String),
    /// The connection failed or broke (refused, reset, closed early, TLS).
    #[error("transport error: {message}")]
    Transport {
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The server's answer could not be understood.
    #[error("unexpected response: {0}")]
    InvalidResponse(String),
    /// A downloaded object or part does not match its checksum.
    #[error("checksum mismatch for {what}: expected {expected}, got {actual}")]
    ChecksumMismatch {
        /// What was checked.
        what: String,
        /// The checksum the server announced.
        expected: String,
        /// The checksum of the bytes received.
        actual: String,
    },
    /// Reading or writing a local file.
    #[error("{}: {source}", path.as_ref().map_or_else(|| "I/O".to_owned(), |p| p.display().to_string()))]
    Io {
        /// The file, when there is one.
        path: Option<PathBuf>,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Credentials could not be found or used, or a request could not be signed.
    #[error(transparent)]
    Auth(#[from] sos_auth::Error),
    /// An ACL or CORS document was invalid.
    #[error(transparent)]
    Acl(#[from] sos_acl::Error),
    /// A pre-signed URL could not be made.
    #[error(transparent)]
    Presign(sos_presign::Error),
}

impl From<sos_presign::Error> for Error {
    /// A bucket name sos-presign refuses is [`Error::InvalidBucketName`], whatever built the
    /// URL; the rest is [`Error::Presign`].
    fn from(error: sos_presign::Error) -> Self {
        match error {
            sos_presign::Error::InvalidBucket { bucket, reason } => Error::InvalidBucketName {
                bucket,
                reason: reason.to_owned(),
            },
            other => Error::Presign(other),
        }
    }
}

impl From<ServiceError> for Error {
    fn from(e: ServiceError) -> Self {
        Error::Service(Box::new(e))
    }
}

impl Error {
    /// The S3 error code, when the server sent one.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Error::Service(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Service(e) => Some(e.status),
            _ => None,
        }
    }

    /// `NoSuchKey`, `NoSuchBucket` or `NoSuchUpload`.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.code(),
            Some(ErrorCode::NoSuchKey | ErrorCode::NoSuchBucket | ErrorCode::NoSuchUpload)
        )
    }

    /// Whether trying again later may succeed: timeouts, broken connections, 5xx, throttling.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Timeout(_) | Error::Transport { .. } => true,
            Error::Service(e) => {
                e.status.is_server_error()
                    || e.status == StatusCode::TOO_MANY_REQUESTS
                    || matches!(
                        e.code,
                        ErrorCode::SlowDown
                            | ErrorCode::InternalError
                            | ErrorCode::ServiceUnavailable
                            | ErrorCode::RequestTimeout
                    )
            }
            _ => false,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: Some(path.into()),
            source,
        }
    }

    pub(crate) fn transport(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            return Error::Timeout(describe(&error));
        }
        Error::Transport {
            message: describe(&error),
            source: Some(Box::new(error)),
        }
    }
}

/// The error and its causes on one line, with the URL left out (it may hold a pre-signed
/// signature).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// An error answered by the server: the S3 error document, with the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    /// The HTTP status: `200 OK` for an error sent in the body of a 200 (copies and
    /// multipart completions, which S3 answers before they are done).
    pub status: StatusCode,
    /// The `<Code>`, or one derived from the status when there is no body (HEAD).
    pub code: ErrorCode,
    /// The `<Message>` (may be empty: the RADOS Gateway often sends none).
    pub message: String,
    /// `<RequestId>` or the `x-amz-request-id` header.
    pub request_id: Option<String>,
    /// `<HostId>` or the `x-amz-id-2` header.
    pub host_id: Option<String>,
    /// `<Resource>`, `<Key>` or `<BucketName>`, when the server named what failed.
    pub resource: Option<String>,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code, self.status.as_u16())?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(resource) = &self.resource {
            write!(f, " [{resource}]")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}

macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// An S3 error code. Codes this crate does not name are kept in [`ErrorCode::Other`].
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[$doc])* $name,)*
            /// Any other code, as sent.
            Other(String),
        }

        impl ErrorCode {
            /// The code as S3 spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrorCode::$name => stringify!($name),)*
                    ErrorCode::Other(code) => code,
                }
            }

            /// Parses a `<Code>`.
            pub fn parse(code: &str) -> Self {
                match code {
                    $(stringify!($name) => ErrorCode::$name,)*
                    other => ErrorCode::Other(other.to_owned()),
                }
            }
        }
    };
}

error_codes! {
    /// The object does not exist.
    NoSuchKey,
    /// The bucket does not exist.
    NoSuchBucket,
    /// The multipart upload does not exist (aborted or completed).
    NoSuchUpload,
    /// The bucket name is taken by another account.
    BucketAlreadyExists,
    /// You already own this bucket.
    BucketAlreadyOwnedByYou,
    /// The bucket still holds objects.
    BucketNotEmpty,
    /// Access denied by ACL or policy.
    AccessDenied,
    /// The access key is unknown.
    InvalidAccessKeyId,
    /// The signature is wrong (usually the secret key).
    SignatureDoesNotMatch,
    /// The client's clock is more than 15 minutes off.
    RequestTimeTooSkewed,
    /// The range is outside the object.
    InvalidRange,
    /// An `If-Match`/`If-Unmodified-Since` condition failed.
    PreconditionFailed,
    /// `If-None-Match`/`If-Modified-Since`: the object did not change (304).
    NotModified,
    /// A multipart part other than the last is below 5 MiB.
    EntityTooSmall,
    /// The object is above the size limit.
    EntityTooLarge,
    /// A part named at completion is missing or its ETag differs.
    InvalidPart,
    /// Parts at completion are not in ascending order.
    InvalidPartOrder,
    /// The bucket name is not valid.
    InvalidBucketName,
    /// A parameter or header was not valid.
    InvalidArgument,
    /// The request cannot be served as asked (e.g. a copy of an object onto itself that
    /// changes nothing).
    InvalidRequest,
    /// An object tag was refused (too many, too long, a character or key not allowed).
    InvalidTag,
    /// The request body was not valid.
    MalformedXML,
    /// The ACL document was not valid.
    MalformedACLError,
    /// The bucket has no CORS configuration.
    NoSuchCORSConfiguration,
    /// The bucket has no tags.
    NoSuchTagSet,
    /// `Content-MD5` does not match the body.
    BadDigest,
    /// `Content-MD5` is not a valid MD5.
    InvalidDigest,
    /// The body is shorter than `Content-Length`, or the upload stalled.
    IncompleteBody,
    /// The server gave up waiting for the body.
    RequestTimeout,
    /// Throttled: slow down.
    SlowDown,
    /// A server error: try again.
    InternalError,
    /// The service is unavailable: try again.
    ServiceUnavailable,
    /// The operation is not implemented by this server.
    NotImplemented,
    /// The method is not allowed on this resource.
    MethodNotAllowed,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ErrorCode {
    /// The code for a response without an error body (HEAD, or a server that sends none).
    pub(crate) fn from_status(status: StatusCode, object: bool) -> Self {
        match status.as_u16() {
            304 => ErrorCode::NotModified,
            403 => ErrorCode::AccessDenied,
            404 if object => ErrorCode::NoSuchKey,
            404 => ErrorCode::NoSuchBucket,
            409 => ErrorCode::Other("Conflict".to_owned()),
            412 => ErrorCode::PreconditionFailed,
            416 => ErrorCode::InvalidRange,
            429 => ErrorCode::SlowDown,
            500 => ErrorCode::InternalError,
            503 => ErrorCode::ServiceUnavailable,
            _ => ErrorCode::Other(format!("Http{}", status.as_u16())),
        }
    }
}
