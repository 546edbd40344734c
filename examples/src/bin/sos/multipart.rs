//! `multipart`, `listmp` and `abortmp`: multipart uploads in progress, as s3cmd shows them.

use sos_client::{Client, MultipartUpload, PartSummary};

use crate::commands::{At, info};
use crate::output::iso_date;
use crate::target::S3Path;
use crate::{Failure, Outcome};

pub(crate) async fn list_uploads(
    client: &Client,
    path: &S3Path,
    upload_id: Option<String>,
) -> Outcome {
    let prefix = (!path.key.is_empty()).then_some(path.key.as_str());
    let uploads = client
        .list_multipart_uploads(&path.bucket, prefix)
        .await
        .at(path.uri())?;
    println!("{}", path.uri());
    println!("Initiated\tPath\tId");
    for upload in uploads {
        if upload_id.as_ref().is_some_and(|id| *id != upload.upload_id) {
            continue;
        }
        println!(
            "{}\t{}\t{}",
            iso_date(upload.initiated),
            path.display(&upload.key),
            upload.upload_id
        );
    }
    Ok(())
}

fn upload_of(path: &S3Path, upload_id: String, command: &str) -> Result<MultipartUpload, Failure> {
    Ok(MultipartUpload {
        bucket: path.bucket.clone(),
        key: path.file_key(command)?.to_owned(),
        upload_id,
    })
}

async fn parts_of(
    client: &Client,
    path: &S3Path,
    upload: &MultipartUpload,
) -> Result<Vec<PartSummary>, Failure> {
    match client.list_parts(upload).await {
        Ok(parts) => Ok(parts),
        Err(e) if e.is_not_found() => Err(Failure::NotFound(format!(
            "{}: no multipart upload {} in progress (`sos multipart s3://{}` lists them)",
            path.uri(),
            upload.upload_id,
            path.bucket
        ))),
        Err(e) => Err(Failure::At(path.uri(), e)),
    }
}

pub(crate) async fn list_parts(client: &Client, path: &S3Path, upload_id: String) -> Outcome {
    let upload = upload_of(path, upload_id, "listmp")?;
    let parts = parts_of(client, path, &upload).await?;
    println!("PartNumber\tETag\tSize");
    for part in parts {
        println!("{}\t\"{}\"\t{}", part.part_number, part.etag, part.size);
    }
    Ok(())
}

pub(crate) async fn abort(
    client: &Client,
    path: &S3Path,
    upload_id: String,
    quiet: bool,
) -> Outcome {
    let upload = upload_of(path, upload_id, "abortmp")?;
    // The client takes an upload that is gone as aborted; a wrong id must not say so.
    parts_of(client, path, &upload).await?;
    client.abort_multipart_upload(&upload).await.at(format!(
        "{} (upload {})",
        path.uri(),
        upload.upload_id
    ))?;
    info(
        quiet,
        &format!("{}: upload {} aborted", path.uri(), upload.upload_id),
    );
    Ok(())
}
