//! `sos`: an S3 command-line tool for Exoscale SOS and every S3-compatible store, in the
//! spirit of s3cmd, built on the sos crates.
//!
//! Configuration as users already have it: `~/.s3cfg` (s3cmd's file: `host_base`,
//! `host_bucket`, `signature_v2`, `use_https`), `~/.aws` profiles (`--profile`), the
//! environment (`AWS_*`, `EXOSCALE_API_KEY`/`EXOSCALE_API_SECRET`, `AWS_ENDPOINT_URL`), and
//! flags (`--zone`, `--endpoint-url`, `--signature-v2`), flags winning.
//!
//! Exit codes: 0 success, 1 the operation failed, 2 bad usage or configuration, 3 a bucket
//! or object that does not exist.

// A command-line tool prints its results.
#![allow(clippy::print_stdout)]

mod args;
mod commands;
mod config;
mod output;
mod sync;
mod target;

use std::process::ExitCode;

use clap::Parser;

/// What went wrong, and the exit code it gives.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad usage or configuration (exit 2).
    Usage(String),
    /// A client error (exit 1, or 3 when something does not exist).
    Client(sos_client::Error),
    /// Something asked for does not exist (exit 3).
    NotFound(String),
    /// Anything else (exit 1).
    Other(String),
}

impl From<sos_client::Error> for Failure {
    fn from(e: sos_client::Error) -> Self {
        Failure::Client(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Other(e.to_string())
    }
}

impl From<sos_acl::Error> for Failure {
    fn from(e: sos_acl::Error) -> Self {
        Failure::Usage(e.to_string())
    }
}

pub(crate) type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Client(e)) => {
            eprintln!("error: {e}");
            if e.is_not_found() {
                ExitCode::from(3)
            } else if matches!(
                e,
                sos_client::Error::Config(_)
                    | sos_client::Error::Auth(_)
                    | sos_client::Error::InvalidBucketName { .. }
                    | sos_client::Error::InvalidKey(_)
                    | sos_client::Error::InvalidInput(_)
                    | sos_client::Error::MetadataTooLarge { .. }
            ) {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
        Err(Failure::NotFound(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(3)
        }
        Err(Failure::Other(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}
