//! Buckets and objects against every server, in every signature and addressing it has.

use futures_util::{StreamExt, TryStreamExt};
use sos_client::{
    Addressing, Client, ErrorCode, ListEntry, ListVersion, Metadata, SignatureVersion,
};

use crate::common::{self, Target, remove_bucket};

const KEYS: &[&str] = &[
    "plain.txt",
    "dir/sub dir/file name.txt",
    "dir/café/日本語.txt",
    "a+b=c~d.txt",
    "dir/a//b.txt",
    "sym !$'()*,;:@[].txt",
];

/// The keys a server can hold: s3s-fs stores objects as files, so `a//b` becomes `a/b`.
fn keys_for(target: &Target) -> Vec<&'static str> {
    KEYS.iter()
        .copied()
        .filter(|k| target.name != "s3s-fs" || !k.contains("//"))
        .collect()
}

async fn objects_round_trip(target: &Target, label: &str, client: &Client) {
    let keys = keys_for(target);
    let bucket = target.bucket(client, "sos-obj").await;
    assert!(client.bucket_exists(&bucket).await.unwrap(), "{label}");
    let listed = client.list_buckets().await.unwrap();
    assert!(
        listed.iter().any(|b| b.name == bucket),
        "{label}: {listed:?}"
    );

    for (i, key) in keys.iter().enumerate() {
        let body = format!("body of {key} #{i}");
        client
            .put_object(&bucket, key)
            .body(body.clone())
            .content_type("text/plain; charset=utf-8")
            .cache_control("max-age=60")
            .content_disposition("attachment; filename=\"x.txt\"")
            .user_metadata("Origin", "sos-client test")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{label}: put {key}: {e}"));
        let got = client.get_object(&bucket, key).bytes().await.unwrap();
        assert_eq!(got, body.as_bytes(), "{label}: {key}");
        let info = client.head_object(&bucket, key).await.unwrap();
        assert_eq!(info.content_length, body.len() as u64, "{label}: {key}");
        assert_eq!(
            info.metadata.content_type.as_deref(),
            Some("text/plain; charset=utf-8"),
            "{label}"
        );
        assert_eq!(info.metadata.user["origin"], "sos-client test", "{label}");
        if target.name != "s3s-fs" {
            // s3s-fs keeps Content-Type and user metadata only.
            assert_eq!(
                info.metadata.cache_control.as_deref(),
                Some("max-age=60"),
                "{label}"
            );
        }
    }

    // Ranges.
    let range = client
        .get_object(&bucket, "plain.txt")
        .range(5..7)
        .send()
        .await
        .unwrap();
    assert_eq!(
        range.content_range.map(|r| (r.0, r.1)),
        Some((5, 6)),
        "{label}"
    );
    assert_eq!(range.body.collect().await.unwrap(), "of", "{label}");
    let tail = client
        .get_object(&bucket, "plain.txt")
        .last_bytes(2)
        .bytes()
        .await
        .unwrap();
    assert_eq!(tail, "#0", "{label}");

    // Listing: flat, with a delimiter, V1, and page by page.
    let all: Vec<String> = client
        .list_objects(&bucket)
        .objects()
        .map_ok(|o| o.key)
        .try_collect()
        .await
        .unwrap();
    let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(all, expected, "{label}");
    let top: Vec<ListEntry> = client
        .list_objects(&bucket)
        .delimiter("/")
        .entries()
        .try_collect()
        .await
        .unwrap();
    let names: Vec<String> = top
        .iter()
        .map(|e| match e {
            ListEntry::Object(o) => o.key.clone(),
            ListEntry::Prefix(p) => p.clone(),
        })
        .collect();
    assert_eq!(
        names,
        ["a+b=c~d.txt", "dir/", "plain.txt", "sym !$'()*,;:@[].txt"],
        "{label}"
    );
    let under: Vec<String> = client
        .list_objects(&bucket)
        .prefix("dir/")
        .delimiter("/")
        .version(ListVersion::V1)
        .max_keys(1)
        .entries()
        .map_ok(|e| match e {
            ListEntry::Object(o) => o.key,
            ListEntry::Prefix(p) => p,
        })
        .try_collect()
        .await
        .unwrap();
    let expected_under: Vec<&str> = ["dir/a/", "dir/café/", "dir/sub dir/"]
        .into_iter()
        .filter(|p| target.name != "s3s-fs" || *p != "dir/a/")
        .collect();
    assert_eq!(under, expected_under, "{label}");
    let pages: Vec<_> = client
        .list_objects(&bucket)
        .max_keys(2)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), keys.len().div_ceil(2), "{label}");
    assert_eq!(
        pages.iter().map(|p| p.objects.len()).sum::<usize>(),
        keys.len()
    );

    // Copy, keeping and replacing metadata.
    client
        .copy_object(&bucket, "dir/café/日本語.txt", &bucket, "copies/kept.txt")
        .send()
        .await
        .unwrap();
    let kept = client
        .head_object(&bucket, "copies/kept.txt")
        .await
        .unwrap();
    assert_eq!(kept.metadata.user["origin"], "sos-client test", "{label}");
    client
        .copy_object(&bucket, "plain.txt", &bucket, "copies/replaced.txt")
        .replace_metadata(
            Metadata::new()
                .content_type("application/x-test")
                .user("new", "yes"),
        )
        .send()
        .await
        .unwrap();
    let replaced = client
        .head_object(&bucket, "copies/replaced.txt")
        .await
        .unwrap();
    assert_eq!(
        replaced.metadata.user.get("new").map(String::as_str),
        Some("yes"),
        "{label}"
    );
    assert!(!replaced.metadata.user.contains_key("origin"), "{label}");
    assert_eq!(
        client
            .get_object(&bucket, "copies/replaced.txt")
            .bytes()
            .await
            .unwrap(),
        "body of plain.txt #0"
    );

    // Deletes: one, then many (with a key that does not exist).
    client.delete_object(&bucket, "plain.txt").await.unwrap();
    let missing = client.head_object(&bucket, "plain.txt").await.unwrap_err();
    assert_eq!(
        missing.code(),
        Some(&ErrorCode::NoSuchKey),
        "{label}: {missing}"
    );
    assert!(!client.object_exists(&bucket, "plain.txt").await.unwrap());
    let out = client
        .delete_objects(
            &bucket,
            ["copies/kept.txt", "copies/replaced.txt", "never/was"],
        )
        .await
        .unwrap();
    assert!(out.errors.is_empty(), "{label}: {:?}", out.errors);
    assert!(
        out.deleted.contains(&"copies/kept.txt".to_owned()),
        "{label}: {out:?}"
    );
    remove_bucket(client, &bucket).await;
    assert!(!client.bucket_exists(&bucket).await.unwrap(), "{label}");
}

async fn every_client_of(target: Target) {
    for (label, client) in target.clients() {
        objects_round_trip(&target, &label, &client).await;
    }
}

#[tokio::test]
async fn embedded_objects() {
    every_client_of(common::embedded()).await;
}

#[tokio::test]
async fn rados_gateway_objects() {
    if let Some(t) = common::rados_gateway() {
        every_client_of(t).await;
    }
}

#[tokio::test]
async fn garage_objects() {
    if let Some(t) = common::garage() {
        every_client_of(t).await;
    }
}

#[tokio::test]
async fn empty_objects_and_streams() {
    for target in common::all() {
        let client = target.client();
        let bucket = target.bucket(&client, "sos-empty").await;
        client.put_object(&bucket, "empty").send().await.unwrap();
        assert_eq!(
            client
                .head_object(&bucket, "empty")
                .await
                .unwrap()
                .content_length,
            0
        );
        assert!(
            client
                .get_object(&bucket, "empty")
                .bytes()
                .await
                .unwrap()
                .is_empty()
        );
        // A stream of known length, and a file (chunk-signed over http with V4). The pieces
        // straddle the 256 KiB signed chunks.
        let data = common::data(700_001, 7);
        let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = data
            .chunks(100_003)
            .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
            .collect();
        client
            .put_object(&bucket, "streamed")
            .stream(futures_util::stream::iter(chunks), data.len() as u64)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: stream put: {e}", target.name));
        assert_eq!(
            client
                .get_object(&bucket, "streamed")
                .bytes()
                .await
                .unwrap(),
            data
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file.bin");
        std::fs::write(&path, &data[..300_000]).unwrap();
        client
            .put_object(&bucket, "from-file")
            .file(&path)
            .send()
            .await
            .unwrap();
        assert_eq!(
            client
                .get_object(&bucket, "from-file")
                .bytes()
                .await
                .unwrap(),
            &data[..300_000],
            "{}",
            target.name
        );
        // Chunk-signed uploads are stored with the caller's content encoding, or none: the
        // framing is not the object's (the RADOS Gateway stores `aws-chunked` when sent).
        let stored_encoding = |key: &'static str| {
            let (client, bucket) = (&client, &bucket);
            async move {
                let info = client.head_object(bucket, key).await.unwrap();
                info.metadata.content_encoding
            }
        };
        assert_eq!(stored_encoding("from-file").await, None, "{}", target.name);
        assert_eq!(stored_encoding("streamed").await, None, "{}", target.name);
        client
            .put_object(&bucket, "gzipped")
            .file(&path)
            .content_encoding("gzip")
            .send()
            .await
            .unwrap();
        client
            .put_object(&bucket, "gzipped-in-memory")
            .body(bytes::Bytes::copy_from_slice(&data[..300_000]))
            .content_encoding("gzip")
            .send()
            .await
            .unwrap();
        for key in ["gzipped", "gzipped-in-memory"] {
            assert_eq!(
                stored_encoding(key).await.as_deref(),
                Some("gzip"),
                "{}: {key}",
                target.name
            );
            let got = client.get_object(&bucket, key).bytes().await.unwrap();
            assert!(got == data[..300_000], "{}: {key}", target.name);
        }
        // An empty file and an empty stream (nothing to frame in chunks).
        let empty = dir.path().join("empty.bin");
        std::fs::write(&empty, b"").unwrap();
        client
            .put_object(&bucket, "empty-file")
            .file(&empty)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: empty file: {e}", target.name));
        let nothing: Vec<Result<bytes::Bytes, std::io::Error>> = Vec::new();
        client
            .put_object(&bucket, "empty-stream")
            .stream(futures_util::stream::iter(nothing), 0)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: empty stream: {e}", target.name));
        // A stream announced empty that is not: refused, nothing stored.
        let more: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
            Ok(bytes::Bytes::new()),
            Ok(bytes::Bytes::from_static(b"hello")),
        ];
        let err = client
            .put_object(&bucket, "not-empty")
            .stream(futures_util::stream::iter(more), 0)
            .send()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("longer than"), "{err}");
        let failing: Vec<Result<bytes::Bytes, std::io::Error>> =
            vec![Err(std::io::Error::other("disk gone"))];
        let err = client
            .put_object(&bucket, "not-empty")
            .stream(futures_util::stream::iter(failing), 0)
            .send()
            .await
            .unwrap_err();
        assert!(matches!(err, sos_client::Error::Io { .. }), "{err}");
        assert!(!client.object_exists(&bucket, "not-empty").await.unwrap());
        // Exactly the length announced, from a stream that then stays open (a channel
        // whose sender lives on): sent.
        let open_after = futures_util::stream::iter([Ok::<_, std::io::Error>(
            bytes::Bytes::from_static(b"hello"),
        )])
        .chain(futures_util::stream::pending());
        client
            .put_object(&bucket, "from-channel")
            .stream(open_after, 5)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: channel: {e}", target.name));
        assert_eq!(
            client
                .get_object(&bucket, "from-channel")
                .bytes()
                .await
                .unwrap(),
            "hello".as_bytes()
        );
        // Signed with V2 too, a stream announced empty is read.
        if let Some(&version) = target.versions.iter().find(|v| **v == SignatureVersion::V2) {
            let v2 = target.client_with(version, Addressing::Path);
            let more: Vec<Result<bytes::Bytes, std::io::Error>> =
                vec![Ok(bytes::Bytes::from_static(b"hello"))];
            let err = v2
                .put_object(&bucket, "not-empty")
                .stream(futures_util::stream::iter(more), 0)
                .send()
                .await
                .unwrap_err();
            assert!(err.to_string().contains("longer than"), "{err}");
            assert!(!client.object_exists(&bucket, "not-empty").await.unwrap());
        }
        // Longer or shorter than announced: an error, nothing stored.
        // In one piece, and with the extra bytes in a piece after the announced length.
        let cases: [(u64, &[usize]); 5] = [
            (3, &[5]),
            (10, &[5]),
            (300_000, &[299_999]),
            (3, &[3, 2]),
            (300_000, &[300_000, 1]),
        ];
        for (announced, pieces) in cases {
            let mut at = 0;
            let body: Vec<Result<bytes::Bytes, std::io::Error>> = pieces
                .iter()
                .map(|&n| {
                    at += n;
                    Ok(bytes::Bytes::copy_from_slice(&data[at - n..at]))
                })
                .collect();
            let sent = at;
            let result = client
                .put_object(&bucket, "mislabelled")
                .stream(futures_util::stream::iter(body), announced)
                .send()
                .await;
            assert!(
                result.is_err(),
                "{}: {sent} bytes as {announced}",
                target.name
            );
            assert!(
                !client.object_exists(&bucket, "mislabelled").await.unwrap(),
                "{}: {sent} bytes as {announced}",
                target.name
            );
        }
        for key in ["empty-file", "empty-stream"] {
            let info = client.head_object(&bucket, key).await.unwrap();
            assert_eq!(info.content_length, 0, "{}: {key}", target.name);
            assert_eq!(
                info.metadata.content_encoding, None,
                "{}: {key}",
                target.name
            );
        }
        // Bodies in memory around the chunk size (above it, chunk-signed over http).
        for len in [262_143, 262_144, 262_145, 524_295] {
            let body = bytes::Bytes::copy_from_slice(&data[..len]);
            client
                .put_object(&bucket, "in-memory")
                .body(body.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("{}: {len} bytes: {e}", target.name));
            let got = client.get_object(&bucket, "in-memory").bytes().await;
            assert!(got.unwrap() == body, "{}: {len} bytes", target.name);
            assert_eq!(stored_encoding("in-memory").await, None, "{}", target.name);
        }
        remove_bucket(&client, &bucket).await;
    }
}
