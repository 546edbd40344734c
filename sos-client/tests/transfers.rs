//! Multipart uploads and the transfer manager against every server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use sos_client::{Checksum, Client, ErrorCode, Metadata, MultipartUpload};

use crate::common::{self, Target, data, remove_bucket};

const MIB: usize = 1024 * 1024;

async fn low_level_multipart(target: &Target, client: &Client, bucket: &str) {
    let name = target.name;
    let meta = Metadata::new()
        .content_type("application/x-parts")
        .user("kind", "multipart");
    let upload = client
        .create_multipart_upload(bucket, "parts/assembled.bin", &meta, None)
        .await
        .unwrap();
    let part1 = data(5 * MIB, 1);
    let part2 = data(1234, 2);
    // Out of order, with both checksums.
    let p2 = client
        .upload_part(&upload, 2, Bytes::from(part2.clone()), Checksum::Crc32c)
        .await
        .unwrap();
    let p1 = client
        .upload_part(&upload, 1, Bytes::from(part1.clone()), Checksum::Md5)
        .await
        .unwrap();
    if target.name != "s3s-fs" {
        let listed = client.list_parts(&upload).await.unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|p| (p.part_number, p.size))
                .collect::<Vec<_>>(),
            [(1, 5 * MIB as u64), (2, 1234)],
            "{name}"
        );
        let uploads = client
            .list_multipart_uploads(bucket, Some("parts/"))
            .await
            .unwrap();
        assert!(
            uploads.iter().any(|u| u.upload_id == upload.upload_id),
            "{name}"
        );
    }
    let out = client
        .complete_multipart_upload(&upload, &[p2, p1])
        .await
        .unwrap();
    let etag = client
        .head_object(bucket, "parts/assembled.bin")
        .await
        .unwrap()
        .etag;
    assert!(
        etag.as_deref().is_some_and(|e| e.ends_with("-2")),
        "{name}: {etag:?}"
    );
    if target.name != "radosgw" {
        // The gateway sends an empty <ETag> in the completion answer.
        assert_eq!(out.etag, etag, "{name}");
    }
    let got = client
        .get_object(bucket, "parts/assembled.bin")
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.len(), part1.len() + part2.len(), "{name}");
    assert!(
        got[..part1.len()] == part1[..] && got[part1.len()..] == part2[..],
        "{name}"
    );
    let info = client
        .head_object(bucket, "parts/assembled.bin")
        .await
        .unwrap();
    assert_eq!(info.metadata.user["kind"], "multipart", "{name}");

    // A small non-last part is refused at completion; abort leaves nothing.
    let upload = client
        .create_multipart_upload(bucket, "parts/too-small.bin", &Metadata::new(), None)
        .await
        .unwrap();
    let a = client
        .upload_part(&upload, 1, Bytes::from_static(b"tiny"), Checksum::Md5)
        .await
        .unwrap();
    let b = client
        .upload_part(&upload, 2, Bytes::from_static(b"end"), Checksum::Md5)
        .await
        .unwrap();
    let completed = client.complete_multipart_upload(&upload, &[a, b]).await;
    if name == "garage" {
        // Garage has no minimum part size: the object is made.
        completed.unwrap();
        return;
    }
    let err = completed.unwrap_err();
    assert_eq!(
        err.code(),
        Some(&ErrorCode::EntityTooSmall),
        "{name}: {err}"
    );
    // (s3s-fs drops an upload whose completion failed, and answers AccessDenied for upload
    // ids it does not know.)
    let aborted = client.abort_multipart_upload(&upload).await;
    if target.name == "s3s-fs" {
        return;
    }
    aborted.unwrap();
    // (The gateway answers NoSuchKey for the parts of an aborted upload.)
    let err = client.list_parts(&upload).await.unwrap_err();
    assert!(
        matches!(
            err.code(),
            Some(ErrorCode::NoSuchUpload | ErrorCode::NoSuchKey)
        ),
        "{name}: {err}"
    );
    // Aborting again is not an error.
    client.abort_multipart_upload(&upload).await.unwrap();
    // A part for an upload that is gone.
    let err = client
        .upload_part(&upload, 3, Bytes::from_static(b"x"), Checksum::None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NoSuchUpload), "{name}: {err}");
    let bad = MultipartUpload {
        upload_id: "no-such-upload".to_owned(),
        ..upload
    };
    let err = client
        .upload_part(&bad, 1, Bytes::from_static(b"x"), Checksum::None)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{name}: {err}");
}

async fn transfer_manager(target: &Target, client: &Client, bucket: &str) {
    let name = target.name;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    let content = data(21 * MIB + 17, 3);
    std::fs::write(&source, &content).unwrap();

    // A file in parallel parts, with progress.
    let seen = Arc::new(AtomicU64::new(0));
    let progress = seen.clone();
    let out = client
        .upload(bucket, "big/file.bin")
        .part_size(5 * MIB as u64)
        .concurrency(3)
        .checksum(Checksum::Crc32c)
        .content_type("application/octet-stream")
        .on_progress(move |p| {
            progress.fetch_max(p.transferred, Ordering::Relaxed);
        })
        .file(&source)
        .await
        .unwrap_or_else(|e| panic!("{name}: upload file: {e}"));
    let etag = client
        .head_object(bucket, "big/file.bin")
        .await
        .unwrap()
        .etag;
    assert!(
        etag.as_deref().is_some_and(|e| e.ends_with("-5")),
        "{name}: {etag:?} {out:?}"
    );
    assert_eq!(seen.load(Ordering::Relaxed), content.len() as u64, "{name}");

    // A reader of unknown length, and bytes smaller than a part (one PUT).
    let reader = std::io::Cursor::new(content[..11 * MIB].to_vec());
    client
        .upload(bucket, "big/reader.bin")
        .part_size(5 * MIB as u64)
        .reader(reader)
        .await
        .unwrap();
    client
        .upload(bucket, "small.bin")
        .bytes(content[..1000].to_vec())
        .await
        .unwrap();
    assert_eq!(
        client
            .get_object(bucket, "small.bin")
            .bytes()
            .await
            .unwrap(),
        &content[..1000]
    );

    // Downloads: to a file in parallel parts, and in order to a writer.
    let target_file = dir.path().join("down.bin");
    let info = client
        .download(bucket, "big/file.bin")
        .part_size(4 * MIB as u64)
        .concurrency(4)
        .to_file(&target_file)
        .await
        .unwrap();
    assert_eq!(info.content_length, content.len() as u64);
    assert!(
        std::fs::read(&target_file).unwrap() == content,
        "{name}: file download"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("sos-partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let mut sink = Vec::new();
    client
        .download(bucket, "big/reader.bin")
        .part_size(3 * MIB as u64)
        .to_writer(&mut sink)
        .await
        .unwrap();
    assert!(sink == content[..11 * MIB], "{name}: writer download");

    // A missing object: an error, and no file left behind.
    let missing = dir.path().join("missing.bin");
    let err = client
        .download(bucket, "nope")
        .to_file(&missing)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NoSuchKey), "{name}: {err}");
    assert!(!missing.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "{name}: temp files left"
    );

    // Bad part sizes are refused before anything is sent.
    let err = client
        .upload(bucket, "x")
        .part_size(1024)
        .bytes(vec![0; 10])
        .await
        .unwrap_err();
    assert!(matches!(err, sos_client::Error::InvalidInput(_)), "{err}");
}

async fn run(target: Target) {
    let client = target.client();
    let bucket = target.bucket(&client, "sos-mpu").await;
    low_level_multipart(&target, &client, &bucket).await;
    transfer_manager(&target, &client, &bucket).await;
    remove_bucket(&client, &bucket).await;
}

#[tokio::test]
async fn embedded_transfers() {
    run(common::embedded()).await;
}

#[tokio::test]
async fn rados_gateway_transfers() {
    if let Some(t) = common::rados_gateway() {
        run(t).await;
    }
}

#[tokio::test]
async fn garage_transfers() {
    if let Some(t) = common::garage() {
        run(t).await;
    }
}
