//! Server-side copies on every server: one request, a large object copied in parallel
//! `UploadPartCopy` parts with its metadata, ranges and conditions, and failures that leave
//! no multipart upload behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sos_client::{Client, CopySource, Error, ErrorCode, Metadata, ServiceError, Tags};

use crate::common::{self, Target, data, remove_bucket};

const MIB: usize = 1024 * 1024;

/// The uploads in progress in `bucket` (empty for s3s-fs, which cannot list them).
async fn uploads(client: &Client, bucket: &str) -> Vec<String> {
    match client.list_multipart_uploads(bucket, None).await {
        Err(e) if e.code() == Some(&ErrorCode::NotImplemented) => Vec::new(),
        other => other.unwrap().into_iter().map(|u| u.key).collect(),
    }
}

async fn copies(target: &Target) {
    let name = target.name;
    let lists_uploads = name != "s3s-fs";
    let client = target.client();
    let bucket = target.bucket(&client, "sos-copy").await;
    let other = target.bucket(&client, "sos-copy2").await;
    let source_key = "src/grand été+1.bin";
    let content = data(17 * MIB + 5, 9);
    let source = client
        .put_object(&bucket, source_key)
        .body(content.clone())
        .metadata(
            Metadata::new()
                .content_type("application/x-big")
                .cache_control("max-age=60")
                .user("origin", "copies test"),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: put source: {e}"));

    // Up to a part: one CopyObject (its ETag is the source's MD5, not a multipart one).
    let out = client
        .copy(&bucket, source_key, &other, "one request.bin")
        .part_size(32 * MIB as u64)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: small copy: {e}"));
    assert_eq!(out.etag, source.etag, "{name}");

    // Larger: parallel parts, the source's metadata given to the copy.
    let seen = Arc::new(AtomicU64::new(0));
    let progress = seen.clone();
    let out = client
        .copy(&bucket, source_key, &other, "copies/big é.bin")
        .part_size(5 * MIB as u64)
        .concurrency(3)
        .on_progress(move |p| {
            assert_eq!(p.total, Some((17 * MIB + 5) as u64));
            progress.fetch_max(p.transferred, Ordering::Relaxed);
        })
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: parallel copy: {e}"));
    assert_eq!(seen.load(Ordering::Relaxed), content.len() as u64, "{name}");
    let copied = client
        .head_object(&other, "copies/big é.bin")
        .await
        .unwrap();
    assert!(
        copied.etag.as_deref().is_some_and(|e| e.ends_with("-4")),
        "{name}: {copied:?} {out:?}"
    );
    assert_eq!(copied.content_length, content.len() as u64, "{name}");
    assert_eq!(
        copied.metadata.content_type.as_deref(),
        Some("application/x-big"),
        "{name}"
    );
    assert_eq!(
        copied.metadata.cache_control.as_deref(),
        Some("max-age=60"),
        "{name}"
    );
    assert_eq!(copied.metadata.user["origin"], "copies test", "{name}");
    let body = client
        .get_object(&other, "copies/big é.bin")
        .bytes()
        .await
        .unwrap();
    assert!(body == content, "{name}: copied bytes differ");

    // A condition on the source, checked before anything is written.
    let err = client
        .copy(&bucket, source_key, &other, "never")
        .source_if_match("0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&ErrorCode::PreconditionFailed),
        "{name}: {err}"
    );
    let etag = source.etag.clone().unwrap();
    client
        .copy(&bucket, source_key, &other, "copies/checked")
        .part_size(5 * MIB as u64)
        .source_if_match(&format!("\"{etag}\""))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: conditional copy: {e}"));

    // Replaced metadata, in parts too.
    client
        .copy(&bucket, source_key, &bucket, "copies/replaced")
        .part_size(8 * MIB as u64)
        .replace_metadata(Metadata::new().content_type("text/x-new").user("new", "1"))
        .send()
        .await
        .unwrap();
    let replaced = client
        .head_object(&bucket, "copies/replaced")
        .await
        .unwrap();
    assert_eq!(
        replaced.metadata.content_type.as_deref(),
        Some("text/x-new"),
        "{name}"
    );
    assert_eq!(
        replaced.metadata.user.get("new").map(String::as_str),
        Some("1")
    );
    assert!(!replaced.metadata.user.contains_key("origin"), "{name}");

    // Metadata another client stored raw (UTF-8 bytes, which sos-client never sends) is
    // carried by a copy in parts as it is. (s3s-fs closes the connection on such headers.)
    if name != "s3s-fs" {
        let raw_key = "raw/meta.bin";
        put_with_raw_metadata(target, &bucket, raw_key, &content[..6 * MIB]);
        let stored = client.head_object(&bucket, raw_key).await.unwrap();
        assert_eq!(stored.metadata.user["note"], "café ✓", "{name}: {stored:?}");
        client
            .copy(&bucket, raw_key, &other, "raw/copy.bin")
            .part_size(5 * MIB as u64)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: copy of raw metadata: {e}"));
        let copied = client.head_object(&other, "raw/copy.bin").await.unwrap();
        assert_eq!(copied.metadata, stored.metadata, "{name}");
        assert!(copied.etag.is_some_and(|e| e.ends_with("-2")), "{name}");
    }

    // Low level: a range of the source as a part.
    let upload = client
        .create_multipart_upload(&other, "ranged", &Metadata::new(), None)
        .await
        .unwrap();
    let whole = CopySource::new(&bucket, source_key);
    let first = client
        .upload_part_copy(&upload, 1, &whole, Some(0..5 * MIB as u64))
        .await
        .unwrap();
    let second = client
        .upload_part_copy(
            &upload,
            2,
            &whole,
            Some(10 * MIB as u64..10 * MIB as u64 + 10),
        )
        .await
        .unwrap();
    let err = client
        .upload_part_copy(&upload, 3, &whole, Some(7..7))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    client
        .complete_multipart_upload(&upload, &[second, first])
        .await
        .unwrap();
    let ranged = client.get_object(&other, "ranged").bytes().await.unwrap();
    let mut expected = content[..5 * MIB].to_vec();
    expected.extend_from_slice(&content[10 * MIB..10 * MIB + 10]);
    assert!(ranged == expected, "{name}: ranged part copies");

    // A key the RADOS Gateway decodes twice in a part copy (`a%20b` read as `a b`): copied
    // in one request, not from the other object of the same size.
    let twin = data(5 * MIB + 1, 11);
    let percent = data(5 * MIB + 1, 12);
    for (key, body) in [("pct/a b", &twin), ("pct/a%20b", &percent)] {
        client
            .put_object(&bucket, key)
            .body(body.clone())
            .send()
            .await
            .unwrap();
    }
    client
        .copy(&bucket, "pct/a%20b", &other, "pct copy")
        .part_size(5 * MIB as u64)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: copy of a%20b: {e}"));
    let copied = client.get_object(&other, "pct copy").bytes().await.unwrap();
    assert!(
        copied == percent,
        "{name}: a%20b copied from another object"
    );

    // An empty object, with its metadata.
    client
        .put_object(&bucket, "empty")
        .content_type("text/x-empty")
        .user_metadata("kept", "yes")
        .send()
        .await
        .unwrap();
    client
        .copy(&bucket, "empty", &other, "empty copy")
        .part_size(5 * MIB as u64)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: empty copy: {e}"));
    let empty = client.head_object(&other, "empty copy").await.unwrap();
    assert_eq!(empty.content_length, 0, "{name}");
    assert_eq!(
        empty.metadata.content_type.as_deref(),
        Some("text/x-empty"),
        "{name}"
    );
    assert_eq!(empty.metadata.user["kept"], "yes", "{name}");

    // A missing source: refused by the HEAD, before any upload starts.
    let err = client
        .copy(&bucket, "no such key", &other, "never")
        .part_size(5 * MIB as u64)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{name}: {err}");
    let err = client
        .copy_object(&bucket, "no such key", &other, "never")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NoSuchKey), "{name}: {err}");

    // Bad part sizes are refused before anything is sent.
    let err = client
        .copy(&bucket, source_key, &other, "never")
        .part_size(1024)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");

    if lists_uploads {
        // s3s-fs ignores copy conditions and cannot list uploads.
        conditions_and_failures(target, &client, &bucket, &other, source_key, &content).await;
    }
    assert!(!client.object_exists(&other, "never").await.unwrap());
    remove_bucket(&client, &other).await;
    remove_bucket(&client, &bucket).await;
}

async fn conditions_and_failures(
    target: &Target,
    client: &Client,
    bucket: &str,
    other: &str,
    source_key: &str,
    content: &[u8],
) {
    let name = target.name;
    // A condition that fails: the one-request copy and a part copy.
    let err = client
        .copy_object(bucket, source_key, other, "never")
        .source_if_match("0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&ErrorCode::PreconditionFailed),
        "{name}: {err}"
    );
    let upload = client
        .create_multipart_upload(other, "never", &Metadata::new(), None)
        .await
        .unwrap();
    let stale = CopySource::new(bucket, source_key).if_match("0123456789abcdef0123456789abcdef");
    let part = client
        .upload_part_copy(&upload, 1, &stale, Some(0..10))
        .await;
    if name == "radosgw" {
        // The gateway ignores the condition of a part copy (Ceph 16.2): `CopyTransfer`
        // checks the source again before it completes (the replaced source below).
        assert!(part.is_ok(), "{name}: {part:?}");
    } else {
        let err = part.unwrap_err();
        assert_eq!(
            err.code(),
            Some(&ErrorCode::PreconditionFailed),
            "{name}: {err}"
        );
    }
    client.abort_multipart_upload(&upload).await.unwrap();
    assert!(uploads(client, other).await.is_empty(), "{name}");

    // The source replaced after the first part: the copy fails on the next part's
    // condition and its upload is aborted; nothing appears at the destination.
    let replace = {
        let target_client = target.client();
        let bucket = bucket.to_owned();
        let key = source_key.to_owned();
        move || {
            // The progress callback is synchronous: the overwrite runs on a thread and
            // runtime of its own, and the part copies wait for it.
            let (client, bucket, key) = (target_client.clone(), bucket.clone(), key.clone());
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(async {
                        client
                            .put_object(&bucket, &key)
                            // As long as the first: only the ETag tells them apart.
                            .body(data(17 * MIB + 5, 10))
                            .send()
                            .await
                            .unwrap();
                    });
            })
            .join()
            .unwrap();
        }
    };
    let once = std::sync::Once::new();
    let err = client
        .copy(bucket, source_key, other, "never")
        .part_size(5 * MIB as u64)
        .concurrency(1)
        .on_progress(move |_| once.call_once(&replace))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&ErrorCode::PreconditionFailed),
        "{name}: {err}"
    );
    assert!(uploads(client, other).await.is_empty(), "{name}");
    assert!(
        !client.object_exists(other, "never").await.unwrap(),
        "{name}"
    );
    // Put the source back for what follows.
    client
        .put_object(bucket, source_key)
        .body(content.to_vec())
        .send()
        .await
        .unwrap();

    // A copy dropped half way: its upload is aborted in the background.
    let started = Arc::new(tokio::sync::Notify::new());
    let notify = started.clone();
    let copy = client
        .copy(bucket, source_key, other, "never")
        .part_size(5 * MIB as u64)
        .concurrency(1)
        .on_progress(move |_| notify.notify_one())
        .send();
    tokio::select! {
        result = copy => panic!("{name}: the copy finished before it was dropped: {result:?}"),
        () = started.notified() => {}
    }
    let mut left = uploads(client, other).await;
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = uploads(client, other).await;
    }
    assert!(left.is_empty(), "{name}: a dropped copy left {left:?}");
}

/// PUTs `body` with a user metadata value and a Content-Disposition in raw UTF-8, signed by
/// sos-auth and written as is (no HTTP client sends such headers).
fn put_with_raw_metadata(target: &Target, bucket: &str, key: &str, body: &[u8]) {
    use sos_auth::{PayloadHash, SigV4Signer};
    let signer = SigV4Signer::new(target.credentials(), target.region.clone());
    let mut request = http::Request::put(format!("{}/{bucket}/{key}", target.endpoint))
        .header(
            "x-amz-meta-note",
            http::HeaderValue::from_bytes("café ✓".as_bytes()).unwrap(),
        )
        .header(
            "content-disposition",
            http::HeaderValue::from_bytes("attachment; filename=\"é.txt\"".as_bytes()).unwrap(),
        )
        .body(body.to_vec())
        .unwrap();
    let payload = PayloadHash::of(request.body());
    signer.sign(&mut request, payload).unwrap();
    let response = sos_testing::raw::send(&request)
        .unwrap_or_else(|e| panic!("{}: cannot reach the server: {e}", target.name));
    assert_eq!(response.status, 200, "{}: {}", target.name, response.text());
}

/// The `ServiceError` inside `err`.
#[track_caller]
fn service(err: &Error) -> &ServiceError {
    match err {
        Error::Service(e) => e,
        other => panic!("not a service error: {other:?}"),
    }
}

/// A copy of an object onto itself: one `CopyObject` that changes nothing is refused by S3
/// and the RADOS Gateway (`400 InvalidRequest`), and `Client::copy` refuses it at any size,
/// before any request, with the same error; replacing the metadata makes it legal, also
/// in parts.
async fn copies_onto_themselves(target: &Target) {
    let name = target.name;
    let client = target.client();
    let bucket = target.bucket(&client, "tag-self").await;
    let small = "small self";
    let large = "large self";
    client
        .put_object(&bucket, small)
        .body("small")
        .content_type("text/x-old")
        .send()
        .await
        .unwrap();
    let content = data(11 * MIB, 21);
    let put = client
        .put_object(&bucket, large)
        .body(content.clone())
        .content_type("text/x-old")
        .user_metadata("old", "1")
        .send()
        .await
        .unwrap();
    let tagged = name == "radosgw";
    let tags = Tags::new().with("kept", "yes");
    if tagged {
        client
            .put_object_tagging(&bucket, large, &tags)
            .await
            .unwrap();
    }

    // What the server answers to one CopyObject that changes nothing, or only the tags or
    // the ACL.
    let server = client
        .copy_object(&bucket, small, &bucket, small)
        .send()
        .await;
    let server_tags_only = client
        .copy_object(&bucket, small, &bucket, small)
        .replace_tags(Tags::new().with("new", "1"))
        .send()
        .await;
    let server_acl_only = client
        .copy_object(&bucket, small, &bucket, small)
        .acl(sos_client::CannedAcl::PublicRead)
        .send()
        .await;
    let server_error = match name {
        "radosgw" => {
            let err = server.unwrap_err();
            let e = service(&err);
            assert_eq!(e.status, 400, "{name}: {err}");
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{name}: {err}");
            assert!(e.message.contains("copy an object to itself"), "{e:?}");
            for other in [server_tags_only, server_acl_only] {
                let other = other.unwrap_err();
                assert_eq!(service(&other).code, ErrorCode::InvalidRequest, "{other}");
            }
            Some(e.clone())
        }
        // Garage and s3s-fs copy an object onto itself unchanged.
        _ => {
            server.unwrap_or_else(|e| panic!("{name}: {e}"));
            None
        }
    };

    // `Client::copy`: refused at any size, unless the metadata is replaced.
    for key in [small, large] {
        for (what, copy) in [
            ("nothing", client.copy(&bucket, key, &bucket, key)),
            (
                "tags",
                client
                    .copy(&bucket, key, &bucket, key)
                    .replace_tags(Tags::new().with("new", "1")),
            ),
            (
                "acl",
                client
                    .copy(&bucket, key, &bucket, key)
                    .acl(sos_client::CannedAcl::PublicRead),
            ),
        ] {
            let err = copy
                .part_size(5 * MIB as u64)
                .send()
                .await
                .expect_err(&format!("{name}: {key}: {what}"));
            let e = service(&err);
            assert_eq!(e.status, 400, "{name}: {err}");
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{name}: {err}");
            assert_eq!(e.request_id, None, "{name}: made by the client: {err}");
            if let Some(server) = &server_error {
                assert_eq!(e.message, server.message, "{name}");
                assert_eq!(e.resource, server.resource, "{name}");
            }
        }
    }
    // Nothing was written: the large object is still the first one.
    let head = client.head_object(&bucket, large).await.unwrap();
    assert_eq!(head.etag, put.etag, "{name}");

    // New metadata, in parts: the same bytes, the new metadata, the tags kept.
    client
        .copy(&bucket, large, &bucket, large)
        .part_size(5 * MIB as u64)
        .replace_metadata(Metadata::new().content_type("text/x-new").user("new", "2"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: self copy in parts: {e}"));
    let head = client.head_object(&bucket, large).await.unwrap();
    assert!(
        head.etag.as_deref().is_some_and(|e| e.ends_with("-3")),
        "{name}: copied in parts: {head:?}"
    );
    assert_eq!(head.metadata.content_type.as_deref(), Some("text/x-new"));
    assert_eq!(head.metadata.user.get("new").map(String::as_str), Some("2"));
    assert!(!head.metadata.user.contains_key("old"), "{name}: {head:?}");
    let body = client.get_object(&bucket, large).bytes().await.unwrap();
    assert!(body == content, "{name}: self copy changed the bytes");
    if tagged {
        assert_eq!(
            client.get_object_tagging(&bucket, large).await.unwrap(),
            tags,
            "{name}"
        );
    }
    // And in one request.
    client
        .copy(&bucket, small, &bucket, small)
        .replace_metadata(Metadata::new().content_type("text/x-new"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: small self copy: {e}"));
    let head = client.head_object(&bucket, small).await.unwrap();
    assert_eq!(head.metadata.content_type.as_deref(), Some("text/x-new"));
    remove_bucket(&client, &bucket).await;
}

#[tokio::test]
async fn a_self_copy_that_changes_nothing_is_refused_before_any_request() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = Client::builder()
        .endpoint(sos_client::Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap())
        .credentials(sos_client::Credentials::new("AKIDEXAMPLE", "secret"))
        .retry(sos_client::RetryConfig::disabled())
        .build()
        .unwrap();
    let err = client
        .copy("b", "k", "b", "k")
        .replace_tags(Tags::new().with("a", "1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InvalidRequest), "{err}");
    assert_eq!(err.status(), Some(http::StatusCode::BAD_REQUEST));
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a request was sent: {other:?}"),
    }
    // Another key, another bucket or a named version is not a self copy: those go on (to
    // the port, closed now).
    drop(listener);
    for copy in [
        client.copy("b", "k", "b", "k2"),
        client.copy("b", "k", "c", "k"),
        client.copy("b", "k", "b", "k").source_version_id("v1"),
    ] {
        let err = copy.send().await.unwrap_err();
        assert!(
            matches!(err, Error::Transport { .. } | Error::Timeout(_)),
            "{err:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_copies_onto_themselves() {
    copies_onto_themselves(&common::embedded()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rados_gateway_copies_onto_themselves() {
    if let Some(t) = common::rados_gateway() {
        copies_onto_themselves(&t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garage_copies_onto_themselves() {
    if let Some(t) = common::garage() {
        copies_onto_themselves(&t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_copies() {
    copies(&common::embedded()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rados_gateway_copies() {
    if let Some(t) = common::rados_gateway() {
        copies(&t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garage_copies() {
    if let Some(t) = common::garage() {
        copies(&t).await;
    }
}
