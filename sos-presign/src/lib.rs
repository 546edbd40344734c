//! Pre-signed S3 URLs (SigV4 and SigV2) and browser POST upload policies for Exoscale SOS and any S3-compatible store, sans-IO.
//!
//! **Status: skeleton.** This crate is reserved in the workspace and not written yet; see the
//! workspace README for the crates that are ready ([sos-auth](https://docs.rs/sos-auth)).
