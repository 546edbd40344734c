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
        let path = |var: &str, default: &str| {
            env.var(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
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

    /// The profile named by `AWS_PROFILE`, else `default`.
    pub fn default_name(env: &dyn Environment) -> String {
        env.var("AWS_PROFILE")
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "default".to_owned())
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
    /// # Errors
    /// A profile with an access key but no secret (or the reverse).
    pub fn profile(&self, name: &str) -> Result<Option<AwsProfile>> {
        let in_credentials = self.credentials.iter().rev().find(|s| s.name == name);
        let config_name = if name == "default" {
            "default".to_owned()
        } else {
            format!("profile {name}")
        };
        let in_config =
            self.config.iter().rev().find(|s| {
                s.name == config_name || (name == "default" && s.name == "profile default")
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
        let source = if in_credentials
            .and_then(|s| s.get("aws_access_key_id"))
            .is_some()
        {
            self.credentials_path.clone()
        } else {
            self.config_path.clone()
        }
        .unwrap_or_default();
        let credentials = match (get("aws_access_key_id"), get("aws_secret_access_key")) {
            (Some(ak), Some(sk)) => {
                let c = Credentials::new(ak, sk);
                Some(match get("aws_session_token") {
                    Some(t) => c.with_session_token(t),
                    None => c,
                })
            }
            (None, None) => None,
            (Some(_), None) => {
                return Err(Error::IncompleteCredentials {
                    source_name: format!("profile `{name}` ({})", source.display()),
                    missing: "aws_secret_access_key",
                });
            }
            (None, Some(_)) => {
                return Err(Error::IncompleteCredentials {
                    source_name: format!("profile `{name}` ({})", source.display()),
                    missing: "aws_access_key_id",
                });
            }
        };
        Ok(Some(AwsProfile {
            name: name.to_owned(),
            credentials,
            region: get("region").map(str::to_owned),
            endpoint_url: get("endpoint_url").map(str::to_owned),
            addressing_style: get("s3.addressing_style").map(str::to_owned),
            source,
        }))
    }
}
