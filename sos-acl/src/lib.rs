//! Typed S3 ACLs and CORS configurations (XML in and out, validation, CORS evaluation) for Exoscale SOS and any S3-compatible store.
//!
//! **Status: skeleton.** This crate is reserved in the workspace and not written yet; see the
//! workspace README for the crates that are ready ([sos-auth](https://docs.rs/sos-auth)).
