//! sos-client against real S3 servers: the embedded s3s-fs, the Ceph RADOS Gateway and
//! Garage (started by `testing/run-tests.sh`); and against a fake one that answers what no
//! S3 server should (`hostile_responses`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod acl_cors;
mod common;
mod copies;
mod failures;
mod hostile_responses;
mod interop;
mod keys;
mod objects;
mod presign;
mod tagging;
mod transfers;
mod versioning;
