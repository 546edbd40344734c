//! The external servers started by `testing/run-tests.sh`.
//!
//! Each is found through environment variables that script exports. When one is missing, a
//! test that needs it fails and says how to start it. Setting
//! `SOS_TEST_ALLOW_MISSING_SERVERS=1` turns that failure into a loud "NOT TESTED" line on
//! stderr instead (for a quick local run); CI never sets it.

/// Where an external S3 server listens and the keys it accepts.
#[derive(Clone)]
pub struct ExternalServer {
    /// Human name, for messages.
    pub name: &'static str,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    /// Access key of the main test user.
    pub access_key: String,
    /// Secret key of the main test user.
    pub secret_key: String,
    /// A second user (for ACL grant tests), when the server has one.
    pub second_user: Option<(String, String)>,
    /// The region the server expects in a V4 credential scope.
    pub region: String,
    /// Domain under which virtual-host bucket names are served (`bucket.DOMAIN:PORT`).
    pub dns_name: Option<String>,
}

impl std::fmt::Debug for ExternalServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalServer")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .field("access_key", &self.access_key)
            .field("region", &self.region)
            .field("dns_name", &self.dns_name)
            .finish_non_exhaustive()
    }
}

impl ExternalServer {
    /// `host:port` of the endpoint.
    pub fn authority(&self) -> &str {
        self.endpoint
            .split_once("://")
            .map_or(self.endpoint.as_str(), |(_, rest)| {
                rest.trim_end_matches('/')
            })
    }

    /// The port of the endpoint.
    pub fn port(&self) -> u16 {
        self.authority()
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(80)
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn missing(server: &str, start: &str) -> Option<ExternalServer> {
    if var("SOS_TEST_ALLOW_MISSING_SERVERS").as_deref() == Some("1") {
        eprintln!(
            "NOT TESTED against {server}: it is not running (SOS_TEST_ALLOW_MISSING_SERVERS=1)"
        );
        return None;
    }
    panic!(
        "this test needs {server}, which is not running or not configured.\n\
         Start it with: {start}\n\
         (or run the whole suite with `bash testing/run-tests.sh`, which installs and starts \
         every server; set SOS_TEST_ALLOW_MISSING_SERVERS=1 to skip such tests loudly)"
    );
}

/// A server described by `{prefix}_ENDPOINT`, `_ACCESS_KEY`, `_SECRET_KEY` and optionally
/// `_ACCESS_KEY2`/`_SECRET_KEY2`, `_REGION`, `_DNS_NAME`.
fn from_env(
    prefix: &str,
    name: &'static str,
    start: &str,
    default_region: &str,
) -> Option<ExternalServer> {
    let get = |suffix: &str| var(&format!("{prefix}_{suffix}"));
    let (Some(endpoint), Some(access_key), Some(secret_key)) =
        (get("ENDPOINT"), get("ACCESS_KEY"), get("SECRET_KEY"))
    else {
        return missing(name, start);
    };
    Some(ExternalServer {
        name,
        endpoint,
        access_key,
        secret_key,
        second_user: get("ACCESS_KEY2").zip(get("SECRET_KEY2")),
        region: get("REGION").unwrap_or_else(|| default_region.to_owned()),
        dns_name: get("DNS_NAME"),
    })
}

/// The Ceph RADOS Gateway, from `SOS_TEST_RGW_*`.
///
/// # Panics
/// When it is not configured (unless `SOS_TEST_ALLOW_MISSING_SERVERS=1`, then `None`).
pub fn rados_gateway() -> Option<ExternalServer> {
    from_env(
        "SOS_TEST_RGW",
        "radosgw",
        "bash testing/servers/radosgw.sh install && bash testing/servers/radosgw.sh up && \
         source target/test-servers/radosgw/env",
        "us-east-1",
    )
}

/// Garage, from `SOS_TEST_GARAGE_*`. It verifies V4 only (no V2) and has no ACL operations.
///
/// # Panics
/// When it is not configured (unless `SOS_TEST_ALLOW_MISSING_SERVERS=1`, then `None`).
pub fn garage() -> Option<ExternalServer> {
    from_env(
        "SOS_TEST_GARAGE",
        "garage",
        "bash testing/servers/garage.sh install && bash testing/servers/garage.sh up && \
         source target/test-servers/garage/env",
        "garage",
    )
}
