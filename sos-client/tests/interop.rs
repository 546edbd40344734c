//! Interoperability with the reference clients, both ways: what sos-client writes, the aws
//! CLI (v1) and s3cmd (V2 signatures) read byte for byte with the same metadata, and what they
//! write, sos-client reads, heads and lists.
//!
//! The CLIs block, so they run in `spawn_blocking`; their failures panic with the command
//! line and stderr (see `sos_testing::cli`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::TryStreamExt;
use futures_util::future::join_all;
use md5::{Digest, Md5};
use sos_client::{Addressing, Client, ListEntry, ListVersion, Metadata, SignatureVersion};
use sos_testing::cli::{AwsCli, S3cmd};

use crate::common::{self, Target, aws_cli, remove_bucket, run};

const MIB: usize = 1024 * 1024;
/// The part size on both sides: 5 MiB, S3's smallest.
const PART: usize = 5 * MIB;
/// Three parts, the last one short.
const MULTIPART_LEN: usize = 12 * MIB + 7;

/// Keys with spaces, non-ASCII, `+`, `%`, `&`, `=`, `?`, `#` and the characters URL encoders
/// disagree about (`~*()!`). No `//`: s3s-fs stores keys as files.
const ODD_KEYS: &[&str] = &[
    "dir/café ü/日本語 +1.txt",
    "a+b=c&d.txt",
    "sp ace/two  spaces.txt",
    "percent%20is-not-a-space.txt",
    "tilde~star*paren(1)!.txt",
    "q?x#y;z,@$.txt",
    "emoji 🎉/straße.txt",
];

// ---------------------------------------------------------------------------------------
// Running the CLIs.

fn s3cmd_v2(target: &Target) -> S3cmd {
    S3cmd::new(
        &target.endpoint,
        &target.access_key,
        &target.secret_key,
        true,
    )
    .with_config("multipart_chunk_size_mb", "5")
}

fn path_str(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 temporary path {}", path.display()))
}

fn url(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// Whether the server keeps Cache-Control and Content-Disposition (s3s-fs keeps only
/// Content-Type and user metadata).
fn keeps_standard_headers(target: &Target) -> bool {
    target.name != "s3s-fs"
}

/// Whether the aws CLI lists the key as it is. s3s-fs answers `encoding-type=url` with
/// `<EncodingType>url</EncodingType>` but does not encode the keys, so botocore decodes `+`
/// and `%20` in them into spaces (its bug, not the client's: sos-client does not ask for
/// `encoding-type`).
fn listable_by_aws(target: &Target, key: &str) -> bool {
    target.name != "s3s-fs" || !key.contains(['+', '%'])
}

/// The ETag the transfer manager reports for a multipart upload: the server's, from the
/// CompleteMultipartUpload answer. The RADOS Gateway (16.2) answers `<ETag></ETag>` there
/// (checked with the aws CLI too), so only there may it be unknown; HEAD has it.
fn check_upload_etag(target: &Target, got: Option<&str>, expected: &str) {
    match got {
        Some(etag) => assert_eq!(etag, expected, "{}", target.name),
        None => assert_eq!(
            target.name, "radosgw",
            "no ETag from CompleteMultipartUpload; only the RADOS Gateway sends it empty"
        ),
    }
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, data).unwrap();
    path
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Fails with the lengths and the first differing byte, not megabytes of numbers.
#[track_caller]
fn assert_same_bytes(got: &[u8], expected: &[u8], what: &str) {
    if got != expected {
        let first = got.iter().zip(expected).position(|(a, b)| a != b);
        panic!(
            "{what}: {} bytes where {} were expected, first difference at {first:?}",
            got.len(),
            expected.len()
        );
    }
}

fn md5_hex(data: &[u8]) -> String {
    hex(&Md5::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The ETag S3 gives a multipart object: the MD5 of the parts' MD5s, `-` the part count.
fn multipart_etag(data: &[u8], part: usize) -> String {
    let mut digests = Vec::new();
    let mut count = 0;
    for chunk in data.chunks(part) {
        digests.extend_from_slice(&Md5::digest(chunk));
        count += 1;
    }
    format!("{}-{count}", md5_hex(&digests))
}

fn user_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Every file under `dir`, as `/`-separated paths relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                out.push(path_str(rel).to_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// `aws s3api head-object`, parsed.
async fn aws_head(cli: &Arc<AwsCli>, bucket: &str, key: &str) -> Json {
    Json::parse(
        &run(
            cli,
            &["s3api", "head-object", "--bucket", bucket, "--key", key],
        )
        .await,
    )
}

/// `aws s3api list-objects-v2` (every page): key → size.
async fn aws_list(cli: &Arc<AwsCli>, bucket: &str, prefix: &str) -> BTreeMap<String, u64> {
    let out = run(
        cli,
        &[
            "s3api",
            "list-objects-v2",
            "--bucket",
            bucket,
            "--prefix",
            prefix,
        ],
    )
    .await;
    let json = Json::parse(&out);
    let Some(contents) = json.array("Contents") else {
        panic!("list-objects-v2 without Contents: {out}");
    };
    contents
        .iter()
        .map(|o| {
            let key = o.str("Key").unwrap_or_else(|| panic!("no Key: {out}"));
            let size = o.u64("Size").unwrap_or_else(|| panic!("no Size: {out}"));
            (key.to_owned(), size)
        })
        .collect()
}

/// Every key of the bucket under `prefix` with its size, through the client.
async fn client_list(
    client: &Client,
    bucket: &str,
    prefix: &str,
    version: ListVersion,
) -> BTreeMap<String, u64> {
    client
        .list_objects(bucket)
        .prefix(prefix)
        .version(version)
        .max_keys(3)
        .objects()
        .map_ok(|o| (o.key, o.size))
        .try_collect()
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// 1. sos-client writes, the aws CLI reads.

async fn client_to_aws(target: &Target) {
    let name = target.name;
    let client = target.client();
    let bucket = target.bucket(&client, "sos-interop").await;
    let cli = Arc::new(aws_cli(target));
    let work = tempfile::tempdir().unwrap();

    // A small object with every kind of metadata.
    let small_key = "meta/small object.bin";
    let small = common::data(100_003, 1);
    let put = client
        .put_object(&bucket, small_key)
        .body(small.clone())
        .content_type("application/x-sos-test; charset=binary")
        .cache_control("max-age=300, public")
        .content_disposition("attachment; filename=\"report 1.bin\"")
        .user_metadata("Origin", "sos-client")
        .user_metadata("project", "interop test 42")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: put {small_key}: {e}"));
    assert_eq!(
        put.etag.as_deref(),
        Some(md5_hex(&small).as_str()),
        "{name}"
    );
    let head = aws_head(&cli, &bucket, small_key).await;
    assert_eq!(head.u64("ContentLength"), Some(100_003), "{name}: {head:?}");
    assert_eq!(
        head.str("ETag"),
        Some(format!("\"{}\"", md5_hex(&small)).as_str()),
        "{name}: {head:?}"
    );
    assert_eq!(
        head.str("ContentType"),
        Some("application/x-sos-test; charset=binary"),
        "{name}: {head:?}"
    );
    assert_eq!(
        head.string_map("Metadata"),
        user_map(&[("origin", "sos-client"), ("project", "interop test 42")]),
        "{name}: {head:?}"
    );
    if keeps_standard_headers(target) {
        assert_eq!(
            head.str("CacheControl"),
            Some("max-age=300, public"),
            "{name}: {head:?}"
        );
        assert_eq!(
            head.str("ContentDisposition"),
            Some("attachment; filename=\"report 1.bin\""),
            "{name}: {head:?}"
        );
    }
    let down = work.path().join("small.down");
    run(
        &cli,
        &["s3", "cp", &url(&bucket, small_key), path_str(&down)],
    )
    .await;
    assert_same_bytes(
        &read(&down),
        &small,
        &format!("{name}: aws s3 cp {small_key}"),
    );

    // Multipart, from memory and from a file: three 5 MiB parts each.
    let big = common::data(MULTIPART_LEN, 2);
    let big_key = "big/multi part ü.bin";
    let out = client
        .upload(&bucket, big_key)
        .part_size(PART as u64)
        .metadata(
            Metadata::new()
                .content_type("application/x-big")
                .user("parts", "3"),
        )
        .bytes(big.clone())
        .await
        .unwrap_or_else(|e| panic!("{name}: upload {big_key}: {e}"));
    let expected_etag = multipart_etag(&big, PART);
    assert!(expected_etag.ends_with("-3"), "{expected_etag}");
    check_upload_etag(target, out.etag.as_deref(), &expected_etag);

    let file_data = common::data(11 * MIB + 1, 3);
    let file_key = "big/from file.bin";
    let file = write(work.path(), "upload.bin", &file_data);
    let out = client
        .upload(&bucket, file_key)
        .part_size(PART as u64)
        .concurrency(2)
        .file(&file)
        .await
        .unwrap_or_else(|e| panic!("{name}: upload {file_key} from a file: {e}"));
    check_upload_etag(
        target,
        out.etag.as_deref(),
        &multipart_etag(&file_data, PART),
    );

    // Both at once: head-object, then `aws s3 cp` down.
    let checks = [
        (
            big_key,
            &big,
            expected_etag,
            Some("application/x-big"),
            user_map(&[("parts", "3")]),
        ),
        (
            file_key,
            &file_data,
            multipart_etag(&file_data, PART),
            None,
            BTreeMap::new(),
        ),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (key, data, etag, content_type, metadata))| {
        let (cli, bucket, work) = (&cli, &bucket, work.path());
        async move {
            let head = aws_head(cli, bucket, key).await;
            assert_eq!(
                head.u64("ContentLength"),
                Some(data.len() as u64),
                "{name}: {key}: {head:?}"
            );
            assert_eq!(
                head.str("ETag"),
                Some(format!("\"{etag}\"").as_str()),
                "{name}: {key}: {head:?}"
            );
            assert_eq!(
                head.string_map("Metadata"),
                metadata,
                "{name}: {key}: {head:?}"
            );
            if content_type.is_some() {
                assert_eq!(head.str("ContentType"), content_type, "{name}: {head:?}");
            }
            let down = work.join(format!("big-{i}.down"));
            run(cli, &["s3", "cp", &url(bucket, key), path_str(&down)]).await;
            assert_same_bytes(&read(&down), data, &format!("{name}: aws s3 cp {key}"));
        }
    });
    join_all(checks).await;

    // Odd keys, written by every client of the server (each signature and addressing).
    let mut listed = BTreeMap::new();
    let mut exact = BTreeMap::new();
    for (i, (label, client)) in target.clients().into_iter().enumerate() {
        for key in ODD_KEYS {
            let (full, set) = if listable_by_aws(target, key) {
                (format!("odd/{i}/{key}"), &mut listed)
            } else {
                (format!("exact/{i}/{key}"), &mut exact)
            };
            let body = format!("{label} wrote {key}");
            client
                .put_object(&bucket, &full)
                .body(body.clone())
                .content_type("text/plain; charset=utf-8")
                .user_metadata("writer", label.replace(' ', "-"))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{label}: put {full}: {e}"));
            set.insert(full, body);
        }
    }
    assert_eq!(
        listed.len() + exact.len(),
        target.clients().len() * ODD_KEYS.len(),
        "{name}"
    );
    let sizes: BTreeMap<String, u64> = listed
        .iter()
        .map(|(k, v)| (k.clone(), v.len() as u64))
        .collect();
    assert_eq!(
        aws_list(&cli, &bucket, "odd/").await,
        sizes,
        "{name}: aws s3api list-objects-v2"
    );
    // One recursive download gets them all, by the names the listing gives.
    let odd_dir = work.path().join("odd");
    run(
        &cli,
        &[
            "s3",
            "cp",
            "--recursive",
            &url(&bucket, "odd/"),
            path_str(&odd_dir),
        ],
    )
    .await;
    let files = files_under(&odd_dir);
    let wanted: Vec<String> = listed
        .keys()
        .map(|k| k.trim_start_matches("odd/").to_owned())
        .collect();
    assert_eq!(files, wanted, "{name}: files aws s3 cp --recursive wrote");
    for (key, body) in &listed {
        let got = read(&odd_dir.join(key.trim_start_matches("odd/")));
        assert_same_bytes(&got, body.as_bytes(), &format!("{name}: {key}"));
    }
    // By exact key (no listing), through s3api get-object: bytes and metadata. Every key the
    // first client wrote, and those the listing cannot name.
    let by_key: Vec<(&String, &String)> = listed
        .iter()
        .filter(|(k, _)| k.starts_with("odd/0/"))
        .chain(&exact)
        .collect();
    assert_eq!(
        by_key
            .iter()
            .filter(|(k, _)| k.ends_with("/0/a+b=c&d.txt"))
            .count(),
        1,
        "{name}: {by_key:?}"
    );
    let checks = by_key.into_iter().enumerate().map(|(i, (key, body))| {
        let (cli, bucket, work) = (&cli, &bucket, work.path());
        async move {
            let down = work.join(format!("exact-{i}.down"));
            let out = run(
                cli,
                &[
                    "s3api",
                    "get-object",
                    "--bucket",
                    bucket,
                    "--key",
                    key,
                    path_str(&down),
                ],
            )
            .await;
            assert_same_bytes(&read(&down), body.as_bytes(), &format!("{name}: {key}"));
            let json = Json::parse(&out);
            assert_eq!(
                json.str("ContentType"),
                Some("text/plain; charset=utf-8"),
                "{name}: {key}: {out}"
            );
            let writer = body.split(" wrote ").next().unwrap_or_default();
            assert_eq!(
                json.string_map("Metadata"),
                user_map(&[("writer", &writer.replace(' ', "-"))]),
                "{name}: {key}: {out}"
            );
        }
    });
    join_all(checks).await;

    remove_bucket(&client, &bucket).await;
}

// ---------------------------------------------------------------------------------------
// 2. The aws CLI writes, sos-client reads.

async fn aws_to_client(target: &Target) {
    let name = target.name;
    let client = target.client();
    let bucket = target.bucket(&client, "sos-interop").await;
    let cli = Arc::new(aws_cli(target).with_multipart_threshold_mb(5));
    let work = tempfile::tempdir().unwrap();

    // A small object with metadata (`aws s3 cp`).
    let small_key = "from-aws/small file.csv";
    let small = common::data(200_001, 4);
    let small_path = write(work.path(), "small.csv", &small);
    run(
        &cli,
        &[
            "s3",
            "cp",
            path_str(&small_path),
            &url(&bucket, small_key),
            "--content-type",
            "text/csv; charset=utf-8",
            "--cache-control",
            "no-cache",
            "--content-disposition",
            "inline; filename=\"a b.csv\"",
            "--metadata",
            r#"{"origin":"aws cli","mixed-case":"Value 1"}"#,
        ],
    )
    .await;
    let small_meta = user_map(&[("origin", "aws cli"), ("mixed-case", "Value 1")]);
    let info = client
        .head_object(&bucket, small_key)
        .await
        .unwrap_or_else(|e| panic!("{name}: head {small_key}: {e}"));
    assert_eq!(info.content_length, small.len() as u64, "{name}");
    assert_eq!(
        info.etag.as_deref(),
        Some(md5_hex(&small).as_str()),
        "{name}"
    );
    assert_eq!(
        info.metadata.content_type.as_deref(),
        Some("text/csv; charset=utf-8"),
        "{name}"
    );
    assert_eq!(info.metadata.user, small_meta, "{name}");
    if keeps_standard_headers(target) {
        assert_eq!(
            info.metadata.cache_control.as_deref(),
            Some("no-cache"),
            "{name}"
        );
        assert_eq!(
            info.metadata.content_disposition.as_deref(),
            Some("inline; filename=\"a b.csv\""),
            "{name}"
        );
    }
    let got = client.get_object(&bucket, small_key).send().await.unwrap();
    assert_eq!(
        got.info.metadata, info.metadata,
        "{name}: GET and HEAD metadata"
    );
    assert_same_bytes(&got.body.collect().await.unwrap(), &small, name);

    // `aws s3api put-object` with a unicode key.
    let api_key = "from-aws/dir/café ü/日本語 +1.txt";
    let api_data = "put by s3api\n".as_bytes();
    let api_path = write(work.path(), "api.txt", api_data);
    run(
        &cli,
        &[
            "s3api",
            "put-object",
            "--bucket",
            &bucket,
            "--key",
            api_key,
            "--body",
            path_str(&api_path),
            "--content-type",
            "text/plain",
            "--metadata",
            "origin=s3api",
        ],
    )
    .await;
    let got = client.get_object(&bucket, api_key).send().await.unwrap();
    assert_eq!(
        got.info.metadata.content_type.as_deref(),
        Some("text/plain"),
        "{name}"
    );
    assert_eq!(
        got.info.metadata.user,
        user_map(&[("origin", "s3api")]),
        "{name}"
    );
    assert_same_bytes(&got.body.collect().await.unwrap(), api_data, name);

    // Multipart (threshold and chunk 5 MiB: three parts).
    let big_key = "from-aws/multi part.bin";
    let big = common::data(MULTIPART_LEN, 5);
    let big_path = write(work.path(), "big.bin", &big);
    run(
        &cli,
        &[
            "s3",
            "cp",
            path_str(&big_path),
            &url(&bucket, big_key),
            "--content-type",
            "application/x-big",
            "--metadata",
            "parts=3",
        ],
    )
    .await;
    let info = client.head_object(&bucket, big_key).await.unwrap();
    assert_eq!(info.content_length, big.len() as u64, "{name}");
    assert_eq!(
        info.etag.as_deref(),
        Some(multipart_etag(&big, PART).as_str()),
        "{name}: aws s3 cp made three 5 MiB parts"
    );
    assert_eq!(
        info.metadata.content_type.as_deref(),
        Some("application/x-big"),
        "{name}"
    );
    assert_eq!(info.metadata.user, user_map(&[("parts", "3")]), "{name}");
    let got = client.get_object(&bucket, big_key).bytes().await.unwrap();
    assert_same_bytes(&got, &big, &format!("{name}: get {big_key}"));
    // In parallel ranges, each If-Match the multipart ETag.
    let down = work.path().join("big.down");
    let info = client
        .download(&bucket, big_key)
        .part_size(4 * MIB as u64)
        .to_file(&down)
        .await
        .unwrap_or_else(|e| panic!("{name}: download {big_key}: {e}"));
    assert_eq!(info.content_length, big.len() as u64, "{name}");
    assert_same_bytes(&read(&down), &big, &format!("{name}: download {big_key}"));

    // Odd keys, uploaded as a directory tree with `aws s3 cp --recursive`.
    let tree = work.path().join("tree");
    let mut odd = BTreeMap::new();
    for key in ODD_KEYS {
        let body = format!("aws wrote {key}");
        write(&tree, key, body.as_bytes());
        odd.insert(format!("from-aws/odd/{key}"), body);
    }
    run(
        &cli,
        &[
            "s3",
            "cp",
            "--recursive",
            path_str(&tree),
            &url(&bucket, "from-aws/odd/"),
        ],
    )
    .await;
    for (key, body) in &odd {
        let got = client
            .get_object(&bucket, key)
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{name}: get {key}: {e}"));
        assert_same_bytes(&got, body.as_bytes(), &format!("{name}: {key}"));
    }

    // Listings show every key, with its size, in both list versions.
    let mut expected: BTreeMap<String, u64> = odd
        .iter()
        .map(|(k, v)| (k.clone(), v.len() as u64))
        .collect();
    expected.insert(small_key.to_owned(), small.len() as u64);
    expected.insert(api_key.to_owned(), api_data.len() as u64);
    expected.insert(big_key.to_owned(), big.len() as u64);
    for version in [ListVersion::V2, ListVersion::V1] {
        assert_eq!(
            client_list(&client, &bucket, "", version).await,
            expected,
            "{name}: {version:?}"
        );
    }
    let top: Vec<String> = client
        .list_objects(&bucket)
        .prefix("from-aws/")
        .delimiter("/")
        .entries()
        .map_ok(|e| match e {
            ListEntry::Object(o) => o.key,
            ListEntry::Prefix(p) => p,
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        top,
        [
            "from-aws/dir/",
            "from-aws/multi part.bin",
            "from-aws/odd/",
            "from-aws/small file.csv",
        ],
        "{name}"
    );
    let under: Vec<String> = client
        .list_objects(&bucket)
        .prefix("from-aws/odd/dir/")
        .delimiter("/")
        .entries()
        .map_ok(|e| match e {
            ListEntry::Object(o) => o.key,
            ListEntry::Prefix(p) => p,
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(under, ["from-aws/odd/dir/café ü/"], "{name}");

    remove_bucket(&client, &bucket).await;
}

// ---------------------------------------------------------------------------------------
// 3. s3cmd with V2 signatures, both ways.

const S3CMD_KEYS: &[&str] = &[
    "plain.txt",
    "dir/café ü/日本語 +1.txt",
    "a+b=c&d.txt",
    "sp ace/x y.bin",
];

async fn s3cmd_both_ways(target: &Target) {
    let name = target.name;
    assert!(target.versions.contains(&SignatureVersion::V2), "{name}");
    let client = target.client_with(SignatureVersion::V2, Addressing::Path);
    let bucket = target.bucket(&client, "sos-interop").await;
    let s3cmd = Arc::new(s3cmd_v2(target));
    let work = tempfile::tempdir().unwrap();
    let mut sizes = BTreeMap::new();

    // s3cmd puts, the client gets.
    for (i, key) in S3CMD_KEYS.iter().enumerate() {
        let key = format!("by-s3cmd/{key}");
        let data = common::data(10_000 + i * 777, 10 + i as u64);
        let path = write(work.path(), &format!("s3cmd-{i}.bin"), &data);
        run(
            &s3cmd,
            &[
                "put",
                path_str(&path),
                &url(&bucket, &key),
                "--mime-type=text/x-s3cmd",
                "--no-guess-mime-type",
                "--no-preserve",
                "--add-header=x-amz-meta-origin:s3cmd tool",
            ],
        )
        .await;
        let got = client
            .get_object(&bucket, &key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: get {key}: {e}"));
        assert_eq!(
            got.info.metadata.content_type.as_deref(),
            Some("text/x-s3cmd"),
            "{name}: {key}"
        );
        assert_eq!(
            got.info.metadata.user.get("origin").map(String::as_str),
            Some("s3cmd tool"),
            "{name}: {key}: {:?}",
            got.info.metadata
        );
        assert_eq!(
            got.info.etag.as_deref(),
            Some(md5_hex(&data).as_str()),
            "{name}: {key}"
        );
        assert_same_bytes(
            &got.body.collect().await.unwrap(),
            &data,
            &format!("{name}: {key}"),
        );
        sizes.insert(key, data.len() as u64);
    }
    // A multipart put (5 MiB chunks).
    let big_key = "by-s3cmd/big.bin";
    let big = common::data(MULTIPART_LEN, 20);
    let big_path = write(work.path(), "s3cmd-big.bin", &big);
    run(
        &s3cmd,
        &["put", path_str(&big_path), &url(&bucket, big_key)],
    )
    .await;
    let info = client.head_object(&bucket, big_key).await.unwrap();
    assert_eq!(info.content_length, big.len() as u64, "{name}");
    assert_eq!(
        info.etag.as_deref(),
        Some(multipart_etag(&big, PART).as_str()),
        "{name}: s3cmd put in three 5 MiB parts"
    );
    let got = client.get_object(&bucket, big_key).bytes().await.unwrap();
    assert_same_bytes(&got, &big, &format!("{name}: {big_key}"));
    sizes.insert(big_key.to_owned(), big.len() as u64);

    // The client puts (V2), s3cmd gets.
    for (i, key) in S3CMD_KEYS.iter().enumerate() {
        let key = format!("by-client/{key}");
        let data = common::data(20_000 + i * 555, 30 + i as u64);
        client
            .put_object(&bucket, &key)
            .body(data.clone())
            .content_type("application/x-sos")
            .user_metadata("origin", "sos-client")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: put {key}: {e}"));
        let down = work.path().join(format!("client-{i}.down"));
        run(&s3cmd, &["get", &url(&bucket, &key), path_str(&down)]).await;
        assert_same_bytes(&read(&down), &data, &format!("{name}: s3cmd get {key}"));
        sizes.insert(key, data.len() as u64);
    }
    let big_key = "by-client/big.bin";
    let big = common::data(MULTIPART_LEN, 40);
    let out = client
        .upload(&bucket, big_key)
        .part_size(PART as u64)
        .bytes(big.clone())
        .await
        .unwrap_or_else(|e| panic!("{name}: upload {big_key}: {e}"));
    check_upload_etag(target, out.etag.as_deref(), &multipart_etag(&big, PART));
    let down = work.path().join("client-big.down");
    run(&s3cmd, &["get", &url(&bucket, big_key), path_str(&down)]).await;
    assert_same_bytes(&read(&down), &big, &format!("{name}: s3cmd get {big_key}"));
    sizes.insert(big_key.to_owned(), big.len() as u64);

    // s3cmd's view of what the client wrote: metadata and listings.
    let info = run(
        &s3cmd,
        &["info", &url(&bucket, "by-client/dir/café ü/日本語 +1.txt")],
    )
    .await;
    assert!(
        info.lines()
            .any(|l| l.trim() == "MIME type: application/x-sos"),
        "{name}: s3cmd info:\n{info}"
    );
    assert!(
        info.lines()
            .any(|l| l.trim() == "x-amz-meta-origin: sos-client"),
        "{name}: s3cmd info:\n{info}"
    );
    let listing = run(&s3cmd, &["ls", "--recursive", &url(&bucket, "")]).await;
    assert_eq!(
        parse_s3cmd_ls(&listing, &bucket),
        sizes,
        "{name}: s3cmd ls --recursive:\n{listing}"
    );
    let listing = run(&s3cmd, &["ls", &url(&bucket, "by-client/")]).await;
    let dirs: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.trim().strip_prefix("DIR"))
        .map(str::trim)
        .collect();
    assert_eq!(
        dirs,
        [
            url(&bucket, "by-client/dir/"),
            url(&bucket, "by-client/sp ace/")
        ],
        "{name}: s3cmd ls:\n{listing}"
    );
    // And the client sees the same.
    assert_eq!(
        client_list(&client, &bucket, "", ListVersion::V1).await,
        sizes,
        "{name}"
    );

    remove_bucket(&client, &bucket).await;
}

/// `s3cmd ls --recursive` lines (`DATE TIME SIZE s3://BUCKET/KEY`): key → size.
fn parse_s3cmd_ls(listing: &str, bucket: &str) -> BTreeMap<String, u64> {
    let marker = format!("s3://{bucket}/");
    listing
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let at = line
                .find(&marker)
                .unwrap_or_else(|| panic!("s3cmd ls line without {marker}: {line}"));
            let size = line[..at]
                .split_whitespace()
                .last()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("s3cmd ls line without a size: {line}"));
            (line[at + marker.len()..].to_owned(), size)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// 4. A key longer than S3's 1024 bytes, written by the aws CLI where the server takes it.

/// Garage holds keys longer than 1024 bytes, and the aws CLI writes them (it leaves the length
/// to the server). sos-client refuses to create such a key, but lists, heads, reads and
/// deletes one that exists.
async fn aws_long_key_to_client(target: &Target) {
    let name = target.name;
    let client = target.client();
    let bucket = target.bucket(&client, "sos-longkey").await;
    let cli = Arc::new(aws_cli(target));
    let work = tempfile::tempdir().unwrap();
    let key = format!("long/{}", "é".repeat(550));
    assert!(key.len() > sos_client::MAX_KEY_BYTES);
    let data = b"a long key";
    let path = write(work.path(), "long.txt", data);
    run(
        &cli,
        &[
            "s3api",
            "put-object",
            "--bucket",
            &bucket,
            "--key",
            &key,
            "--body",
            path_str(&path),
        ],
    )
    .await;
    let listed = client_list(&client, &bucket, "long/", ListVersion::V2).await;
    assert_eq!(
        listed,
        BTreeMap::from([(key.clone(), data.len() as u64)]),
        "{name}"
    );
    let info = client
        .head_object(&bucket, &key)
        .await
        .unwrap_or_else(|e| panic!("{name}: head a long key: {e}"));
    assert_eq!(info.content_length, data.len() as u64, "{name}");
    let got = client.get_object(&bucket, &key).bytes().await.unwrap();
    assert_eq!(got, &data[..], "{name}");
    let out = client.delete_objects(&bucket, [&key]).await.unwrap();
    assert_eq!(
        out.deleted,
        std::slice::from_ref(&key),
        "{name}: {:?}",
        out.errors
    );
    assert!(
        !client.object_exists(&bucket, &key).await.unwrap(),
        "{name}"
    );
    remove_bucket(&client, &bucket).await;
}

// ---------------------------------------------------------------------------------------
// The tests.

#[tokio::test]
async fn embedded_client_to_aws_cli() {
    client_to_aws(&common::embedded()).await;
}

#[tokio::test]
async fn rados_gateway_client_to_aws_cli() {
    if let Some(t) = common::rados_gateway() {
        client_to_aws(&t).await;
    }
}

#[tokio::test]
async fn garage_client_to_aws_cli() {
    if let Some(t) = common::garage() {
        client_to_aws(&t).await;
    }
}

#[tokio::test]
async fn embedded_aws_cli_to_client() {
    aws_to_client(&common::embedded()).await;
}

#[tokio::test]
async fn rados_gateway_aws_cli_to_client() {
    if let Some(t) = common::rados_gateway() {
        aws_to_client(&t).await;
    }
}

#[tokio::test]
async fn garage_aws_cli_to_client() {
    if let Some(t) = common::garage() {
        aws_to_client(&t).await;
    }
}

#[tokio::test]
async fn embedded_s3cmd_v2_both_ways() {
    s3cmd_both_ways(&common::embedded()).await;
}

#[tokio::test]
async fn rados_gateway_s3cmd_v2_both_ways() {
    if let Some(t) = common::rados_gateway() {
        s3cmd_both_ways(&t).await;
    }
}

#[tokio::test]
async fn garage_aws_cli_long_key_to_client() {
    if let Some(t) = common::garage() {
        aws_long_key_to_client(&t).await;
    }
}

#[test]
fn helpers() {
    let json = Json::parse(r#"{"ETag": "\"abc\"", "ContentLength": 12, "Metadata": {"k": "v"}}"#);
    assert_eq!(json.str("ETag"), Some("\"abc\""));
    assert_eq!(json.u64("ContentLength"), Some(12));
    assert_eq!(json.string_map("Metadata"), user_map(&[("k", "v")]));
    assert!(json.string_map("Absent").is_empty());

    // Three parts: 5 MiB, 5 MiB, 2 MiB + 7.
    let data = common::data(MULTIPART_LEN, 1);
    assert!(multipart_etag(&data, PART).ends_with("-3"));
    assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");

    let listing = "2026-12-01 18:27            6  s3://b-1/dir/café ü/日本語 +1.txt\n\
                   2026-12-01 18:27     12582919  s3://b-1/big.bin\n";
    assert_eq!(
        parse_s3cmd_ls(listing, "b-1"),
        BTreeMap::from([
            ("dir/café ü/日本語 +1.txt".to_owned(), 6),
            ("big.bin".to_owned(), 12_582_919)
        ])
    );
}

/// An answer of the aws CLI (JSON), with the accessors the tests use.
#[derive(Debug, Clone, PartialEq)]
struct Json(serde_json::Value);

impl Json {
    /// Parses a whole document; panics, showing it, when it is not JSON.
    fn parse(text: &str) -> Json {
        Json(serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
    }

    fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key)?.as_str()
    }

    fn u64(&self, key: &str) -> Option<u64> {
        self.0.get(key)?.as_u64()
    }

    fn array(&self, key: &str) -> Option<Vec<Json>> {
        Some(
            self.0
                .get(key)?
                .as_array()?
                .iter()
                .cloned()
                .map(Json)
                .collect(),
        )
    }

    /// An object of strings (`Metadata`); empty when absent.
    fn string_map(&self, key: &str) -> BTreeMap<String, String> {
        match self.0.get(key) {
            None => BTreeMap::new(),
            Some(serde_json::Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v.as_str() {
                    Some(s) => (k.clone(), s.to_owned()),
                    None => panic!("{key}.{k} is not a string: {v:?}"),
                })
                .collect(),
            Some(other) => panic!("{key} is not an object: {other:?}"),
        }
    }
}
