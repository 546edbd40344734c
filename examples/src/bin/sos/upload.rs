//! `put`, and what uploads and copies share: the object's headers and ACL from the flags.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use sos_client::{CannedAcl, Client, Metadata};

use crate::args::{Transfer, Upload};
use crate::commands::{At, canned, info, prefix_of, walk};
use crate::filters::PathFilter;
use crate::plan::distinct_objects;
use crate::target::{S3Path, is_s3};
use crate::transfer::{Job, with_progress};
use crate::{Failure, Outcome};

pub(crate) struct PutOptions {
    pub(crate) recursive: bool,
    pub(crate) dry_run: bool,
    pub(crate) quiet: bool,
    pub(crate) filter: PathFilter,
    pub(crate) transfer: Transfer,
}

/// The canned ACL the flags ask for (`None`: the store's default, private).
pub(crate) fn upload_acl(upload: &Upload) -> Result<Option<CannedAcl>, Failure> {
    Ok(match (&upload.acl, upload.acl_public, upload.acl_private) {
        (Some(acl), _, _) => Some(canned(acl)?),
        (None, true, _) => Some(CannedAcl::PublicRead),
        (None, false, true) => Some(CannedAcl::Private),
        (None, false, false) => None,
    })
}

/// The headers the flags set (`--mime-type`, `--add-header`, `--meta`, `--cache-control`);
/// the content type stays unset when not given.
pub(crate) fn flag_metadata(upload: &Upload) -> Result<Metadata, Failure> {
    if let Some(class) = &upload.storage_class {
        check_storage_class(class)?;
    }
    let mut meta = Metadata::new();
    for header in &upload.add_headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| Failure::Usage(format!("--add-header {header}: expected NAME:VALUE")))?;
        meta = set_header(meta, name.trim(), value.trim())
            .map_err(|m| Failure::Usage(format!("--add-header {header}: {m}")))?;
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
    if let Some(ct) = &upload.content_type {
        meta = meta.content_type(ct.clone());
    }
    Ok(meta)
}

/// Whether any flag changes the headers of an object.
pub(crate) fn sets_headers(upload: &Upload) -> bool {
    upload.content_type.is_some()
        || !upload.add_headers.is_empty()
        || !upload.meta.is_empty()
        || upload.cache_control.is_some()
}

const HEADERS: &str = "Cache-Control, Content-Disposition, Content-Encoding, \
                       Content-Language, Content-Type, Expires, x-amz-meta-NAME";

fn check_storage_class(class: &str) -> Result<(), Failure> {
    if class.eq_ignore_ascii_case("STANDARD") {
        Ok(())
    } else {
        Err(Failure::Usage(format!(
            "storage class {class}: sos stores objects in the STANDARD class only"
        )))
    }
}

fn set_header(meta: Metadata, name: &str, value: &str) -> Result<Metadata, String> {
    let lower = name.to_ascii_lowercase();
    Ok(match lower.as_str() {
        "content-type" => meta.content_type(value),
        "cache-control" => meta.cache_control(value),
        "content-disposition" => meta.content_disposition(value),
        "content-encoding" => meta.content_encoding(value),
        "content-language" => meta.content_language(value),
        "expires" => meta.expires(value),
        "x-amz-storage-class" => {
            check_storage_class(value).map_err(|_| {
                format!("storage class {value}: sos stores objects in the STANDARD class only")
            })?;
            meta
        }
        other => match other.strip_prefix("x-amz-meta-") {
            Some(user) if !user.is_empty() => meta.user(user, value),
            _ => return Err(format!("sos sets these headers only: {HEADERS}")),
        },
    })
}

/// Removes the header `name` (`--remove-header`).
pub(crate) fn remove_header(meta: &mut Metadata, name: &str) -> Result<(), Failure> {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "content-type" => meta.content_type = None,
        "cache-control" => meta.cache_control = None,
        "content-disposition" => meta.content_disposition = None,
        "content-encoding" => meta.content_encoding = None,
        "content-language" => meta.content_language = None,
        "expires" => meta.expires = None,
        other => match other.strip_prefix("x-amz-meta-") {
            Some(user) if !user.is_empty() => {
                meta.user.remove(user);
            }
            _ => {
                return Err(Failure::Usage(format!(
                    "--remove-header {name}: one of {HEADERS}"
                )));
            }
        },
    }
    Ok(())
}

/// `base` with what `set` has on top (user metadata merged, `set` winning).
pub(crate) fn merge_metadata(mut base: Metadata, set: &Metadata) -> Metadata {
    let fields = [
        (&mut base.content_type, &set.content_type),
        (&mut base.content_encoding, &set.content_encoding),
        (&mut base.content_disposition, &set.content_disposition),
        (&mut base.content_language, &set.content_language),
        (&mut base.cache_control, &set.cache_control),
        (&mut base.expires, &set.expires),
    ];
    for (to, from) in fields {
        if from.is_some() {
            to.clone_from(from);
        }
    }
    for (name, value) in &set.user {
        base.user.insert(name.clone(), value.clone());
    }
    base
}

pub(crate) fn guess_content_type(file: &Path) -> String {
    mime_guess::from_path(file)
        .first_raw()
        .unwrap_or("application/octet-stream")
        .to_owned()
}

pub(crate) async fn put(
    client: &Client,
    sources: &[String],
    dest: &str,
    upload: &Upload,
    options: &PutOptions,
) -> Outcome {
    let dest = S3Path::parse(dest)?;
    if let Some(s3) = sources.iter().find(|s| is_s3(s)) {
        return Err(Failure::Usage(format!(
            "put uploads local files: {s3} is remote (`cp` copies objects)"
        )));
    }
    let acl = upload_acl(upload)?;
    let flags = flag_metadata(upload)?;
    let mut jobs: Vec<(PathBuf, S3Path)> = Vec::new();
    let many = sources.len() > 1 || options.recursive;
    for source in sources {
        if source == "-" {
            if sources.len() > 1 || dest.key.is_empty() || dest.key.ends_with('/') {
                return Err(Failure::Usage(
                    "put - (standard input) takes one source and a full s3://BUCKET/KEY".to_owned(),
                ));
            }
            let mut meta = flags.clone();
            if meta.content_type.is_none() {
                meta = meta.content_type("application/octet-stream");
            }
            if options.dry_run {
                info(
                    options.quiet,
                    &format!("(dry run) upload: '-' -> '{}'", dest.uri()),
                );
                return Ok(());
            }
            let mut job = client
                .upload(&dest.bucket, &dest.key)
                .tuned(options.transfer)
                .metadata(meta);
            if let Some(acl) = acl {
                job = job.acl(acl);
            }
            job.reader(std_stream(std::io::stdin().as_fd())?)
                .await
                .at(dest.uri())?;
            info(options.quiet, &format!("upload: '-' -> '{}'", dest.uri()));
            print_public_url(client, &dest, acl, options.quiet);
            return Ok(());
        }
        let path = PathBuf::from(source);
        let metadata =
            std::fs::metadata(&path).map_err(|e| Failure::Usage(format!("{source}: {e}")))?;
        if metadata.is_dir() {
            if !options.recursive {
                return Err(Failure::Usage(format!(
                    "{source} is a directory: use --recursive"
                )));
            }
            // rsync's and s3cmd's rule: `dir` goes as PREFIX/dir/..., `dir/` as PREFIX/...
            let base = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for (file, rel) in walk(&path)? {
                let rel = if source.ends_with('/') || base.is_empty() {
                    rel
                } else {
                    format!("{base}/{rel}")
                };
                if options.filter.accepts(&rel) {
                    jobs.push((
                        file,
                        dest.with_key(format!("{}{rel}", prefix_of(&dest.key))),
                    ));
                }
            }
        } else {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| Failure::Usage(format!("{source}: not a file")))?;
            if !options.filter.accepts(&name) {
                continue;
            }
            let key = if dest.key.is_empty() || dest.key.ends_with('/') || many {
                format!("{}{name}", prefix_of(&dest.key))
            } else {
                dest.key.clone()
            };
            jobs.push((path, dest.with_key(key)));
        }
    }
    if jobs.is_empty() && !options.quiet {
        eprintln!("warning: nothing to upload");
    }
    // Checked before the first upload: one object per file.
    distinct_objects(
        "put",
        jobs.iter()
            .map(|(file, target)| (file.display().to_string(), target)),
    )?;
    for (file, target) in jobs {
        if options.dry_run {
            info(
                options.quiet,
                &format!(
                    "(dry run) upload: '{}' -> '{}'",
                    file.display(),
                    target.uri()
                ),
            );
            continue;
        }
        let mut meta = flags.clone();
        if meta.content_type.is_none() {
            meta = meta.content_type(guess_content_type(&file));
        }
        let len = upload_file(
            client,
            &file,
            &target,
            meta,
            acl,
            options.transfer,
            options.quiet,
        )
        .await?;
        info(
            options.quiet,
            &format!(
                "upload: '{}' -> '{}' ({len} bytes)",
                file.display(),
                target.uri()
            ),
        );
        print_public_url(client, &target, acl, options.quiet);
    }
    Ok(())
}

/// Standard input or output as an async file (on a descriptor of its own).
pub(crate) fn std_stream(fd: BorrowedFd<'_>) -> Result<tokio::fs::File, Failure> {
    let owned = fd
        .try_clone_to_owned()
        .map_err(|e| Failure::Other(format!("standard input/output: {e}")))?;
    Ok(tokio::fs::File::from_std(std::fs::File::from(owned)))
}

/// s3cmd's line after a public upload.
fn print_public_url(client: &Client, target: &S3Path, acl: Option<CannedAcl>, quiet: bool) {
    if matches!(
        acl,
        Some(CannedAcl::PublicRead | CannedAcl::PublicReadWrite)
    ) && let Ok(url) = client.endpoint().object_url(&target.bucket, &target.key)
    {
        info(quiet, &format!("Public URL of the object is: {url}"));
    }
}

/// Uploads a file (in parts when larger than a part); returns its size.
pub(crate) async fn upload_file(
    client: &Client,
    file: &Path,
    target: &S3Path,
    meta: Metadata,
    acl: Option<CannedAcl>,
    transfer: Transfer,
    quiet: bool,
) -> Result<u64, Failure> {
    let len = std::fs::metadata(file)
        .map_err(|e| Failure::Other(format!("{}: {e}", file.display())))?
        .len();
    let mut job = client.upload(&target.bucket, &target.key).metadata(meta);
    if let Some(acl) = acl {
        job = job.acl(acl);
    }
    with_progress(job, transfer, len, &target.key, quiet, async |job| {
        job.file(file).await
    })
    .await
    .at(target.uri())?;
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(headers: &[&str]) -> Result<Metadata, Failure> {
        flag_metadata(&Upload {
            add_headers: headers.iter().map(|s| (*s).to_owned()).collect(),
            ..Upload::default()
        })
    }

    #[test]
    fn add_header_as_s3cmd() {
        let meta = flags(&[
            "Cache-Control: max-age=60",
            "x-amz-meta-Color:blue",
            "content-type:text/x-custom",
            "Expires:Thu, 01 Dec 2033 16:00:00 GMT",
            "x-amz-storage-class:STANDARD",
        ])
        .unwrap();
        assert_eq!(meta.cache_control.as_deref(), Some("max-age=60"));
        assert_eq!(meta.user["color"], "blue");
        assert_eq!(meta.content_type.as_deref(), Some("text/x-custom"));
        assert_eq!(
            meta.expires.as_deref(),
            Some("Thu, 01 Dec 2033 16:00:00 GMT")
        );
        assert!(flags(&["X-Frobnicate: 1"]).is_err());
        assert!(flags(&["no colon"]).is_err());
        assert!(flags(&["x-amz-storage-class:GLACIER"]).is_err());
        // --mime-type wins over a Content-Type header, as s3cmd.
        let meta = flag_metadata(&Upload {
            content_type: Some("text/html".to_owned()),
            add_headers: vec!["Content-Type: text/plain".to_owned()],
            ..Upload::default()
        })
        .unwrap();
        assert_eq!(meta.content_type.as_deref(), Some("text/html"));
    }

    #[test]
    fn merged_and_removed_headers() {
        let base = Metadata::new()
            .content_type("text/plain")
            .cache_control("no-cache")
            .user("a", "1")
            .user("b", "2");
        let set = Metadata::new().cache_control("max-age=9").user("b", "3");
        let mut merged = merge_metadata(base, &set);
        assert_eq!(merged.content_type.as_deref(), Some("text/plain"));
        assert_eq!(merged.cache_control.as_deref(), Some("max-age=9"));
        assert_eq!(
            (merged.user["a"].as_str(), merged.user["b"].as_str()),
            ("1", "3")
        );
        remove_header(&mut merged, "x-amz-meta-a").unwrap();
        remove_header(&mut merged, "Cache-Control").unwrap();
        assert!(!merged.user.contains_key("a") && merged.cache_control.is_none());
        assert!(remove_header(&mut merged, "Server").is_err());
    }
}
