//! Servers, buckets and curl.

use std::path::Path;
use std::process::Command;

use http::Request;
use sos_auth::{Credentials, PayloadHash, SigV4Signer};
use sos_presign::{Addressing, Endpoint, Presigner, SignatureVersion};
use sos_testing::raw;

/// One server to test against.
pub(crate) struct Target {
    pub name: &'static str,
    pub port: u16,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    /// `s3.localhost` for virtual-host names.
    pub dns_name: String,
    _embedded: Option<sos_testing::EmbeddedS3>,
}

impl Target {
    pub(crate) fn embedded() -> Self {
        let server = sos_testing::EmbeddedS3::start().expect("start the embedded S3 server");
        Self {
            name: "s3s-fs",
            port: server.addr().port(),
            access_key: server.access_key().to_owned(),
            secret_key: server.secret_key().to_owned(),
            region: "us-east-1".to_owned(),
            dns_name: sos_testing::VIRTUAL_HOST_DOMAIN.to_owned(),
            _embedded: Some(server),
        }
    }

    pub(crate) fn rados_gateway() -> Option<Self> {
        let s = sos_testing::rados_gateway()?;
        Some(Self {
            name: "radosgw",
            port: s.port(),
            dns_name: s
                .dns_name
                .clone()
                .unwrap_or_else(|| "s3.localhost".to_owned()),
            access_key: s.access_key,
            secret_key: s.secret_key,
            region: s.region,
            _embedded: None,
        })
    }

    pub(crate) fn garage() -> Option<Self> {
        let s = sos_testing::garage()?;
        Some(Self {
            name: "garage",
            port: s.port(),
            dns_name: s
                .dns_name
                .clone()
                .unwrap_or_else(|| "s3.garage.localhost".to_owned()),
            access_key: s.access_key,
            secret_key: s.secret_key,
            region: s.region,
            _embedded: None,
        })
    }

    /// The servers that verify V2 and V4: s3s-fs and the gateway (which fails the test with
    /// instructions when it is not running).
    pub(crate) fn all() -> Vec<Self> {
        let mut v = vec![Self::embedded()];
        v.extend(Self::rados_gateway());
        v
    }

    /// Every server, with the signature versions it verifies (Garage: V4 only).
    pub(crate) fn all_with_versions() -> Vec<(Self, Vec<sos_presign::SignatureVersion>)> {
        use sos_presign::SignatureVersion::{V2, V4};
        let mut v: Vec<_> = Self::all().into_iter().map(|t| (t, vec![V4, V2])).collect();
        v.extend(Self::garage().map(|t| (t, vec![V4])));
        v
    }

    pub(crate) fn credentials(&self) -> Credentials {
        Credentials::new(self.access_key.clone(), self.secret_key.clone())
    }

    pub(crate) fn endpoint(&self, addressing: Addressing) -> Endpoint {
        let host = match addressing {
            Addressing::Path => "127.0.0.1",
            Addressing::VirtualHost => &self.dns_name,
        };
        Endpoint::parse(&format!("http://{host}:{}", self.port))
            .unwrap()
            .with_region(self.region.clone())
            .with_addressing(addressing)
    }

    pub(crate) fn presigner(&self, addressing: Addressing, version: SignatureVersion) -> Presigner {
        Presigner::new(self.credentials(), self.endpoint(addressing))
            .with_signature_version(version)
    }

    /// Creates a bucket with a signed request (not through the code under test).
    pub(crate) fn create_bucket(&self, prefix: &str) -> String {
        let bucket = sos_testing::unique_name(prefix);
        let status = self
            .signed(http::Method::PUT, &format!("/{bucket}"), Vec::new())
            .status;
        assert_eq!(status, 200, "{}: create bucket {bucket}", self.name);
        bucket
    }

    /// A V4-signed request, path-style.
    pub(crate) fn signed(
        &self,
        method: http::Method,
        path: &str,
        body: Vec<u8>,
    ) -> raw::RawResponse {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("http://127.0.0.1:{}{path}", self.port))
            .body(body)
            .unwrap();
        let payload = PayloadHash::of(req.body());
        SigV4Signer::new(self.credentials(), self.region.clone())
            .sign(&mut req, payload)
            .unwrap();
        raw::send(&req).unwrap()
    }
}

/// What curl saw.
#[derive(Debug)]
pub(crate) struct CurlResult {
    pub status: u16,
    pub headers: String,
    pub body: Vec<u8>,
}

impl CurlResult {
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

/// Runs curl with `args` (URL included), resolving `*.localhost` names to 127.0.0.1.
pub(crate) fn curl(args: &[&str], port: u16, dir: &Path) -> CurlResult {
    let body = dir.join(format!("curl-body-{}", sos_testing::unique_name("b")));
    let headers = dir.join(format!("curl-headers-{}", sos_testing::unique_name("h")));
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-S", "--max-time", "30", "-o"])
        .arg(&body)
        .arg("-D")
        .arg(&headers)
        .args(["-w", "%{http_code}"]);
    // curl resolves *.localhost to loopback itself, but say it explicitly for older versions.
    for arg in args {
        if let Some(host) = arg
            .strip_prefix("http://")
            .and_then(|r| r.split(['/', ':']).next())
            && host.ends_with(".localhost")
        {
            cmd.arg("--resolve").arg(format!("{host}:{port}:127.0.0.1"));
        }
    }
    cmd.args(args);
    let out = cmd
        .output()
        .expect("curl is installed (testing/run-tests.sh installs it)");
    let status: u16 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| {
            panic!(
                "curl failed: {} {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
    CurlResult {
        status,
        headers: std::fs::read_to_string(&headers).unwrap_or_default(),
        body: std::fs::read(&body).unwrap_or_default(),
    }
}
