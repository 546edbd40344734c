//! The credential provider chain.

use std::path::PathBuf;

use super::{AwsProfiles, Credentials, Environment, S3cfg};
use crate::{Error, Result};

/// Where credentials were found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSource {
    /// Given to [`CredentialsChain::with_explicit`].
    Explicit,
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`).
    AwsEnvironment,
    /// `EXOSCALE_API_KEY` / `EXOSCALE_API_SECRET`.
    ExoscaleEnvironment,
    /// A profile of `~/.aws/credentials` or `~/.aws/config`.
    AwsProfile {
        /// Profile name.
        name: String,
        /// File that held the keys.
        file: PathBuf,
    },
    /// An s3cmd configuration file.
    S3cfg {
        /// The file.
        file: PathBuf,
    },
}

impl std::fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Explicit => f.write_str("explicit credentials"),
            Self::AwsEnvironment => f.write_str("environment (AWS_ACCESS_KEY_ID)"),
            Self::ExoscaleEnvironment => f.write_str("environment (EXOSCALE_API_KEY)"),
            Self::AwsProfile { name, file } => write!(f, "profile `{name}` in {}", file.display()),
            Self::S3cfg { file } => write!(f, "{}", file.display()),
        }
    }
}

/// Credentials and the source that provided them.
#[derive(Debug, Clone)]
pub struct ResolvedCredentials {
    /// The credentials.
    pub credentials: Credentials,
    /// Which source won.
    pub source: CredentialSource,
}

/// Looks for credentials in order: explicit, environment (`AWS_*`, then `EXOSCALE_API_*`),
/// the AWS profile (`with_profile`, else `AWS_PROFILE`, else `default`), then `~/.s3cfg`.
///
/// A named profile (given with `with_profile` or `AWS_PROFILE`) must exist: asking for
/// `--profile exomount` and silently using other keys would be a surprise. A source that is
/// present but malformed stops the chain with its error (file and line), rather than being
/// skipped.
///
/// ```
/// use sos_auth::{CredentialSource, CredentialsChain, StaticEnvironment};
/// let env = StaticEnvironment::new()
///     .with_var("EXOSCALE_API_KEY", "EXOkey")
///     .with_var("EXOSCALE_API_SECRET", "secret");
/// let resolved = CredentialsChain::new().resolve(&env)?;
/// assert_eq!(resolved.source, CredentialSource::ExoscaleEnvironment);
/// # Ok::<(), sos_auth::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CredentialsChain {
    explicit: Option<Credentials>,
    profile: Option<String>,
}

impl CredentialsChain {
    /// The default chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses these credentials before any other source.
    #[must_use]
    pub fn with_explicit(mut self, credentials: Credentials) -> Self {
        self.explicit = Some(credentials);
        self
    }

    /// Uses this AWS profile (like `--profile`), overriding `AWS_DEFAULT_PROFILE` and
    /// `AWS_PROFILE`; keys in the environment (AWS and Exoscale) are then not used, as in the
    /// AWS CLI.
    #[must_use]
    pub fn with_profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// Runs the chain.
    ///
    /// # Errors
    /// [`Error::CredentialsNotFound`] listing the sources tried; [`Error::ProfileNotFound`]
    /// for a named profile that does not exist; the parse or I/O error of a malformed source.
    pub fn resolve(&self, env: &dyn Environment) -> Result<ResolvedCredentials> {
        let found = |credentials, source| {
            Ok(ResolvedCredentials {
                credentials,
                source,
            })
        };
        if let Some(c) = &self.explicit {
            return found(c.clone(), CredentialSource::Explicit);
        }
        // A profile named here (`--profile`) switches the environment's keys off, as in the
        // AWS CLI; one named by `AWS_PROFILE` does not, but must exist.
        let env_profile = AwsProfiles::env_profile(env);
        if self.profile.is_none() {
            let from_env = match env_pair(
                env,
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                &["AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"],
            )? {
                Some(c) => Some((c, CredentialSource::AwsEnvironment)),
                None => env_pair(env, "EXOSCALE_API_KEY", "EXOSCALE_API_SECRET", &[])?
                    .map(|c| (c, CredentialSource::ExoscaleEnvironment)),
            };
            if let Some((c, source)) = from_env {
                if let Some(name) = &env_profile
                    && let Ok(profiles) = AwsProfiles::load(env)
                    && let Ok(None) = profiles.profile(name)
                {
                    return Err(Error::ProfileNotFound {
                        profile: name.clone(),
                        files: profiles.files(),
                    });
                }
                return found(c, source);
            }
        }

        let named = self.profile.clone().or(env_profile);
        let profile_name = named.clone().unwrap_or_else(|| "default".to_owned());
        let profiles = AwsProfiles::load(env)?;
        match profiles.profile(&profile_name)? {
            Some(p) => {
                if let Some(c) = p.credentials {
                    return found(
                        c,
                        CredentialSource::AwsProfile {
                            name: p.name,
                            file: p.source,
                        },
                    );
                }
                if let Some(problem) = p.credentials_problem() {
                    return Err(problem);
                }
                if named.is_some() {
                    return Err(Error::CredentialsNotFound {
                        tried: format!(
                            "profile `{profile_name}` has no aws_access_key_id (credential_process, \
                             SSO and role profiles are not supported: give it keys)"
                        ),
                    });
                }
            }
            None if named.is_some() => {
                return Err(Error::ProfileNotFound {
                    profile: profile_name,
                    files: profiles.files(),
                });
            }
            None => {}
        }

        if let Some(cfg) = S3cfg::load(env)?
            && let Some(c) = cfg.credentials
        {
            return found(c, CredentialSource::S3cfg { file: cfg.path });
        }
        Err(Error::CredentialsNotFound {
            tried:
                "AWS_ACCESS_KEY_ID, EXOSCALE_API_KEY, ~/.aws/credentials, ~/.aws/config, ~/.s3cfg"
                    .to_owned(),
        })
    }
}

fn env_pair(
    env: &dyn Environment,
    key: &'static str,
    secret: &'static str,
    tokens: &[&str],
) -> Result<Option<Credentials>> {
    let get = |name: &str| env.var(name).filter(|v| !v.is_empty());
    match (get(key), get(secret)) {
        (Some(ak), Some(sk)) => {
            let c = Credentials::new(ak, sk);
            Ok(Some(match tokens.iter().find_map(|t| get(t)) {
                Some(t) => c.with_session_token(t),
                None => c,
            }))
        }
        (None, None) => Ok(None),
        // An AWS secret alone is ignored, as the AWS CLI does: the next source answers.
        (None, Some(_)) if key.starts_with("AWS_") => Ok(None),
        (None, Some(_)) => Err(Error::IncompleteCredentials {
            source_name: "the environment".to_owned(),
            missing: key,
        }),
        (Some(_), None) => Err(Error::IncompleteCredentials {
            source_name: "the environment".to_owned(),
            missing: secret,
        }),
    }
}
