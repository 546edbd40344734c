//! sos-auth integration tests: published AWS examples, botocore vectors, the vectors of other
//! signers, credential sources, secrets, and signatures checked by real S3 servers (embedded
//! s3s-fs and the RADOS Gateway).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_arguments)]

mod aws_examples;
mod botocore;
mod credentials;
mod other_signers;
mod secrets;
mod servers;
mod verify;
