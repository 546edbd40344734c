//! `get`: objects to files, directories or standard output.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use sos_client::Client;

use crate::args::Transfer;
use crate::commands::{At, base_of, head, info, list_recursive};
use crate::filters::PathFilter;
use crate::plan::distinct_files;
use crate::target::{S3Path, is_s3};
use crate::transfer::{Job, with_progress};
use crate::upload::std_stream;
use crate::{Failure, Outcome};

pub(crate) struct GetOptions {
    pub(crate) recursive: bool,
    pub(crate) force: bool,
    pub(crate) skip_existing: bool,
    pub(crate) quiet: bool,
    pub(crate) filter: PathFilter,
    pub(crate) transfer: Transfer,
}

/// Whether `rel` (a key relative to what was asked for) can be a file below a directory:
/// no empty, `.` or `..` component, no trailing `/` (a folder marker), no NUL.
pub(crate) fn safe_relative_path(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.ends_with('/')
        && !rel.contains('\0')
        && !rel
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
}

pub(crate) async fn get(client: &Client, paths: &[String], options: &GetOptions) -> Outcome {
    // s3cmd's form: sources, then an optional local destination.
    let (sources, dest) = match paths.split_last() {
        Some((last, rest)) if !rest.is_empty() && !is_s3(last) => (rest, Some(last.as_str())),
        _ => (paths, None),
    };
    if let Some(local) = sources.iter().find(|s| !is_s3(s)) {
        return Err(Failure::Usage(format!(
            "get downloads s3:// objects: {local} is local (only the last argument may be)"
        )));
    }
    let sources: Vec<S3Path> = sources
        .iter()
        .map(|s| S3Path::parse(s))
        .collect::<Result<_, _>>()?;
    if dest == Some("-") {
        return match sources.as_slice() {
            [one] if !options.recursive => to_stdout(client, one, options).await,
            _ => Err(Failure::Usage(
                "get ... - (standard output) takes one object".to_owned(),
            )),
        };
    }
    let many = sources.len() > 1 || options.recursive;
    // Several objects go into a directory; one goes into a directory when DEST is one.
    let dest_dir = match dest {
        Some(d) if many || d.ends_with('/') || Path::new(d).is_dir() => {
            let dir = PathBuf::from(d);
            if dir.exists() && !dir.is_dir() {
                return Err(Failure::Usage(format!(
                    "{d} is a file: several objects need a directory"
                )));
            }
            Some(dir)
        }
        _ => None,
    };
    let mut jobs: Vec<(S3Path, PathBuf, Option<u64>)> = Vec::new();
    for source in &sources {
        if options.recursive {
            let dir = dest_dir.clone().unwrap_or_else(|| PathBuf::from("."));
            let base = base_of(&source.key).len();
            let objects = list_recursive(client, source, &options.filter, options.quiet).await?;
            if objects.is_empty() {
                return Err(Failure::NotFound(format!(
                    "no object under {}",
                    source.uri()
                )));
            }
            for object in objects {
                let rel = &object.key[base..];
                // Keys that are not safe relative paths are not written outside `dir`.
                if !safe_relative_path(rel) {
                    info(
                        options.quiet,
                        &format!("skip: '{}' (not a file path)", source.display(&object.key)),
                    );
                    continue;
                }
                jobs.push((
                    source.with_key(object.key.clone()),
                    dir.join(rel),
                    Some(object.size),
                ));
            }
        } else {
            let key = source.file_key("get")?;
            let name = key.rsplit('/').next().unwrap_or(key);
            let file = match (&dest_dir, dest) {
                (Some(dir), _) => dir.join(name),
                (None, Some(d)) => PathBuf::from(d),
                (None, None) => PathBuf::from(name),
            };
            jobs.push((source.clone(), file, None));
        }
    }
    // Checked before the first download: one file per object.
    distinct_files(
        "get",
        jobs.iter()
            .map(|(object, file, _)| (object.uri(), file.as_path())),
    )?;
    for (object, file, size) in jobs {
        if file.exists() {
            if options.skip_existing {
                info(options.quiet, &format!("skip: '{}' exists", file.display()));
                continue;
            }
            if !options.force {
                return Err(Failure::Usage(format!(
                    "{} exists: --force overwrites it, --skip-existing keeps it",
                    file.display()
                )));
            }
            if file.is_dir() {
                return Err(Failure::Usage(format!(
                    "{} is a directory: cannot write {} there",
                    file.display(),
                    object.uri()
                )));
            }
        }
        let len = download(
            client,
            &object,
            &file,
            size,
            options.transfer,
            options.quiet,
        )
        .await?;
        info(
            options.quiet,
            &format!(
                "download: '{}' -> '{}' ({len} bytes)",
                object.uri(),
                file.display()
            ),
        );
    }
    Ok(())
}

/// Downloads one object into `file` (whole or not at all), making its directory; returns
/// the size.
pub(crate) async fn download(
    client: &Client,
    object: &S3Path,
    file: &Path,
    size: Option<u64>,
    transfer: Transfer,
    quiet: bool,
) -> Result<u64, Failure> {
    let size = match size {
        Some(size) => size,
        None => head(client, object).await?.content_length,
    };
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::Other(format!("{}: {e}", parent.display())))?;
    }
    let result = with_progress(
        client.download(&object.bucket, &object.key),
        transfer,
        size,
        &object.key,
        quiet,
        async |job| job.to_file(file).await,
    )
    .await;
    Ok(result.at(object.uri())?.content_length)
}

async fn to_stdout(client: &Client, object: &S3Path, options: &GetOptions) -> Outcome {
    object.file_key("get")?;
    head(client, object).await?;
    client
        .download(&object.bucket, &object.key)
        .tuned(options.transfer)
        .to_writer(std_stream(std::io::stdout().as_fd())?)
        .await
        .at(object.uri())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_relative_paths_are_written() {
        assert!(safe_relative_path("a/b c/ü.txt"));
        for bad in ["", "a/", "/a", "a//b", "../x", "a/./b", "a/..", "a\0b"] {
            assert!(!safe_relative_path(bad), "{bad:?}");
        }
    }
}
