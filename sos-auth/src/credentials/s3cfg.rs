//! `~/.s3cfg`, the s3cmd configuration the SOS quick start uses.

use std::path::PathBuf;

use super::ini;
use super::{Credentials, Environment, Secret, SystemEnvironment};
use crate::{Error, Result};

/// The settings of one s3cmd configuration section (`[default]` unless told otherwise).
///
/// Besides the keys, the client needs `host_base` (the endpoint host), `host_bucket` (the
/// virtual-host template, `%(bucket)s.sos.exo.io`), `signature_v2` and `use_https`.
///
/// ```
/// use sos_auth::{S3cfg, StaticEnvironment};
/// let env = StaticEnvironment::new().with_home("/h").with_file("/h/.s3cfg", "\
/// [default]
/// host_base = sos.exo.io
/// host_bucket = %(bucket)s.sos.exo.io
/// access_key = EXOabc
/// secret_key = s3cr3t
/// use_https = True
/// signature_v2 = True
/// ");
/// let cfg = S3cfg::load(&env)?.expect("file exists");
/// assert_eq!(cfg.host_base.as_deref(), Some("sos.exo.io"));
/// assert!(cfg.signature_v2 && cfg.use_https);
/// assert_eq!(cfg.bucket_host("my-new-bucket").as_deref(), Some("my-new-bucket.sos.exo.io"));
/// # Ok::<(), sos_auth::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct S3cfg {
    /// The file it came from.
    pub path: PathBuf,
    /// The credentials, when both `access_key` and `secret_key` are set.
    pub credentials: Option<Credentials>,
    /// `host_base`: the endpoint host (and port), e.g. `sos.exo.io`.
    pub host_base: Option<String>,
    /// `host_bucket`: the virtual-host template, e.g. `%(bucket)s.sos.exo.io`.
    pub host_bucket: Option<String>,
    /// `signature_v2`: sign with AWS Signature Version 2 (default false).
    pub signature_v2: bool,
    /// `use_https` (default true, as in s3cmd).
    pub use_https: bool,
    /// `bucket_location` (the region), if set.
    pub bucket_location: Option<String>,
}

/// A value in double quotes without them, as s3cmd reads `key = "value"` (then trimmed).
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .map_or(value, str::trim)
}

impl S3cfg {
    /// Reads `$S3CMD_CONFIG` or `~/.s3cfg`; `Ok(None)` when there is no such file.
    ///
    /// # Errors
    /// The file exists but cannot be read or parsed.
    pub fn load(env: &dyn Environment) -> Result<Option<Self>> {
        let path = env
            .var("S3CMD_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| env.home_dir().map(|h| h.join(".s3cfg")));
        let Some(path) = path else { return Ok(None) };
        let text = match env.read_file(&path) {
            Ok(Some(text)) => text,
            Ok(None) => return Ok(None),
            Err(source) => return Err(Error::Io { path, source }),
        };
        Self::parse_in(path, &text, env).map(Some)
    }

    /// Parses the text of an s3cmd configuration file, `$NAME` references read from the
    /// process environment (see [`parse_in`](Self::parse_in)).
    ///
    /// # Errors
    /// As [`parse_in`](Self::parse_in).
    pub fn parse(path: PathBuf, text: &str) -> Result<Self> {
        Self::parse_in(path, text, &SystemEnvironment)
    }

    /// Parses the text of an s3cmd configuration file as s3cmd reads it: every section (one
    /// `[default]` in the files it writes), and settings before any header, later values
    /// winning; each line on its own (no continuation lines); a value in double quotes
    /// (`secret_key = "..."`) unquoted; a value `$NAME` replaced by the variable `NAME` of
    /// `env` (s3cmd's environment references; an unset one is as if the setting were
    /// absent).
    ///
    /// # Errors
    /// Malformed lines; a boolean that is not one (empty included, as in s3cmd); `access_key`
    /// without `secret_key` or the reverse.
    pub fn parse_in(path: PathBuf, text: &str, env: &dyn Environment) -> Result<Self> {
        let sections = ini::parse(&path, text, ini::Dialect::S3cmd)?;
        let mut entries: Vec<_> = sections.into_iter().flat_map(|s| s.entries).collect();
        entries.sort_by_key(|(_, _, line)| *line); // file order, across repeated sections
        let section = ini::Section {
            name: "default".to_owned(),
            entries,
        };
        // The value of `key` as s3cmd takes it, and its line; `None` when absent or an
        // unset `$NAME`.
        let value = |key: &str| -> Result<Option<(String, usize)>> {
            let Some((raw, line)) = section.last(key) else {
                return Ok(None);
            };
            let mut value = unquote(raw).to_owned();
            // A variable may hold another reference (s3cmd follows them; a loop is cut).
            for _ in 0..8 {
                let Some(name) = value.strip_prefix('$') else {
                    return Ok(Some((value, line)));
                };
                match env.var(name) {
                    Some(v) => value = v,
                    None => return Ok(None),
                }
            }
            Err(Error::ConfigFile {
                path: path.clone(),
                line,
                message: format!("`{key}`: too many nested `$NAME` references"),
            })
        };
        let get = |k: &str| -> Result<Option<String>> {
            Ok(value(k)?.map(|(v, _)| v).filter(|v| !v.is_empty()))
        };
        // s3cmd takes `host_base = https://sos.exo.io` as the host alone.
        let host = |k: &str| -> Result<Option<String>> {
            Ok(get(k)?.map(|v| {
                let v = v
                    .strip_prefix("https://")
                    .or_else(|| v.strip_prefix("http://"))
                    .unwrap_or(&v);
                v.trim_end_matches('/').to_owned()
            }))
        };
        let boolean = |key: &str, default: bool| -> Result<bool> {
            let Some((v, line)) = value(key)? else {
                return Ok(default);
            };
            match v.to_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Ok(true),
                "false" | "no" | "off" | "0" => Ok(false),
                // The value is not shown: a misplaced secret must not reach a log.
                _ => Err(Error::ConfigFile {
                    path: path.clone(),
                    line,
                    message: format!("`{key}` must be True or False (or yes/no, on/off, 1/0)"),
                }),
            }
        };
        let credentials = match (get("access_key")?, get("secret_key")?) {
            (Some(ak), Some(sk)) => {
                let c = Credentials::new(ak, Secret::from(sk));
                Some(match get("access_token")? {
                    Some(t) => c.with_session_token(t),
                    None => c,
                })
            }
            (None, None) => None,
            (Some(_), None) => {
                return Err(Error::IncompleteCredentials {
                    source_name: path.display().to_string(),
                    missing: "secret_key",
                });
            }
            (None, Some(_)) => {
                return Err(Error::IncompleteCredentials {
                    source_name: path.display().to_string(),
                    missing: "access_key",
                });
            }
        };
        Ok(Self {
            credentials,
            host_base: host("host_base")?,
            host_bucket: host("host_bucket")?,
            signature_v2: boolean("signature_v2", false)?,
            use_https: boolean("use_https", true)?,
            bucket_location: get("bucket_location")?,
            path,
        })
    }

    /// The host of `bucket` by the `host_bucket` template (`%(bucket)s` replaced), if set.
    pub fn bucket_host(&self, bucket: &str) -> Option<String> {
        self.host_bucket
            .as_ref()
            .map(|t| t.replace("%(bucket)s", bucket))
    }

    /// Whether the template addresses buckets by virtual host (it contains `%(bucket)s`).
    pub fn virtual_host(&self) -> bool {
        self.host_bucket
            .as_deref()
            .is_some_and(|t| t.contains("%(bucket)s"))
    }
}
