//! Credentials and AWS request signing (Signature Version 4 and 2) for
//! [Exoscale SOS](https://www.exoscale.com/object-storage/) and every S3-compatible store.
//!
//! Sans-IO: this crate builds on [`http`] types, sends nothing, starts no runtime and reads
//! the clock only in the convenience methods (every signer has a `*_at` variant that takes
//! the time).
//!
//! # Quick start
//! ```
//! use sos_auth::{Credentials, PayloadHash, SigV4Signer};
//!
//! let credentials = Credentials::new("EXO1234567890", "my-api-secret");
//! let signer = SigV4Signer::new(credentials, "ch-dk-2");
//! let mut request = http::Request::get("https://sos-ch-dk-2.exo.io/mybucket/backup.tgz").body(())?;
//! signer.sign(&mut request, PayloadHash::EMPTY)?;
//! assert!(request.headers().contains_key("authorization"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Contents
//! - [`Credentials`], [`Secret`] and their sources: [`CredentialsChain`] (explicit,
//!   environment, `~/.aws` profiles, `~/.s3cfg`), [`AwsProfiles`], [`S3cfg`], and the
//!   [`Environment`] they read through.
//! - [`SigV4Signer`]: header signing, pre-signed URLs, streaming uploads ([`ChunkSigner`],
//!   with a [`TrailingChecksum`] or not), with a [`SigningKeyCache`]; [`PayloadHash`] says
//!   how the body is covered.
//! - [`SigV2Signer`]: the older HMAC-SHA1 signature, header and query forms.
//! - [`Verifier`]: checks a signed request or pre-signed URL (V4 or V2) as a server does,
//!   and the chunks of a streaming upload ([`ChunkVerifier`]).
//! - [`AmzDate`]: the time stamp form, and [`Error`], the one error type.

// The README's example is compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod credentials;
mod encoding;
mod error;
mod inline_list;
mod sha256;
mod time;
mod uri_parts;
mod v2;
mod v4;
mod verify;

pub use credentials::{
    AwsProfile, AwsProfiles, CredentialSource, Credentials, CredentialsChain, Environment,
    ResolvedCredentials, S3cfg, Secret, StaticEnvironment, SystemEnvironment,
};
pub use error::{Error, Result};
pub use time::AmzDate;
pub use v2::SigV2Signer;
pub use v4::{
    ChunkSigner, ChunkVerifier, DecodedBody, MAX_PRESIGN_EXPIRY, PayloadHash, SigV4Signer,
    SigningKey, SigningKeyCache, TrailingChecksum, X_AMZ_CONTENT_SHA256, X_AMZ_DATE,
    X_AMZ_SECURITY_TOKEN,
};
pub use verify::{SignatureVersion, VerifiedRequest, Verifier};
