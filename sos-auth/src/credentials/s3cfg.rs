//! `~/.s3cfg`, the s3cmd configuration the SOS quick start uses.

use std::path::PathBuf;

use super::ini;
use super::{Credentials, Environment, Secret};
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
        Self::parse(path, &text).map(Some)
    }

    /// Parses the text of an s3cmd configuration file (its `[default]` section, or as s3cmd
    /// does, every section, later values winning).
    ///
    /// # Errors
    /// Malformed lines, or a boolean that is not one.
    pub fn parse(path: PathBuf, text: &str) -> Result<Self> {
        let sections = ini::parse(&path, text)?;
        // s3cmd reads its settings from every section, later values winning (one
        // `[default]` in the files it writes); an empty file has none.
        let mut entries: Vec<_> = sections.into_iter().flat_map(|s| s.entries).collect();
        entries.sort_by_key(|(_, _, line)| *line); // file order, across repeated sections
        let section = ini::Section {
            name: "default".to_owned(),
            entries,
        };
        let get = |k: &str| section.get(k).filter(|v| !v.is_empty()).map(str::to_owned);
        // s3cmd takes `host_base = https://sos.exo.io` as the host alone.
        let host = |k: &str| {
            get(k).map(|v| {
                let v = v
                    .strip_prefix("https://")
                    .or_else(|| v.strip_prefix("http://"))
                    .unwrap_or(&v);
                v.trim_end_matches('/').to_owned()
            })
        };
        let boolean = |key: &str, default: bool| -> Result<bool> {
            match section.get(key).map(str::to_ascii_lowercase).as_deref() {
                None | Some("") => Ok(default),
                Some("true" | "yes" | "on" | "1") => Ok(true),
                Some("false" | "no" | "off" | "0") => Ok(false),
                // The value is not shown: a misplaced secret must not reach a log.
                Some(_) => Err(Error::ConfigFile {
                    path: path.clone(),
                    line: section.last(key).map_or(1, |(_, line)| line),
                    message: format!("`{key}` must be True or False (or yes/no, on/off, 1/0)"),
                }),
            }
        };
        let credentials = match (get("access_key"), get("secret_key")) {
            (Some(ak), Some(sk)) => {
                let c = Credentials::new(ak, Secret::from(sk));
                Some(match get("access_token") {
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
            host_base: host("host_base"),
            host_bucket: host("host_bucket"),
            signature_v2: boolean("signature_v2", false)?,
            use_https: boolean("use_https", true)?,
            bucket_location: get("bucket_location"),
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
