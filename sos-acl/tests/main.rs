//! sos-acl integration tests: property tests (round trips, tolerance, no panics), answers
//! captured from the RADOS Gateway, and ACL and CORS semantics checked against a running
//! gateway (started by `testing/run-tests.sh`; a test fails with instructions when it is not
//! running).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_arguments)]

mod fixtures;
mod rgw_acl;
mod rgw_cors;
mod roundtrip;
mod support;
