//! Failure paths: typed errors, retries through a fault-injecting proxy, uploads that fail
//! or are cancelled half way (nothing left behind), dropped downloads, secrets kept out of
//! messages.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use sos_client::{Addressing, Client, Credentials, Error, ErrorCode, Metadata, RetryConfig};
use sos_testing::{Fault, FaultProxy};

use crate::common::{self, Target, data, remove_bucket};

const MIB: usize = 1024 * 1024;

/// A client of `target` whose requests go through `proxy`, with the default read timeout (60 s): a loaded
/// gateway may take seconds to answer a part, and only the retry test wants a short one.
fn proxied(target: &Target, proxy: &FaultProxy, retry: RetryConfig) -> Client {
    proxied_builder(target, proxy, retry).build().unwrap()
}

fn proxied_builder(
    target: &Target,
    proxy: &FaultProxy,
    retry: RetryConfig,
) -> sos_client::ClientBuilder {
    Client::builder()
        .endpoint(
            sos_client::Endpoint::parse(&proxy.endpoint())
                .unwrap()
                .with_region(target.region.clone()),
        )
        .credentials(target.credentials())
        .retry(retry)
}

fn fast_retries() -> RetryConfig {
    RetryConfig::default()
        .with_max_attempts(4)
        .with_base_delay(Duration::from_millis(10))
}

async fn typed_errors(target: &Target) {
    let name = target.name;
    let client = target.client();
    let bucket = target.bucket(&client, "sos-err").await;
    let err = client
        .get_object(&bucket, "missing")
        .bytes()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NoSuchKey), "{name}: {err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert!(err.is_not_found() && !err.is_retryable());
    let err = client.head_object(&bucket, "missing").await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NoSuchKey), "{name}: {err}");
    if name != "s3s-fs" {
        // (s3s-fs answers NoSuchKey.)
        let err = client
            .get_object("sos-no-such-bucket-here", "k")
            .bytes()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::NoSuchBucket), "{name}: {err}");
    }
    client
        .put_object(&bucket, "k")
        .body("0123456789")
        .send()
        .await
        .unwrap();
    let err = client
        .get_object(&bucket, "k")
        .range(100..200)
        .bytes()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InvalidRange), "{name}: {err}");
    if name != "s3s-fs" {
        // (s3s-fs ignores If-Match.)
        let err = client
            .get_object(&bucket, "k")
            .if_match("0000")
            .bytes()
            .await
            .expect_err(name);
        assert_eq!(
            err.code(),
            Some(&ErrorCode::PreconditionFailed),
            "{name}: {err}"
        );
    }
    if name != "s3s-fs" {
        // (s3s-fs deletes a bucket with objects in it, and creates existing buckets again.)
        let err = client.delete_bucket(&bucket).await.unwrap_err();
        assert_eq!(
            err.code(),
            Some(&ErrorCode::BucketNotEmpty),
            "{name}: {err}"
        );
        // Creating your own bucket again: 200 in us-east-1 (S3's legacy rule, which the
        // gateway keeps), BucketAlreadyOwnedByYou elsewhere.
        match client.create_bucket(&bucket).send().await {
            Ok(()) => assert_eq!(target.region, "us-east-1", "{name}"),
            Err(err) => assert!(
                matches!(
                    err.code(),
                    Some(ErrorCode::BucketAlreadyOwnedByYou | ErrorCode::BucketAlreadyExists)
                ),
                "{name}: {err}"
            ),
        }
    }

    // Wrong secret: SignatureDoesNotMatch, and the secret is in no message.
    for &version in target.versions {
        let wrong = Client::builder()
            .endpoint(target.endpoint_for(Addressing::Path))
            .credentials(Credentials::new(
                target.access_key.clone(),
                "not-the-secret-x1",
            ))
            .signature_version(version)
            .build()
            .unwrap();
        let err = wrong.get_object(&bucket, "k").bytes().await.unwrap_err();
        // Garage says AccessDenied ("Invalid signature").
        let expected = if name == "garage" {
            ErrorCode::AccessDenied
        } else {
            ErrorCode::SignatureDoesNotMatch
        };
        assert_eq!(err.code(), Some(&expected), "{name} {version:?}: {err}");
        for text in [err.to_string(), format!("{err:?}"), format!("{wrong:?}")] {
            assert!(!text.contains("not-the-secret-x1"), "{text}");
        }
        let unknown = Client::builder()
            .endpoint(target.endpoint_for(Addressing::Path))
            .credentials(Credentials::new("NOSUCHACCESSKEY0", "whatever"))
            .signature_version(version)
            .build()
            .unwrap();
        let err = unknown.get_object(&bucket, "k").bytes().await.unwrap_err();
        // InvalidAccessKeyId (S3, the gateway), AccessDenied, NotSignedUp (s3s-fs): a 403.
        assert_eq!(
            err.status().map(|s| s.as_u16()),
            Some(403),
            "{name} {version:?}: {err}"
        );
        assert!(!err.is_retryable(), "{err}");
    }
    remove_bucket(&client, &bucket).await;
}

#[tokio::test]
async fn typed_errors_from_every_server() {
    for target in common::all() {
        typed_errors(&target).await;
    }
}

#[tokio::test]
async fn invalid_input_is_refused_before_any_request() {
    let target = common::embedded();
    let proxy = FaultProxy::start(&target.endpoint).await.unwrap();
    let client = proxied(&target, &proxy, RetryConfig::default());
    for bad in [
        "UPPER",
        "ab",
        "-start",
        "a..b",
        "192.168.1.1",
        &"x".repeat(64),
    ] {
        let err = client.create_bucket(bad).send().await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidBucketName { .. }),
            "{bad}: {err}"
        );
    }
    let err = client
        .put_object("fine-bucket", "")
        .body("x")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidKey(_)), "{err}");
    let err = client
        .put_object("fine-bucket", &"k".repeat(1025))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidKey(_)), "{err}");
    let err = client
        .put_object("fine-bucket", "k")
        .user_metadata("big", "v".repeat(3000))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::MetadataTooLarge { size: 3003, .. }),
        "{err}"
    );
    let err = client
        .put_object("fine-bucket", "k")
        .content_type("text/plain\r\nx-evil: 1")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    let err = client
        .get_object("fine-bucket", "a/../b")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidKey(_)), "{err}");
    let err = client.get_object("no/such", "k").send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidBucketName { .. }), "{err}");
    assert_eq!(proxy.requests_seen(), 0, "nothing reached the server");

    // Buckets named by S3's older rules (capitals, `_`) exist on some stores: requests to
    // them go out, and the server answers; and so do reads of keys longer than S3 lets a
    // new object have.
    let err = client
        .get_object("Old_Bucket", "k")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Service(_)), "{err}");
    assert_eq!(proxy.requests_seen(), 1);
    let err = client
        .get_object("fine-bucket", &"k".repeat(1025))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Service(_)), "{err}");
    assert_eq!(proxy.requests_seen(), 2);
}

async fn retries_through_faults(target: &Target) {
    let name = target.name;
    let direct = target.client();
    let bucket = target.bucket(&direct, "sos-retry").await;
    let proxy = FaultProxy::start(&target.endpoint).await.unwrap();
    // A read timeout short enough for the test, long enough for a loaded server to answer
    // a 5 MiB part (a timed-out part is retried, which would shift the faults queued below).
    let client = proxied_builder(target, &proxy, fast_retries())
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let body = Bytes::from(data(300_000, 11));

    // Throttled twice, then through.
    proxy.push_fault(Fault::SlowDown);
    proxy.push_fault(Fault::InternalError);
    client
        .put_object(&bucket, "a")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(proxy.faults_injected(), 2, "{name}");
    assert_eq!(direct.get_object(&bucket, "a").bytes().await.unwrap(), body);

    // A reset and a cut connection on GETs.
    proxy.push_fault(Fault::ResetBeforeResponse);
    proxy.push_fault(Fault::CloseBeforeResponse);
    assert_eq!(
        client.get_object(&bucket, "a").bytes().await.unwrap(),
        body,
        "{name}"
    );
    assert_eq!(proxy.faults_injected(), 4, "{name}");

    // A slow answer: the read timeout fires, the retry succeeds.
    proxy.push_fault(Fault::Delay(Duration::from_secs(8)));
    let seen = proxy.requests_seen();
    let info = client.head_object(&bucket, "a").await.unwrap();
    assert_eq!(info.content_length, body.len() as u64, "{name}");
    assert_eq!(
        proxy.requests_seen(),
        seen + 2,
        "{name}: timed out, then retried"
    );

    // More failures than attempts: the error comes back, typed.
    for _ in 0..4 {
        proxy.push_fault(Fault::SlowDown);
    }
    let err = client.get_object(&bucket, "a").bytes().await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::SlowDown), "{name}: {err}");
    assert!(err.is_retryable());
    assert_eq!(proxy.pending_faults(), 0);

    // Not idempotent: creating an upload is never retried.
    let seen = proxy.requests_seen();
    proxy.push_fault(Fault::InternalError);
    let err = client
        .create_multipart_upload(&bucket, "m", &Metadata::new(), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InternalError), "{name}: {err}");
    assert_eq!(proxy.requests_seen(), seen + 1, "{name}: retried");

    // A parallel download whose parts are cut mid-body: parts are fetched again, the file
    // is intact.
    let big = data(9 * MIB, 12);
    direct
        .upload(&bucket, "big")
        .bytes(big.clone())
        .await
        .unwrap();
    proxy.push_fault(Fault::Delay(Duration::ZERO)); // the HEAD
    proxy.push_fault(Fault::TruncateResponse(100_000));
    proxy.push_fault(Fault::TruncateResponse(5_000));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big");
    client
        .download(&bucket, "big")
        .part_size(2 * MIB as u64)
        .concurrency(1)
        .to_file(&file)
        .await
        .unwrap_or_else(|e| panic!("{name}: download: {e}"));
    assert!(
        std::fs::read(&file).unwrap() == big,
        "{name}: downloaded bytes differ"
    );
    assert_eq!(proxy.pending_faults(), 0);

    // An upload with faults on its parts completes, intact.
    proxy.push_fault(Fault::Delay(Duration::ZERO)); // create
    proxy.push_fault(Fault::SlowDown);
    proxy.push_fault(Fault::ResetBeforeResponse);
    client
        .upload(&bucket, "big-up")
        .part_size(5 * MIB as u64)
        .concurrency(1)
        .bytes(big.clone())
        .await
        .unwrap_or_else(|e| panic!("{name}: upload: {e}"));
    assert!(direct.get_object(&bucket, "big-up").bytes().await.unwrap() == big);

    // Copies that fail after their 200 (as S3 answers slow copies) are tried again.
    proxy.push_fault(Fault::InternalErrorAfterOk);
    client
        .copy_object(&bucket, "a", &bucket, "a-copy")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: copy: {e}"));
    assert_eq!(
        direct.get_object(&bucket, "a-copy").bytes().await.unwrap(),
        body
    );
    proxy.push_fault(Fault::Delay(Duration::ZERO)); // the HEAD
    proxy.push_fault(Fault::Delay(Duration::ZERO)); // create
    proxy.push_fault(Fault::InternalErrorAfterOk); // part 1, then again
    let seen = proxy.requests_seen();
    client
        .copy(&bucket, "big", &bucket, "big-copy")
        .part_size(5 * MIB as u64)
        .concurrency(1)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: parallel copy: {e}"));
    // HEAD, create, part 1 twice, part 2, the HEAD before completion, complete.
    assert_eq!(proxy.requests_seen(), seen + 7, "{name}");
    assert_eq!(proxy.pending_faults(), 0);
    assert!(
        direct
            .get_object(&bucket, "big-copy")
            .bytes()
            .await
            .unwrap()
            == big
    );
    // A copy whose result never closes (the gateway's answer to a copy that failed after
    // its first progress bytes) is tried again too.
    proxy.push_fault(Fault::UnfinishedAfterOk);
    client
        .copy_object(&bucket, "a", &bucket, "a-copy-2")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: copy after an unfinished answer: {e}"));
    assert_eq!(proxy.pending_faults(), 0);
    assert_eq!(
        direct
            .get_object(&bucket, "a-copy-2")
            .bytes()
            .await
            .unwrap(),
        body
    );
    remove_bucket(&direct, &bucket).await;
}

#[tokio::test]
async fn retries_embedded() {
    retries_through_faults(&common::embedded()).await;
}

#[tokio::test]
async fn retries_rados_gateway() {
    if let Some(t) = common::rados_gateway() {
        retries_through_faults(&t).await;
    }
}

/// No multipart upload in progress in `bucket`, and no object `key`.
async fn assert_nothing_left(direct: &Client, bucket: &str, key: &str, name: &str) {
    let uploads = direct.list_multipart_uploads(bucket, None).await.unwrap();
    assert!(uploads.is_empty(), "{name}: {uploads:?}");
    assert!(!direct.object_exists(bucket, key).await.unwrap(), "{name}");
}

/// Uploads that fail or are dropped half way leave no upload and no object.
async fn nothing_left_behind(target: &Target) {
    let name = target.name;
    let direct = target.client();
    let bucket = target.bucket(&direct, "sos-abort").await;
    let proxy = FaultProxy::start(&target.endpoint).await.unwrap();
    let client = proxied(target, &proxy, RetryConfig::disabled());
    let big = data(16 * MIB, 13);

    // A part rejected: the upload is aborted before the error returns.
    proxy.push_fault(Fault::Delay(Duration::ZERO)); // create
    proxy.push_fault(Fault::Delay(Duration::ZERO)); // part 1
    proxy.push_fault(Fault::InternalError); // part 2
    let err = client
        .upload(&bucket, "failed")
        .part_size(5 * MIB as u64)
        .concurrency(1)
        .bytes(big.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InternalError), "{name}: {err}");
    assert_nothing_left(&direct, &bucket, "failed", name).await;

    // A completion that fails after its 200 (never retried: it is a POST): the error
    // comes back and the upload is aborted.
    proxy.push_fault(Fault::Delay(Duration::ZERO)); // create
    for _ in 0..4 {
        proxy.push_fault(Fault::Delay(Duration::ZERO)); // parts
    }
    proxy.push_fault(Fault::InternalErrorAfterOk); // complete
    let err = client
        .upload(&bucket, "failed")
        .part_size(5 * MIB as u64)
        .concurrency(1)
        .bytes(big.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InternalError), "{name}: {err}");
    assert_eq!(proxy.pending_faults(), 0);
    assert_nothing_left(&direct, &bucket, "failed", name).await;

    // Cancelled: the future is dropped while a part is in flight.
    proxy.push_fault(Fault::Delay(Duration::ZERO)); // create
    proxy.push_fault(Fault::Delay(Duration::ZERO)); // part 1
    proxy.push_fault(Fault::Delay(Duration::from_secs(30))); // part 2 hangs
    let seen = proxy.requests_seen();
    let cancelled = {
        let client = client.clone();
        let bucket = bucket.clone();
        let big = big.clone();
        tokio::spawn(async move {
            client
                .upload(&bucket, "cancelled")
                .part_size(5 * MIB as u64)
                .concurrency(1)
                .bytes(big)
                .await
        })
    };
    // Wait (bounded) until part 2 is held by the proxy, then drop the upload.
    // Bounds are generous: a loaded gateway can take seconds per 5 MiB part.
    for _ in 0..1200 {
        if proxy.requests_seen() >= seen + 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        proxy.requests_seen(),
        seen + 3,
        "{name}: create, part 1, part 2"
    );
    assert!(
        !cancelled.is_finished(),
        "{name}: the upload should still be running"
    );
    cancelled.abort();
    assert!(cancelled.await.unwrap_err().is_cancelled());
    // The abort runs in the background: wait for it (bounded).
    let mut left = Vec::new();
    for _ in 0..300 {
        left = direct.list_multipart_uploads(&bucket, None).await.unwrap();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        left.is_empty(),
        "{name}: uploads left after cancel: {left:?}"
    );
    assert!(
        !direct.object_exists(&bucket, "cancelled").await.unwrap(),
        "{name}"
    );
    remove_bucket(&direct, &bucket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_cancelled_uploads_leave_nothing_rados_gateway() {
    if let Some(t) = common::rados_gateway() {
        nothing_left_behind(&t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_cancelled_uploads_leave_nothing_garage() {
    if let Some(t) = common::garage() {
        nothing_left_behind(&t).await;
    }
}

#[tokio::test]
async fn dropped_downloads_leave_no_stuck_connection() {
    for target in [Some(common::embedded()), common::rados_gateway()]
        .into_iter()
        .flatten()
    {
        let client = target.client();
        let bucket = target.bucket(&client, "sos-drop").await;
        let big = data(8 * MIB, 14);
        client
            .put_object(&bucket, "big")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        for _ in 0..8 {
            let mut object = client.get_object(&bucket, "big").send().await.unwrap();
            let first = object.body.next().await.unwrap().unwrap();
            assert!(!first.is_empty());
            drop(object);
        }
        // The client still works, promptly.
        let got = tokio::time::timeout(
            Duration::from_secs(20),
            client.get_object(&bucket, "big").bytes(),
        )
        .await
        .expect("no stuck connection")
        .unwrap();
        assert!(got == big, "{}", target.name);
        remove_bucket(&client, &bucket).await;
    }
}

#[tokio::test]
async fn clock_skew_is_learnt_from_the_server() {
    // The proxy answers RequestTimeTooSkewed with a Date 10 minutes ahead; the client signs
    // again with that clock, and the real server (which allows 15 minutes) accepts it.
    for target in [Some(common::embedded()), common::rados_gateway()]
        .into_iter()
        .flatten()
    {
        let direct = target.client();
        let bucket = target.bucket(&direct, "sos-clock").await;
        let proxy = FaultProxy::start(&target.endpoint).await.unwrap();
        let client = proxied(&target, &proxy, RetryConfig::disabled());
        proxy.push_fault(Fault::ClockAhead(Duration::from_secs(600)));
        client
            .put_object(&bucket, "k")
            .body("x")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", target.name));
        assert_eq!(proxy.faults_injected(), 1);
        assert_eq!(
            proxy.requests_seen(),
            2,
            "{}: signed again once",
            target.name
        );
        // Twice in a row is an error, not a loop.
        proxy.push_fault(Fault::ClockAhead(Duration::from_secs(600)));
        proxy.push_fault(Fault::ClockAhead(Duration::from_secs(600)));
        let err = client.get_object(&bucket, "k").bytes().await.unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::RequestTimeTooSkewed), "{err}");
        assert_eq!(proxy.requests_seen(), 4);
        remove_bucket(&direct, &bucket).await;
    }
}

/// A `Write` into a shared buffer, for a tracing subscriber.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn traces_name_requests_and_hold_no_secret() {
    let target = common::embedded();
    // A global subscriber: a thread-local one races with the other tests over tracing's
    // per-callsite interest cache. It sees every test of this binary from now on, which
    // only widens what is checked.
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("only this test sets it");

    let proxy = FaultProxy::start(&target.endpoint).await.unwrap();
    let client = proxied(&target, &proxy, fast_retries());
    let bucket = sos_testing::unique_name("sos-trace");
    client.create_bucket(&bucket).send().await.unwrap();
    proxy.push_fault(Fault::SlowDown);
    client
        .put_object(&bucket, "secret-free")
        .body("x")
        .send()
        .await
        .unwrap();
    let presigned = client
        .presigner()
        .get_object(&bucket, "secret-free")
        .sign()
        .unwrap();
    let wrong = Client::builder()
        .endpoint(target.endpoint_for(Addressing::Path))
        .credentials(Credentials::new(
            target.access_key.clone(),
            "tr4ce-secret-value",
        ))
        .build()
        .unwrap();
    let err = wrong
        .get_object(&bucket, "secret-free")
        .bytes()
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("tr4ce-secret-value"));
    remove_bucket(&target.client(), &bucket).await;

    // The embedded server (s3s) logs the requests it receives: only the client's side counts.
    let all = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let log: String = all
        .lines()
        .filter(|l| !l.contains(" s3s::") && !l.contains(" s3s_fs::") && !l.contains("s3s_fs::"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        log.contains("PutObject") && log.contains("retrying"),
        "{log}"
    );
    assert!(log.contains(&bucket), "spans name the bucket: {log}");
    let signature = presigned.url.rsplit("X-Amz-Signature=").next().unwrap();
    for secret in [target.secret_key.as_str(), "tr4ce-secret-value", signature] {
        assert!(!log.contains(secret), "`{secret}` in the log");
    }
    let signed: Vec<&str> = log.lines().filter(|l| l.contains("Signature=")).collect();
    assert!(signed.is_empty(), "no signed URL in the log: {signed:#?}");
    assert!(
        !log.contains("Credential="),
        "no Authorization header in the log"
    );
}

/// An object `big` of pseudo-random bytes in a new bucket of the embedded server, and a
/// client that reaches it through a fault proxy, without retries.
struct BigBehindProxy {
    direct: Client,
    bucket: String,
    big: Vec<u8>,
    proxy: FaultProxy,
    client: Client,
}

async fn big_behind_proxy(bucket_name: &str, size: usize, seed: u64) -> BigBehindProxy {
    let target = common::embedded();
    let direct = target.client();
    let bucket = target.bucket(&direct, bucket_name).await;
    let big = data(size, seed);
    direct
        .put_object(&bucket, "big")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let proxy = FaultProxy::start(&target.endpoint).await.unwrap();
    let client = proxied(&target, &proxy, RetryConfig::disabled());
    BigBehindProxy {
        direct,
        bucket,
        big,
        proxy,
        client,
    }
}

/// A download dropped half way (its future cancelled) leaves neither the file nor its
/// temporary partial file, and its parts stop: the same download then completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_download_leaves_no_partial_file() {
    let BigBehindProxy {
        direct,
        bucket,
        big,
        proxy,
        client,
    } = big_behind_proxy("sos-dropdl", 6 * MIB, 21).await;
    proxy.push_fault(Fault::Delay(Duration::ZERO)); // the HEAD
    proxy.push_fault(Fault::Delay(Duration::from_secs(3))); // the first part: slow
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big");
    let download = client
        .download(&bucket, "big")
        .part_size(2 * MIB as u64)
        .concurrency(1)
        .to_file(&file);
    let dropped = tokio::time::timeout(Duration::from_millis(500), download).await;
    assert!(
        dropped.is_err(),
        "the download should still have been running"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    client
        .download(&bucket, "big")
        .part_size(2 * MIB as u64)
        .to_file(&file)
        .await
        .unwrap();
    assert!(
        std::fs::read(&file).unwrap() == big,
        "downloaded bytes differ"
    );
    remove_bucket(&direct, &bucket).await;
}

/// A body cut short is an error at the end of the stream, never short data: read where
/// `#[tokio::test]` runs it (outside any task: the body comes through its own reading task)
/// and inside a spawned task (read directly).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_short_is_an_error_in_and_outside_tasks() {
    let BigBehindProxy {
        direct,
        bucket,
        big,
        proxy,
        client,
    } = big_behind_proxy("sos-cut", 3 * MIB, 22).await;
    cut_then_whole(&proxy, big.len(), "outside a task", || {
        read(client.clone(), bucket.clone())
    })
    .await;
    cut_then_whole(&proxy, big.len(), "in a task", || async {
        tokio::spawn(read(client.clone(), bucket.clone()))
            .await
            .unwrap()
    })
    .await;
    assert!(client.get_object(&bucket, "big").bytes().await.unwrap() == big);
    remove_bucket(&direct, &bucket).await;
}

/// Reads the object `big` of `bucket` to its end: the bytes received, and the error that
/// ended the body, if one did.
async fn read(client: sos_client::Client, bucket: String) -> (usize, Option<String>) {
    let mut object = client.get_object(&bucket, "big").send().await.unwrap();
    let mut n = 0;
    while let Some(piece) = object.body.next().await {
        match piece {
            Ok(piece) => n += piece.len(),
            Err(e) => return (n, Some(e.to_string())),
        }
    }
    (n, None)
}

/// With `proxy` cutting the next answer short, `read` gets fewer than `len` bytes and an
/// error; the answer after it arrives whole.
async fn cut_then_whole<F, Fut>(proxy: &FaultProxy, len: usize, label: &str, read: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (usize, Option<String>)>,
{
    proxy.push_fault(Fault::TruncateResponse(1_000_000));
    let (n, error) = read().await;
    assert!(n < len && error.is_some(), "{label}: {n} bytes, {error:?}");
    let (n, error) = read().await;
    assert_eq!((n, error), (len, None), "{label}");
}

/// On a single-threaded runtime (the default of `#[tokio::test]`) the body is read directly
/// on the caller's thread: a body cut short is an error there too, a whole one arrives whole.
#[tokio::test]
async fn a_body_cut_short_is_an_error_on_a_single_threaded_runtime() {
    let BigBehindProxy {
        direct,
        bucket,
        big,
        proxy,
        client,
    } = big_behind_proxy("sos-cut1", 3 * MIB, 23).await;
    cut_then_whole(&proxy, big.len(), "single-threaded", || {
        read(client.clone(), bucket.clone())
    })
    .await;
    assert!(client.get_object(&bucket, "big").bytes().await.unwrap() == big);
    remove_bucket(&direct, &bucket).await;
}
