//! The command line: s3cmd's commands, with s3cmd's option names where they exist.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

/// An S3 command-line tool for Exoscale SOS and every S3-compatible store, in the spirit of
/// s3cmd: the same commands and option names, reading the same `~/.s3cfg`.
#[derive(Debug, Parser)]
#[command(
    name = "sos",
    version,
    about = "An S3 command line for Exoscale SOS and any S3 store, in the spirit of s3cmd: \
             its commands and options, its ~/.s3cfg",
    long_about = None
)]
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
    /// An s3cmd configuration file (default ~/.s3cfg, or $S3CMD_CONFIG). As with s3cmd, its
    /// keys and host win over AWS_* variables and ~/.aws profiles.
    #[arg(short = 'c', long = "config", value_name = "FILE", global = true)]
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
    /// Part size of multipart transfers, in MiB (5 or more); files larger than one part are
    /// sent in parts.
    #[arg(long, visible_alias = "multipart-chunk-size-mb", default_value_t = 8)]
    pub(crate) part_size_mib: u64,
    /// Parts in flight.
    #[arg(long, default_value_t = 4)]
    pub(crate) concurrency: usize,
}

/// The ACL and headers of uploaded or copied objects.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct Upload {
    /// Canned ACL: private, public-read, public-read-write, authenticated-read, ...
    #[arg(long, conflicts_with_all = ["acl_public", "acl_private"])]
    pub(crate) acl: Option<String>,
    /// Readable by anyone (--acl public-read).
    #[arg(short = 'P', long, conflicts_with = "acl_private")]
    pub(crate) acl_public: bool,
    /// Readable by the owner only (--acl private).
    #[arg(long)]
    pub(crate) acl_private: bool,
    /// Content-Type (uploads: guessed from the file name when not given).
    #[arg(
        short = 'm',
        long = "mime-type",
        visible_alias = "content-type",
        value_name = "MIME/TYPE"
    )]
    pub(crate) content_type: Option<String>,
    /// A header of the object, NAME:VALUE (repeatable): Cache-Control, Content-Disposition,
    /// Content-Encoding, Content-Language, Content-Type, Expires or x-amz-meta-NAME.
    #[arg(long = "add-header", value_name = "NAME:VALUE")]
    pub(crate) add_headers: Vec<String>,
    /// User metadata, NAME=VALUE (the same as --add-header x-amz-meta-NAME:VALUE; repeatable).
    #[arg(long = "meta", value_name = "NAME=VALUE")]
    pub(crate) meta: Vec<String>,
    /// Cache-Control (the same as --add-header Cache-Control:VALUE).
    #[arg(long)]
    pub(crate) cache_control: Option<String>,
    /// Storage class: only STANDARD, the one class of SOS, is accepted.
    #[arg(long, value_name = "CLASS")]
    pub(crate) storage_class: Option<String>,
}

/// Which keys or files a command acting on many takes, as s3cmd's options: a GLOB matches
/// the end of the path relative to the source (`*` and `?` match `/` too, `[..]` a set).
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct Filters {
    /// Leave out paths matching GLOB (repeatable), e.g. `--exclude '*.log'`.
    #[arg(long, value_name = "GLOB")]
    pub(crate) exclude: Vec<String>,
    /// Read --exclude GLOBs from FILE, one a line.
    #[arg(long, value_name = "FILE")]
    pub(crate) exclude_from: Vec<PathBuf>,
    /// Take back paths matching GLOB that an --exclude left out (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub(crate) include: Vec<String>,
    /// Read --include GLOBs from FILE, one a line.
    #[arg(long, value_name = "FILE")]
    pub(crate) include_from: Vec<PathBuf>,
}

/// The arguments of `cp` and `mv`.
#[derive(Debug, Args)]
pub(crate) struct CopyArgs {
    /// s3://BUCKET/KEY..., then s3://BUCKET/KEY or s3://BUCKET/PREFIX/.
    #[arg(required = true, num_args = 2..)]
    pub(crate) paths: Vec<String>,
    /// Every key starting with the source prefixes. `s3://b/dir/` takes the keys under
    /// dir/, as PREFIX/...; `s3://b/dir` is a key prefix: every key starting with `dir`
    /// (dir/..., but also dir2/..., directory.txt), as PREFIX/dir/..., PREFIX/dir2/...,
    /// PREFIX/directory.txt.
    #[arg(short, long)]
    pub(crate) recursive: bool,
    #[command(flatten)]
    pub(crate) upload: Upload,
    #[command(flatten)]
    pub(crate) filters: Filters,
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
        #[arg(long, visible_alias = "bucket-location")]
        location: Option<String>,
    },
    /// Remove buckets.
    Rb {
        /// s3://BUCKET ...
        #[arg(required = true)]
        buckets: Vec<String>,
        /// Delete every object first.
        #[arg(short, long)]
        recursive: bool,
        /// Delete every object first; a bucket that does not exist is no error.
        #[arg(short, long)]
        force: bool,
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
    /// List the objects of every bucket.
    La {
        /// Every key below, not only one level.
        #[arg(short, long)]
        recursive: bool,
        /// Sizes as 1.5K, 23M, 4.0G.
        #[arg(short = 'H', long)]
        human_readable_sizes: bool,
    },
    /// Upload files (or directories with --recursive); `-` reads standard input.
    Put {
        /// Local files, then s3://BUCKET/KEY or s3://BUCKET/PREFIX/.
        #[arg(required = true, num_args = 2..)]
        paths: Vec<String>,
        /// Upload directories: `dir` as PREFIX/dir/..., `dir/` as PREFIX/... (as s3cmd).
        #[arg(short, long)]
        recursive: bool,
        /// Accepted for s3cmd's command lines: put always replaces existing objects.
        #[arg(short, long)]
        force: bool,
        /// Print what would be uploaded, upload nothing.
        #[arg(short = 'n', long)]
        dry_run: bool,
        #[command(flatten)]
        upload: Upload,
        #[command(flatten)]
        filters: Filters,
        #[command(flatten)]
        transfer: Transfer,
    },
    /// Download objects: s3://BUCKET/KEY... then an optional DEST (`-`: standard output).
    Get {
        /// s3://BUCKET/KEY (or prefixes with --recursive), then optionally a local file or
        /// directory.
        #[arg(required = true, num_args = 1..)]
        paths: Vec<String>,
        /// Every key starting with the prefixes. `s3://b/dir/` takes the keys under dir/, as
        /// DEST/...; `s3://b/dir` is a key prefix: every key starting with `dir` (dir/..., but
        /// also dir2/..., directory.txt), as DEST/dir/..., DEST/dir2/..., DEST/directory.txt.
        #[arg(short, long)]
        recursive: bool,
        /// Overwrite existing files.
        #[arg(short, long)]
        force: bool,
        /// Leave existing files as they are.
        #[arg(long, conflicts_with = "force")]
        skip_existing: bool,
        #[command(flatten)]
        filters: Filters,
        #[command(flatten)]
        transfer: Transfer,
    },
    /// Delete objects (with --recursive, every key starting with the prefixes).
    #[command(alias = "rm")]
    Del {
        /// s3://BUCKET/KEY (or prefixes with --recursive).
        #[arg(required = true)]
        targets: Vec<String>,
        /// Every key starting with the prefixes: `s3://b/dir/` the keys under dir/, `s3://b/dir`
        /// every key starting with `dir` (dir/..., but also dir2/..., directory.txt).
        #[arg(short, long)]
        recursive: bool,
        /// Needed to delete every object of a bucket (s3://BUCKET --recursive).
        #[arg(short, long)]
        force: bool,
        /// Print what would be deleted, delete nothing.
        #[arg(short = 'n', long)]
        dry_run: bool,
        #[command(flatten)]
        filters: Filters,
    },
    /// Copy objects on the server; the source's ACL goes along unless an ACL is given.
    Cp(CopyArgs),
    /// Move objects on the server (copy, then delete the source).
    Mv(CopyArgs),
    /// Change the headers and metadata of objects in place (their ACL stays).
    Modify {
        /// s3://BUCKET/KEY (or prefixes with --recursive).
        #[arg(required = true)]
        targets: Vec<String>,
        /// Every object whose key starts with the prefixes (`s3://b/dir` takes dir2/... and
        /// directory.txt too; `s3://b/dir/` only what is under dir/).
        #[arg(short, long)]
        recursive: bool,
        /// Remove a header or x-amz-meta-NAME (repeatable).
        #[arg(long = "remove-header", value_name = "NAME")]
        remove_headers: Vec<String>,
        #[command(flatten)]
        upload: Upload,
        #[command(flatten)]
        filters: Filters,
    },
    /// Synchronize: DIR to s3://BUCKET/PREFIX/, s3://BUCKET/PREFIX/ to DIR, or between two
    /// prefixes; only new and changed files (size and MD5/ETag) are sent.
    Sync {
        /// A local directory (`dir` syncs as PREFIX/dir/..., `dir/` as PREFIX/...) or
        /// s3://BUCKET[/PREFIX]: `s3://b/dir/` syncs the keys under dir/, as DEST/...;
        /// `s3://b/dir` is a key prefix: every key starting with `dir` (dir/..., but also
        /// dir2/..., directory.txt), as DEST/dir/..., DEST/dir2/..., DEST/directory.txt.
        source: String,
        /// s3://BUCKET[/PREFIX/] or a local directory.
        dest: String,
        /// Delete what the destination has and the source has not.
        #[arg(long, visible_alias = "delete")]
        delete_removed: bool,
        /// Print what would be done, do nothing.
        #[arg(short = 'n', long)]
        dry_run: bool,
        /// Leave what exists at the destination as it is, changed or not.
        #[arg(long)]
        skip_existing: bool,
        /// Compare sizes only, not MD5 sums.
        #[arg(long)]
        no_check_md5: bool,
        #[command(flatten)]
        upload: Upload,
        #[command(flatten)]
        filters: Filters,
        #[command(flatten)]
        transfer: Transfer,
    },
    /// Metadata, ACL and CORS of a bucket or an object.
    Info {
        /// s3://BUCKET[/KEY]
        target: String,
    },
    /// Set the ACL of buckets or objects: canned, or grants added and revoked.
    Setacl {
        /// s3://BUCKET[/KEY] ...
        #[arg(required = true)]
        targets: Vec<String>,
        /// A canned ACL (private, public-read, ...).
        #[arg(long, conflicts_with_all = ["acl_public", "acl_private"])]
        acl: Option<String>,
        /// Readable by anyone (--acl public-read).
        #[arg(short = 'P', long, conflicts_with = "acl_private")]
        acl_public: bool,
        /// Readable by the owner only (--acl private).
        #[arg(long)]
        acl_private: bool,
        /// Add a grant, PERMISSION:GRANTEE (repeatable). PERMISSION: read, write, read_acp,
        /// write_acp, full_control or all; GRANTEE: a canonical user id, an e-mail address,
        /// `all-users` (anyone), `authenticated-users` or a group URI.
        #[arg(
            long = "acl-grant",
            visible_alias = "grant",
            value_name = "PERM:GRANTEE"
        )]
        grants: Vec<String>,
        /// Remove a grant, PERMISSION:GRANTEE, or every grant of GRANTEE (repeatable).
        #[arg(
            long = "acl-revoke",
            visible_alias = "revoke",
            value_name = "[PERM:]GRANTEE"
        )]
        revokes: Vec<String>,
        /// Every object whose key starts with the prefixes (`s3://b/dir` takes dir2/... and
        /// directory.txt too; `s3://b/dir/` only what is under dir/).
        #[arg(short, long)]
        recursive: bool,
        #[command(flatten)]
        filters: Filters,
    },
    /// Show the ACL of a bucket or object.
    Getacl {
        /// s3://BUCKET[/KEY]
        target: String,
        /// Print the XML document.
        #[arg(long)]
        xml: bool,
    },
    /// Set the CORS configuration of a bucket: `setcors FILE s3://BUCKET` (as s3cmd) or
    /// `setcors s3://BUCKET FILE`; the file holds S3 XML or the JSON of the AWS CLI.
    Setcors {
        /// FILE and s3://BUCKET, in either order.
        #[arg(num_args = 2, required = true, value_names = ["FILE", "BUCKET"])]
        args: Vec<String>,
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
    /// Replace the tags of a bucket or an object: `settagging s3://BUCKET[/KEY]
    /// "KEY=VALUE[&KEY=VALUE ...]"`, as s3cmd.
    Settagging {
        /// s3://BUCKET[/KEY]
        target: String,
        /// KEY=VALUE pairs joined with `&` (a pair without `=` has an empty value).
        tags: String,
    },
    /// Show the tags of a bucket or an object.
    Gettagging {
        /// s3://BUCKET[/KEY]
        target: String,
    },
    /// Remove the tags of a bucket or an object.
    Deltagging {
        /// s3://BUCKET[/KEY]
        target: String,
    },
    /// Print a pre-signed URL valid for some seconds.
    Presign {
        /// s3://BUCKET/KEY
        target: String,
        /// GET (download), PUT (upload), HEAD or DELETE.
        #[arg(long, default_value = "GET")]
        method: String,
        /// Seconds the URL stays valid (V4: at most 604800).
        #[arg(long, default_value_t = 3600)]
        expires: u64,
    },
    /// Print a pre-signed download URL, as s3cmd: EXPIRY is a Unix time or +SECONDS.
    Signurl {
        /// s3://BUCKET/KEY
        target: String,
        /// When the URL stops working: seconds since 1970, or +SECONDS from now.
        expiry: String,
        /// Content-Disposition of the answer, e.g. "attachment; filename=x.pdf".
        #[arg(long)]
        content_disposition: Option<String>,
        /// Content-Type of the answer.
        #[arg(long)]
        content_type: Option<String>,
    },
    /// Disk usage: bytes and objects under s3://BUCKET[/PREFIX], or of every bucket.
    Du {
        /// s3://BUCKET[/PREFIX]
        target: Option<String>,
        /// Sizes as 1.5K, 23M, 4.0G.
        #[arg(short = 'H', long)]
        human_readable_sizes: bool,
    },
    /// Show the multipart uploads in progress in a bucket.
    Multipart {
        /// s3://BUCKET[/PREFIX]
        target: String,
        /// Only this upload.
        upload_id: Option<String>,
    },
    /// List the parts of a multipart upload in progress.
    Listmp {
        /// s3://BUCKET/KEY
        target: String,
        /// The upload id (see `multipart`).
        upload_id: String,
    },
    /// Abort a multipart upload in progress, freeing its parts.
    Abortmp {
        /// s3://BUCKET/KEY
        target: String,
        /// The upload id (see `multipart`).
        upload_id: String,
    },
}

/// s3cmd takes its options anywhere (`s3cmd -P put ...`, `s3cmd --recursive del ...`): the
/// options of a command written before the command's name are moved after it, where clap
/// looks for them. Options of the tool itself stay; unknown ones stay too, for clap to report.
/// A `--` ends the options, as for s3cmd: the command's name follows it, and what follows the
/// name stays positional (`sos -r -- del s3://b/-x` is `sos del -r -- s3://b/-x`).
pub(crate) fn s3cmd_order(args: Vec<OsString>) -> Vec<OsString> {
    let cli = Cli::command();
    // Whether each option takes a value (the same for every command that has it).
    let mut takes_value: HashMap<String, bool> = HashMap::new();
    let mut global: HashMap<String, bool> = HashMap::new();
    let note = |map: &mut HashMap<String, bool>, arg: &clap::Arg| {
        let value = arg.get_action().takes_values();
        if let Some(long) = arg.get_long() {
            map.insert(format!("--{long}"), value);
        }
        for alias in arg.get_all_aliases().unwrap_or_default() {
            map.insert(format!("--{alias}"), value);
        }
        if let Some(short) = arg.get_short() {
            map.insert(format!("-{short}"), value);
        }
    };
    for arg in cli.get_arguments() {
        note(&mut global, arg);
    }
    for sub in cli.get_subcommands() {
        for arg in sub.get_arguments() {
            note(&mut takes_value, arg);
        }
    }
    let mut args = args.into_iter();
    let mut out: Vec<OsString> = args.next().into_iter().collect();
    let mut moved: Vec<OsString> = Vec::new();
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str().map(str::to_owned) else {
            out.push(arg);
            break;
        };
        if text == "--" {
            // The end of options: the command's name comes next; the moved options go
            // between it and the `--`, which keeps what follows positional.
            match args.next() {
                Some(name) if name.to_str().is_none_or(|n| !n.starts_with('-')) => {
                    out.push(name);
                    out.append(&mut moved);
                    out.push(arg);
                }
                // No command's name: left for clap to report.
                name => {
                    out.append(&mut moved);
                    out.push(arg);
                    out.extend(name);
                }
            }
            break;
        }
        if !text.starts_with('-') || text == "-" {
            // The command's name: the moved options follow it.
            out.push(arg);
            out.append(&mut moved);
            break;
        }
        let name = text.split_once('=').map_or(text.as_str(), |(n, _)| n);
        let inline_value = text.contains('=');
        // `-rf`: a cluster of short flags.
        let cluster: Vec<String> = if !name.starts_with("--") && name.len() > 2 {
            name.chars().skip(1).map(|c| format!("-{c}")).collect()
        } else {
            vec![name.to_owned()]
        };
        let (target, table) = if cluster.iter().all(|o| global.contains_key(o)) {
            (&mut out, &global)
        } else if cluster.iter().all(|o| takes_value.contains_key(o)) {
            (&mut moved, &takes_value)
        } else {
            // Unknown: left for clap to report.
            out.push(arg);
            continue;
        };
        let needs_value =
            !inline_value && cluster.last().is_some_and(|o| table.get(o) == Some(&true));
        target.push(arg);
        if needs_value && let Some(value) = args.next() {
            target.push(value);
        }
    }
    out.append(&mut moved);
    out.extend(args);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(line: &str) -> String {
        let args = line.split(' ').map(OsString::from).collect();
        s3cmd_order(args)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn options_before_the_command_move_after_it() {
        assert_eq!(order("sos -P put f s3://b/"), "sos put -P f s3://b/");
        assert_eq!(
            order("sos -c cfg --recursive --force del s3://b/x"),
            "sos -c cfg del --recursive --force s3://b/x"
        );
        assert_eq!(
            order("sos --exclude *.log -rn sync d/ s3://b/"),
            "sos sync --exclude *.log -rn d/ s3://b/"
        );
        assert_eq!(
            order("sos --mime-type=text/html -q put f s3://b/k"),
            "sos -q put --mime-type=text/html f s3://b/k"
        );
        // Already in clap's order, or unknown: unchanged.
        assert_eq!(order("sos put -P f s3://b/"), "sos put -P f s3://b/");
        assert_eq!(order("sos --bogus ls"), "sos --bogus ls");
        // Parsed by clap afterwards.
        let cli = Cli::try_parse_from(s3cmd_order(
            ["sos", "-P", "-m", "text/plain", "put", "f", "s3://b/"]
                .map(OsString::from)
                .to_vec(),
        ))
        .unwrap();
        assert!(matches!(cli.command, Command::Put { upload, .. }
            if upload.acl_public && upload.content_type.as_deref() == Some("text/plain")));
    }

    #[test]
    fn options_before_a_double_dash_stay_options() {
        // `--` before the command: the options go after its name, before the `--`.
        assert_eq!(order("sos -r -- del s3://b/-x"), "sos del -r -- s3://b/-x");
        assert_eq!(
            order("sos -c cfg -rf --exclude *.log -- del s3://b/-x"),
            "sos -c cfg del -rf --exclude *.log -- s3://b/-x"
        );
        assert_eq!(
            order("sos -c cfg --force -- rb s3://b"),
            "sos -c cfg rb --force -- s3://b"
        );
        // `--` after the command: as written.
        assert_eq!(
            order("sos -P put -- -f s3://b/"),
            "sos put -P -- -f s3://b/"
        );
        // No command after `--`: the options stay before it, for clap to report.
        assert_eq!(order("sos -r --"), "sos -r --");
        assert_eq!(order("sos -r -- -q ls"), "sos -r -- -q ls");
        let parse = |line: &str| {
            Cli::try_parse_from(s3cmd_order(line.split(' ').map(OsString::from).collect()))
        };
        let cli = parse("sos -r -f -- del s3://b/-x").unwrap();
        assert!(
            matches!(&cli.command, Command::Del { targets, recursive: true, force: true, .. }
            if targets == &["s3://b/-x"])
        );
        let cli = parse("sos -q -P -- put -f s3://b/").unwrap();
        assert!(cli.global.quiet);
        assert!(matches!(&cli.command, Command::Put { paths, upload, .. }
            if paths == &["-f", "s3://b/"] && upload.acl_public));
        assert!(parse("sos -r --").is_err());
    }
}
