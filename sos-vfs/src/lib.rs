//! A path-to-key virtual filesystem over S3-compatible storage with the semantics of Mountpoint for S3.
//!
//! **Status: skeleton.** This crate is reserved in the workspace and not written yet; see the
//! workspace README for the crates that are ready ([sos-auth](https://docs.rs/sos-auth)).
