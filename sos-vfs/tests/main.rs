//! sos-vfs on `MemoryStorage` and on the Ceph RADOS Gateway (started by
//! `testing/run-tests.sh`; a test that needs it fails and says how to start it, unless
//! `SOS_TEST_ALLOW_MISSING_SERVERS=1`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod common;
mod edge_cases;
mod instrumented;
mod prefetch;
mod reftests;
