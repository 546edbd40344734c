//! Test tooling shared by every crate of the workspace (not published).
//!
//! - [`EmbeddedS3`]: an `s3s-fs` S3 server started inside the test process on `127.0.0.1:0`,
//!   with a real access key and secret, so signatures are verified. No set-up needed. It
//!   also keeps ACLs and CORS configurations in memory (stored, not enforced), which s3s-fs
//!   alone does not have.
//! - [`raw`]: a blocking HTTP/1.1 client that sends the request line and headers byte for
//!   byte as given, so a test controls exactly what was signed.
//! - [`external`]: the RADOS Gateway and Garage, started by `testing/run-tests.sh`,
//!   found through `SOS_TEST_*` environment variables; a missing server fails the test with a
//!   message that says how to start it.
//! - [`FaultProxy`]: a loopback HTTP/1.1 proxy in front of a server that injects queued
//!   [`Fault`]s (resets, truncated responses, `SlowDown`, delays) request by request, for
//!   retry tests.
//! - [`unique_name`]: bucket names that never collide between tests or runs.

mod acl_store;
pub mod cli;
mod embedded;
pub mod external;
pub mod proxy;
pub mod raw;

pub use acl_store::OWNER_ID;
pub use embedded::{ACCESS_KEY, EmbeddedS3, SECRET_KEY, VIRTUAL_HOST_DOMAIN};
pub use external::{ExternalServer, garage, rados_gateway};
pub use proxy::{Fault, FaultProxy};

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A valid, unique S3 bucket name starting with `prefix` (lowercase letters, digits, `-`).
///
/// Unique across tests of one process (a counter) and across runs (time and pid), so tests
/// against a long-lived external server never see each other's buckets.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    let mut name = format!("{prefix}-{:x}-{:x}-{n}", std::process::id(), nanos);
    name.truncate(63);
    name
}
