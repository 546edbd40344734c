//! The servers the client is tested against, and clients configured for them.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use sos_client::{Addressing, Client, Credentials, Endpoint, RetryConfig, SignatureVersion};
use sos_testing::EmbeddedS3;
use sos_testing::cli::{AwsCli, S3cmd};

/// One server.
#[derive(Clone)]
pub(crate) struct Target {
    pub name: &'static str,
    pub endpoint: String,
    pub port: u16,
    pub access_key: String,
    pub secret_key: String,
    pub second_user: Option<(String, String)>,
    pub region: String,
    /// Domain of virtual-host names (`bucket.DOMAIN:PORT`).
    pub dns_name: String,
    /// Signature versions the server verifies.
    pub versions: &'static [SignatureVersion],
}

/// The embedded s3s-fs server, one per test binary.
pub(crate) fn embedded() -> Target {
    static SERVER: OnceLock<EmbeddedS3> = OnceLock::new();
    let server = SERVER.get_or_init(|| EmbeddedS3::start().expect("start the embedded S3 server"));
    Target {
        name: "s3s-fs",
        endpoint: server.endpoint(),
        port: server.addr().port(),
        access_key: server.access_key().to_owned(),
        secret_key: server.secret_key().to_owned(),
        second_user: None,
        region: "us-east-1".to_owned(),
        dns_name: sos_testing::VIRTUAL_HOST_DOMAIN.to_owned(),
        versions: &[SignatureVersion::V4, SignatureVersion::V2],
    }
}

fn external(
    name: &'static str,
    server: Option<sos_testing::ExternalServer>,
    default_dns: &str,
    versions: &'static [SignatureVersion],
) -> Option<Target> {
    let s = server?;
    Some(Target {
        name,
        port: s.port(),
        endpoint: s.endpoint.clone(),
        dns_name: s.dns_name.clone().unwrap_or_else(|| default_dns.to_owned()),
        access_key: s.access_key,
        secret_key: s.secret_key,
        second_user: s.second_user,
        region: s.region,
        versions,
    })
}

/// The RADOS Gateway (the test fails with instructions when it is not running).
pub(crate) fn rados_gateway() -> Option<Target> {
    external(
        "radosgw",
        sos_testing::rados_gateway(),
        "s3.localhost",
        &[SignatureVersion::V4, SignatureVersion::V2],
    )
}

/// Garage (V4 only).
pub(crate) fn garage() -> Option<Target> {
    external(
        "garage",
        sos_testing::garage(),
        "s3.garage.localhost",
        &[SignatureVersion::V4],
    )
}

/// Every server.
pub(crate) fn all() -> Vec<Target> {
    let mut all = vec![embedded()];
    all.extend(rados_gateway());
    all.extend(garage());
    all
}

impl Target {
    pub(crate) fn credentials(&self) -> Credentials {
        Credentials::new(self.access_key.clone(), self.secret_key.clone())
    }

    /// A V4 path-style client.
    pub(crate) fn client(&self) -> Client {
        self.client_with(SignatureVersion::V4, Addressing::Path)
    }

    pub(crate) fn endpoint_for(&self, addressing: Addressing) -> Endpoint {
        let url = match addressing {
            Addressing::Path => self.endpoint.clone(),
            // Virtual-host needs a host name: the server's DNS name, resolved to loopback.
            Addressing::VirtualHost => format!("http://{}:{}", self.dns_name, self.port),
        };
        Endpoint::parse(&url)
            .unwrap()
            .with_region(self.region.clone())
            .with_addressing(addressing)
    }

    pub(crate) fn client_with(&self, version: SignatureVersion, addressing: Addressing) -> Client {
        let loopback: SocketAddr = ([127, 0, 0, 1], self.port).into();
        Client::builder()
            .endpoint(self.endpoint_for(addressing))
            .credentials(self.credentials())
            .signature_version(version)
            .resolve(format!("*.{}", self.dns_name), loopback)
            .resolve(self.dns_name.clone(), loopback)
            .retry(RetryConfig::default().with_base_delay(std::time::Duration::from_millis(20)))
            .build()
            .unwrap()
    }

    /// Every (signature, addressing) the server supports, as clients.
    pub(crate) fn clients(&self) -> Vec<(String, Client)> {
        let mut out = Vec::new();
        for &version in self.versions {
            for addressing in [Addressing::Path, Addressing::VirtualHost] {
                out.push((
                    format!("{} {version:?} {addressing:?}", self.name),
                    self.client_with(version, addressing),
                ));
            }
        }
        out
    }

    /// A new bucket, created through the client.
    pub(crate) async fn bucket(&self, client: &Client, prefix: &str) -> String {
        let name = sos_testing::unique_name(prefix);
        client
            .create_bucket(&name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: create bucket {name}: {e}", self.name));
        name
    }
}

/// Deletes every object of a bucket, then the bucket (best effort cleanup, but checked).
pub(crate) async fn remove_bucket(client: &Client, bucket: &str) {
    use futures_util::TryStreamExt;
    let keys: Vec<String> = client
        .list_objects(bucket)
        .max_pages(1000)
        .objects()
        .map_ok(|o| o.key)
        .try_collect()
        .await
        .unwrap();
    if !keys.is_empty() {
        let out = client.delete_objects(bucket, &keys).await.unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
    }
    // s3s-fs does not implement ListMultipartUploads.
    let uploads = match client.list_multipart_uploads(bucket, None).await {
        Err(e) if e.code() == Some(&sos_client::ErrorCode::NotImplemented) => Vec::new(),
        other => other.unwrap(),
    };
    for upload in uploads {
        let upload = sos_client::MultipartUpload {
            bucket: bucket.to_owned(),
            key: upload.key,
            upload_id: upload.upload_id,
        };
        client.abort_multipart_upload(&upload).await.unwrap();
    }
    client.delete_bucket(bucket).await.unwrap();
}

/// Deterministic pseudo-random bytes.
pub(crate) fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand_like(seed);
    (0..len).map(|_| rng()).collect()
}

fn fastrand_like(seed: u64) -> impl FnMut() -> u8 {
    let mut state = seed | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 24) as u8
    }
}

// ---------------------------------------------------------------------------------------
// Running the reference CLIs.

/// A blocking command-line tool.
pub(crate) trait Tool: Send + Sync + 'static {
    fn run_args(&self, args: &[&str]) -> String;
}

impl Tool for AwsCli {
    fn run_args(&self, args: &[&str]) -> String {
        self.run(args)
    }
}

impl Tool for S3cmd {
    fn run_args(&self, args: &[&str]) -> String {
        self.run(args)
    }
}

/// Runs the tool off the runtime's thread; its panic (the command failed) comes back as is.
pub(crate) async fn run<T: Tool>(tool: &Arc<T>, args: &[&str]) -> String {
    let tool = Arc::clone(tool);
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let task = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        tool.run_args(&args)
    });
    match task.await {
        Ok(out) => out,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

pub(crate) fn aws_cli(target: &Target) -> AwsCli {
    AwsCli::new(
        &target.endpoint,
        &target.access_key,
        &target.secret_key,
        &target.region,
    )
}
