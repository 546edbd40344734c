//! Building a [`Client`]: endpoint, credentials, signature, timeouts, retries, resolver.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sos_auth::{
    AwsProfiles, CredentialSource, Credentials, CredentialsChain, Environment, S3cfg,
    SystemEnvironment,
};
use sos_presign::{Addressing, Endpoint, SignatureVersion};

use crate::retry::RetryConfig;
use crate::{Client, Error, Result};

/// How the body of an upload is covered by a V4 signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PayloadSigning {
    /// Bodies in memory are hashed and the hash signed. Files and streams are sent with
    /// chunk signatures (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) over plain http and
    /// `UNSIGNED-PAYLOAD` over https, where TLS already protects them. Over plain http, a
    /// body in memory of more than 256 KiB goes with chunk signatures too: each chunk is
    /// hashed while the one before it is on its way, rather than the whole body before the
    /// request starts.
    #[default]
    Auto,
    /// `UNSIGNED-PAYLOAD` always (fastest; integrity rests on TLS and Content-MD5).
    Unsigned,
}

/// Configures and builds a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use sos_client::{Client, Credentials, Endpoint, Zone};
///
/// let client = Client::builder()
///     .endpoint(Endpoint::zone(Zone::ChGva2))
///     .credentials(Credentials::new("EXOabc", "secret"))
///     .read_timeout(Duration::from_secs(60))
///     .build()?;
/// assert_eq!(client.endpoint().region(), "ch-gva-2");
/// # Ok::<(), sos_client::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    pub(crate) endpoint: Option<Endpoint>,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) credential_source: Option<CredentialSource>,
    pub(crate) signature: SignatureVersion,
    pub(crate) addressing: Option<Addressing>,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) retry: RetryConfig,
    pub(crate) resolve: Vec<(String, SocketAddr)>,
    pub(crate) user_agent: String,
    pub(crate) payload_signing: PayloadSigning,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            endpoint: None,
            credentials: None,
            credential_source: None,
            signature: SignatureVersion::V4,
            addressing: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            request_timeout: None,
            retry: RetryConfig::default(),
            resolve: Vec::new(),
            user_agent: concat!("sos-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            payload_signing: PayloadSigning::Auto,
        }
    }
}

/// s3cmd's `bucket_location` as a region to sign for: `US` (what `s3cmd --configure` writes)
/// and `EU` are S3's old location names for us-east-1 and eu-west-1.
fn s3cfg_region(cfg: &S3cfg) -> Option<String> {
    cfg.bucket_location.as_deref().map(|l| match l {
        l if l.eq_ignore_ascii_case("US") => "us-east-1".to_owned(),
        l if l.eq_ignore_ascii_case("EU") => "eu-west-1".to_owned(),
        l => l.to_owned(),
    })
}

impl ClientBuilder {
    /// An empty builder: set at least the endpoint and the credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// Endpoint, credentials and signature as the user's tools have them, read from the
    /// process environment and files. See [`from_environment_in`](Self::from_environment_in).
    ///
    /// # Errors
    /// As `from_environment_in`.
    pub fn from_environment(profile: Option<&str>) -> Result<Self> {
        Self::from_environment_in(&SystemEnvironment, profile)
    }

    /// Endpoint, credentials and signature from `env`, the way the AWS CLI and s3cmd find
    /// them:
    /// - credentials: the [`CredentialsChain`] (environment, the AWS profile `profile` or
    ///   `AWS_DEFAULT_PROFILE`/`AWS_PROFILE`, `~/.s3cfg`); a `profile` given here switches
    ///   the environment's keys off, as `--profile` does in the AWS CLI;
    /// - endpoint: `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, else the profile's S3
    ///   endpoint (the `endpoint_url` of its `[services NAME]` section's `s3` block, else its
    ///   own `endpoint_url`), else `~/.s3cfg`'s `host_base` (with its `use_https`, `host_bucket`
    ///   for virtual-host addressing and `signature_v2`); an SOS zone URL gives its region.
    ///   `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` (or the profile's
    ///   `ignore_configured_endpoint_urls = true`) skips the variables and the profile, as the
    ///   AWS SDKs do; s3cmd's `host_base` still counts;
    /// - region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, s3cfg's
    ///   `bucket_location` (`US` and `EU`, S3's old names, are `us-east-1` and `eu-west-1`).
    ///
    /// Any of these can be overridden afterwards ([`endpoint`](Self::endpoint),
    /// [`region`](Self::region), ...). No endpoint found is not an error here; `build` then
    /// asks for one.
    ///
    /// # Errors
    /// No credentials found, a named profile missing, a malformed file (with its line).
    pub fn from_environment_in(env: &dyn Environment, profile: Option<&str>) -> Result<Self> {
        let mut chain = CredentialsChain::new();
        if let Some(profile) = profile {
            chain = chain.with_profile(profile);
        }
        let resolved = chain.resolve(env)?;
        let mut builder = Self::new().credentials(resolved.credentials);
        builder.credential_source = Some(resolved.source.clone());

        let profile_name = profile
            .map(str::to_owned)
            .unwrap_or_else(|| AwsProfiles::default_name(env));
        let aws_profile = AwsProfiles::load(env)?.profile(&profile_name)?;
        let s3cfg = match resolved.source {
            // A profile was asked for: do not mix in s3cmd's settings.
            CredentialSource::AwsProfile { .. } => None,
            _ => S3cfg::load(env)?,
        };

        let env_var = |name: &str| env.var(name).filter(|v| !v.is_empty());
        let mut region = env_var("AWS_REGION")
            .or_else(|| env_var("AWS_DEFAULT_REGION"))
            .or_else(|| aws_profile.as_ref().and_then(|p| p.region.clone()));
        // As the AWS SDKs: the variable when set (empty included, which is false), else the
        // profile's setting; `true` in any case.
        let ignore_configured_endpoints = match env.var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
            Some(v) => v.eq_ignore_ascii_case("true"),
            None => aws_profile
                .as_ref()
                .is_some_and(|p| p.ignore_configured_endpoint_urls),
        };
        let endpoint_url = if ignore_configured_endpoints {
            None
        } else {
            match env_var("AWS_ENDPOINT_URL_S3").or_else(|| env_var("AWS_ENDPOINT_URL")) {
                Some(url) => Some(url),
                None => match &aws_profile {
                    // The profile's endpoint is needed and its files cannot give it.
                    Some(p) if p.endpoint_problem().is_some() => {
                        return Err(p.endpoint_problem().map_or_else(
                            || Error::Config("the profile's endpoint".to_owned()),
                            Error::from,
                        ));
                    }
                    Some(p) => p.endpoint_url.clone(),
                    None => None,
                },
            }
        };
        if let Some(url) = endpoint_url {
            builder.endpoint = Some(Endpoint::parse(&url)?);
            if let Some(style) = aws_profile
                .as_ref()
                .and_then(|p| p.addressing_style.as_deref())
            {
                builder.addressing = match style {
                    "virtual" => Some(Addressing::VirtualHost),
                    "path" => Some(Addressing::Path),
                    _ => None,
                };
            }
        } else if let Some(cfg) = &s3cfg
            && cfg.host_base.is_some()
        {
            builder = builder.s3cfg_endpoint(cfg)?;
            region = region.or_else(|| s3cfg_region(cfg));
        }
        if let Some(cfg) = &s3cfg
            && cfg.signature_v2
        {
            builder.signature = SignatureVersion::V2;
        }
        Ok(builder.region_unless_zone(region))
    }

    /// Credentials, endpoint, addressing, signature and region from one s3cmd
    /// configuration, and nothing else: what `s3cmd -c FILE` uses. The file's `$NAME`
    /// values are resolved when it is read ([`S3cfg::parse_in`]), so keys kept in the
    /// environment (`secret_key = $SOS_SECRET`) work without the environment taking part.
    ///
    /// ```
    /// use sos_auth::{S3cfg, StaticEnvironment};
    /// use sos_client::ClientBuilder;
    ///
    /// let env = StaticEnvironment::new().with_var("SOS_SECRET", "s3cr3t");
    /// let text = "[default]\naccess_key = EXOabc\nsecret_key = $SOS_SECRET\n\
    ///             host_base = sos-ch-dk-2.exo.io\nuse_https = True\n";
    /// let cfg = S3cfg::parse_in("backup.s3cfg".into(), text, &env)?;
    /// let client = ClientBuilder::from_s3cfg(&cfg)?.build()?;
    /// assert_eq!(client.endpoint().region(), "ch-dk-2");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] when the file holds no `access_key` and `secret_key`; a `host_base`
    /// that is not a host.
    pub fn from_s3cfg(cfg: &S3cfg) -> Result<Self> {
        let credentials = cfg.credentials.clone().ok_or_else(|| {
            Error::Config(format!(
                "{} holds no access_key and secret_key",
                cfg.path.display()
            ))
        })?;
        let mut builder = Self::new().credentials(credentials);
        builder.credential_source = Some(CredentialSource::S3cfg {
            file: cfg.path.clone(),
        });
        if cfg.host_base.is_some() {
            builder = builder.s3cfg_endpoint(cfg)?;
        }
        if cfg.signature_v2 {
            builder.signature = SignatureVersion::V2;
        }
        Ok(builder.region_unless_zone(s3cfg_region(cfg)))
    }

    /// The endpoint of s3cmd's `host_base` (with `use_https`), virtual-host addressing when
    /// `host_bucket` asks for it.
    fn s3cfg_endpoint(mut self, cfg: &S3cfg) -> Result<Self> {
        if let Some(host) = &cfg.host_base {
            let scheme = if cfg.use_https { "https" } else { "http" };
            self.endpoint = Some(Endpoint::parse(&format!("{scheme}://{host}"))?);
            if cfg.virtual_host() {
                self.addressing = Some(Addressing::VirtualHost);
            }
        }
        Ok(self)
    }

    /// The endpoint set so far with `region`, unless it is an SOS zone's: a zone's region is
    /// the zone, and a stray `AWS_REGION` must not break it.
    fn region_unless_zone(mut self, region: Option<String>) -> Self {
        if let Some(region) = region
            && let Some(endpoint) = self.endpoint.take()
        {
            let is_zone = sos_presign::Zone::ALL
                .iter()
                .any(|z| z.endpoint_host() == endpoint.host());
            self.endpoint = Some(if is_zone {
                endpoint
            } else {
                endpoint.with_region(region)
            });
        }
        self
    }

    /// Where requests go: an SOS zone (`Endpoint::zone(Zone::ChGva2)`) or any URL
    /// (`Endpoint::parse("http://127.0.0.1:7480")?`).
    #[must_use]
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// The region of the V4 credential scope (an SOS zone sets it already).
    ///
    /// Applies to the endpoint set so far; set the endpoint first.
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.endpoint = self.endpoint.map(|e| e.with_region(region));
        self
    }

    /// Path-style (`host/bucket/key`, the default) or virtual-host (`bucket.host/key`).
    #[must_use]
    pub fn addressing(mut self, addressing: Addressing) -> Self {
        self.addressing = Some(addressing);
        self
    }

    /// The credentials.
    #[must_use]
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// V4 (the default) or V2 (for old tools' configurations: `signature_v2 = True`).
    #[must_use]
    pub fn signature_version(mut self, version: SignatureVersion) -> Self {
        self.signature = version;
        self
    }

    /// How long to wait for a connection (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a response may stay silent, headers or body (default 60 s). Unlike a total
    /// timeout it does not cut off a long transfer that is making progress.
    #[must_use]
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// A limit on each whole request, body included (default none).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Retry policy (default: 4 attempts, jittered exponential back-off from 100 ms).
    #[must_use]
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Resolves `host` to `addr` instead of asking DNS. A leading `*.` matches every
    /// sub-domain: `.resolve("*.s3.localhost", addr)` serves virtual-host bucket names of a
    /// local server.
    #[must_use]
    pub fn resolve(mut self, host: impl Into<String>, addr: SocketAddr) -> Self {
        self.resolve.push((host.into().to_ascii_lowercase(), addr));
        self
    }

    /// The `User-Agent` (default `sos-client/VERSION`).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How upload bodies are covered by V4 signatures (default [`PayloadSigning::Auto`]).
    #[must_use]
    pub fn payload_signing(mut self, signing: PayloadSigning) -> Self {
        self.payload_signing = signing;
        self
    }

    /// Where the credentials came from, when [`from_environment`](Self::from_environment)
    /// found them.
    pub fn credential_source(&self) -> Option<&CredentialSource> {
        self.credential_source.as_ref()
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] without an endpoint or credentials, or when the HTTP stack cannot
    /// be set up.
    pub fn build(self) -> Result<Client> {
        Client::from_builder(self)
    }

    pub(crate) fn http_client(&self) -> Result<reqwest::Client> {
        let mut http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .user_agent(&self.user_agent)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            // Redirects would be re-sent unsigned; S3 errors say where to go instead.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if let Some(timeout) = self.request_timeout {
            http = http.timeout(timeout);
        }
        if !self.resolve.is_empty() {
            http = http.dns_resolver(Arc::new(Overrides::new(&self.resolve)));
        }
        http.build()
            .map_err(|e| Error::Config(format!("cannot set up the HTTP client: {e}")))
    }
}

/// The resolver behind [`ClientBuilder::resolve`]: exact names, then `*.suffix` patterns,
/// then the system resolver.
struct Overrides {
    exact: HashMap<String, SocketAddr>,
    suffixes: Vec<(String, SocketAddr)>,
}

impl Overrides {
    fn new(entries: &[(String, SocketAddr)]) -> Self {
        let mut exact = HashMap::new();
        let mut suffixes = Vec::new();
        for (host, addr) in entries {
            match host.strip_prefix('*') {
                Some(suffix) => suffixes.push((suffix.to_owned(), *addr)),
                None => {
                    exact.insert(host.clone(), *addr);
                }
            }
        }
        Self { exact, suffixes }
    }

    fn lookup(&self, host: &str) -> Option<SocketAddr> {
        let host = host.to_ascii_lowercase();
        self.exact.get(&host).copied().or_else(|| {
            self.suffixes
                .iter()
                .find(|(suffix, _)| host.ends_with(suffix.as_str()))
                .map(|(_, addr)| *addr)
        })
    }
}

impl reqwest::dns::Resolve for Overrides {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let found = self.lookup(name.as_str());
        let host = name.as_str().to_owned();
        Box::pin(async move {
            if let Some(addr) = found {
                let addrs: reqwest::dns::Addrs = Box::new(std::iter::once(addr));
                return Ok(addrs);
            }
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let addrs: reqwest::dns::Addrs = Box::new(addrs.collect::<Vec<_>>().into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sos_auth::StaticEnvironment;

    #[test]
    fn s3cfg_of_the_seed_gives_endpoint_virtual_host_and_v2() {
        let env = StaticEnvironment::new().with_home("/home/u").with_file(
            "/home/u/.s3cfg",
            "[default]\naccess_key = EXOabc\nsecret_key = s3cr3t\nhost_base = sos-ch-dk-2.exo.io\n\
             host_bucket = %(bucket)s.sos-ch-dk-2.exo.io\nsignature_v2 = True\nuse_https = True\n",
        );
        let b = ClientBuilder::from_environment_in(&env, None).unwrap();
        let endpoint = b.endpoint.clone().unwrap();
        assert_eq!(endpoint.host(), "sos-ch-dk-2.exo.io");
        assert_eq!(endpoint.region(), "ch-dk-2");
        assert_eq!(b.addressing, Some(Addressing::VirtualHost));
        assert_eq!(b.signature, SignatureVersion::V2);
        assert!(matches!(
            b.credential_source,
            Some(CredentialSource::S3cfg { .. })
        ));
    }

    /// What `s3cmd --configure` writes for a custom endpoint (`bucket_location = US`), with
    /// the scheme left on `host_base`: the region is us-east-1 and the host the host alone.
    /// An empty `~/.s3cfg` does not stop keys from the environment.
    #[test]
    fn s3cfg_written_by_s3cmd_for_a_custom_endpoint() {
        let env = StaticEnvironment::new().with_home("/home/u").with_file(
            "/home/u/.s3cfg",
            "[default]\naccess_key = AK\nsecret_key = SK\naccess_token =\nbucket_location = US\n\
             host_base = http://localhost:9000/\nhost_bucket = localhost:9000\nuse_https = False\n",
        );
        let b = ClientBuilder::from_environment_in(&env, None).unwrap();
        let endpoint = b.endpoint.clone().unwrap();
        assert_eq!(
            (endpoint.host(), endpoint.region()),
            ("localhost:9000", "us-east-1")
        );
        let env = StaticEnvironment::new()
            .with_home("/home/u")
            .with_file("/home/u/.s3cfg", "")
            .with_var("AWS_ACCESS_KEY_ID", "AK")
            .with_var("AWS_SECRET_ACCESS_KEY", "SK");
        assert!(ClientBuilder::from_environment_in(&env, None).is_ok());
    }

    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (or the profile's
    /// `ignore_configured_endpoint_urls`) drops the endpoints of the variables and the
    /// profile, as botocore does; the variable wins over the profile either way, and a
    /// `services` section that is not there no longer matters.
    #[test]
    fn ignore_configured_endpoint_urls() {
        let base = StaticEnvironment::new()
            .with_home("/h")
            .with_file(
                "/h/.aws/config",
                "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n\
                 endpoint_url = http://127.0.0.1:7480\n",
            )
            .with_var("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:3900");
        let endpoint = |env: &StaticEnvironment| {
            ClientBuilder::from_environment_in(env, None)
                .unwrap()
                .endpoint
                .map(|e| e.host().to_owned())
        };
        assert_eq!(endpoint(&base).as_deref(), Some("127.0.0.1:3900"));
        let ignoring = base
            .clone()
            .with_var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE");
        assert_eq!(endpoint(&ignoring), None);
        let not_ignoring = base
            .clone()
            .with_var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false");
        assert_eq!(endpoint(&not_ignoring).as_deref(), Some("127.0.0.1:3900"));

        let profile_ignores = StaticEnvironment::new().with_home("/h").with_file(
            "/h/.aws/config",
            "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n\
             endpoint_url = http://127.0.0.1:7480\nservices = missing\n\
             ignore_configured_endpoint_urls = true\n",
        );
        assert_eq!(endpoint(&profile_ignores), None);
        // Set but empty is botocore's false, and wins over the profile too.
        let empty = profile_ignores
            .clone()
            .with_var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
            .with_var("AWS_ENDPOINT_URL", "http://127.0.0.1:9001");
        assert_eq!(endpoint(&empty).as_deref(), Some("127.0.0.1:9001"));
        let variable_wins =
            profile_ignores.with_var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false");
        assert!(ClientBuilder::from_environment_in(&variable_wins, None).is_err());
        let variable_wins = variable_wins.with_var("AWS_ENDPOINT_URL", "http://127.0.0.1:9000");
        assert_eq!(endpoint(&variable_wins).as_deref(), Some("127.0.0.1:9000"));
    }

    /// `from_s3cfg` reads one file and nothing else: its keys (a `$NAME` value resolved when
    /// the file was read), host, addressing, signature and region; a file without keys is
    /// an error naming it.
    #[test]
    fn from_s3cfg_uses_the_file_alone() {
        let env = StaticEnvironment::new().with_var("SECRET", "s3cr3t");
        let cfg = S3cfg::parse_in(
            "/etc/backup.s3cfg".into(),
            "[default]\naccess_key = AK\nsecret_key = $SECRET\nbucket_location = EU\n\
             host_base = 127.0.0.1:7480\nhost_bucket = %(bucket)s.s3.localhost:7480\n\
             use_https = False\nsignature_v2 = True\n",
            &env,
        )
        .unwrap();
        let b = ClientBuilder::from_s3cfg(&cfg).unwrap();
        let endpoint = b.endpoint.clone().unwrap();
        assert_eq!(
            (endpoint.host(), endpoint.region()),
            ("127.0.0.1:7480", "eu-west-1")
        );
        assert_eq!(b.addressing, Some(Addressing::VirtualHost));
        assert_eq!(b.signature, SignatureVersion::V2);
        let creds = b.credentials.clone().unwrap();
        assert_eq!(creds.secret_key().expose_secret(), "s3cr3t");
        assert!(matches!(
            &b.credential_source,
            Some(CredentialSource::S3cfg { file }) if file.ends_with("backup.s3cfg")
        ));
        // An SOS zone keeps its region whatever bucket_location says.
        let cfg = S3cfg::parse(
            "z.cfg".into(),
            "[default]\naccess_key = AK\nsecret_key = SK\nhost_base = sos-de-fra-1.exo.io\n\
             bucket_location = US\n",
        )
        .unwrap();
        let b = ClientBuilder::from_s3cfg(&cfg).unwrap();
        assert_eq!(b.endpoint.unwrap().region(), "de-fra-1");
        assert_eq!(b.signature, SignatureVersion::V4);
        let cfg = S3cfg::parse("/etc/nokeys.cfg".into(), "[default]\nhost_base = h\n").unwrap();
        match ClientBuilder::from_s3cfg(&cfg) {
            Err(Error::Config(message)) => assert!(message.contains("nokeys.cfg"), "{message}"),
            other => panic!("{other:?}"),
        }
    }

    /// A `services = NAME` without its section spoils only the endpoint from the files (as
    /// in botocore): an endpoint from the environment makes it moot.
    #[test]
    fn missing_services_section_fails_only_without_another_endpoint() {
        let env = StaticEnvironment::new().with_home("/h").with_file(
            "/h/.aws/config",
            "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\nservices = nope\n",
        );
        match ClientBuilder::from_environment_in(&env, None) {
            Err(Error::Auth(sos_auth::Error::ConfigFile { line, .. })) => assert_eq!(line, 4),
            other => panic!("{other:?}"),
        }
        let env = env.with_var("AWS_ENDPOINT_URL", "http://127.0.0.1:7480");
        let b = ClientBuilder::from_environment_in(&env, None).unwrap();
        assert_eq!(b.endpoint.unwrap().host(), "127.0.0.1:7480");
    }

    #[test]
    fn profile_gives_endpoint_and_region() {
        let env = StaticEnvironment::new()
            .with_home("/h")
            .with_file(
                "/h/.aws/credentials",
                "[exomount]\naws_access_key_id = EXOk\naws_secret_access_key = s\n",
            )
            .with_file(
                "/h/.aws/config",
                "[profile exomount]\nregion = garage\nendpoint_url = http://127.0.0.1:3900\n",
            );
        let b = ClientBuilder::from_environment_in(&env, Some("exomount")).unwrap();
        let endpoint = b.endpoint.unwrap();
        assert_eq!(endpoint.host(), "127.0.0.1:3900");
        assert_eq!(endpoint.region(), "garage");
        assert_eq!(b.signature, SignatureVersion::V4);
        let missing = ClientBuilder::from_environment_in(&env, Some("nope")).unwrap_err();
        assert!(missing.to_string().contains("nope"), "{missing}");
    }

    #[test]
    fn environment_endpoint_wins_and_build_needs_an_endpoint() {
        let env = StaticEnvironment::new()
            .with_var("AWS_ACCESS_KEY_ID", "AK")
            .with_var("AWS_SECRET_ACCESS_KEY", "SK");
        let b = ClientBuilder::from_environment_in(&env, None).unwrap();
        assert!(b.endpoint.is_none());
        let err = b.build().unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
        let env = env.with_var("AWS_ENDPOINT_URL", "https://sos-de-fra-1.exo.io");
        let b = ClientBuilder::from_environment_in(&env, None).unwrap();
        assert_eq!(b.endpoint.unwrap().region(), "de-fra-1");
    }

    #[test]
    fn wildcard_resolution() {
        let addr: SocketAddr = "127.0.0.1:7480".parse().unwrap();
        let o = Overrides::new(&[("*.s3.localhost".to_owned(), addr)]);
        assert_eq!(o.lookup("bkt.S3.localhost"), Some(addr));
        assert_eq!(o.lookup("s3.localhost.evil"), None);
    }
}
