//! The commands.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::TryStreamExt;
use sos_acl::{AccessControlPolicy, Grant, Grantee, Group, Permission};
use sos_client::{CannedAcl, Client, CorsConfiguration, ListEntry, Metadata, ObjectSummary};

use crate::args::{Cli, Command, Transfer, Upload};
use crate::output::{date, progress, size};
use crate::target::S3Path;
use crate::{Failure, Outcome, config};

/// Safety bound on listings walked by one command (pages of 1000 keys).
const MAX_PAGES: u64 = 1_000_000;
const MIB: u64 = 1024 * 1024;

pub(crate) async fn run(cli: Cli) -> Outcome {
    let client = config::client(&cli.global)?;
    let quiet = cli.global.quiet;
    match cli.command {
        Command::Mb {
            bucket,
            acl,
            location,
        } => {
            let path = S3Path::parse(&bucket)?;
            let mut create = client.create_bucket(&path.bucket);
            if let Some(acl) = acl {
                create = create.acl(canned(&acl)?);
            }
            if let Some(location) = location {
                create = create.location(location);
            }
            create.send().await?;
            info(quiet, &format!("Bucket 's3://{}/' created", path.bucket));
            Ok(())
        }
        Command::Rb { bucket, recursive } => {
            let path = S3Path::parse(&bucket)?;
            if recursive {
                delete_prefix(&client, &path.bucket, "", quiet).await?;
            }
            client.delete_bucket(&path.bucket).await?;
            info(quiet, &format!("Bucket 's3://{}/' removed", path.bucket));
            Ok(())
        }
        Command::Ls {
            target,
            recursive,
            human_readable_sizes,
        } => ls(&client, target.as_deref(), recursive, human_readable_sizes).await,
        Command::Put {
            mut paths,
            recursive,
            upload,
            transfer,
        } => {
            let dest = paths.pop().unwrap_or_default();
            put(&client, &paths, &dest, recursive, &upload, transfer, quiet).await
        }
        Command::Get {
            source,
            dest,
            recursive,
            force,
            transfer,
        } => get(&client, &source, dest, recursive, force, transfer, quiet).await,
        Command::Del { targets, recursive } => {
            for target in targets {
                let path = S3Path::parse(&target)?;
                if recursive {
                    delete_prefix(&client, &path.bucket, &path.key, quiet).await?;
                } else {
                    client
                        .delete_object(&path.bucket, path.object_key()?)
                        .await?;
                    info(quiet, &format!("delete: '{}'", path.display(&path.key)));
                }
            }
            Ok(())
        }
        Command::Cp {
            source,
            dest,
            recursive,
        } => copy(&client, &source, &dest, recursive, false, quiet).await,
        Command::Mv {
            source,
            dest,
            recursive,
        } => copy(&client, &source, &dest, recursive, true, quiet).await,
        Command::Sync {
            source,
            dest,
            delete,
            dry_run,
            upload,
            transfer,
        } => {
            let options = crate::sync::SyncOptions {
                delete,
                dry_run,
                quiet,
                part_size: transfer.part_size_mib * MIB,
                concurrency: transfer.concurrency,
                metadata: upload_metadata(&upload, None)?,
                acl: upload_acl(&upload)?,
            };
            crate::sync::sync(&client, &source, &S3Path::parse(&dest)?, &options).await
        }
        Command::Info { target } => info_command(&client, &S3Path::parse(&target)?).await,
        Command::Setacl {
            target,
            acl,
            acl_public,
            acl_private,
            grants,
            revokes,
        } => {
            let path = S3Path::parse(&target)?;
            let canned_acl = match (acl, acl_public, acl_private) {
                (Some(a), false, false) => Some(canned(&a)?),
                (None, true, false) => Some(CannedAcl::PublicRead),
                (None, false, true) => Some(CannedAcl::Private),
                (None, false, false) => None,
                _ => {
                    return Err(Failure::Usage(
                        "give one of --acl, --acl-public, --acl-private".to_owned(),
                    ));
                }
            };
            if canned_acl.is_none() && grants.is_empty() && revokes.is_empty() {
                return Err(Failure::Usage(
                    "nothing to do: give --acl, --acl-public, --acl-private, --grant or --revoke"
                        .to_owned(),
                ));
            }
            if let Some(acl) = canned_acl {
                if path.is_bucket() {
                    client.set_bucket_acl(&path.bucket, acl).await?;
                } else {
                    client.set_object_acl(&path.bucket, &path.key, acl).await?;
                }
            }
            if !grants.is_empty() || !revokes.is_empty() {
                let mut policy = get_acl(&client, &path).await?;
                for revoke in &revokes {
                    let grantee = parse_grantee(revoke)?;
                    policy.grants.retain(|g| !g.grantee.same_identity(&grantee));
                }
                for grant in &grants {
                    policy.grants.push(parse_grant(grant)?);
                }
                if path.is_bucket() {
                    client.put_bucket_acl(&path.bucket, &policy).await?;
                } else {
                    client
                        .put_object_acl(&path.bucket, &path.key, &policy)
                        .await?;
                }
            }
            info(quiet, &format!("{}: ACL updated", path.display(&path.key)));
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
        Command::Setcors { bucket, file } => {
            let path = S3Path::parse(&bucket)?;
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
            client.put_bucket_cors(&path.bucket, &cors).await?;
            info(
                quiet,
                &format!("s3://{}/: CORS configuration set", path.bucket),
            );
            Ok(())
        }
        Command::Getcors { bucket, json } => {
            let path = S3Path::parse(&bucket)?;
            match client.get_bucket_cors(&path.bucket).await? {
                Some(cors) if json => println!(
                    "{}",
                    serde_json::to_string_pretty(&cors)
                        .map_err(|e| Failure::Other(e.to_string()))?
                ),
                Some(cors) => println!("{}", cors.to_xml()),
                None => {
                    return Err(Failure::NotFound(format!(
                        "s3://{}/ has no CORS configuration",
                        path.bucket
                    )));
                }
            }
            Ok(())
        }
        Command::Delcors { bucket } => {
            let path = S3Path::parse(&bucket)?;
            client.delete_bucket_cors(&path.bucket).await?;
            info(
                quiet,
                &format!("s3://{}/: CORS configuration deleted", path.bucket),
            );
            Ok(())
        }
        Command::Presign {
            target,
            method,
            expires,
        } => {
            let path = S3Path::parse(&target)?;
            let key = path.object_key()?;
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
        Command::Du {
            target,
            human_readable_sizes,
        } => du(&client, target.as_deref(), human_readable_sizes).await,
    }
}

fn info(quiet: bool, message: &str) {
    if !quiet {
        println!("{message}");
    }
}

fn canned(text: &str) -> Result<CannedAcl, Failure> {
    text.parse::<CannedAcl>()
        .map_err(|e| Failure::Usage(format!("--acl {text}: {e}")))
}

fn upload_acl(upload: &Upload) -> Result<Option<CannedAcl>, Failure> {
    match (&upload.acl, upload.acl_public) {
        (Some(_), true) => Err(Failure::Usage("--acl and --acl-public together".to_owned())),
        (Some(acl), false) => Ok(Some(canned(acl)?)),
        (None, true) => Ok(Some(CannedAcl::PublicRead)),
        (None, false) => Ok(None),
    }
}

/// The metadata of an upload: flags, and the content type guessed from `file` if not given.
pub(crate) fn upload_metadata(upload: &Upload, file: Option<&Path>) -> Result<Metadata, Failure> {
    let mut meta = Metadata::new();
    if let Some(ct) = &upload.content_type {
        meta = meta.content_type(ct.clone());
    } else if let Some(file) = file {
        meta = meta.content_type(guess_content_type(file));
    }
    if let Some(cc) = &upload.cache_control {
        meta = meta.cache_control(cc.clone());
    }
    for pair in &upload.meta {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| Failure::Usage(format!("--meta {pair}: expected NAME=VALUE")))?;
        meta = meta.user(name, value);
    }
    Ok(meta)
}

pub(crate) fn guess_content_type(file: &Path) -> String {
    mime_guess::from_path(file)
        .first_raw()
        .unwrap_or("application/octet-stream")
        .to_owned()
}

async fn ls(client: &Client, target: Option<&str>, recursive: bool, human: bool) -> Outcome {
    let Some(target) = target else {
        for bucket in client.list_buckets().await? {
            println!("{}  s3://{}", date(bucket.creation_date), bucket.name);
        }
        return Ok(());
    };
    let path = S3Path::parse(target)?;
    let mut list = client
        .list_objects(path.bucket.clone())
        .prefix(path.key.clone())
        .max_pages(MAX_PAGES);
    if !recursive {
        list = list.delimiter("/");
    }
    let mut entries = list.entries();
    while let Some(entry) = entries.try_next().await? {
        match entry {
            ListEntry::Prefix(prefix) => {
                println!("{:>16}  {:>10}   {}", "", "DIR", path.display(&prefix));
            }
            ListEntry::Object(o) => print_object(&path, &o, human),
        }
    }
    Ok(())
}

fn print_object(path: &S3Path, o: &ObjectSummary, human: bool) {
    println!(
        "{}  {:>10}   {}",
        date(o.last_modified),
        size(o.size, human),
        path.display(&o.key)
    );
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
    for path in &targets {
        let (bytes, count) = client
            .list_objects(path.bucket.clone())
            .prefix(path.key.clone())
            .max_pages(MAX_PAGES)
            .objects()
            .try_fold(
                (0u64, 0u64),
                |(b, n), o| async move { Ok((b + o.size, n + 1)) },
            )
            .await?;
        println!(
            "{:>10} {:>8} objects {}",
            size(bytes, human),
            count,
            path.display(&path.key)
        );
        total = (total.0 + bytes, total.1 + count);
    }
    if targets.len() > 1 {
        println!("{:>10} {:>8} objects Total", size(total.0, human), total.1);
    }
    Ok(())
}

/// Every file under `dir`, with its path relative to `dir` (`/`-separated), sorted.
pub(crate) fn walk(dir: &Path) -> Result<Vec<(PathBuf, String)>, Failure> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_owned(), String::new())];
    while let Some((current, rel)) = stack.pop() {
        let entries = std::fs::read_dir(&current)
            .map_err(|e| Failure::Other(format!("{}: {e}", current.display())))?;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
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

async fn put(
    client: &Client,
    sources: &[String],
    dest: &str,
    recursive: bool,
    upload: &Upload,
    transfer: Transfer,
    quiet: bool,
) -> Outcome {
    let dest = S3Path::parse(dest)?;
    let mut jobs: Vec<(PathBuf, String)> = Vec::new();
    let many = sources.len() > 1 || recursive;
    for source in sources {
        let path = PathBuf::from(source);
        if path.is_dir() {
            if !recursive {
                return Err(Failure::Usage(format!(
                    "{source} is a directory: use --recursive"
                )));
            }
            let base = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for (file, rel) in walk(&path)? {
                let key = if source.ends_with('/') || base.is_empty() {
                    format!("{}{rel}", prefix_of(&dest.key))
                } else {
                    format!("{}{base}/{rel}", prefix_of(&dest.key))
                };
                jobs.push((file, key));
            }
        } else {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| Failure::Usage(format!("{source}: not a file")))?;
            let key = if dest.key.is_empty() || dest.key.ends_with('/') || many {
                format!("{}{name}", prefix_of(&dest.key))
            } else {
                dest.key.clone()
            };
            jobs.push((path, key));
        }
    }
    let acl = upload_acl(upload)?;
    for (file, key) in jobs {
        let meta = upload_metadata(upload, Some(&file))?;
        upload_file(
            client,
            &file,
            &dest.bucket,
            &key,
            meta,
            acl,
            transfer,
            quiet,
        )
        .await?;
        info(
            quiet,
            &format!("upload: '{}' -> '{}'", file.display(), dest.display(&key)),
        );
    }
    Ok(())
}

/// `dir/` for a non-empty prefix without a slash... keys given as a prefix end with `/`.
fn prefix_of(key: &str) -> String {
    if key.is_empty() || key.ends_with('/') {
        key.to_owned()
    } else {
        format!("{key}/")
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn upload_file(
    client: &Client,
    file: &Path,
    bucket: &str,
    key: &str,
    meta: Metadata,
    acl: Option<CannedAcl>,
    transfer: Transfer,
    quiet: bool,
) -> Outcome {
    let len = std::fs::metadata(file)
        .map_err(|e| Failure::Other(format!("{}: {e}", file.display())))?
        .len();
    let bar = progress(Some(len), key, quiet);
    let progress_bar = bar.clone();
    let mut job = client
        .upload(bucket, key)
        .part_size(transfer.part_size_mib * MIB)
        .concurrency(transfer.concurrency)
        .metadata(meta)
        .on_progress(move |p| progress_bar.set_position(p.transferred));
    if let Some(acl) = acl {
        job = job.acl(acl);
    }
    let result = job.file(file).await;
    bar.finish_and_clear();
    result?;
    Ok(())
}

async fn get(
    client: &Client,
    source: &str,
    dest: Option<PathBuf>,
    recursive: bool,
    force: bool,
    transfer: Transfer,
    quiet: bool,
) -> Outcome {
    let source = S3Path::parse(source)?;
    let mut jobs: Vec<(String, PathBuf)> = Vec::new();
    if recursive {
        let dir = dest.unwrap_or_else(|| PathBuf::from("."));
        let keys: Vec<ObjectSummary> = client
            .list_objects(source.bucket.clone())
            .prefix(source.key.clone())
            .max_pages(MAX_PAGES)
            .objects()
            .try_collect()
            .await?;
        for object in keys {
            let rel = object.key[source.key.len()..].trim_start_matches('/');
            // Keys that are not safe relative paths are not written outside `dir`.
            if rel.is_empty()
                || rel.ends_with('/')
                || rel
                    .split('/')
                    .any(|c| c.is_empty() || c == "." || c == "..")
            {
                info(
                    quiet,
                    &format!("skip: '{}' (not a file path)", source.display(&object.key)),
                );
                continue;
            }
            jobs.push((object.key.clone(), dir.join(rel)));
        }
    } else {
        let key = source.object_key()?.to_owned();
        let name = key.rsplit('/').next().unwrap_or(&key).to_owned();
        let file = match dest {
            Some(d) if d.is_dir() => d.join(&name),
            Some(d) => d,
            None => PathBuf::from(&name),
        };
        jobs.push((key, file));
    }
    for (key, file) in jobs {
        if file.exists() && !force {
            return Err(Failure::Usage(format!(
                "{} exists: use --force to overwrite",
                file.display()
            )));
        }
        if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let info_ = client.head_object(&source.bucket, &key).await?;
        let bar = progress(Some(info_.content_length), &key, quiet);
        let progress_bar = bar.clone();
        let result = client
            .download(&source.bucket, &key)
            .part_size(transfer.part_size_mib * MIB)
            .concurrency(transfer.concurrency)
            .on_progress(move |p| progress_bar.set_position(p.transferred))
            .to_file(&file)
            .await;
        bar.finish_and_clear();
        result?;
        info(
            quiet,
            &format!(
                "download: '{}' -> '{}'",
                source.display(&key),
                file.display()
            ),
        );
    }
    Ok(())
}

async fn delete_prefix(client: &Client, bucket: &str, prefix: &str, quiet: bool) -> Outcome {
    let keys: Vec<String> = client
        .list_objects(bucket.to_owned())
        .prefix(prefix.to_owned())
        .max_pages(MAX_PAGES)
        .objects()
        .map_ok(|o| o.key)
        .try_collect()
        .await?;
    let out = client.delete_objects(bucket, &keys).await?;
    for key in &out.deleted {
        info(quiet, &format!("delete: 's3://{bucket}/{key}'"));
    }
    if let Some(first) = out.errors.first() {
        return Err(Failure::Other(format!(
            "{} keys could not be deleted; first: {} ({}: {})",
            out.errors.len(),
            first.key,
            first.code,
            first.message
        )));
    }
    Ok(())
}

async fn copy(
    client: &Client,
    source: &str,
    dest: &str,
    recursive: bool,
    remove: bool,
    quiet: bool,
) -> Outcome {
    let source = S3Path::parse(source)?;
    let dest = S3Path::parse(dest)?;
    let mut jobs: Vec<(String, String)> = Vec::new();
    if recursive {
        let objects: Vec<ObjectSummary> = client
            .list_objects(source.bucket.clone())
            .prefix(source.key.clone())
            .max_pages(MAX_PAGES)
            .objects()
            .try_collect()
            .await?;
        for o in objects {
            let rel = &o.key[source.key.len()..];
            jobs.push((o.key.clone(), format!("{}{}", dest.key, rel)));
        }
    } else {
        let key = source.object_key()?.to_owned();
        let target = if dest.key.is_empty() || dest.key.ends_with('/') {
            format!("{}{}", dest.key, key.rsplit('/').next().unwrap_or(&key))
        } else {
            dest.key.clone()
        };
        jobs.push((key, target));
    }
    let verb = if remove { "move" } else { "copy" };
    for (from, to) in jobs {
        client
            .copy_object(&source.bucket, &from, &dest.bucket, &to)
            .send()
            .await?;
        if remove {
            client.delete_object(&source.bucket, &from).await?;
        }
        info(
            quiet,
            &format!(
                "{verb}: '{}' -> '{}'",
                source.display(&from),
                dest.display(&to)
            ),
        );
    }
    Ok(())
}

async fn get_acl(client: &Client, path: &S3Path) -> Result<AccessControlPolicy, Failure> {
    Ok(if path.is_bucket() {
        client.get_bucket_acl(&path.bucket).await?
    } else {
        client.get_object_acl(&path.bucket, &path.key).await?
    })
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
        "all-users" | "anyone" | "everyone" => Grantee::ALL_USERS,
        "authenticated-users" => Grantee::AUTHENTICATED_USERS,
        t if t.starts_with("email:") => Grantee::email(&t[6..]),
        t if t.starts_with("id:") => Grantee::user(&t[3..]),
        t if t.starts_with("http://") || t.starts_with("https://") => {
            Grantee::Group(Group::from_uri(t))
        }
        t if !t.is_empty() => Grantee::user(t),
        _ => return Err(Failure::Usage("an empty grantee".to_owned())),
    })
}

fn parse_grant(text: &str) -> Result<Grant, Failure> {
    let (perm, grantee) = text
        .split_once(':')
        .ok_or_else(|| Failure::Usage(format!("--grant {text}: expected PERMISSION:GRANTEE")))?;
    let permission = match perm.to_ascii_lowercase().replace('_', "-").as_str() {
        "read" => Permission::Read,
        "write" => Permission::Write,
        "read-acp" => Permission::ReadAcp,
        "write-acp" => Permission::WriteAcp,
        "full-control" | "full" | "all" => Permission::FullControl,
        other => {
            return Err(Failure::Usage(format!(
                "--grant {text}: `{other}` is not read, write, read-acp, write-acp or full-control"
            )));
        }
    };
    Ok(Grant::new(parse_grantee(grantee)?, permission))
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
        }
        Err(Failure::Client(e)) => println!("   ACL:       ({e})"),
        Err(e) => println!("   ACL:       ({e:?})"),
    }
}

async fn info_command(client: &Client, path: &S3Path) -> Outcome {
    if path.is_bucket() {
        client.head_bucket(&path.bucket).await?;
        println!("s3://{}/", path.bucket);
        match client.bucket_location(&path.bucket).await {
            Ok(location) => println!(
                "   Location:  {}",
                location.as_deref().unwrap_or("(default)")
            ),
            Err(e) => println!("   Location:  ({e})"),
        }
        print_acl_lines(client, path).await;
        match client.get_bucket_cors(&path.bucket).await {
            Ok(Some(cors)) => println!("   CORS:      {}", cors.to_xml()),
            Ok(None) => println!("   CORS:      none"),
            Err(e) => println!("   CORS:      ({e})"),
        }
        return Ok(());
    }
    let info = client.head_object(&path.bucket, &path.key).await?;
    println!("{}", path.display(&path.key));
    println!("   File size: {}", info.content_length);
    println!("   Last mod:  {}", date(info.last_modified));
    println!("   ETag:      {}", info.etag.as_deref().unwrap_or(""));
    let m = &info.metadata;
    for (label, value) in [
        ("MIME type", &m.content_type),
        ("Encoding", &m.content_encoding),
        ("Disposition", &m.content_disposition),
        ("Cache-Ctrl", &m.cache_control),
        ("Expires", &m.expires),
    ] {
        if let Some(value) = value {
            println!("   {label:<10} {value}");
        }
    }
    for (name, value) in &m.user {
        println!("   x-amz-meta-{name}: {value}");
    }
    print_acl_lines(client, path).await;
    Ok(())
}
