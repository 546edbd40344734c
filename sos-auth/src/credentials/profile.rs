//! `~/.aws/credentials` and `~/.aws/config` profiles.

use std::path::{Path, PathBuf};

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
    /// The S3 endpoint URL, if set: as botocore looks for it in the files, the `s3 =` nested
    /// `endpoint_url` of the `[services NAME]` section that the profile names with
    /// `services = NAME`, else the profile's `endpoint_url`.
    pub endpoint_url: Option<String>,
    /// `s3.addressing_style` (`path`, `virtual` or `auto`), if set.
    pub addressing_style: Option<String>,
    /// `ignore_configured_endpoint_urls = true`: endpoints configured in the files and the
    /// environment are not used (`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`, when set, wins).
    pub ignore_configured_endpoint_urls: bool,
    /// The file that provided the credentials.
    pub source: PathBuf,
    credentials_problem: Option<IncompleteProfile>,
    endpoint_problem: Option<FileProblem>,
}

/// The two AWS files, read through an [`Environment`].
///
/// Paths follow the AWS CLI: `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`, and
/// `AWS_CONFIG_FILE` or `~/.aws/config` (where sections are `[profile NAME]`, NAME one shell
/// word such as `'my name'`, except `[default]`); `$NAME`, `${NAME}` and a leading `~` in the
/// variables are expanded.
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
                .map(|v| expand_path(&v, env, home.as_deref()))
                .or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
        };
        let credentials_path = path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
        let config_path = path("AWS_CONFIG_FILE", "config");
        let read = |p: &Option<PathBuf>| -> Result<Vec<Section>> {
            let Some(p) = p else { return Ok(Vec::new()) };
            match env.read_file(p) {
                Ok(Some(text)) => ini::parse(p, &text, ini::Dialect::Aws),
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
    /// Likewise a `services = NAME` without its section: [`AwsProfile::endpoint_problem`].
    pub fn profile(&self, name: &str) -> Result<Option<AwsProfile>> {
        let in_credentials = self.credentials.iter().rev().find(|s| s.name == name);
        // `[default]` and `[profile default]` both name the default profile: the later wins
        // whole, as in botocore.
        let in_config = self
            .config
            .iter()
            .rev()
            .find(|s| ini::config_profile_name(&s.name).as_deref() == Some(name));
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
        // A `services = NAME` without its section spoils only the endpoint (botocore fails
        // when it builds a client, not when it reads keys or the region; an endpoint from the
        // environment makes it moot): kept for `endpoint_problem`.
        let (endpoint_url, endpoint_problem) =
            match self.services_endpoint(in_credentials, in_config) {
                Ok(Some(url)) => (Some(url), None),
                Ok(None) => (get("endpoint_url").map(str::to_owned), None),
                Err(problem) => (None, Some(problem)),
            };
        Ok(Some(AwsProfile {
            name: name.to_owned(),
            credentials,
            region: get("region").map(str::to_owned),
            endpoint_url,
            addressing_style: get("s3.addressing_style").map(str::to_owned),
            // botocore's boolean: `true` in any case, anything else false.
            ignore_configured_endpoint_urls: get("ignore_configured_endpoint_urls")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            source,
            credentials_problem,
            endpoint_problem,
        }))
    }

    /// The S3 `endpoint_url` of the `[services NAME]` section (config file) that the profile
    /// names with `services = NAME` (botocore's "config_service" endpoint, which comes before
    /// the profile's own `endpoint_url`).
    ///
    /// # Errors
    /// The named section does not exist (botocore's `InvalidConfigError`), at the line of
    /// `services =`.
    fn services_endpoint(
        &self,
        in_credentials: Option<&Section>,
        in_config: Option<&Section>,
    ) -> std::result::Result<Option<String>, FileProblem> {
        let named = [
            (in_credentials, &self.credentials_path),
            (in_config, &self.config_path),
        ]
        .into_iter()
        .find_map(|(section, path)| {
            let (value, line) = section?.last("services")?;
            (!value.is_empty()).then_some((value, line, path))
        });
        let Some((services, line, path)) = named else {
            return Ok(None);
        };
        let section =
            self.config.iter().rev().find(|s| {
                ini::typed_section_name(&s.name, "services").as_deref() == Some(services)
            });
        match section {
            Some(s) => Ok(s
                .get("s3.endpoint_url")
                .filter(|v| !v.is_empty())
                .map(str::to_owned)),
            None => Err(FileProblem {
                path: path.clone().unwrap_or_default(),
                line,
                message: format!(
                    "`services = {services}` names no `[services {services}]` section in {}",
                    self.config_path
                        .as_deref()
                        .map_or_else(|| "the config file".to_owned(), |p| p.display().to_string())
                ),
            }),
        }
    }
}

/// A file path from the environment, expanded as botocore does (`os.path.expandvars`, then
/// `os.path.expanduser`): `$NAME` and `${NAME}` of a set variable are replaced (`HOME`
/// falling back to the home directory), others kept; then a leading `~` is the home
/// directory (a quoted `.env` line or a systemd unit passes them through the shell
/// unexpanded).
fn expand_path(value: &str, env: &dyn Environment, home: Option<&Path>) -> PathBuf {
    let var = |name: &str| {
        env.var(name).or_else(|| {
            (name == "HOME")
                .then(|| home.map(|h| h.to_string_lossy().into_owned()))
                .flatten()
        })
    };
    let mut out = String::new();
    let mut rest = value;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        // The variable's name and how much text `$...` takes after the `$`.
        let (name, len) = match after.strip_prefix('{') {
            Some(braced) => braced
                .find('}')
                .map_or(("", 0), |end| (&braced[..end], end + 2)),
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match Some(name).filter(|n| !n.is_empty()).and_then(var) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[dollar..=dollar + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    if let Some(after) = out.strip_prefix('~')
        && (after.is_empty() || after.starts_with('/'))
        && let Some(home) = home
    {
        let home = home.to_string_lossy();
        let joined = format!("{}{after}", home.trim_end_matches('/'));
        return PathBuf::from(if joined.is_empty() {
            "/".to_owned()
        } else {
            joined
        });
    }
    PathBuf::from(out)
}

/// A line of a file that spoils one setting of a profile, reported when that setting is
/// needed (an [`Error::ConfigFile`]).
#[derive(Clone, Debug)]
struct FileProblem {
    path: PathBuf,
    line: usize,
    message: String,
}

/// Why a profile has no credentials although it names some.
#[derive(Clone, Debug)]
pub(crate) struct IncompleteProfile {
    pub(crate) source_name: String,
    pub(crate) missing: &'static str,
}

impl AwsProfile {
    /// When the profile's `services = NAME` names no `[services NAME]` section: the error
    /// (file and line of `services =`), for whoever needs the endpoint from the files
    /// ([`endpoint_url`](Self::endpoint_url) is then `None`). Keys and region are not
    /// affected, as in botocore.
    pub fn endpoint_problem(&self) -> Option<Error> {
        self.endpoint_problem.as_ref().map(|p| Error::ConfigFile {
            path: p.path.clone(),
            line: p.line,
            message: p.message.clone(),
        })
    }

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
