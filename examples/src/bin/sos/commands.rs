//! The commands: the dispatcher, buckets, listings, ACL, CORS and signed URLs, and the
//! helpers the other command modules share.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use futures_util::TryStreamExt;
use sos_acl::{AccessControlPolicy, Grant, Grantee, Group, Owner, Permission};
use sos_client::{
    CannedAcl, Client, CorsConfiguration, ErrorCode, ListEntry, ObjectInfo, ObjectSummary, Tags,
};

use crate::args::{Cli, Command};
use crate::filters::PathFilter;
use crate::output::{date, size};
use crate::target::S3Path;
use crate::{Failure, Outcome, config};

/// Safety bound on listings walked by one command (pages of 1000 keys).
pub(crate) const MAX_PAGES: u64 = 1_000_000;
pub(crate) const MIB: u64 = 1024 * 1024;

pub(crate) async fn run(cli: Cli) -> Outcome {
    let client = config::client(&cli.global)?;
    let endpoint = client.endpoint();
    let _ = crate::ENDPOINT.set(format!(
        "{}://{}{}",
        endpoint.scheme(),
        endpoint.host(),
        if endpoint.addressing() == sos_client::Addressing::VirtualHost {
            ", buckets as host names"
        } else {
            ""
        }
    ));
    let quiet = cli.global.quiet;
    match cli.command {
        Command::Mb {
            bucket,
            acl,
            location,
        } => {
            let path = S3Path::parse(&bucket)?;
            path.bucket_only("mb")?;
            let mut create = client.create_bucket(&path.bucket);
            if let Some(acl) = acl {
                create = create.acl(canned(&acl)?);
            }
            if let Some(location) = location {
                create = create.location(location);
            }
            create.send().await.at(path.uri())?;
            info(quiet, &format!("Bucket '{}' created", path.uri()));
            Ok(())
        }
        Command::Rb {
            buckets,
            recursive,
            force,
        } => {
            for bucket in &buckets {
                remove_bucket(&client, &S3Path::parse(bucket)?, recursive, force, quiet).await?;
            }
            Ok(())
        }
        Command::Ls {
            target,
            recursive,
            human_readable_sizes,
        } => match target {
            Some(target) => {
                ls(
                    &client,
                    &S3Path::parse(&target)?,
                    recursive,
                    human_readable_sizes,
                )
                .await
            }
            None => {
                for bucket in client.list_buckets().await? {
                    println!("{}  s3://{}", date(bucket.creation_date), bucket.name);
                }
                Ok(())
            }
        },
        Command::La {
            recursive,
            human_readable_sizes,
        } => {
            // A bucket that cannot be listed is reported, and the others still are.
            let mut failed = 0;
            for (i, bucket) in client.list_buckets().await?.into_iter().enumerate() {
                if i > 0 {
                    println!();
                }
                let path = S3Path {
                    bucket: bucket.name,
                    key: String::new(),
                };
                if let Err(e) = ls(&client, &path, recursive, human_readable_sizes).await {
                    report(&e);
                    failed += 1;
                }
            }
            some_failed(failed)
        }
        Command::Put {
            mut paths,
            recursive,
            force: _,
            dry_run,
            upload,
            filters,
            transfer,
        } => {
            let dest = paths.pop().unwrap_or_default();
            let options = crate::upload::PutOptions {
                recursive,
                dry_run,
                quiet,
                filter: PathFilter::new(&filters)?,
                transfer,
            };
            crate::upload::put(&client, &paths, &dest, &upload, &options).await
        }
        Command::Get {
            paths,
            recursive,
            force,
            skip_existing,
            filters,
            transfer,
        } => {
            let options = crate::download::GetOptions {
                recursive,
                force,
                skip_existing,
                quiet,
                filter: PathFilter::new(&filters)?,
                transfer,
            };
            crate::download::get(&client, &paths, &options).await
        }
        Command::Del {
            targets,
            recursive,
            force,
            dry_run,
            filters,
        } => {
            let filter = PathFilter::new(&filters)?;
            for target in &targets {
                let path = S3Path::parse(target)?;
                if recursive {
                    if path.is_bucket() && !force {
                        return Err(Failure::Usage(format!(
                            "this deletes every object of {}: add --force to do it",
                            path.uri()
                        )));
                    }
                    delete_prefix(&client, &path, &filter, dry_run, quiet).await?;
                } else {
                    let key = path.file_key("del")?;
                    if dry_run {
                        info(quiet, &format!("(dry run) delete: '{}'", path.uri()));
                    } else {
                        client
                            .delete_object(&path.bucket, key)
                            .await
                            .at(path.uri())?;
                        info(quiet, &format!("delete: '{}'", path.uri()));
                    }
                }
            }
            Ok(())
        }
        Command::Cp(args) => crate::copy::copy(&client, &args, false, quiet).await,
        Command::Mv(args) => crate::copy::copy(&client, &args, true, quiet).await,
        Command::Modify {
            targets,
            recursive,
            remove_headers,
            upload,
            filters,
        } => {
            crate::copy::modify(
                &client,
                &targets,
                recursive,
                &upload,
                &remove_headers,
                &PathFilter::new(&filters)?,
                quiet,
            )
            .await
        }
        Command::Sync {
            source,
            dest,
            delete_removed,
            dry_run,
            skip_existing,
            no_check_md5,
            upload,
            filters,
            transfer,
        } => {
            let options = crate::sync::SyncOptions {
                delete_removed,
                dry_run,
                skip_existing,
                check_md5: !no_check_md5,
                quiet,
                transfer,
                upload,
                filter: PathFilter::new(&filters)?,
            };
            crate::sync::sync(&client, &source, &dest, &options).await
        }
        Command::Info { target } => info_command(&client, &S3Path::parse(&target)?).await,
        Command::Setacl {
            targets,
            acl,
            acl_public,
            acl_private,
            grants,
            revokes,
            recursive,
            filters,
        } => {
            let canned_acl = match (acl, acl_public, acl_private) {
                (Some(a), _, _) => Some(canned(&a)?),
                (None, true, _) => Some(CannedAcl::PublicRead),
                (None, false, true) => Some(CannedAcl::Private),
                (None, false, false) => None,
            };
            if canned_acl.is_none() && grants.is_empty() && revokes.is_empty() {
                return Err(Failure::Usage(
                    "nothing to do: give --acl-public, --acl-private, --acl, --acl-grant or \
                     --acl-revoke"
                        .to_owned(),
                ));
            }
            let change = AclChange {
                canned: canned_acl,
                grants: grants
                    .iter()
                    .map(|g| parse_grant(g))
                    .collect::<Result<_, _>>()?,
                revokes: revokes
                    .iter()
                    .map(|r| parse_revoke(r))
                    .collect::<Result<_, _>>()?,
            };
            let filter = PathFilter::new(&filters)?;
            for target in &targets {
                let path = S3Path::parse(target)?;
                if recursive {
                    for object in list_recursive(&client, &path, &filter, quiet).await? {
                        let one = S3Path {
                            bucket: path.bucket.clone(),
                            key: object.key,
                        };
                        set_acl(&client, &one, &change, quiet).await?;
                    }
                } else {
                    set_acl(&client, &path, &change, quiet).await?;
                }
            }
            Ok(())
        }
        Command::Getacl { target, xml } => {
            let path = S3Path::parse(&target)?;
            let policy = get_acl(&client, &path).await?;
            if xml {
                println!("{}", policy.to_xml());
            } else {
                print_acl(&policy);
            }
            Ok(())
        }
        Command::Setcors { args } => {
            // s3cmd's order is FILE s3://BUCKET; the other one is taken too.
            let (bucket, file) = match args.as_slice() {
                [a, b] if a.starts_with("s3://") && !b.starts_with("s3://") => (a, b),
                [a, b] if b.starts_with("s3://") && !a.starts_with("s3://") => (b, a),
                _ => {
                    return Err(Failure::Usage(
                        "setcors takes a file and an s3://BUCKET".to_owned(),
                    ));
                }
            };
            let path = S3Path::parse(bucket)?;
            path.bucket_only("setcors")?;
            let file = PathBuf::from(file);
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?;
            let cors = if text.trim_start().starts_with('{') {
                serde_json::from_str::<CorsConfiguration>(&text)
                    .map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?
            } else {
                CorsConfiguration::from_xml(&text)
                    .map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?
            };
            cors.validate()?;
            client
                .put_bucket_cors(&path.bucket, &cors)
                .await
                .at(path.uri())?;
            info(quiet, &format!("{}: CORS configuration set", path.uri()));
            Ok(())
        }
        Command::Getcors { bucket, json } => {
            let path = S3Path::parse(&bucket)?;
            path.bucket_only("getcors")?;
            match client.get_bucket_cors(&path.bucket).await.at(path.uri())? {
                Some(cors) if json => println!(
                    "{}",
                    serde_json::to_string_pretty(&cors)
                        .map_err(|e| Failure::Other(e.to_string()))?
                ),
                Some(cors) => println!("{}", cors.to_xml()),
                None => {
                    return Err(Failure::NotFound(format!(
                        "{} has no CORS configuration",
                        path.uri()
                    )));
                }
            }
            Ok(())
        }
        Command::Delcors { bucket } => {
            let path = S3Path::parse(&bucket)?;
            path.bucket_only("delcors")?;
            client
                .delete_bucket_cors(&path.bucket)
                .await
                .at(path.uri())?;
            info(
                quiet,
                &format!("{}: CORS configuration deleted", path.uri()),
            );
            Ok(())
        }
        Command::Settagging { target, tags } => {
            let path = S3Path::parse(&target)?;
            let tags = parse_tag_set(&tags)?;
            // S3's rules are checked by the client before sending (a usage error, exit 2).
            if path.is_bucket() {
                client.put_bucket_tagging(&path.bucket, &tags).await
            } else {
                client
                    .put_object_tagging(&path.bucket, &path.key, &tags)
                    .await
            }
            .at(path.uri())?;
            info(quiet, &format!("{}: Tagging updated", path.uri()));
            Ok(())
        }
        Command::Gettagging { target } => {
            let path = S3Path::parse(&target)?;
            let (tags, kind) = if path.is_bucket() {
                (client.get_bucket_tagging(&path.bucket).await, "bucket")
            } else {
                (
                    client.get_object_tagging(&path.bucket, &path.key).await,
                    "object",
                )
            };
            let tags = tags.at(path.uri())?;
            println!("{} ({kind}):", path.uri());
            for (key, value) in &tags {
                println!("\t{key}:\t{value}");
            }
            Ok(())
        }
        Command::Deltagging { target } => {
            let path = S3Path::parse(&target)?;
            if path.is_bucket() {
                client.delete_bucket_tagging(&path.bucket).await
            } else {
                // An empty tag set rather than DeleteObjectTagging, which leaves the object
                // with an empty ETag in the RADOS Gateway's listings (as SOS): `sync` would
                // then send it again.
                client
                    .put_object_tagging(&path.bucket, &path.key, &Tags::new())
                    .await
            }
            .at(path.uri())?;
            info(quiet, &format!("{}: Tagging deleted", path.uri()));
            Ok(())
        }
        Command::Presign {
            target,
            method,
            expires,
        } => {
            let path = S3Path::parse(&target)?;
            let key = path.file_key("presign")?;
            let request = match method.to_ascii_uppercase().as_str() {
                "GET" => client.presigner().get_object(&path.bucket, key),
                "PUT" => client.presigner().put_object(&path.bucket, key),
                "HEAD" => client.presigner().head_object(&path.bucket, key),
                "DELETE" => client.presigner().delete_object(&path.bucket, key),
                other => {
                    return Err(Failure::Usage(format!(
                        "--method {other}: GET, PUT, HEAD or DELETE"
                    )));
                }
            };
            let signed = request
                .expires_in(Duration::from_secs(expires))
                .sign()
                .map_err(|e| Failure::Usage(e.to_string()))?;
            println!("{}", signed.url);
            Ok(())
        }
        Command::Signurl {
            target,
            expiry,
            content_disposition,
            content_type,
        } => {
            let path = S3Path::parse(&target)?;
            let key = path.file_key("signurl")?;
            let at = expiry_time(&expiry, SystemTime::now())?;
            let mut request = client.presigner().get_object(&path.bucket, key);
            if let Some(cd) = &content_disposition {
                request = request.response_content_disposition(cd);
            }
            if let Some(ct) = &content_type {
                request = request.response_content_type(ct);
            }
            let signed = request
                .expires_at(at)
                .sign()
                .map_err(|e| Failure::Usage(e.to_string()))?;
            println!("{}", signed.url);
            Ok(())
        }
        Command::Du {
            target,
            human_readable_sizes,
        } => du(&client, target.as_deref(), human_readable_sizes).await,
        Command::Multipart { target, upload_id } => {
            crate::multipart::list_uploads(&client, &S3Path::parse(&target)?, upload_id).await
        }
        Command::Listmp { target, upload_id } => {
            crate::multipart::list_parts(&client, &S3Path::parse(&target)?, upload_id).await
        }
        Command::Abortmp { target, upload_id } => {
            crate::multipart::abort(&client, &S3Path::parse(&target)?, upload_id, quiet).await
        }
    }
}

/// Names the bucket or object a client error is about.
pub(crate) trait At<T> {
    fn at(self, what: impl Into<String>) -> Result<T, Failure>;
}

impl<T> At<T> for Result<T, sos_client::Error> {
    fn at(self, what: impl Into<String>) -> Result<T, Failure> {
        self.map_err(|e| Failure::At(what.into(), e))
    }
}

pub(crate) fn info(quiet: bool, message: &str) {
    if !quiet {
        println!("{message}");
    }
}

pub(crate) fn canned(text: &str) -> Result<CannedAcl, Failure> {
    text.parse::<CannedAcl>()
        .map_err(|e| Failure::Usage(format!("--acl {text}: {e}")))
}

/// When a `signurl` URL expires: `+SECONDS` from `now`, or seconds since 1970.
fn expiry_time(text: &str, now: SystemTime) -> Result<SystemTime, Failure> {
    let bad = || {
        Failure::Usage(format!(
            "expiry `{text}`: give a Unix time (seconds since 1970) or +SECONDS"
        ))
    };
    let at = match text.strip_prefix('+') {
        Some(offset) => now + Duration::from_secs(offset.parse().map_err(|_| bad())?),
        None => SystemTime::UNIX_EPOCH + Duration::from_secs(text.parse().map_err(|_| bad())?),
    };
    if at <= now {
        return Err(Failure::Usage(format!(
            "expiry `{text}` is not in the future"
        )));
    }
    Ok(at)
}

/// HEAD of an object, with a message that says what is missing: the gateway answers a HEAD
/// in a missing bucket with a bare 404, which the client reads as `NoSuchKey`.
pub(crate) async fn head(client: &Client, path: &S3Path) -> Result<ObjectInfo, Failure> {
    match client.head_object(&path.bucket, &path.key).await {
        Ok(info) => Ok(info),
        Err(e) if e.is_not_found() => Err(not_found(client, path).await),
        Err(e) => Err(Failure::At(path.uri(), e)),
    }
}

/// What to say when `path` was not found: the bucket or the object is missing.
pub(crate) async fn not_found(client: &Client, path: &S3Path) -> Failure {
    if let Ok(false) = client.bucket_exists(&path.bucket).await {
        return Failure::NotFound(format!(
            "s3://{}/: no such bucket (NoSuchBucket)",
            path.bucket
        ));
    }
    if path.key.ends_with('/') {
        return Failure::NotFound(format!(
            "{}: no such object (it ends with `/`: use --recursive for what is under it)",
            path.uri()
        ));
    }
    Failure::NotFound(format!("{}: no such object (NoSuchKey)", path.uri()))
}

/// Every object under `path`'s prefix that the filter takes (matched on the key relative
/// to the prefix's folder, as s3cmd does).
pub(crate) async fn list_under(
    client: &Client,
    path: &S3Path,
    filter: &PathFilter,
) -> Result<Vec<ObjectSummary>, Failure> {
    let base = base_of(&path.key).len();
    let objects: Vec<ObjectSummary> = client
        .list_objects(path.bucket.clone())
        .prefix(path.key.clone())
        .max_pages(MAX_PAGES)
        .objects()
        .try_collect()
        .await
        .at(path.uri())?;
    Ok(objects
        .into_iter()
        .filter(|o| filter.accepts(&o.key[base..]))
        .collect())
}

/// `list_under` for the source of a recursive command, with a warning (unless quiet) when
/// the prefix takes keys outside its folder: `s3://b/dir` is a key prefix, which takes
/// `dir2/...` and `directory.txt` too (as s3cmd), not only `dir` and `dir/...`.
pub(crate) async fn list_recursive(
    client: &Client,
    path: &S3Path,
    filter: &PathFilter,
    quiet: bool,
) -> Result<Vec<ObjectSummary>, Failure> {
    let objects = list_under(client, path, filter).await?;
    warn_outside_folder(path, objects.iter().map(|o| o.key.as_str()), quiet);
    Ok(objects)
}

/// The warning of [`list_recursive`], for keys taken under `path`'s prefix.
pub(crate) fn warn_outside_folder<'a>(
    path: &S3Path,
    keys: impl IntoIterator<Item = &'a str>,
    quiet: bool,
) {
    if quiet {
        return;
    }
    if let Some(message) = outside_folder(path, keys) {
        eprintln!("warning: {message}");
    }
}

/// What [`warn_outside_folder`] says, if anything: keys that start with a prefix not ending
/// with `/` but are neither the key itself nor under it as a folder.
fn outside_folder<'a>(path: &S3Path, keys: impl IntoIterator<Item = &'a str>) -> Option<String> {
    if path.key.is_empty() || path.key.ends_with('/') {
        return None;
    }
    let folder = format!("{}/", path.key);
    let mut outside = keys
        .into_iter()
        .filter(|k| *k != path.key && !k.starts_with(&folder));
    let first = outside.next()?;
    let more = outside.count();
    Some(format!(
        "{} is a key prefix: it also takes {} outside {}{} (end it with / for that folder only)",
        path.uri(),
        path.display(first),
        path.display(&folder),
        match more {
            0 => String::new(),
            n => format!(" and {n} more"),
        }
    ))
}

/// The folder part of a prefix, up to and including its last `/` (empty when it has none).
/// What a recursive command names keys relative to, as s3cmd: `s3://b/dir/` gives the keys
/// under `dir/` without `dir/`; `s3://b/dir` is a key prefix, whose keys (`dir/x`, but also
/// `dir2/y`, `directory.txt`) keep their names from `dir` on.
pub(crate) fn base_of(prefix: &str) -> &str {
    prefix.rfind('/').map_or("", |i| &prefix[..=i])
}

/// `dir/` for a non-empty prefix without a slash: keys given as a prefix end with `/`.
pub(crate) fn prefix_of(key: &str) -> String {
    if key.is_empty() || key.ends_with('/') {
        key.to_owned()
    } else {
        format!("{key}/")
    }
}

async fn remove_bucket(
    client: &Client,
    path: &S3Path,
    recursive: bool,
    force: bool,
    quiet: bool,
) -> Outcome {
    path.bucket_only("rb")?;
    let empty_first = recursive || force;
    let result = match client.delete_bucket(&path.bucket).await {
        Err(e) if e.code() == Some(&ErrorCode::BucketNotEmpty) && empty_first => {
            delete_prefix(client, path, &PathFilter::default(), false, quiet).await?;
            client.delete_bucket(&path.bucket).await
        }
        other => other,
    };
    match result {
        Ok(()) => {
            info(quiet, &format!("Bucket '{}' removed", path.uri()));
            Ok(())
        }
        Err(e) if force && e.code() == Some(&ErrorCode::NoSuchBucket) => Ok(()),
        Err(e) if e.code() == Some(&ErrorCode::BucketNotEmpty) => Err(Failure::Other(format!(
            "{}: {e}; `rb --recursive` deletes its objects first",
            path.uri()
        ))),
        Err(e) => Err(Failure::At(path.uri(), e)),
    }
}

async fn ls(client: &Client, path: &S3Path, recursive: bool, human: bool) -> Outcome {
    let mut list = client
        .list_objects(path.bucket.clone())
        .prefix(path.key.clone())
        .max_pages(MAX_PAGES);
    if !recursive {
        list = list.delimiter("/");
    }
    let mut entries = list.entries();
    while let Some(entry) = entries.try_next().await.at(path.uri())? {
        match entry {
            ListEntry::Prefix(prefix) => {
                println!("{:>16}  {:>10}   {}", "", "DIR", path.display(&prefix));
            }
            ListEntry::Object(o) => println!(
                "{}  {:>10}   {}",
                date(o.last_modified),
                size(o.size, human),
                path.display(&o.key)
            ),
        }
    }
    Ok(())
}

async fn du(client: &Client, target: Option<&str>, human: bool) -> Outcome {
    let targets: Vec<S3Path> = match target {
        Some(t) => vec![S3Path::parse(t)?],
        None => client
            .list_buckets()
            .await?
            .into_iter()
            .map(|b| S3Path {
                bucket: b.name,
                key: String::new(),
            })
            .collect(),
    };
    let mut total = (0u64, 0u64);
    let mut failed = 0;
    for path in &targets {
        let usage = client
            .list_objects(path.bucket.clone())
            .prefix(path.key.clone())
            .max_pages(MAX_PAGES)
            .objects()
            .try_fold(
                (0u64, 0u64),
                |(b, n), o| async move { Ok((b + o.size, n + 1)) },
            )
            .await
            .at(path.uri());
        let (bytes, count) = match usage {
            Ok(usage) => usage,
            // Every bucket: one that cannot be listed is reported, the others still are.
            Err(e) if target.is_none() => {
                report(&e);
                failed += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        println!(
            "{:>10} {:>8} objects {}",
            size(bytes, human),
            count,
            path.uri()
        );
        total = (total.0 + bytes, total.1 + count);
    }
    if targets.len() > 1 {
        println!("{:>10} {:>8} objects Total", size(total.0, human), total.1);
    }
    some_failed(failed)
}

/// Prints an error that does not stop the command.
fn report(failure: &Failure) {
    eprintln!("error: {failure}");
}

/// The outcome of a command that went on after `failed` errors.
fn some_failed(failed: usize) -> Outcome {
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::Other(format!(
            "{failed} bucket(s) could not be listed"
        )))
    }
}

/// Every file under `dir`, with its path relative to `dir` (`/`-separated), sorted.
/// Symbolic links are not followed (as s3cmd without --follow-symlinks).
pub(crate) fn walk(dir: &Path) -> Result<Vec<(PathBuf, String)>, Failure> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_owned(), String::new())];
    while let Some((current, rel)) = stack.pop() {
        let entries = std::fs::read_dir(&current)
            .map_err(|e| Failure::Other(format!("{}: {e}", current.display())))?;
        for entry in entries {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                // A key is UTF-8: a name that is not cannot be one.
                eprintln!(
                    "warning: {} skipped: its name is not UTF-8",
                    entry.path().display()
                );
                continue;
            };
            let rel_name = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let file_type = entry.file_type()?;
            if file_type.is_dir() {
                stack.push((entry.path(), rel_name));
            } else if file_type.is_file() {
                out.push((entry.path(), rel_name));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// Deletes every object under `path` the filter takes, in batches of 1000.
pub(crate) async fn delete_prefix(
    client: &Client,
    path: &S3Path,
    filter: &PathFilter,
    dry_run: bool,
    quiet: bool,
) -> Outcome {
    let keys: Vec<String> = list_recursive(client, path, filter, quiet)
        .await?
        .into_iter()
        .map(|o| o.key)
        .collect();
    if keys.is_empty() {
        if !quiet {
            eprintln!("warning: no object under {}", path.uri());
        }
        return Ok(());
    }
    if dry_run {
        for key in &keys {
            info(quiet, &format!("(dry run) delete: '{}'", path.display(key)));
        }
        return Ok(());
    }
    let out = client
        .delete_objects(&path.bucket, &keys)
        .await
        .at(path.uri())?;
    for key in &out.deleted {
        info(quiet, &format!("delete: '{}'", path.display(key)));
    }
    if let Some(first) = out.errors.first() {
        return Err(Failure::Other(format!(
            "{} objects could not be deleted; first: {} ({}{})",
            out.errors.len(),
            path.display(&first.key),
            first.code,
            if first.message.is_empty() {
                String::new()
            } else {
                format!(": {}", first.message)
            }
        )));
    }
    Ok(())
}

pub(crate) async fn get_acl(
    client: &Client,
    path: &S3Path,
) -> Result<AccessControlPolicy, Failure> {
    if path.is_bucket() {
        client.get_bucket_acl(&path.bucket).await.at(path.uri())
    } else {
        match client.get_object_acl(&path.bucket, &path.key).await {
            Ok(acl) => Ok(acl),
            Err(e) if e.is_not_found() => Err(not_found(client, path).await),
            Err(e) => Err(Failure::At(path.uri(), e)),
        }
    }
}

/// Whether a policy is what every new object gets: its owner's `FULL_CONTROL` alone.
pub(crate) fn is_default_acl(policy: &AccessControlPolicy) -> bool {
    let owner: &Owner = &policy.owner;
    policy.equivalent(
        &AccessControlPolicy::new(owner.clone())
            .with_grant(Grant::new(owner.as_grantee(), Permission::FullControl)),
    )
}

struct AclChange {
    canned: Option<CannedAcl>,
    grants: Vec<Grant>,
    /// Grantee, and the permission (`None`: every permission).
    revokes: Vec<(Grantee, Option<Permission>)>,
}

async fn set_acl(client: &Client, path: &S3Path, change: &AclChange, quiet: bool) -> Outcome {
    if let Some(acl) = change.canned {
        let result = if path.is_bucket() {
            client.set_bucket_acl(&path.bucket, acl).await
        } else {
            client.set_object_acl(&path.bucket, &path.key, acl).await
        };
        match result {
            Ok(()) => {}
            Err(e) if e.is_not_found() && !path.is_bucket() => {
                return Err(not_found(client, path).await);
            }
            Err(e) => return Err(Failure::At(path.uri(), e)),
        }
    }
    if !change.grants.is_empty() || !change.revokes.is_empty() {
        let mut policy = get_acl(client, path).await?;
        for (grantee, permission) in &change.revokes {
            policy.grants.retain(|g| {
                !(g.grantee.same_identity(grantee) && permission.is_none_or(|p| p == g.permission))
            });
        }
        for grant in &change.grants {
            if !policy.grants.iter().any(|g| {
                g.grantee.same_identity(&grant.grantee) && g.permission == grant.permission
            }) {
                policy.grants.push(grant.clone());
            }
        }
        if path.is_bucket() {
            client
                .put_bucket_acl(&path.bucket, &policy)
                .await
                .at(path.uri())?;
        } else {
            client
                .put_object_acl(&path.bucket, &path.key, &policy)
                .await
                .at(path.uri())?;
        }
    }
    let what = match change.canned {
        Some(_) if !change.grants.is_empty() || !change.revokes.is_empty() => {
            "ACL updated".to_owned()
        }
        Some(CannedAcl::PublicRead) => "ACL set to Public".to_owned(),
        Some(CannedAcl::Private) => "ACL set to Private".to_owned(),
        Some(acl) => format!("ACL set to {}", acl.as_str()),
        None => "ACL updated".to_owned(),
    };
    info(quiet, &format!("{}: {what}", path.uri()));
    Ok(())
}

fn grantee_text(grantee: &Grantee) -> String {
    match grantee {
        Grantee::Group(Group::AllUsers) => "all-users (anyone)".to_owned(),
        Grantee::Group(Group::AuthenticatedUsers) => "authenticated-users".to_owned(),
        Grantee::Group(g) => g.uri().to_owned(),
        other => format!("{other}"),
    }
}

fn print_acl(policy: &AccessControlPolicy) {
    let owner = &policy.owner;
    match &owner.display_name {
        Some(name) => println!("owner: {} ({name})", owner.id),
        None => println!("owner: {}", owner.id),
    }
    for grant in &policy.grants {
        println!(
            "  {:<13} {}",
            grant.permission.as_str(),
            grantee_text(&grant.grantee)
        );
    }
}

fn parse_grantee(text: &str) -> Result<Grantee, Failure> {
    Ok(match text {
        "all-users" | "anyone" | "everyone" | "anon" => Grantee::ALL_USERS,
        "authenticated-users" => Grantee::AUTHENTICATED_USERS,
        t if t.starts_with("email:") => Grantee::email(&t[6..]),
        t if t.starts_with("id:") => Grantee::user(&t[3..]),
        t if t.starts_with("http://") || t.starts_with("https://") => {
            Grantee::Group(Group::from_uri(t))
        }
        // s3cmd: an address with `@` is an e-mail grantee, anything else a canonical id.
        t if t.contains('@') => Grantee::email(t),
        t if !t.is_empty() => Grantee::user(t),
        _ => return Err(Failure::Usage("an empty grantee".to_owned())),
    })
}

/// `read`, `write`, `read_acp`, `write_acp`, `full_control` (s3cmd's names, `-` taken for
/// `_`); `all` is `full_control` in a grant, and every permission in a revoke.
fn parse_permission(text: &str) -> Option<Option<Permission>> {
    Some(Some(
        match text.to_ascii_lowercase().replace('-', "_").as_str() {
            "read" => Permission::Read,
            "write" => Permission::Write,
            "read_acp" => Permission::ReadAcp,
            "write_acp" => Permission::WriteAcp,
            "full_control" | "full" => Permission::FullControl,
            "all" => return Some(None),
            _ => return None,
        },
    ))
}

fn parse_grant(text: &str) -> Result<Grant, Failure> {
    let (perm, grantee) = text.split_once(':').ok_or_else(|| {
        Failure::Usage(format!("--acl-grant {text}: expected PERMISSION:GRANTEE"))
    })?;
    let permission = match parse_permission(perm) {
        Some(p) => p.unwrap_or(Permission::FullControl),
        None => {
            return Err(Failure::Usage(format!(
                "--acl-grant {text}: `{perm}` is not read, write, read_acp, write_acp, \
                 full_control or all"
            )));
        }
    };
    Ok(Grant::new(parse_grantee(grantee)?, permission))
}

/// `PERMISSION:GRANTEE` (s3cmd) or `GRANTEE` (every permission). A grantee with a `:` of
/// its own (`email:...`, a group URI) is told apart by the word before the `:`.
fn parse_revoke(text: &str) -> Result<(Grantee, Option<Permission>), Failure> {
    if let Some((perm, grantee)) = text.split_once(':')
        && let Some(permission) = parse_permission(perm)
    {
        return Ok((parse_grantee(grantee)?, permission));
    }
    Ok((parse_grantee(text)?, None))
}

/// The `ACL:` lines of `info` (an error is shown in place: the rest of `info` stands).
async fn print_acl_lines(client: &Client, path: &S3Path) {
    match get_acl(client, path).await {
        Ok(acl) => {
            for grant in &acl.grants {
                println!(
                    "   ACL:       {}: {}",
                    grantee_text(&grant.grantee),
                    grant.permission.as_str()
                );
            }
            if !path.is_bucket()
                && acl.readable_by_everyone()
                && let Ok(url) = client.endpoint().object_url(&path.bucket, &path.key)
            {
                println!("   URL:       {url}");
            }
        }
        Err(Failure::At(_, e) | Failure::Client(e)) => println!("   ACL:       ({e})"),
        Err(other) => println!("   ACL:       ({other})"),
    }
}

async fn info_command(client: &Client, path: &S3Path) -> Outcome {
    if path.is_bucket() {
        client.head_bucket(&path.bucket).await.at(path.uri())?;
        println!("{} (bucket):", path.uri());
        match client.bucket_location(&path.bucket).await {
            Ok(location) => println!("   Location:  {}", location.as_deref().unwrap_or("default")),
            Err(e) => println!("   Location:  ({e})"),
        }
        match client.get_bucket_cors(&path.bucket).await {
            Ok(Some(cors)) => println!("   CORS:      {}", cors.to_xml()),
            Ok(None) => println!("   CORS:      none"),
            Err(e) => println!("   CORS:      ({e})"),
        }
        print_acl_lines(client, path).await;
        return Ok(());
    }
    let info = head(client, path).await?;
    println!("{} (object):", path.uri());
    println!("   File size: {}", info.content_length);
    println!("   Last mod:  {}", date(info.last_modified));
    let m = &info.metadata;
    for (label, value) in [
        ("MIME type", &m.content_type),
        ("Storage", &info.storage_class),
        ("ETag", &info.etag),
        ("Encoding", &m.content_encoding),
        ("Disposition", &m.content_disposition),
        ("Language", &m.content_language),
        ("Cache-Control", &m.cache_control),
        ("Expires", &m.expires),
    ] {
        if let Some(value) = value {
            println!("   {:<10} {value}", format!("{label}:"));
        }
    }
    for (name, value) in &m.user {
        println!("   x-amz-meta-{name}: {value}");
    }
    print_acl_lines(client, path).await;
    Ok(())
}

/// s3cmd's tag set argument: `KEY=VALUE` pairs joined with `&`, each split at its first `=`
/// (no `=`: an empty value), nothing decoded; an empty key is refused, as s3cmd does.
fn parse_tag_set(text: &str) -> Result<Tags, Failure> {
    let mut tags = Tags::new();
    for pair in text.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key.is_empty() {
            return Err(Failure::Usage(format!(
                "tag key should not be empty in `{text}`"
            )));
        }
        if tags.get(key).is_some() {
            return Err(Failure::Usage(format!("the tag `{key}` is given twice")));
        }
        tags.insert(key, value);
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names_follow_the_trailing_slash() {
        assert_eq!(base_of("dir/"), "dir/");
        assert_eq!(base_of("dir"), "");
        assert_eq!(base_of("a/b/sub"), "a/b/");
        assert_eq!(base_of(""), "");
        assert_eq!(prefix_of("c3"), "c3/");
        assert_eq!(prefix_of("c3/"), "c3/");
        assert_eq!(prefix_of(""), "");
    }

    #[test]
    fn keys_outside_the_folder_of_a_prefix_are_named() {
        let path = S3Path::parse("s3://b/dir").unwrap();
        assert_eq!(outside_folder(&path, ["dir", "dir/a", "dir/b/c"]), None);
        assert_eq!(
            outside_folder(&path, ["dir/a", "dir2/x", "directory.txt"]).as_deref(),
            Some(
                "s3://b/dir is a key prefix: it also takes s3://b/dir2/x outside s3://b/dir/ \
                 and 1 more (end it with / for that folder only)"
            )
        );
        for folder in ["s3://b/dir/", "s3://b", "s3://b/"] {
            let path = S3Path::parse(folder).unwrap();
            assert_eq!(outside_folder(&path, ["dir2/x", "directory.txt"]), None);
        }
    }

    #[test]
    fn grants_and_revokes_in_s3cmd_form() {
        let g = parse_grant("read:test2").unwrap();
        assert_eq!(g.permission, Permission::Read);
        assert!(g.grantee.same_identity(&Grantee::user("test2")));
        let g = parse_grant("full_control:someone@example.com").unwrap();
        assert!(
            g.grantee
                .same_identity(&Grantee::email("someone@example.com"))
        );
        assert_eq!(
            parse_grant("all:all-users").unwrap().permission,
            Permission::FullControl
        );
        assert!(parse_grant("nonsense:x").is_err() && parse_grant("x").is_err());
        let (who, perm) = parse_revoke("write_acp:u").unwrap();
        assert!(who.same_identity(&Grantee::user("u")) && perm == Some(Permission::WriteAcp));
        let (who, perm) = parse_revoke("all:u").unwrap();
        assert!(who.same_identity(&Grantee::user("u")) && perm.is_none());
        let (who, perm) = parse_revoke("all-users").unwrap();
        assert!(who.is_everyone() && perm.is_none());
        let (who, perm) = parse_revoke("email:a@b.c").unwrap();
        assert!(who.same_identity(&Grantee::email("a@b.c")) && perm.is_none());
        let (who, _) =
            parse_revoke("read:http://acs.amazonaws.com/groups/global/AllUsers").unwrap();
        assert!(who.is_everyone());
    }

    #[test]
    fn signurl_expiry_as_s3cmd() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(
            expiry_time("+300", now).unwrap(),
            now + Duration::from_secs(300)
        );
        assert_eq!(
            expiry_time("1000600", now).unwrap(),
            now + Duration::from_secs(600)
        );
        assert!(expiry_time("999999", now).is_err());
        assert!(expiry_time("+0", now).is_err());
        assert!(expiry_time("tomorrow", now).is_err());
    }

    #[test]
    fn tag_sets_as_s3cmd_reads_them() {
        let tags = parse_tag_set("a=1&b=x=y&flag").unwrap();
        let pairs: Vec<(&str, &str)> = tags.iter().collect();
        assert_eq!(pairs, [("a", "1"), ("b", "x=y"), ("flag", "")]);
        assert!(parse_tag_set("=v").is_err());
        assert!(parse_tag_set("a=1&&b=2").is_err());
        assert!(parse_tag_set("a=1&a=2").is_err());
    }
}
