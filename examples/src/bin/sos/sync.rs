//! `sos sync DIR s3://bucket/prefix/`: upload new and changed files, optionally delete the
//! rest.
//!
//! A file is unchanged when the object has its size and its ETag: the MD5 of the file for
//! single-part objects, the multipart ETag (MD5 of the parts' MD5s, `-N`) for files larger
//! than a part, computed with the part size this tool uploads with. Anything else (another
//! part size, server-side encryption) counts as changed and is uploaded again: safe, if not
//! minimal.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use futures_util::TryStreamExt;
use md5::{Digest, Md5};
use sos_client::{CannedAcl, Client, Metadata};

use crate::args::Transfer;
use crate::commands::{guess_content_type, upload_file, walk};
use crate::target::S3Path;
use crate::{Failure, Outcome};

pub(crate) struct SyncOptions {
    pub(crate) delete: bool,
    pub(crate) dry_run: bool,
    pub(crate) quiet: bool,
    pub(crate) part_size: u64,
    pub(crate) concurrency: usize,
    pub(crate) metadata: Metadata,
    pub(crate) acl: Option<CannedAcl>,
}

/// The ETag an upload of `file` by this tool gets.
fn expected_etag(file: &Path, part_size: u64) -> std::io::Result<String> {
    let mut reader = std::fs::File::open(file)?;
    let len = reader.metadata()?.len();
    let part_size = usize::try_from(part_size).unwrap_or(usize::MAX);
    let mut buf = vec![0u8; 1 << 20];
    if len <= part_size as u64 {
        let mut md5 = Md5::new();
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            md5.update(&buf[..n]);
        }
        return Ok(hex(&md5.finalize()));
    }
    let mut of_parts = Md5::new();
    let mut parts = 0;
    let mut part = Md5::new();
    let mut in_part = 0usize;
    loop {
        let want = buf.len().min(part_size - in_part);
        let n = reader.read(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        part.update(&buf[..n]);
        in_part += n;
        if in_part == part_size {
            of_parts.update(part.finalize_reset());
            parts += 1;
            in_part = 0;
        }
    }
    if in_part > 0 {
        of_parts.update(part.finalize());
        parts += 1;
    }
    Ok(format!("{}-{parts}", hex(&of_parts.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn sync(
    client: &Client,
    source: &Path,
    dest: &S3Path,
    options: &SyncOptions,
) -> Outcome {
    if !source.is_dir() {
        return Err(Failure::Usage(format!(
            "{} is not a directory",
            source.display()
        )));
    }
    let prefix = if dest.key.is_empty() || dest.key.ends_with('/') {
        dest.key.clone()
    } else {
        format!("{}/", dest.key)
    };
    let remote: HashMap<String, (u64, Option<String>)> = client
        .list_objects(dest.bucket.clone())
        .prefix(prefix.clone())
        .max_pages(1_000_000)
        .objects()
        .map_ok(|o| (o.key, (o.size, o.etag)))
        .try_collect()
        .await?;
    let local = walk(source)?;
    let transfer = Transfer {
        part_size_mib: options.part_size / (1024 * 1024),
        concurrency: options.concurrency,
    };
    let (mut uploaded, mut unchanged) = (0, 0);
    let mut seen = std::collections::HashSet::new();
    for (file, rel) in &local {
        let key = format!("{prefix}{rel}");
        seen.insert(key.clone());
        let len = std::fs::metadata(file)?.len();
        let same = match remote.get(&key) {
            Some((size, Some(etag))) if *size == len => {
                let file = file.clone();
                let part_size = options.part_size;
                let local_etag =
                    tokio::task::spawn_blocking(move || expected_etag(&file, part_size))
                        .await
                        .map_err(|e| Failure::Other(e.to_string()))??;
                local_etag == *etag
            }
            _ => false,
        };
        if same {
            unchanged += 1;
            continue;
        }
        if !options.quiet {
            println!(
                "{}upload: '{}' -> '{}'",
                if options.dry_run { "(dry run) " } else { "" },
                file.display(),
                dest.display(&key)
            );
        }
        if !options.dry_run {
            let mut meta = options.metadata.clone();
            if meta.content_type.is_none() {
                meta = meta.content_type(guess_content_type(file));
            }
            upload_file(
                client,
                file,
                &dest.bucket,
                &key,
                meta,
                options.acl,
                transfer,
                options.quiet,
            )
            .await?;
        }
        uploaded += 1;
    }
    let mut deleted = 0;
    if options.delete {
        let mut stale: Vec<&String> = remote.keys().filter(|k| !seen.contains(*k)).collect();
        stale.sort();
        for key in &stale {
            if !options.quiet {
                println!(
                    "{}delete: '{}'",
                    if options.dry_run { "(dry run) " } else { "" },
                    dest.display(key)
                );
            }
        }
        if !options.dry_run && !stale.is_empty() {
            let out = client.delete_objects(&dest.bucket, &stale).await?;
            if let Some(e) = out.errors.first() {
                return Err(Failure::Other(format!(
                    "cannot delete {}: {}",
                    e.key, e.code
                )));
            }
        }
        deleted = stale.len();
    }
    if !options.quiet {
        println!("Done: {uploaded} uploaded, {unchanged} unchanged, {deleted} deleted");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_of_single_and_multipart_uploads() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"hello").unwrap();
        assert_eq!(
            expected_etag(&file, 8).unwrap(),
            "5d41402abc4b2a76b9719d911017c592"
        );
        std::fs::write(&file, b"0123456789").unwrap();
        // Parts "01234" and "56789".
        let p1 = Md5::digest(b"01234");
        let p2 = Md5::digest(b"56789");
        let mut both = Md5::new();
        both.update(p1);
        both.update(p2);
        assert_eq!(
            expected_etag(&file, 5).unwrap(),
            format!("{}-2", hex(&both.finalize()))
        );
    }
}
