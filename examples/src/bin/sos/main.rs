//! `sos`: an S3 command-line tool for Exoscale SOS and every S3-compatible store, in the
//! spirit of s3cmd, built on the sos crates: s3cmd's commands (`mb`, `rb`, `ls`, `la`,
//! `put`, `get`, `del`/`rm`, `du`, `info`, `cp`, `mv`, `modify`, `sync`, `setacl`,
//! `setcors`, `delcors`, `settagging`, `gettagging`, `deltagging`, `signurl`, `multipart`,
//! `listmp`, `abortmp`) with s3cmd's option names (`-r`, `-f`, `-P`, `--acl-private`,
//! `--acl-grant`, `--acl-revoke`, `-m`/`--mime-type`, `--add-header`, `--remove-header`,
//! `--delete-removed`, `--exclude`, `--include`, `-n`, `-H`, ...) and s3cmd's naming of
//! recursive transfers (`dir` vs `dir/`).
//!
//! Configuration as users already have it: `~/.s3cfg` (s3cmd's file: `host_base`,
//! `host_bucket`, `signature_v2`, `use_https`), `~/.aws` profiles (`--profile`), the
//! environment (`AWS_*`, `EXOSCALE_API_KEY`/`EXOSCALE_API_SECRET`, `AWS_ENDPOINT_URL`), and
//! flags (`--zone`, `--endpoint-url`, `--signature-v2`), flags winning. A file given with
//! `-c` is the configuration, as for s3cmd: its keys and host win over the environment.
//!
//! Exit codes: 0 success, 1 the operation failed, 2 bad usage or configuration, 3 a bucket
//! or object that does not exist.

// A command-line tool prints its results.
#![allow(clippy::print_stdout)]

mod args;
mod commands;
mod config;
mod copy;
mod download;
mod filters;
mod multipart;
mod output;
mod plan;
mod sync;
mod target;
mod transfer;
mod upload;

use std::process::ExitCode;

use clap::Parser;

/// What went wrong, and the exit code it gives.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad usage or configuration (exit 2).
    Usage(String),
    /// A client error (exit 1, or 3 when something does not exist).
    Client(sos_client::Error),
    /// A client error about one bucket or object, named first (exit codes as `Client`).
    At(String, sos_client::Error),
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
    /// The ACL and CORS documents this tool checks itself are the user's (a file, flags):
    /// any error in them is bad usage.
    fn from(e: sos_acl::Error) -> Self {
        Failure::Usage(e.to_string())
    }
}

pub(crate) type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    let cli = args::Cli::parse_from(args::s3cmd_order(std::env::args_os().collect()));
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
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}

/// The endpoint the client talks to (`http://host:port`, no credentials), for messages.
pub(crate) static ENDPOINT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

impl std::fmt::Display for Failure {
    /// One line; never a secret (client and configuration errors hold none).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, e) = match self {
            Failure::Usage(m) | Failure::NotFound(m) | Failure::Other(m) => {
                return f.write_str(m);
            }
            Failure::Client(e) => (None, e),
            Failure::At(what, e) => (Some(what), e),
        };
        if let Some(what) = what {
            write!(f, "{what}: ")?;
        }
        write!(f, "{e}")?;
        // The client leaves URLs out of transport errors (a pre-signed one holds a
        // signature): name the endpoint, so that a wrong host or port shows.
        if matches!(
            e,
            sos_client::Error::Transport { .. } | sos_client::Error::Timeout(_)
        ) && let Some(endpoint) = ENDPOINT.get()
        {
            write!(f, " (endpoint {endpoint})")?;
        }
        Ok(())
    }
}

impl Failure {
    fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code())
    }

    /// 2 bad usage, 3 something missing, 1 the rest.
    fn code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::NotFound(_) => 3,
            Failure::Other(_) => 1,
            Failure::Client(e) | Failure::At(_, e) => client_exit_code(e),
        }
    }
}

/// 3 for what does not exist, 2 for what could not be asked, 1 for the rest.
fn client_exit_code(e: &sos_client::Error) -> u8 {
    if e.is_not_found() {
        3
    } else if is_input_error(e) {
        2
    } else {
        1
    }
}

/// Whether the client refused what it was asked before sending anything: the same input
/// errors as those this tool finds itself, so the same exit code, whichever finds them.
fn is_input_error(e: &sos_client::Error) -> bool {
    match e {
        sos_client::Error::Config(_)
        | sos_client::Error::Auth(_)
        | sos_client::Error::InvalidBucketName { .. }
        | sos_client::Error::InvalidKey(_)
        | sos_client::Error::InvalidInput(_)
        | sos_client::Error::InvalidTag(_)
        | sos_client::Error::MetadataTooLarge { .. } => true,
        sos_client::Error::Acl(e) => is_input_acl_error(e),
        _ => false,
    }
}

/// Whether an ACL or CORS error is about a document or header the client was given (checked
/// before sending), not about a document the server sent and the client could not read (the
/// same type: a malformed answer is a failure, exit 1).
fn is_input_acl_error(e: &sos_acl::Error) -> bool {
    matches!(
        e,
        sos_acl::Error::TooManyGrants { .. }
            | sos_acl::Error::InvalidCorsConfiguration(_)
            | sos_acl::Error::InvalidHeaderValue { .. }
            | sos_acl::Error::InvalidGrantHeader { .. }
            | sos_acl::Error::ConflictingAclHeaders
            | sos_acl::Error::UnknownCannedAcl(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_exit_2_whichever_way_they_arrive() {
        let too_many = || sos_acl::Error::TooManyGrants { count: 101 };
        assert_eq!(Failure::from(too_many()).code(), 2);
        assert_eq!(
            Failure::Client(sos_client::Error::Acl(too_many())).code(),
            2
        );
        assert_eq!(
            Failure::At("s3://b/k".to_owned(), sos_client::Error::Acl(too_many())).code(),
            2
        );
        let cors = sos_acl::Error::InvalidCorsConfiguration(Vec::new());
        assert_eq!(Failure::Client(sos_client::Error::Acl(cors)).code(), 2);
        for e in [
            sos_client::Error::InvalidBucketName {
                bucket: "B".to_owned(),
                reason: "upper case".to_owned(),
            },
            sos_client::Error::InvalidKey("empty".to_owned()),
            sos_client::Error::MetadataTooLarge {
                size: 3000,
                limit: 2048,
            },
            sos_client::Error::InvalidInput("an empty range".to_owned()),
            sos_client::Error::InvalidTag("11 tags".to_owned()),
        ] {
            assert_eq!(Failure::At("s3://b/".to_owned(), e).code(), 2);
        }
        // An ACL the server sent that cannot be read is a failure, not bad usage.
        let unreadable = sos_acl::Error::MalformedXml {
            offset: 0,
            message: "eof".to_owned(),
        };
        assert_eq!(
            Failure::Client(sos_client::Error::Acl(unreadable)).code(),
            1
        );
        assert_eq!(
            Failure::Client(sos_client::Error::InvalidResponse("x".to_owned())).code(),
            1
        );
    }
}
