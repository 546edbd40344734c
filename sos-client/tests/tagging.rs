//! Object tags on the RADOS Gateway (the server that behaves like SOS): put, get and delete
//! (of the current object and of one version), tags given with an upload (one request and
//! multipart) and kept or replaced by copies (one request and in parts, with the website
//! redirect), the count a HEAD reports, the aws CLI reading and writing the same tags, the
//! rules checked before any request, and what Garage (no tagging) and s3s-fs answer.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::sync::Arc;

use sos_client::{Client, Credentials, Endpoint, Error, ErrorCode, Metadata, RetryConfig, Tags};

use sos_testing::cli::AwsCli;

use crate::common::{self, Target, data, remove_bucket, run};

const MIB: usize = 1024 * 1024;

/// Keys and values with what `x-amz-tagging` must encode (`=`, `+`, spaces), non-ASCII
/// letters and digits, and every punctuation S3 allows.
fn odd_tags() -> Tags {
    Tags::new()
        .with("a=b", "c=d")
        .with("plus+sign", "1+1=2")
        .with(" two  spaces ", "x y")
        .with("Zoë Ωmega 日本語 ٣", "Ünïcödé 値")
        .with("path/to:it@host", "-_.:/=+@")
        .with("empty", "")
}

/// The `TagSet` of an `aws s3api get-object-tagging` answer.
fn aws_tags(json: &str) -> Tags {
    let doc: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON ({e}): {json}"));
    doc["TagSet"]
        .as_array()
        .unwrap_or_else(|| panic!("no TagSet: {json}"))
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().to_owned(),
                t["Value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `aws s3api put-object-tagging` of `tags` on `bucket`/`key`.
async fn aws_put_object_tags(cli: &Arc<AwsCli>, bucket: &str, key: &str, tags: &Tags) {
    let tagging = aws_tagging_arg(tags);
    run(
        cli,
        &[
            "s3api",
            "put-object-tagging",
            "--bucket",
            bucket,
            "--key",
            key,
            "--tagging",
            &tagging,
        ],
    )
    .await;
}

/// The tags of `bucket`/`key` as `aws s3api get-object-tagging` reads them.
async fn aws_object_tags(cli: &Arc<AwsCli>, bucket: &str, key: &str) -> Tags {
    let out = run(
        cli,
        &[
            "s3api",
            "get-object-tagging",
            "--bucket",
            bucket,
            "--key",
            key,
        ],
    )
    .await;
    aws_tags(&out)
}

/// The `--tagging` argument of `aws s3api put-object-tagging` for `tags`.
fn aws_tagging_arg(tags: &Tags) -> String {
    let set: Vec<serde_json::Value> = tags
        .iter()
        .map(|(k, v)| serde_json::json!({ "Key": k, "Value": v }))
        .collect();
    serde_json::json!({ "TagSet": set }).to_string()
}

#[track_caller]
fn assert_same_tags(got: &Tags, expected: &Tags) {
    let sorted = |t: &Tags| {
        let mut pairs: Vec<(String, String)> = t
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        pairs.sort();
        pairs
    };
    assert_eq!(sorted(got), sorted(expected));
}

/// A port nothing answers on: the client aimed at it, and a check that it never connected.
struct NoServer {
    listener: TcpListener,
    client: Client,
}

impl NoServer {
    fn new() -> NoServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = Client::builder()
            .endpoint(Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap())
            .credentials(Credentials::new("AKIDEXAMPLE", "secret"))
            .retry(RetryConfig::disabled())
            .build()
            .unwrap();
        NoServer { listener, client }
    }

    /// Panics if a connection was made.
    #[track_caller]
    fn assert_untouched(&self) {
        match self.listener.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Ok(_) => panic!("a request was sent"),
            Err(e) => panic!("{e}"),
        }
    }
}

#[track_caller]
fn assert_invalid_tag(result: Result<impl std::fmt::Debug, Error>, what: &str) -> String {
    match result {
        Err(Error::InvalidTag(message)) => message,
        other => panic!("{what}: expected Error::InvalidTag, got {other:?}"),
    }
}

#[tokio::test]
async fn tags_breaking_s3s_rules_are_refused_before_any_request() {
    let server = NoServer::new();
    let client = &server.client;
    let eleven: Tags = (0..11).map(|i| (format!("k{i}"), "v")).collect();
    let twice = Tags::new()
        .with("dup", "1")
        .with("other", "2")
        .with("dup", "3");
    let long_key = Tags::new().with("k".repeat(129), "v");
    let long_value = Tags::new().with("k", "v".repeat(257));
    let reserved = Tags::new().with("aws:createdBy", "me");
    let reserved_upper = Tags::new().with("AWS:x", "v");
    let comma = Tags::new().with("list", "a,b");
    let ampersand = Tags::new().with("a&b", "c");
    let cases = [
        (&eleven, "11 tags"),
        (&twice, "twice"),
        (&long_key, "129"),
        (&long_value, "257"),
        (&reserved, "reserved"),
        (&reserved_upper, "reserved"),
        (&comma, "','"),
        (&ampersand, "'&'"),
    ];
    for (tags, says) in cases {
        let what = format!("{tags:?}");
        let m = assert_invalid_tag(client.put_object_tagging("b", "k", tags).await, &what);
        assert!(m.contains(says), "{what}: {m}");
        let m = assert_invalid_tag(
            client
                .put_object_version_tagging("b", "k", "v1", tags)
                .await,
            &what,
        );
        assert!(m.contains(says), "{what}: {m}");
        let m = assert_invalid_tag(
            client
                .put_object("b", "k")
                .body("x")
                .tags(tags.clone())
                .send()
                .await,
            &what,
        );
        assert!(m.contains(says), "{what}: {m}");
        // Multipart-sized data: refused before the upload starts.
        assert_invalid_tag(
            client
                .upload("b", "k")
                .part_size(5 * MIB as u64)
                .tags(tags.clone())
                .bytes(vec![0u8; 6 * MIB])
                .await,
            &what,
        );
        assert_invalid_tag(
            client
                .copy_object("b", "k", "b", "k2")
                .replace_tags(tags.clone())
                .send()
                .await,
            &what,
        );
        assert_invalid_tag(
            client
                .copy("b", "k", "b", "k2")
                .replace_tags(tags.clone())
                .send()
                .await,
            &what,
        );
    }
    server.assert_untouched();
}

async fn round_trip(target: &Target) {
    let name = target.name;
    let client = target.client();
    let bucket = target.bucket(&client, "tag-rt").await;
    let key = "docs/report été.txt";
    client
        .put_object(&bucket, key)
        .body("hello")
        .send()
        .await
        .unwrap();
    // No tags yet: an empty set, and no count on the HEAD.
    assert!(
        client
            .get_object_tagging(&bucket, key)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        client.head_object(&bucket, key).await.unwrap().tag_count,
        None
    );

    let tags = odd_tags();
    client
        .put_object_tagging(&bucket, key, &tags)
        .await
        .unwrap();
    let got = client.get_object_tagging(&bucket, key).await.unwrap();
    assert_same_tags(&got, &tags);
    let head = client.head_object(&bucket, key).await.unwrap();
    assert_eq!(head.tag_count, Some(tags.len() as u32), "{name}: {head:?}");
    // A GET tells the count too.
    let get = client.get_object(&bucket, key).send().await.unwrap();
    assert_eq!(get.info.tag_count, Some(tags.len() as u32));

    // Ten tags, the most; the longest key and value S3 allows.
    let ten: Tags = (0..9)
        .map(|i| (format!("k{i}"), format!("v{i}")))
        .chain([("k".repeat(128), "v".repeat(256))])
        .collect();
    client.put_object_tagging(&bucket, key, &ten).await.unwrap();
    assert_same_tags(
        &client.get_object_tagging(&bucket, key).await.unwrap(),
        &ten,
    );

    // Removed: an empty set, no count.
    client.delete_object_tagging(&bucket, key).await.unwrap();
    assert!(
        client
            .get_object_tagging(&bucket, key)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        client.head_object(&bucket, key).await.unwrap().tag_count,
        None
    );
    // Deleting none is fine; an empty set put is a set of none.
    client.delete_object_tagging(&bucket, key).await.unwrap();
    client
        .put_object_tagging(&bucket, key, &Tags::new())
        .await
        .unwrap();
    assert!(
        client
            .get_object_tagging(&bucket, key)
            .await
            .unwrap()
            .is_empty()
    );

    // A missing object.
    for err in [
        client
            .get_object_tagging(&bucket, "nope")
            .await
            .unwrap_err(),
        client
            .put_object_tagging(&bucket, "nope", &tags)
            .await
            .unwrap_err(),
        client
            .delete_object_tagging(&bucket, "nope")
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), Some(&ErrorCode::NoSuchKey), "{name}: {err}");
    }

    // The gateway counts UTF-8 bytes where S3 counts UTF-16 units: 65 `é` (130 bytes) pass
    // the client's check and are refused by the server, as a typed error.
    let wide = Tags::new().with("é".repeat(65), "v");
    wide.validate().unwrap();
    let err = client
        .put_object_tagging(&bucket, key, &wide)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InvalidTag), "{name}: {err}");

    // Every signature version and addressing signs `?tagging` (and `versionId`) right.
    for (label, client) in target.clients() {
        let tags = Tags::new().with("signed by", label.as_str());
        client
            .put_object_tagging(&bucket, key, &tags)
            .await
            .unwrap();
        assert_eq!(
            client.get_object_tagging(&bucket, key).await.unwrap(),
            tags,
            "{label}"
        );
        assert_eq!(
            client
                .get_object_version_tagging(&bucket, key, "null")
                .await
                .unwrap(),
            tags,
            "{label}"
        );
        client.delete_object_tagging(&bucket, key).await.unwrap();
    }
    remove_bucket(&client, &bucket).await;
}

#[tokio::test]
async fn rados_gateway_tagging_round_trip() {
    if let Some(t) = common::rados_gateway() {
        round_trip(&t).await;
    }
}

/// A copy in parts reads the source's tags only when its HEAD counts some: the gateway
/// sends `x-amz-tagging-count` for every object that has tags, however they were set, and
/// none (or 0) for an object without.
async fn head_counts_tags(target: &Target) {
    let name = target.name;
    let client = target.client();
    let bucket = target.bucket(&client, "tag-count").await;
    let cli = Arc::new(common::aws_cli(target));
    let tags = Tags::new().with("a", "1").with("b b", "2+2");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x");
    std::fs::write(&file, b"x").unwrap();
    client
        .put_object(&bucket, "header")
        .body("x")
        .tags(tags.clone())
        .send()
        .await
        .unwrap();
    client
        .put_object(&bucket, "put tagging")
        .body("x")
        .send()
        .await
        .unwrap();
    client
        .put_object_tagging(&bucket, "put tagging", &tags)
        .await
        .unwrap();
    run(
        &cli,
        &[
            "s3api",
            "put-object",
            "--bucket",
            &bucket,
            "--key",
            "cli header",
            "--body",
            file.to_str().unwrap(),
            "--tagging",
            "a=1&b%20b=2%2B2",
        ],
    )
    .await;
    aws_put_object_tags(&cli, &bucket, "header", &tags).await;
    client
        .copy_object(&bucket, "header", &bucket, "copied")
        .send()
        .await
        .unwrap();
    client
        .upload(&bucket, "parts")
        .part_size(5 * MIB as u64)
        .tags(tags.clone())
        .bytes(data(6 * MIB, 2))
        .await
        .unwrap();
    for key in ["header", "put tagging", "cli header", "copied", "parts"] {
        let head = client.head_object(&bucket, key).await.unwrap();
        assert_eq!(head.tag_count, Some(2), "{name}: {key}: {head:?}");
        assert_same_tags(
            &client.get_object_tagging(&bucket, key).await.unwrap(),
            &tags,
        );
    }
    // Without tags: no count (or 0, after an empty set was put), and an empty set.
    client
        .put_object(&bucket, "none")
        .body("x")
        .send()
        .await
        .unwrap();
    client
        .put_object_tagging(&bucket, "put tagging", &Tags::new())
        .await
        .unwrap();
    client
        .delete_object_tagging(&bucket, "header")
        .await
        .unwrap();
    for key in ["none", "put tagging", "header"] {
        let head = client.head_object(&bucket, key).await.unwrap();
        assert!(
            head.tag_count.is_none_or(|n| n == 0),
            "{name}: {key}: {head:?}"
        );
        assert!(
            client
                .get_object_tagging(&bucket, key)
                .await
                .unwrap()
                .is_empty()
        );
    }
    remove_bucket(&client, &bucket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rados_gateway_head_counts_tags_whenever_there_are_some() {
    if let Some(t) = common::rados_gateway() {
        head_counts_tags(&t).await;
    }
}

/// Tags given with the upload, through `x-amz-tagging`: one PUT, and a multipart upload
/// (whose tags the gateway loses, and the client sets again).
async fn tags_on_upload(target: &Target) {
    let name = target.name;
    let client = target.client();
    let bucket = target.bucket(&client, "tag-up").await;
    let tags = odd_tags();
    client
        .put_object(&bucket, "one")
        .body("one request")
        .tags(tags.clone())
        .send()
        .await
        .unwrap();
    assert_same_tags(
        &client.get_object_tagging(&bucket, "one").await.unwrap(),
        &tags,
    );

    let content = data(11 * MIB + 3, 5);
    client
        .upload(&bucket, "multi part")
        .part_size(5 * MIB as u64)
        .tags(tags.clone())
        .bytes(content.clone())
        .await
        .unwrap();
    assert_same_tags(
        &client
            .get_object_tagging(&bucket, "multi part")
            .await
            .unwrap(),
        &tags,
    );
    let head = client.head_object(&bucket, "multi part").await.unwrap();
    assert_eq!(head.tag_count, Some(tags.len() as u32), "{name}");
    assert!(
        head.etag.as_deref().is_some_and(|e| e.ends_with("-3")),
        "{name}: uploaded in parts: {head:?}"
    );

    // From a file, in parts too; and a small one through the transfer manager.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    std::fs::write(&path, &content).unwrap();
    let few = Tags::new().with("from", "file");
    client
        .upload(&bucket, "from file")
        .part_size(5 * MIB as u64)
        .tags(few.clone())
        .file(&path)
        .await
        .unwrap();
    assert_same_tags(
        &client
            .get_object_tagging(&bucket, "from file")
            .await
            .unwrap(),
        &few,
    );
    client
        .upload(&bucket, "small")
        .tags(few.clone())
        .bytes(&b"tiny"[..])
        .await
        .unwrap();
    assert_same_tags(
        &client.get_object_tagging(&bucket, "small").await.unwrap(),
        &few,
    );
    remove_bucket(&client, &bucket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rados_gateway_tags_on_upload() {
    if let Some(t) = common::rados_gateway() {
        tags_on_upload(&t).await;
    }
}

/// The gateway (Ceph 16.2) loses the tags given to `CreateMultipartUpload` and then answers
/// `GetObjectTagging` with an empty body: read as no tags, not as an error.
#[tokio::test]
async fn rados_gateway_tags_lost_by_a_multipart_upload_read_as_none() {
    let Some(target) = common::rados_gateway() else {
        return;
    };
    let client = target.client();
    let bucket = target.bucket(&client, "tag-lost").await;
    let cli = Arc::new(common::aws_cli(&target));
    let created = run(
        &cli,
        &[
            "s3api",
            "create-multipart-upload",
            "--bucket",
            &bucket,
            "--key",
            "k",
            "--tagging",
            "a=1",
        ],
    )
    .await;
    let upload_id = serde_json::from_str::<serde_json::Value>(&created).unwrap()["UploadId"]
        .as_str()
        .unwrap()
        .to_owned();
    let upload = sos_client::MultipartUpload {
        bucket: bucket.clone(),
        key: "k".to_owned(),
        upload_id,
    };
    let part = client
        .upload_part(&upload, 1, "part".into(), sos_client::Checksum::Auto)
        .await
        .unwrap();
    client
        .complete_multipart_upload(&upload, &[part])
        .await
        .unwrap();
    let head = client.head_object(&bucket, "k").await.unwrap();
    let tags = client.get_object_tagging(&bucket, "k").await.unwrap();
    // (Were the gateway fixed, it would keep them: both answers must then agree.)
    assert_eq!(head.tag_count, Some(tags.len() as u32), "{tags:?}");
    assert!(
        tags.is_empty() || tags == Tags::new().with("a", "1"),
        "{tags:?}"
    );
    remove_bucket(&client, &bucket).await;
}

/// A writer allowed to tag objects but not to read tags (a bucket policy): its uploads in
/// parts still get their tags (the client cannot check them, and sets them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rados_gateway_tags_set_by_a_writer_that_cannot_read_them() {
    let Some(target) = common::rados_gateway() else {
        return;
    };
    let (access, secret) = target
        .second_user
        .clone()
        .expect("the RADOS Gateway's second user (SOS_TEST_RGW_ACCESS_KEY2/SECRET_KEY2)");
    let client = target.client();
    let bucket = target.bucket(&client, "tag-policy").await;
    let mut writer = target.clone();
    writer.access_key = access;
    writer.secret_key = secret;
    let writer_cli = Arc::new(common::aws_cli(&writer));
    let owned = run(&writer_cli, &["s3api", "list-buckets"]).await;
    let writer_id = serde_json::from_str::<serde_json::Value>(&owned).unwrap()["Owner"]["ID"]
        .as_str()
        .unwrap()
        .to_owned();
    let principal = serde_json::json!({ "AWS": [format!("arn:aws:iam:::user/{writer_id}")] });
    let objects = format!("arn:aws:s3:::{bucket}/*");
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": principal,
                "Action": ["s3:PutObject", "s3:PutObjectTagging", "s3:PutObjectAcl",
                           "s3:AbortMultipartUpload"],
                "Resource": [objects],
            },
            {
                "Effect": "Deny",
                "Principal": principal,
                "Action": ["s3:GetObjectTagging"],
                "Resource": [objects],
            },
        ],
    });
    let cli = Arc::new(common::aws_cli(&target));
    run(
        &cli,
        &[
            "s3api",
            "put-bucket-policy",
            "--bucket",
            &bucket,
            "--policy",
            &policy.to_string(),
        ],
    )
    .await;
    let writer_client = writer.client();
    let err = writer_client
        .get_object_tagging(&bucket, "k")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::AccessDenied), "{err}");
    let tags = Tags::new().with("written by", "a writer");
    writer_client
        .upload(&bucket, "k")
        .part_size(5 * MIB as u64)
        .acl(sos_client::CannedAcl::BucketOwnerFullControl)
        .tags(tags.clone())
        .bytes(data(6 * MIB, 4))
        .await
        .unwrap_or_else(|e| panic!("an upload that cannot read its tags back: {e}"));
    assert_eq!(client.get_object_tagging(&bucket, "k").await.unwrap(), tags);
    run(
        &cli,
        &["s3api", "delete-bucket-policy", "--bucket", &bucket],
    )
    .await;
    remove_bucket(&client, &bucket).await;
}

/// One `CopyObject` keeps the source's tags, or gives the copy others; a copy in parts
/// carries them, and the website redirect, as one `CopyObject` does.
async fn tags_on_copies(target: &Target) {
    let name = target.name;
    let client = target.client();
    let bucket = target.bucket(&client, "tag-copy").await;
    let cli = Arc::new(common::aws_cli(target));
    let tags = odd_tags();
    let content = data(11 * MIB + 1, 7);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("source.bin");
    std::fs::write(&path, &content).unwrap();
    // The source, written by the aws CLI with a website redirect and tags.
    for key in ["small", "large"] {
        let body = if key == "small" {
            dir.path().join("small.bin")
        } else {
            path.clone()
        };
        if key == "small" {
            std::fs::write(&body, b"small source").unwrap();
        }
        run(
            &cli,
            &[
                "s3api",
                "put-object",
                "--bucket",
                &bucket,
                "--key",
                key,
                "--body",
                body.to_str().unwrap(),
                "--content-type",
                "text/x-source",
                "--website-redirect-location",
                "/elsewhere.html",
            ],
        )
        .await;
        client
            .put_object_tagging(&bucket, key, &tags)
            .await
            .unwrap();
    }

    // One CopyObject: the tags kept; replaced; removed.
    client
        .copy_object(&bucket, "small", &bucket, "kept")
        .send()
        .await
        .unwrap();
    assert_same_tags(
        &client.get_object_tagging(&bucket, "kept").await.unwrap(),
        &tags,
    );
    let other = Tags::new().with("stage", "copied").with("n", "1");
    client
        .copy_object(&bucket, "small", &bucket, "replaced")
        .replace_tags(other.clone())
        .send()
        .await
        .unwrap();
    assert_same_tags(
        &client
            .get_object_tagging(&bucket, "replaced")
            .await
            .unwrap(),
        &other,
    );
    // The same count as the source's: a count cannot tell them apart.
    let same_count: Tags = (0..tags.len()).map(|i| (format!("t{i}"), "v")).collect();
    client
        .copy_object(&bucket, "small", &bucket, "same count")
        .replace_tags(same_count.clone())
        .send()
        .await
        .unwrap();
    assert_same_tags(
        &client
            .get_object_tagging(&bucket, "same count")
            .await
            .unwrap(),
        &same_count,
    );
    client
        .copy_object(&bucket, "small", &bucket, "untagged")
        .replace_tags(Tags::new())
        .send()
        .await
        .unwrap();
    assert!(
        client
            .get_object_tagging(&bucket, "untagged")
            .await
            .unwrap()
            .is_empty()
    );

    // Through the transfer manager, small (one request) and in parts: tags and redirect
    // kept by default; tags replaced when asked.
    for (source, part_size) in [("small", 5 * MIB), ("large", 5 * MIB)] {
        let copy = format!("{source} copy");
        client
            .copy(&bucket, source, &bucket, &copy)
            .part_size(part_size as u64)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {copy}: {e}"));
        let head = client.head_object(&bucket, &copy).await.unwrap();
        assert_eq!(
            head.website_redirect_location.as_deref(),
            Some("/elsewhere.html"),
            "{name}: {copy}: {head:?}"
        );
        assert_eq!(head.metadata.content_type.as_deref(), Some("text/x-source"));
        assert_eq!(head.tag_count, Some(tags.len() as u32), "{name}: {copy}");
        assert_same_tags(
            &client.get_object_tagging(&bucket, &copy).await.unwrap(),
            &tags,
        );

        let replaced = format!("{source} replaced");
        client
            .copy(&bucket, source, &bucket, &replaced)
            .part_size(part_size as u64)
            .replace_tags(other.clone())
            .send()
            .await
            .unwrap();
        assert_same_tags(
            &client.get_object_tagging(&bucket, &replaced).await.unwrap(),
            &other,
        );
        let emptied = format!("{source} emptied");
        client
            .copy(&bucket, source, &bucket, &emptied)
            .part_size(part_size as u64)
            .replace_tags(Tags::new())
            .send()
            .await
            .unwrap();
        assert!(
            client
                .get_object_tagging(&bucket, &emptied)
                .await
                .unwrap()
                .is_empty()
        );

        // New metadata: the tags kept (the gateway drops them with REPLACE; the client sets
        // them again), the redirect dropped, as S3 and the gateway drop it.
        let new_meta = format!("{source} new metadata");
        client
            .copy(&bucket, source, &bucket, &new_meta)
            .part_size(part_size as u64)
            .replace_metadata(Metadata::new().content_type("text/x-new"))
            .send()
            .await
            .unwrap();
        let head = client.head_object(&bucket, &new_meta).await.unwrap();
        assert_eq!(head.metadata.content_type.as_deref(), Some("text/x-new"));
        assert_eq!(head.website_redirect_location, None, "{name}: {new_meta}");
        assert_same_tags(
            &client.get_object_tagging(&bucket, &new_meta).await.unwrap(),
            &tags,
        );
    }
    let big = client
        .get_object(&bucket, "large copy")
        .bytes()
        .await
        .unwrap();
    assert!(big == content, "{name}: copied bytes differ");
    let head = client.head_object(&bucket, "large copy").await.unwrap();
    assert!(
        head.etag.as_deref().is_some_and(|e| e.ends_with("-3")),
        "{name}: copied in parts: {head:?}"
    );

    // Tags another client stored that S3 would refuse (the gateway keeps `&` and `,`) are
    // carried by a copy in parts as they are.
    let raw = Tags::new().with("a&b", "c,d").with("q?", "(x)");
    aws_put_object_tags(&cli, &bucket, "large", &raw).await;
    client
        .copy(&bucket, "large", &bucket, "raw copy")
        .part_size(5 * MIB as u64)
        .send()
        .await
        .unwrap();
    assert_same_tags(
        &client
            .get_object_tagging(&bucket, "raw copy")
            .await
            .unwrap(),
        &raw,
    );

    // Tags removed from a copy went with an empty `PutObjectTagging`: the gateway's
    // `DeleteObjectTagging` blanks the ETag in its listings.
    let listed: Vec<sos_client::ObjectSummary> =
        futures_util::TryStreamExt::try_collect(client.list_objects(&bucket).objects())
            .await
            .unwrap();
    assert!(listed.iter().any(|o| o.key == "untagged"));
    for object in listed {
        assert!(
            object.etag.as_deref().is_some_and(|e| !e.is_empty()),
            "{name}: {object:?}"
        );
    }
    remove_bucket(&client, &bucket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rados_gateway_tags_on_copies() {
    if let Some(t) = common::rados_gateway() {
        tags_on_copies(&t).await;
    }
}

/// What one tool writes, the other reads: the aws CLI's `put-object-tagging` and
/// `get-object-tagging` against sos-client's.
async fn aws_cli_both_ways(target: &Target) {
    let client = target.client();
    let bucket = target.bucket(&client, "tag-cli").await;
    let cli = Arc::new(common::aws_cli(target));
    for key in ["by client", "by cli"] {
        client
            .put_object(&bucket, key)
            .body("x")
            .send()
            .await
            .unwrap();
    }
    let tags = odd_tags();
    client
        .put_object_tagging(&bucket, "by client", &tags)
        .await
        .unwrap();
    assert_same_tags(&aws_object_tags(&cli, &bucket, "by client").await, &tags);

    aws_put_object_tags(&cli, &bucket, "by cli", &tags).await;
    assert_same_tags(
        &client.get_object_tagging(&bucket, "by cli").await.unwrap(),
        &tags,
    );

    // `x-amz-tagging` written by the CLI (its `--tagging` is the header, encoded by the
    // caller), read by the client; and the client's header read by the CLI.
    run(
        &cli,
        &[
            "s3api",
            "put-object",
            "--bucket",
            &bucket,
            "--key",
            "header by cli",
            "--tagging",
            "a%3Db=c%3Dd&sp%20ace=1%2B1",
        ],
    )
    .await;
    assert_same_tags(
        &client
            .get_object_tagging(&bucket, "header by cli")
            .await
            .unwrap(),
        &Tags::new().with("a=b", "c=d").with("sp ace", "1+1"),
    );
    client
        .put_object(&bucket, "header by client")
        .body("x")
        .tags(tags.clone())
        .send()
        .await
        .unwrap();
    assert_same_tags(
        &aws_object_tags(&cli, &bucket, "header by client").await,
        &tags,
    );
    remove_bucket(&client, &bucket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rados_gateway_tags_with_the_aws_cli() {
    if let Some(t) = common::rados_gateway() {
        aws_cli_both_ways(&t).await;
    }
}

/// The tags of one version, on a versioned bucket.
async fn versioned(target: &Target) {
    let client = target.client();
    let bucket = target.bucket(&client, "tag-ver").await;
    client.set_bucket_versioning(&bucket, true).await.unwrap();
    let first = Tags::new().with("v", "1");
    let second = Tags::new().with("v", "2");
    // Over a part, to be copied in parts below.
    let v1 = client
        .put_object(&bucket, "k")
        .body(data(6 * MIB, 1))
        .tags(first.clone())
        .send()
        .await
        .unwrap()
        .version_id
        .expect("a version id");
    client
        .put_object(&bucket, "k")
        .body("two")
        .tags(second.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        client
            .get_object_version_tagging(&bucket, "k", &v1)
            .await
            .unwrap(),
        first
    );
    assert_eq!(
        client.get_object_tagging(&bucket, "k").await.unwrap(),
        second
    );
    let old = Tags::new().with("archived", "yes");
    client
        .put_object_version_tagging(&bucket, "k", &v1, &old)
        .await
        .unwrap();
    assert_eq!(
        client
            .get_object_version_tagging(&bucket, "k", &v1)
            .await
            .unwrap(),
        old
    );
    assert_eq!(
        client.get_object_tagging(&bucket, "k").await.unwrap(),
        second,
        "the current version's tags are untouched"
    );
    assert_eq!(
        client
            .head_object_version(&bucket, "k", &v1)
            .await
            .unwrap()
            .tag_count,
        Some(1)
    );
    client
        .delete_object_version_tagging(&bucket, "k", &v1)
        .await
        .unwrap();
    assert!(
        client
            .get_object_version_tagging(&bucket, "k", &v1)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        client.get_object_tagging(&bucket, "k").await.unwrap(),
        second
    );
    let err = client
        .get_object_version_tagging(&bucket, "k", "no-such-version")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let err = client
        .get_object_version_tagging(&bucket, "k", "")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");

    // A copy in parts of the old version carries that version's tags.
    client
        .put_object_version_tagging(&bucket, "k", &v1, &old)
        .await
        .unwrap();
    client
        .copy(&bucket, "k", &bucket, "copy of v1")
        .source_version_id(&v1)
        .part_size(5 * MIB as u64)
        .send()
        .await
        .unwrap();
    let head = client.head_object(&bucket, "copy of v1").await.unwrap();
    assert!(
        head.etag.as_deref().is_some_and(|e| e.ends_with("-2")),
        "copied in parts: {head:?}"
    );
    assert_eq!(
        client
            .get_object_tagging(&bucket, "copy of v1")
            .await
            .unwrap(),
        old
    );

    crate::versioning::remove_versioned_bucket(&client, &bucket).await;
}

#[tokio::test]
async fn rados_gateway_tags_of_versions() {
    if let Some(t) = common::rados_gateway() {
        versioned(&t).await;
    }
}

/// A server without tagging: the tagging operations fail with a typed `NotImplemented`
/// naming the operation; uploads and copies with tags go through without them.
async fn without_tagging(target: &Target) {
    let name = target.name;
    let client = target.client();
    let bucket = target.bucket(&client, "tag-none").await;
    let tags = Tags::new().with("a", "1");
    client
        .put_object(&bucket, "k")
        .body("x")
        .tags(tags.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: put with tags: {e}"));
    let errors = [
        (
            "GetObjectTagging",
            client.get_object_tagging(&bucket, "k").await.unwrap_err(),
        ),
        (
            "PutObjectTagging",
            client
                .put_object_tagging(&bucket, "k", &tags)
                .await
                .unwrap_err(),
        ),
        (
            "DeleteObjectTagging",
            client
                .delete_object_tagging(&bucket, "k")
                .await
                .unwrap_err(),
        ),
    ];
    let bucket_errors = [
        (
            "GetBucketTagging",
            client.get_bucket_tagging(&bucket).await.unwrap_err(),
        ),
        (
            "PutBucketTagging",
            client.put_bucket_tagging(&bucket, &tags).await.unwrap_err(),
        ),
        (
            "DeleteBucketTagging",
            client.delete_bucket_tagging(&bucket).await.unwrap_err(),
        ),
    ];
    for (operation, err) in errors.into_iter().chain(bucket_errors) {
        assert_eq!(
            err.code(),
            Some(&ErrorCode::NotImplemented),
            "{name}: {err}"
        );
        let Error::Service(service) = &err else {
            panic!("{name}: {err:?}");
        };
        if name == "garage" {
            assert!(
                service.message.contains(operation),
                "{name}: {operation}: {service:?}"
            );
        }
    }
    // Uploads in parts and copies in parts, tags asked for or not, are not failed by a
    // server that cannot keep them.
    let content = data(6 * MIB, 3);
    client
        .upload(&bucket, "parts")
        .part_size(5 * MIB as u64)
        .tags(tags.clone())
        .bytes(content.clone())
        .await
        .unwrap_or_else(|e| panic!("{name}: upload with tags: {e}"));
    client
        .copy(&bucket, "parts", &bucket, "copied")
        .part_size(5 * MIB as u64)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: copy in parts: {e}"));
    client
        .copy(&bucket, "parts", &bucket, "copied with tags")
        .part_size(5 * MIB as u64)
        .replace_tags(tags.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: copy in parts with tags: {e}"));
    let copied = client
        .get_object(&bucket, "copied with tags")
        .bytes()
        .await
        .unwrap();
    assert!(copied == content, "{name}");
    remove_bucket(&client, &bucket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garage_has_no_tagging() {
    if let Some(t) = common::garage() {
        without_tagging(&t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_has_no_tagging() {
    without_tagging(&common::embedded()).await;
}

/// A bucket's tags: up to 50 (51 refused before any request), read back as set, seen by
/// the aws CLI and the other way round; removed, a bucket reads as having none (S3's
/// `NoSuchTagSet` is no error here), and removing none is no error either.
#[tokio::test]
async fn rados_gateway_bucket_tagging() {
    let Some(target) = common::rados_gateway() else {
        return;
    };
    let client = target.client();
    let bucket = target.bucket(&client, "tag-bucket").await;
    assert!(client.get_bucket_tagging(&bucket).await.unwrap().is_empty());
    client.delete_bucket_tagging(&bucket).await.unwrap();

    let fifty: Tags = (0..50)
        .map(|i| (format!("k{i}"), format!("v {i}")))
        .collect();
    let server = NoServer::new();
    let too_many = fifty.clone().with("one more", "x");
    assert_invalid_tag(
        server.client.put_bucket_tagging("bucket", &too_many).await,
        "51 bucket tags",
    );
    assert_invalid_tag(
        server
            .client
            .put_bucket_tagging("bucket", &Tags::new().with("aws:x", "y"))
            .await,
        "aws: bucket tag",
    );
    server.assert_untouched();

    client.put_bucket_tagging(&bucket, &fifty).await.unwrap();
    assert_same_tags(&client.get_bucket_tagging(&bucket).await.unwrap(), &fifty);
    let cli = Arc::new(common::aws_cli(&target));
    let seen = run(&cli, &["s3api", "get-bucket-tagging", "--bucket", &bucket]).await;
    assert_same_tags(&aws_tags(&seen), &fifty);

    let odd = odd_tags();
    run(
        &cli,
        &[
            "s3api",
            "put-bucket-tagging",
            "--bucket",
            &bucket,
            "--tagging",
            &aws_tagging_arg(&odd),
        ],
    )
    .await;
    assert_same_tags(&client.get_bucket_tagging(&bucket).await.unwrap(), &odd);

    client.delete_bucket_tagging(&bucket).await.unwrap();
    assert!(client.get_bucket_tagging(&bucket).await.unwrap().is_empty());
    client.delete_bucket_tagging(&bucket).await.unwrap();
    remove_bucket(&client, &bucket).await;
}
