//! sos-presign integration tests: URL shapes and errors, and pre-signed URLs and POST forms
//! used by curl against real servers (the embedded s3s-fs and the Ceph RADOS Gateway).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod botocore;
mod common;
mod other_signers;
mod post;
mod servers;
mod urls;
