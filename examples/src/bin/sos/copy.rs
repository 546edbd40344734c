//! `cp`, `mv` and `modify`: copies on the server.
//!
//! As s3cmd: a copy keeps the source's metadata unless headers are given (then they are
//! set on top of the source's, and the copy replaces its metadata), and it keeps the
//! source's ACL unless an ACL is given: a public object moved stays public. (S3's
//! CopyObject itself gives the copy the default, private ACL.)

use sos_client::{CannedAcl, Client, ErrorCode, MAX_COPY_OBJECT_SIZE, Metadata};

use crate::args::{CopyArgs, Upload};
use crate::commands::{
    At, base_of, get_acl, head, info, is_default_acl, list_recursive, not_found, prefix_of,
};
use crate::filters::PathFilter;
use crate::plan::{copy_order, distinct_objects};
use crate::target::{S3Path, is_s3};
use crate::upload::{flag_metadata, merge_metadata, remove_header, sets_headers, upload_acl};
use crate::{Failure, Outcome};

/// What a copy sets on the copy.
pub(crate) struct CopySettings {
    /// A canned ACL; `None` keeps the source's.
    pub(crate) acl: Option<CannedAcl>,
    /// Headers set on top of the source's (`None`: the source's metadata as it is).
    pub(crate) headers: Option<Metadata>,
}

impl CopySettings {
    pub(crate) fn from_flags(upload: &Upload) -> Result<Self, Failure> {
        Ok(Self {
            acl: upload_acl(upload)?,
            headers: if sets_headers(upload) {
                Some(flag_metadata(upload)?)
            } else {
                None
            },
        })
    }
}

/// `cp`, or `mv` (`remove_source`). Every copy is planned, and checked, before the first:
/// two sources never go to one destination (the second would replace the first, whose
/// source `mv` would have deleted), `mv` moves a source once, and a copy that replaces the
/// source of another runs after it.
pub(crate) async fn copy(
    client: &Client,
    args: &CopyArgs,
    remove_source: bool,
    quiet: bool,
) -> Outcome {
    let verb = if remove_source { "mv" } else { "cp" };
    let (paths, upload) = (&args.paths, &args.upload);
    let filter = PathFilter::new(&args.filters)?;
    let Some((dest, sources)) = paths.split_last() else {
        return Err(Failure::Usage(format!(
            "{verb} needs a source and a destination"
        )));
    };
    if let Some(local) = paths.iter().find(|p| !is_s3(p)) {
        return Err(Failure::Usage(format!(
            "{verb} copies between s3:// objects: {local} is local (put uploads, get downloads)"
        )));
    }
    let dest = S3Path::parse(dest)?;
    let settings = CopySettings::from_flags(upload)?;
    let many = sources.len() > 1 || args.recursive;
    let mut jobs: Vec<(S3Path, S3Path)> = Vec::new();
    for source in sources {
        let source = S3Path::parse(source)?;
        if args.recursive {
            // `s3://b/dir/` copies as PREFIX/..., the key prefix `s3://b/dir` as PREFIX/dir/...,
            // PREFIX/dir2/..., PREFIX/directory.txt (s3cmd).
            let base = base_of(&source.key).len();
            let objects = list_recursive(client, &source, &filter, quiet).await?;
            if objects.is_empty() {
                return Err(Failure::NotFound(format!(
                    "no object under {}",
                    source.uri()
                )));
            }
            for o in objects {
                let to = format!("{}{}", prefix_of(&dest.key), &o.key[base..]);
                jobs.push((source.with_key(o.key), dest.with_key(to)));
            }
        } else {
            let key = source.file_key(verb)?;
            let name = key.rsplit('/').next().unwrap_or(key);
            let to = if dest.key.is_empty() || dest.key.ends_with('/') || many {
                format!("{}{name}", prefix_of(&dest.key))
            } else {
                dest.key.clone()
            };
            jobs.push((source.clone(), dest.with_key(to)));
        }
    }
    // Checked before the first copy.
    for (from, to) in &jobs {
        if from == to && (remove_source || settings.headers.is_none()) {
            return Err(Failure::Usage(format!(
                "{} is both the source and the destination{}",
                from.uri(),
                if remove_source {
                    ""
                } else {
                    " (`modify` changes an object's headers in place)"
                }
            )));
        }
    }
    distinct_objects(verb, jobs.iter().map(|(from, to)| (from.uri(), to)))?;
    if remove_source {
        let mut moved: Vec<&S3Path> = jobs.iter().map(|(from, _)| from).collect();
        moved.sort();
        if let Some(twice) = moved.windows(2).find(|w| w[0] == w[1]) {
            return Err(Failure::Usage(format!(
                "mv: {} would be moved twice (the sources overlap); nothing was done",
                twice[0].uri()
            )));
        }
    }
    for i in copy_order(verb, &jobs)? {
        let (from, to) = &jobs[i];
        copy_one(client, from, to, &settings).await?;
        if remove_source {
            client
                .delete_object(&from.bucket, &from.key)
                .await
                .at(from.uri())?;
        }
        info(
            quiet,
            &format!(
                "{}: '{}' -> '{}'",
                if remove_source { "move" } else { "copy" },
                from.uri(),
                to.uri()
            ),
        );
    }
    Ok(())
}

/// One server-side copy with its metadata and ACL (see the module's rules).
pub(crate) async fn copy_one(
    client: &Client,
    from: &S3Path,
    to: &S3Path,
    settings: &CopySettings,
) -> Outcome {
    copy_with(
        client,
        from,
        to,
        settings.acl,
        settings.headers.as_ref(),
        &[],
    )
    .await
}

async fn copy_with(
    client: &Client,
    from: &S3Path,
    to: &S3Path,
    acl: Option<CannedAcl>,
    headers: Option<&Metadata>,
    removed: &[String],
) -> Outcome {
    // The source's ACL, to give it to the copy (read first: the copy may replace the source).
    let source_acl = match acl {
        Some(_) => None,
        None => Some(get_acl(client, from).await?),
    };
    // Objects up to 5 GiB in one CopyObject (s3cmd copies in 1 GiB parts from 1 GiB on);
    // larger ones in parts copied on the server (one CopyObject cannot).
    let mut request = client
        .copy(&from.bucket, &from.key, &to.bucket, &to.key)
        .part_size(MAX_COPY_OBJECT_SIZE);
    if headers.is_some() || !removed.is_empty() {
        let mut meta = head(client, from).await?.metadata;
        strip_aws_chunked(&mut meta);
        if let Some(set) = headers {
            meta = merge_metadata(meta, set);
        }
        for name in removed {
            remove_header(&mut meta, name)?;
        }
        request = request.replace_metadata(meta);
    }
    if let Some(acl) = acl {
        request = request.acl(acl);
    }
    match request.send().await {
        Ok(_) => {}
        Err(e) if e.code() == Some(&ErrorCode::NoSuchKey) => {
            return Err(not_found(client, from).await);
        }
        Err(e) => return Err(Failure::At(format!("{} -> {}", from.uri(), to.uri()), e)),
    }
    if let Some(policy) = source_acl
        && !is_default_acl(&policy)
    {
        client
            .put_object_acl(&to.bucket, &to.key, &policy)
            .await
            .at(to.uri())?;
    }
    Ok(())
}

/// Drops `aws-chunked` from a Content-Encoding read back from the server. It names the
/// framing of a V4 streaming upload, not the object's encoding: S3 stores objects without
/// it, but the RADOS Gateway keeps it (sos-client no longer sends it unasked; other clients
/// and older uploads do); a copy that replaces the metadata must not carry it.
fn strip_aws_chunked(meta: &mut Metadata) {
    if let Some(encoding) = &meta.content_encoding {
        let rest: Vec<&str> = encoding
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
            .collect();
        meta.content_encoding = (!rest.is_empty()).then(|| rest.join(","));
    }
}

pub(crate) async fn modify(
    client: &Client,
    targets: &[String],
    recursive: bool,
    upload: &Upload,
    removed: &[String],
    filter: &PathFilter,
    quiet: bool,
) -> Outcome {
    let settings = CopySettings::from_flags(upload)?;
    if settings.headers.is_none() && removed.is_empty() && settings.acl.is_none() {
        return Err(Failure::Usage(
            "nothing to change: give --add-header, --remove-header or --mime-type".to_owned(),
        ));
    }
    // Checked before any request.
    for name in removed {
        remove_header(&mut Metadata::new(), name)?;
    }
    let empty = Metadata::new();
    let headers = Some(settings.headers.as_ref().unwrap_or(&empty));
    for target in targets {
        let path = S3Path::parse(target)?;
        let objects = if recursive {
            let objects = list_recursive(client, &path, filter, quiet).await?;
            if objects.is_empty() {
                return Err(Failure::NotFound(format!("no object under {}", path.uri())));
            }
            objects.into_iter().map(|o| path.with_key(o.key)).collect()
        } else {
            path.file_key("modify")?;
            vec![path]
        };
        for object in objects {
            copy_with(client, &object, &object, settings.acl, headers, removed).await?;
            info(quiet, &format!("modify: '{}'", object.uri()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_chunked_is_not_an_encoding_to_keep() {
        let mut meta = Metadata::new().content_encoding("aws-chunked");
        strip_aws_chunked(&mut meta);
        assert_eq!(meta.content_encoding, None);
        let mut meta = Metadata::new().content_encoding("aws-chunked, gzip");
        strip_aws_chunked(&mut meta);
        assert_eq!(meta.content_encoding.as_deref(), Some("gzip"));
        let mut meta = Metadata::new().content_encoding("gzip");
        strip_aws_chunked(&mut meta);
        assert_eq!(meta.content_encoding.as_deref(), Some("gzip"));
    }
}
