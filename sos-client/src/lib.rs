//! Async S3 client for Exoscale SOS and any S3-compatible store: buckets, objects, multipart, ACL, CORS.
//!
//! **Status: skeleton.** This crate is reserved in the workspace and not written yet; see the
//! workspace README for the crates that are ready ([sos-auth](https://docs.rs/sos-auth)).
