//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in sos-auth. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No credential source had credentials.
    #[error("no credentials found (tried: {tried})")]
    CredentialsNotFound {
        /// The sources that were tried, in order.
        tried: String,
    },
    /// A credential source was half set (an access key without a secret, for instance).
    #[error("incomplete credentials in {source_name}: {missing} is missing")]
    IncompleteCredentials {
        /// Where the partial credentials were found.
        source_name: String,
        /// What is missing.
        missing: &'static str,
    },
    /// A requested profile does not exist.
    #[error("profile `{profile}` not found in {}", files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" or "))]
    ProfileNotFound {
        /// The profile name.
        profile: String,
        /// The files that were read.
        files: Vec<PathBuf>,
    },
    /// A configuration or credentials file could not be parsed.
    #[error("{}:{line}: {message}", path.display())]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The request cannot be signed as it is (no host, a header that is not text, ...).
    #[error("cannot sign request: {0}")]
    InvalidRequest(String),
    /// A pre-signed URL expiry outside what the signature version allows.
    #[error("expiry of {seconds} s is out of range ({min}..={max} s)")]
    InvalidExpiry {
        /// The requested expiry.
        seconds: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// Verification: the request carries no signature at all.
    #[error("request is not signed")]
    MissingSignature,
    /// Verification: the `Authorization` header or pre-signed query is malformed.
    #[error("malformed signature: {0}")]
    MalformedSignature(String),
    /// Verification: a signing algorithm this crate does not verify.
    #[error("unsupported signing algorithm `{0}`")]
    UnsupportedAlgorithm(String),
    /// Verification: the access key is not known to the verifier.
    #[error("unknown access key `{0}`")]
    UnknownAccessKey(String),
    /// Verification: the recomputed signature differs.
    #[error("signature does not match")]
    SignatureMismatch,
    /// Verification: `x-amz-*` headers that the V4 signature does not cover (S3's
    /// `AccessDenied`, "There were headers present in the request which were not signed"):
    /// anyone holding a signed request could otherwise add `x-amz-acl: public-read` or
    /// `x-amz-copy-source` to it.
    #[error("x-amz-* headers present but not signed: {0}")]
    HeadersNotSigned(String),
    /// Verification: the request time is too far from the verifier's clock.
    #[error(
        "request time {request_time} is more than {max_skew_secs} s away from server time {server_time}"
    )]
    RequestTimeTooSkewed {
        /// Time stamp of the request, as sent.
        request_time: String,
        /// Time of the verifier, same format.
        server_time: String,
        /// The tolerance.
        max_skew_secs: u64,
    },
    /// Verification: a pre-signed URL whose time is up.
    #[error("pre-signed request expired at {expired_at}")]
    Expired {
        /// When it expired (`YYYYMMDDTHHMMSSZ` or Unix seconds for V2).
        expired_at: String,
    },
    /// Verification: the credential scope (date, region, service) does not fit.
    #[error("invalid credential scope: {0}")]
    InvalidScope(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
