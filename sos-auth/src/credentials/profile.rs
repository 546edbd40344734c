//! `~/.aws/credentials` and `~/.aws/config` profiles.

use std::path::PathBuf;

use super::ini::{self, Section};
use super::{Credentials, Environment};
use crate::{Error, Result};

/// One profile, merged from the credentials file (which wins) and the config file.
#[derive(Clone, Debug)]
pub struct AwsProfile {
    /// Profile name (`default`, `exomount`, ...).
    pub name: String,
    /// The credentials, when the profile has a complete key pair.
    pub credentials: Option<Credentials>,
    /// `region`, if set.
    pub region: Option<String>,
    /// `endpoint_url`, if set (as in recent AWS CLIs).
    pub endpoint_url: Option<String>,
    /// `s3.addressing_style` (`path`, `virtual` or `auto`), if set.
    pub addressing_style: Option<String>,
    /// The file that provided the credentials.
    pub source: PathBuf,
    credentials_problem: Option<IncompleteProfile>,
}

/// The two AWS files, read through an [`Environment`].
///
/// Paths follow the AWS CLI: `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`, and
/// `AWS_CONFIG_FILE` or `~/.aws/config` (where sections are `[profile NAME]`, except
/// `[default]`).
#[derive(Debug, Clone)]
pub struct AwsProfiles {
    credentials_path: Option<PathBuf>,
    config_path: Option<PathBuf>,
    credentials: Vec<Section>,
    config: Vec<Section>,
}

impl AwsProfiles {
    /// Reads both files (a missing file is empty).
    ///
    /// # Errors
    /// A file that exists but cannot be read or parsed.
    pub fn load(env: &dyn Environment) -> Result<Self> {
        let home = env.home_dir();
        // `~/`, `$HOME/` and `${HOME}/` are expanded, as botocore does (a quoted `.env` line
        // or a systemd unit passes them through the shell unexpanded).
        let expand = |value: String| -> PathBuf {
            for prefix in ["~/", "$HOME/", "${HOME}/"] {
                if let (Some(rest), Some(h)) = (value.strip_prefix(prefix), &home) {
                    return h.join(rest);
                }
            }
            PathBuf::from(value)
        };
        let path = |var: &str, default: &str| {
            env.var(var)
                .filter(|v| !v.is_empty())
                .map(expand)
                .or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
        };
        let credentials_path = path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
        let config_path = path("AWS_CONFIG_FILE", "config");
        let read = |p: &Option<PathBuf>| -> Result<Vec<Section>> {
            let Some(p) = p else { return Ok(Vec::new()) };
            match env.read_file(p) {
                Ok(Some(text)) => ini::parse(p, &text),
                Ok(None) => Ok(Vec::new()),
                Err(source) => Err(Error::Io {
                    path: p.clone(),
                    source,
                }),
            }
        };
        Ok(Self {
            credentials: read(&credentials_path)?,
            config: read(&config_path)?,
            credentials_path,
            config_path,
        })
    }

    /// The profile named by `AWS_DEFAULT_PROFILE` or `AWS_PROFILE` (the first wins, as in
    /// botocore), else `default`.
    pub fn default_name(env: &dyn Environment) -> String {
        Self::env_profile(env).unwrap_or_else(|| "default".to_owned())
    }

    /// The profile the environment names, if any.
    pub(crate) fn env_profile(env: &dyn Environment) -> Option<String> {
        ["AWS_DEFAULT_PROFILE", "AWS_PROFILE"]
            .into_iter()
            .find_map(|v| env.var(v).filter(|p| !p.is_empty()))
    }

    /// The files that were consulted.
    pub fn files(&self) -> Vec<PathBuf> {
        [&self.credentials_path, &self.config_path]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// The profile `name`, or `None` when neither file has it.
    ///
    /// Credentials come from one file, as the AWS CLI takes them: the credentials file's
    /// section when it has `aws_access_key_id`, else the config file's; the session token
    /// (`aws_session_token`, or the older `aws_security_token`, which wins as in botocore)
    /// from the same section. Other settings are read from either (the credentials file
    /// winning).
    ///
    /// # Errors
    /// None today for a half key pair: the profile is returned without credentials and
    /// [`AwsProfile::credentials_problem`] says what is missing (so that its region and
    /// endpoint can still be read); the chain reports it when it needs the credentials.
    pub fn profile(&self, name: &str) -> Result<Option<AwsProfile>> {
        let in_credentials = self.credentials.iter().rev().find(|s| s.name == name);
        let in_config = self.config.iter().rev().find(|s| {
            ini::config_profile_name(&s.name) == Some(name)
                || (name == "default" && s.name == "profile default")
        });
        if in_credentials.is_none() && in_config.is_none() {
            return Ok(None);
        }
        let get = |key: &str| {
            in_credentials
                .and_then(|s| s.get(key))
                .or_else(|| in_config.and_then(|s| s.get(key)))
                .filter(|v| !v.is_empty())
        };
        // The section (and file) the keys come from: the first whose section names a key.
        let keyed = [
            (in_credentials, &self.credentials_path),
            (in_config, &self.config_path),
        ]
        .into_iter()
        .find_map(|(section, path)| {
            section
                .filter(|s| s.has("aws_access_key_id"))
                .map(|s| (s, path.clone().unwrap_or_default()))
        });
        let mut credentials = None;
        let mut credentials_problem = None;
        let source = match keyed {
            Some((section, path)) => {
                let value = |key: &str| section.get(key).filter(|v| !v.is_empty());
                match (value("aws_access_key_id"), value("aws_secret_access_key")) {
                    (Some(ak), Some(sk)) => {
                        let c = Credentials::new(ak, sk);
                        let token = value("aws_security_token").or(value("aws_session_token"));
                        credentials = Some(match token {
                            Some(t) => c.with_session_token(t),
                            None => c,
                        });
                    }
                    (ak, _) => {
                        credentials_problem = Some(IncompleteProfile {
                            source_name: format!("profile `{name}` ({})", path.display()),
                            missing: if ak.is_some() {
                                "aws_secret_access_key"
                            } else {
                                "aws_access_key_id"
                            },
                        });
                    }
                }
                path
            }
            None => in_credentials
                .map(|_| &self.credentials_path)
                .unwrap_or(&self.config_path)
                .clone()
                .unwrap_or_default(),
        };
        Ok(Some(AwsProfile {
            name: name.to_owned(),
            credentials,
            region: get("region").map(str::to_owned),
            endpoint_url: get("endpoint_url").map(str::to_owned),
            addressing_style: get("s3.addressing_style").map(str::to_owned),
            source,
            credentials_problem,
        }))
    }
}

/// Why a profile has no credentials although it names some.
#[derive(Clone, Debug)]
pub(crate) struct IncompleteProfile {
    pub(crate) source_name: String,
    pub(crate) missing: &'static str,
}

impl AwsProfile {
    /// When the profile names a key but not a complete pair: what is missing, as the error
    /// the chain gives for it.
    pub fn credentials_problem(&self) -> Option<Error> {
        self.credentials_problem
            .as_ref()
            .map(|p| Error::IncompleteCredentials {
                source_name: p.source_name.clone(),
                missing: p.missing,
            })
    }
}
