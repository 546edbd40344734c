//! Credentials and where they come from.
//!
//! [`Credentials`] hold an access key, a secret key and an optional session token; the secret
//! and the token are zeroized on drop and never printed. [`CredentialsChain`] looks for them in
//! the order users expect — explicit, environment, `~/.aws` profiles, `~/.s3cfg` — and says
//! which source won. File and environment access go through [`Environment`], so tests and
//! embedders can supply their own.

mod chain;
mod environment;
mod ini;
mod profile;
mod s3cfg;

pub use chain::{CredentialSource, CredentialsChain, ResolvedCredentials};
pub use environment::{Environment, StaticEnvironment, SystemEnvironment};
pub use profile::{AwsProfile, AwsProfiles};
pub use s3cfg::S3cfg;

use zeroize::Zeroizing;

/// A secret (secret access key or session token): zeroized on drop, redacted in `Debug` and
/// `Display`. Read it with [`expose_secret`](Self::expose_secret).
///
/// ```
/// let secret = sos_auth::Secret::from("wJalrXUtnFEMI/K7MDENG");
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
/// assert_eq!(secret.to_string(), "<redacted>");
/// assert_eq!(secret.expose_secret(), "wJalrXUtnFEMI/K7MDENG");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// The secret text. Keep it out of logs.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(Zeroizing::new(s))
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(Zeroizing::new(s.to_owned()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// An access key, its secret, and an optional session token.
///
/// ```
/// use sos_auth::Credentials;
/// let creds = Credentials::new("EXO1234567890", "my-secret");
/// assert_eq!(creds.access_key(), "EXO1234567890");
/// assert!(!format!("{creds:?}").contains("my-secret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key: String,
    secret_key: Secret,
    session_token: Option<Secret>,
}

impl Credentials {
    /// Credentials from an access key and a secret key.
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<Secret>) -> Self {
        Self {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            session_token: None,
        }
    }

    /// Adds a session token (sent as `x-amz-security-token`). An empty token is no token:
    /// nothing is sent for it (as botocore and rusty-s3 do; an empty
    /// `X-Amz-Security-Token` would be refused).
    #[must_use]
    pub fn with_session_token(mut self, token: impl Into<Secret>) -> Self {
        let token = token.into();
        self.session_token = (!token.expose_secret().is_empty()).then_some(token);
        self
    }

    /// Resolves credentials from the process environment and files with the default
    /// [`CredentialsChain`].
    ///
    /// # Errors
    /// [`Error::CredentialsNotFound`](crate::Error::CredentialsNotFound) when no source has
    /// any, or the error of the first source that is malformed.
    pub fn from_env() -> crate::Result<Self> {
        CredentialsChain::new()
            .resolve(&SystemEnvironment)
            .map(|r| r.credentials)
    }

    /// The access key id (not secret).
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key.
    pub fn secret_key(&self) -> &Secret {
        &self.secret_key
    }

    /// The session token, if any.
    pub fn session_token(&self) -> Option<&Secret> {
        self.session_token.as_ref()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key)
            .field("session_token", &self.session_token)
            .finish()
    }
}
