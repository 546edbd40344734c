//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// An S3 command-line tool for Exoscale SOS and every S3-compatible store.
#[derive(Debug, Parser)]
#[command(name = "sos", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Where to connect and how.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// AWS profile of ~/.aws/credentials and ~/.aws/config.
    #[arg(long, global = true)]
    pub(crate) profile: Option<String>,
    /// An s3cmd configuration file (default ~/.s3cfg, or $S3CMD_CONFIG).
    #[arg(short = 'c', long = "config", global = true)]
    pub(crate) config: Option<PathBuf>,
    /// An SOS zone: ch-gva-2, ch-dk-2, de-fra-1, de-muc-1, at-vie-1, at-vie-2, bg-sof-1.
    #[arg(long, global = true, conflicts_with = "endpoint_url")]
    pub(crate) zone: Option<String>,
    /// Any S3 endpoint, e.g. `http://127.0.0.1:7480`.
    #[arg(long, global = true)]
    pub(crate) endpoint_url: Option<String>,
    /// The region of V4 signatures (an SOS zone sets it).
    #[arg(long, global = true)]
    pub(crate) region: Option<String>,
    /// Sign with AWS Signature Version 2.
    #[arg(long, global = true)]
    pub(crate) signature_v2: bool,
    /// Address buckets as host names (bucket.host) instead of paths (host/bucket).
    #[arg(long, global = true)]
    pub(crate) virtual_host: bool,
    /// No progress bars, no informational output.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
}

/// Transfer tuning.
#[derive(Debug, Args, Clone, Copy)]
pub(crate) struct Transfer {
    /// Part size of multipart transfers, in MiB.
    #[arg(long, default_value_t = 8)]
    pub(crate) part_size_mib: u64,
    /// Parts in flight.
    #[arg(long, default_value_t = 4)]
    pub(crate) concurrency: usize,
}

/// Metadata given on upload.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct Upload {
    /// Canned ACL: private, public-read, public-read-write, authenticated-read, ...
    #[arg(long)]
    pub(crate) acl: Option<String>,
    /// Shortcut for --acl public-read.
    #[arg(short = 'P', long)]
    pub(crate) acl_public: bool,
    /// Content-Type (default: guessed from the file name).
    #[arg(long)]
    pub(crate) content_type: Option<String>,
    /// User metadata, `--meta name=value` (repeatable).
    #[arg(long = "meta", value_name = "NAME=VALUE")]
    pub(crate) meta: Vec<String>,
    /// Cache-Control.
    #[arg(long)]
    pub(crate) cache_control: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Make a bucket.
    Mb {
        /// s3://BUCKET
        bucket: String,
        /// Canned ACL of the bucket.
        #[arg(long)]
        acl: Option<String>,
        /// Location constraint (default: the endpoint's region).
        #[arg(long)]
        location: Option<String>,
    },
    /// Remove a bucket.
    Rb {
        /// s3://BUCKET
        bucket: String,
        /// Delete every object first.
        #[arg(short, long)]
        recursive: bool,
    },
    /// List buckets, or objects under s3://BUCKET[/PREFIX].
    Ls {
        /// s3://BUCKET[/PREFIX]; none lists the buckets.
        target: Option<String>,
        /// Every key below, not only one level.
        #[arg(short, long)]
        recursive: bool,
        /// Sizes as 1.5K, 23M, 4.0G.
        #[arg(short = 'H', long)]
        human_readable_sizes: bool,
    },
    /// Upload files (or directories with --recursive).
    Put {
        /// Local files, then s3://BUCKET/KEY or s3://BUCKET/PREFIX/.
        #[arg(required = true, num_args = 2..)]
        paths: Vec<String>,
        /// Upload directories, keeping their tree under the prefix.
        #[arg(short, long)]
        recursive: bool,
        #[command(flatten)]
        upload: Upload,
        #[command(flatten)]
        transfer: Transfer,
    },
    /// Download objects.
    Get {
        /// s3://BUCKET/KEY (or a prefix with --recursive).
        source: String,
        /// Local file or directory (default: the key's file name).
        dest: Option<PathBuf>,
        /// Everything under the prefix.
        #[arg(short, long)]
        recursive: bool,
        /// Overwrite existing files.
        #[arg(short, long)]
        force: bool,
        #[command(flatten)]
        transfer: Transfer,
    },
    /// Delete objects (batch deletes with --recursive).
    #[command(alias = "rm")]
    Del {
        /// s3://BUCKET/KEY (or a prefix with --recursive).
        #[arg(required = true)]
        targets: Vec<String>,
        /// Everything under the prefix.
        #[arg(short, long)]
        recursive: bool,
    },
    /// Copy objects on the server.
    Cp {
        /// s3://BUCKET/KEY
        source: String,
        /// s3://BUCKET/KEY or s3://BUCKET/PREFIX/
        dest: String,
        /// Everything under the source prefix.
        #[arg(short, long)]
        recursive: bool,
    },
    /// Move objects on the server (copy, then delete the source).
    Mv {
        /// s3://BUCKET/KEY
        source: String,
        /// s3://BUCKET/KEY or s3://BUCKET/PREFIX/
        dest: String,
        /// Everything under the source prefix.
        #[arg(short, long)]
        recursive: bool,
    },
    /// Upload a directory: only new and changed files (size and MD5/ETag).
    Sync {
        /// Local directory.
        source: PathBuf,
        /// s3://BUCKET[/PREFIX/]
        dest: String,
        /// Delete remote objects that are not in the directory.
        #[arg(long)]
        delete: bool,
        /// Print what would be done, do nothing.
        #[arg(short = 'n', long)]
        dry_run: bool,
        #[command(flatten)]
        upload: Upload,
        #[command(flatten)]
        transfer: Transfer,
    },
    /// Metadata, ACL and CORS of a bucket or an object.
    Info {
        /// s3://BUCKET[/KEY]
        target: String,
    },
    /// Set the ACL of a bucket or object: canned, or grants.
    Setacl {
        /// s3://BUCKET[/KEY]
        target: String,
        /// A canned ACL (private, public-read, ...).
        #[arg(long)]
        acl: Option<String>,
        /// Shortcut for --acl public-read.
        #[arg(long)]
        acl_public: bool,
        /// Shortcut for --acl private.
        #[arg(long)]
        acl_private: bool,
        /// Add a grant: PERMISSION:GRANTEE, PERMISSION one of read, write, read-acp,
        /// write-acp, full-control; GRANTEE a canonical id, `email:ADDRESS`, `all-users`
        /// or `authenticated-users` (repeatable).
        #[arg(long = "grant", value_name = "PERM:GRANTEE")]
        grants: Vec<String>,
        /// Remove every grant of GRANTEE (repeatable).
        #[arg(long = "revoke", value_name = "GRANTEE")]
        revokes: Vec<String>,
    },
    /// Show the ACL of a bucket or object.
    Getacl {
        /// s3://BUCKET[/KEY]
        target: String,
        /// Print the XML document.
        #[arg(long)]
        xml: bool,
    },
    /// Set the CORS configuration of a bucket from an XML or JSON file.
    Setcors {
        /// s3://BUCKET
        bucket: String,
        /// The configuration: S3 XML, or the JSON of `aws s3api put-bucket-cors`.
        file: PathBuf,
    },
    /// Show the CORS configuration of a bucket.
    Getcors {
        /// s3://BUCKET
        bucket: String,
        /// As JSON (the AWS CLI's shape) instead of XML.
        #[arg(long)]
        json: bool,
    },
    /// Remove the CORS configuration of a bucket.
    Delcors {
        /// s3://BUCKET
        bucket: String,
    },
    /// Print a pre-signed URL.
    Presign {
        /// s3://BUCKET/KEY
        target: String,
        /// GET (download) or PUT (upload).
        #[arg(long, default_value = "GET")]
        method: String,
        /// Seconds the URL stays valid (V4: at most 604800).
        #[arg(long, default_value_t = 3600)]
        expires: u64,
    },
    /// Disk usage: bytes and objects under s3://BUCKET[/PREFIX], or of every bucket.
    Du {
        /// s3://BUCKET[/PREFIX]
        target: Option<String>,
        /// Sizes as 1.5K, 23M, 4.0G.
        #[arg(short = 'H', long)]
        human_readable_sizes: bool,
    },
}
