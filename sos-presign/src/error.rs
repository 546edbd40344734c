//! The crate's one error type.

/// What can go wrong while pre-signing. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The endpoint URL or zone name is not usable.
    #[error("invalid endpoint `{endpoint}`: {reason}")]
    InvalidEndpoint {
        /// What was given.
        endpoint: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The bucket name breaks the S3 naming rules.
    #[error("invalid bucket name `{bucket}`: {reason}")]
    InvalidBucket {
        /// The name.
        bucket: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// An object key that S3 cannot hold (empty, or over 1024 bytes).
    #[error("invalid object key: {0}")]
    InvalidKey(&'static str),
    /// Expiry outside what the signature version allows (V4: 1 s ..= 7 days).
    #[error("expiry of {seconds} s is out of range ({min}..={max} s)")]
    InvalidExpiry {
        /// Requested seconds.
        seconds: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// A header name or value that cannot be signed and sent as is.
    #[error("invalid header `{name}`: {reason}")]
    InvalidHeader {
        /// The header name.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A POST policy that cannot be satisfied or expressed.
    #[error("invalid POST policy: {0}")]
    InvalidPolicy(String),
    /// Signing failed.
    #[error(transparent)]
    Signing(#[from] sos_auth::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
