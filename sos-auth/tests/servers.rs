//! Signatures judged by real S3 servers: the embedded s3s-fs (always) and the Ceph RADOS
//! Gateway (started by `testing/run-tests.sh`; a test fails with instructions when it is
//! not running).
//!
//! For each signature form (V4 header, V4 query, V2 header, V2 query) and each addressing
//! style (path, virtual host), objects with arbitrary keys from a proptest strategy are
//! written and read back (200, same bytes), and the same read signed with one byte of the
//! secret changed is refused (403).

use std::time::Duration;

use http::{HeaderMap, Method, Request};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sos_auth::{Credentials, PayloadHash, SigV2Signer, SigV4Signer};
use sos_testing::raw::{self, RawResponse};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    V4Header,
    V4Query,
    V2Header,
    V2Query,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Path,
    VirtualHost,
}

const SCHEMES: [Scheme; 4] = [
    Scheme::V4Header,
    Scheme::V4Query,
    Scheme::V2Header,
    Scheme::V2Query,
];

#[derive(Debug, Clone)]
struct Target {
    name: &'static str,
    authority: String,
    access_key: String,
    secret_key: String,
    region: String,
    /// `s3.localhost:PORT`: virtual-host requests go to `BUCKET.` + this.
    vhost_base: String,
    /// The error code a wrong signature gets (Garage says `AccessDenied`, "Invalid signature").
    bad_signature_code: &'static str,
}

impl Target {
    fn embedded(server: &sos_testing::EmbeddedS3) -> Self {
        Self {
            name: "s3s-fs",
            authority: server.addr().to_string(),
            access_key: server.access_key().to_owned(),
            secret_key: server.secret_key().to_owned(),
            region: "us-east-1".to_owned(),
            vhost_base: server.virtual_host_base(),
            bad_signature_code: "SignatureDoesNotMatch",
        }
    }

    fn rados_gateway() -> Option<Self> {
        let s = sos_testing::rados_gateway()?;
        Some(Self {
            name: "radosgw",
            authority: s.authority().to_owned(),
            vhost_base: format!(
                "{}:{}",
                s.dns_name
                    .clone()
                    .unwrap_or_else(|| "s3.localhost".to_owned()),
                s.port()
            ),
            access_key: s.access_key,
            secret_key: s.secret_key,
            region: s.region,
            bad_signature_code: "SignatureDoesNotMatch",
        })
    }
}

/// S3 key encoding: everything but unreserved characters and `/`.
fn encode_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The secret with one byte changed.
fn corrupt(secret: &str) -> String {
    let mut bytes = secret.as_bytes().to_vec();
    bytes[0] = if bytes[0] == b'x' { b'y' } else { b'x' };
    String::from_utf8(bytes).unwrap()
}

fn send(
    t: &Target,
    secret: &str,
    scheme: Scheme,
    style: Style,
    method: Method,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
) -> RawResponse {
    let path = encode_key(key);
    let uri = match style {
        Style::Path if key.is_empty() => format!("http://{}/{bucket}", t.authority),
        Style::Path => format!("http://{}/{bucket}/{path}", t.authority),
        Style::VirtualHost => format!("http://{bucket}.{}/{path}", t.vhost_base),
    };
    sign_and_send(t, secret, scheme, method, &uri, body)
}

/// Signs a request for `uri` by `scheme` and sends it.
fn sign_and_send(
    t: &Target,
    secret: &str,
    scheme: Scheme,
    method: Method,
    uri: &str,
    body: Vec<u8>,
) -> RawResponse {
    let creds = Credentials::new(t.access_key.clone(), secret);
    let v4 = SigV4Signer::new(creds.clone(), t.region.clone());
    let v2 = SigV2Signer::new(creds).with_host_base(t.vhost_base.clone());
    let expiry = Duration::from_secs(300);
    let mut req = Request::builder()
        .method(method.clone())
        .uri(uri)
        .body(body)
        .unwrap();
    match scheme {
        Scheme::V4Header => {
            let payload = PayloadHash::of(req.body());
            v4.sign(&mut req, payload).unwrap();
        }
        Scheme::V2Header => v2.sign(&mut req).unwrap(),
        Scheme::V4Query => {
            *req.uri_mut() = v4
                .presign(&method, req.uri(), &HeaderMap::new(), expiry)
                .unwrap()
                .parse()
                .unwrap()
        }
        Scheme::V2Query => {
            *req.uri_mut() = v2
                .presign(&method, req.uri(), &HeaderMap::new(), expiry)
                .unwrap()
                .parse()
                .unwrap()
        }
    }
    raw::send(&req).unwrap_or_else(|e| panic!("{}: cannot reach {uri}: {e}", t.name))
}

/// A request of the test's own, not the one under test: V4 header, path-style, right secret.
fn plain(t: &Target, method: Method, bucket: &str, key: &str, body: Vec<u8>) -> RawResponse {
    send(
        t,
        &t.secret_key,
        Scheme::V4Header,
        Style::Path,
        method,
        bucket,
        key,
        body,
    )
}

fn create_bucket(t: &Target, bucket: &str) {
    let r = plain(t, Method::PUT, bucket, "", Vec::new());
    assert_eq!(
        r.status,
        200,
        "{}: create bucket {bucket}: {}",
        t.name,
        r.text()
    );
}

/// Put, get, and get with a corrupted secret, for one key (under a prefix of its own: s3s-fs
/// stores keys as files, so `k` after `k/x` would collide with a directory while shrinking).
fn round_trip(
    t: &Target,
    scheme: Scheme,
    style: Style,
    bucket: &str,
    key: &str,
) -> Result<(), TestCaseError> {
    static CASE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let key = &format!(
        "{}/{key}",
        CASE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let body = format!("body of {key:?} via {scheme:?}/{style:?}").into_bytes();
    let put = send(
        t,
        &t.secret_key,
        scheme,
        style,
        Method::PUT,
        bucket,
        key,
        body.clone(),
    );
    prop_assert_eq!(
        put.status,
        200,
        "{} {:?} {:?} PUT {:?}: {}",
        t.name,
        scheme,
        style,
        key,
        put.text()
    );
    let get = send(
        t,
        &t.secret_key,
        scheme,
        style,
        Method::GET,
        bucket,
        key,
        Vec::new(),
    );
    prop_assert_eq!(
        get.status,
        200,
        "{} {:?} {:?} GET {:?}: {}",
        t.name,
        scheme,
        style,
        key,
        get.text()
    );
    prop_assert_eq!(&get.body, &body);
    let bad = send(
        t,
        &corrupt(&t.secret_key),
        scheme,
        style,
        Method::GET,
        bucket,
        key,
        Vec::new(),
    );
    prop_assert_eq!(
        bad.status,
        403,
        "{} {:?} {:?} GET with a wrong secret {:?}: {}",
        t.name,
        scheme,
        style,
        key,
        bad.text()
    );
    let code = bad.s3_error_code();
    prop_assert_eq!(
        code.as_deref(),
        Some(t.bad_signature_code),
        "{}",
        bad.text()
    );
    Ok(())
}

/// Keys with the characters that trip signers: spaces, unicode, `+ = ~ & ? # % ! ' ( ) * , ; : @ $`,
/// several segments. (`.`/`..` segments and empty segments are left out: s3s-fs stores keys as
/// files; the gateway cases below add `//`.)
fn key_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-zA-Z0-9_.-]{1,4}",
        1 => prop::sample::select(vec![" ", "+", "=", "~", "&", "?", "#", "%", "!", "'", "(", ")", "*", ",", ";", ":", "@", "$", "é", "日本", "😀", "%20", "a b", "[", "]"]).prop_map(str::to_owned),
    ];
    let segment = prop::collection::vec(piece, 1..6)
        .prop_map(|p| p.concat())
        .prop_filter("no dot segments", |s| s != "." && s != "..");
    prop::collection::vec(segment, 1..4).prop_map(|s| s.join("/"))
}

fn check_server(t: &Target, extra_keys: &[&str], cases: u32) {
    for style in [Style::Path, Style::VirtualHost] {
        let bucket = sos_testing::unique_name(&format!("auth-{}", t.name));
        create_bucket(t, &bucket);
        for scheme in SCHEMES {
            for key in extra_keys {
                round_trip(t, scheme, style, &bucket, key).unwrap_or_else(|e| panic!("{e}"));
            }
            let mut runner = TestRunner::new(Config {
                cases,
                failure_persistence: None,
                ..Config::default()
            });
            runner
                .run(&key_strategy(), |key| {
                    round_trip(t, scheme, style, &bucket, &key)
                })
                .unwrap_or_else(|e| panic!("{} {scheme:?} {style:?}: {e}", t.name));
        }
    }
}

const FIXED_KEYS: &[&str] = &[
    "plain.txt",
    "with space/and+plus=eq~tilde",
    "日本語/ファイル.txt",
    "100%/50% off",
    "a&b?c#d",
];

/// A virtual-host URI written in capitals (`http://BUCKET.S3.LOCALHOST:PORT/k`): the V4
/// signers sign its host in lower case and hand back the URI or URL so, and the raw client,
/// which sends the host as written (as curl and hyper do), reaches the bucket.
fn host_in_capitals(t: &Target) {
    let bucket = sos_testing::unique_name(&format!("caps-{}", t.name));
    create_bucket(t, &bucket);
    let put = plain(t, Method::PUT, &bucket, "k", b"data".to_vec());
    assert_eq!(put.status, 200, "{}", put.text());
    let host = format!("{bucket}.{}", t.vhost_base).to_ascii_uppercase();
    for scheme in [Scheme::V4Header, Scheme::V4Query] {
        let uri = format!("http://{host}/k");
        let r = sign_and_send(t, &t.secret_key, scheme, Method::GET, &uri, Vec::new());
        assert_eq!(
            (r.status, r.text().as_str()),
            (200, "data"),
            "{} {scheme:?} GET {uri}",
            t.name
        );
    }
}

#[test]
fn embedded_server_accepts_our_signatures() {
    let server = sos_testing::EmbeddedS3::start().expect("start the embedded S3 server");
    check_server(&Target::embedded(&server), FIXED_KEYS, 12);
    host_in_capitals(&Target::embedded(&server));
}

#[test]
fn rados_gateway_accepts_our_signatures() {
    let Some(t) = Target::rados_gateway() else {
        return;
    };
    let mut keys = FIXED_KEYS.to_vec();
    keys.extend(["a//double", "trailing/", "/leading", "./dot/../segments"]);
    check_server(&t, &keys, 12);
    host_in_capitals(&t);
}

/// V2 signs some query parameters (the sub-resources) and not others: a list the server must
/// share. The gateway accepts our V2 signatures over every sub-resource S3 has, those it signs
/// (`?policyStatus`, `?publicAccessBlock` among them) and those it leaves out (`?encryption`,
/// `?object-lock`, ...), and refuses them with a wrong secret.
#[test]
fn rados_gateway_agrees_on_the_v2_sub_resources() {
    let Some(t) = Target::rados_gateway() else {
        return;
    };
    let bucket = format!("subres-{}", std::process::id());
    create_bucket(&t, &bucket);
    let put = plain(&t, Method::PUT, &bucket, "k", b"data".to_vec());
    assert_eq!(put.status, 200, "{}", put.text());
    let bucket_queries = [
        "accelerate",
        "acl",
        // Sent with an empty value: signed bare (`?acl`), as the gateway signs it.
        "acl=",
        "versioning=",
        "analytics",
        "cors",
        "encryption",
        "intelligent-tiering",
        "inventory",
        "lifecycle",
        "location",
        "logging",
        "metrics&id=m1",
        "notification",
        "object-lock",
        "ownershipControls",
        "policy",
        "policyStatus",
        "publicAccessBlock",
        "replication",
        "requestPayment",
        "tagging",
        "uploads",
        "versioning",
        "versions",
        "list-type=2&prefix=k&delimiter=%2F",
    ];
    let object_queries = [
        "acl",
        "acl=",
        "tagging=",
        "legal-hold",
        "retention",
        "tagging",
        "response-content-type=text%2Fplain&response-cache-control=no-cache",
    ];
    let cases = bucket_queries
        .iter()
        .map(|q| format!("http://{}/{bucket}?{q}", t.authority))
        .chain(
            object_queries
                .iter()
                .map(|q| format!("http://{}/{bucket}/k?{q}", t.authority)),
        )
        .chain(
            ["policyStatus", "publicAccessBlock", "encryption"]
                .iter()
                .map(|q| format!("http://{bucket}.{}/?{q}", t.vhost_base)),
        );
    for uri in cases {
        for scheme in [Scheme::V2Header, Scheme::V2Query] {
            let r = sign_and_send(&t, &t.secret_key, scheme, Method::GET, &uri, Vec::new());
            assert!(
                !(r.status == 403 && r.text().contains("SignatureDoesNotMatch")),
                "{scheme:?} GET {uri}: the gateway refused our signature: {}",
                r.text()
            );
            let r = sign_and_send(
                &t,
                &corrupt(&t.secret_key),
                scheme,
                Method::GET,
                &uri,
                Vec::new(),
            );
            assert_eq!(r.status, 403, "{scheme:?} GET {uri} with a wrong secret");
        }
    }
    let del = plain(&t, Method::DELETE, &bucket, "k", Vec::new());
    assert_eq!(del.status, 204, "{}", del.text());
    let del = plain(&t, Method::DELETE, &bucket, "", Vec::new());
    assert_eq!(del.status, 204, "{}", del.text());
}

/// A `+` sent raw in a path is a plus, not a space: the gateway reads `/a+b` as the key `a+b`
/// and checks the signature over `/a%2Bb`, as we sign it (mhart/aws4 signs `/a%20b` for S3,
/// which the gateway refuses; see `vectors/others/aws4.json`).
#[test]
fn rados_gateway_takes_a_plus_in_a_path_as_a_plus() {
    let Some(t) = Target::rados_gateway() else {
        return;
    };
    let bucket = format!("plus-{}", std::process::id());
    create_bucket(&t, &bucket);
    let put = plain(&t, Method::PUT, &bucket, "a+b", b"plus".to_vec());
    assert_eq!(put.status, 200, "{}", put.text());
    let uri = format!("http://{}/{bucket}/a+b", t.authority);
    for scheme in SCHEMES {
        let r = sign_and_send(&t, &t.secret_key, scheme, Method::GET, &uri, Vec::new());
        assert_eq!(r.status, 200, "{scheme:?} GET {uri}: {}", r.text());
        assert_eq!(r.body, b"plus", "{scheme:?} GET {uri}");
    }
    let del = plain(&t, Method::DELETE, &bucket, "a+b", Vec::new());
    assert_eq!(del.status, 204, "{}", del.text());
    let del = plain(&t, Method::DELETE, &bucket, "", Vec::new());
    assert_eq!(del.status, 204, "{}", del.text());
}

#[test]
fn garage_accepts_our_v4_signatures() {
    // Garage verifies V4 only.
    let Some(s) = sos_testing::garage() else {
        return;
    };
    let t = Target {
        name: "garage",
        authority: s.authority().to_owned(),
        vhost_base: format!(
            "{}:{}",
            s.dns_name
                .clone()
                .unwrap_or_else(|| "s3.garage.localhost".to_owned()),
            s.port()
        ),
        access_key: s.access_key,
        secret_key: s.secret_key,
        region: s.region,
        bad_signature_code: "AccessDenied",
    };
    for style in [Style::Path, Style::VirtualHost] {
        let bucket = sos_testing::unique_name("auth-garage");
        create_bucket(&t, &bucket);
        for scheme in [Scheme::V4Header, Scheme::V4Query] {
            for key in FIXED_KEYS {
                round_trip(&t, scheme, style, &bucket, key).unwrap_or_else(|e| panic!("{e}"));
            }
            let mut runner = TestRunner::new(Config {
                cases: 12,
                failure_persistence: None,
                ..Config::default()
            });
            runner
                .run(&key_strategy(), |key| {
                    round_trip(&t, scheme, style, &bucket, &key)
                })
                .unwrap_or_else(|e| panic!("garage {scheme:?} {style:?}: {e}"));
        }
    }
}

#[test]
fn streaming_upload_accepted() {
    let server = sos_testing::EmbeddedS3::start().expect("start the embedded S3 server");
    let mut targets = vec![Target::embedded(&server)];
    targets.extend(Target::rados_gateway());
    for t in targets {
        let bucket = sos_testing::unique_name("auth-stream");
        create_bucket(&t, &bucket);
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let signer = SigV4Signer::new(
            Credentials::new(t.access_key.clone(), t.secret_key.clone()),
            t.region.clone(),
        );
        let mut req = Request::put(format!("http://{}/{bucket}/streamed%20object", t.authority))
            .body(Vec::new())
            .unwrap();
        let mut chunks = signer
            .sign_streaming_at(
                &mut req,
                data.len() as u64,
                65_536,
                std::time::SystemTime::now(),
            )
            .unwrap();
        *req.body_mut() = chunks.encode_body(&data);
        let put = raw::send(&req).unwrap();
        assert_eq!(put.status, 200, "{}: streaming PUT: {}", t.name, put.text());
        let get = plain(&t, Method::GET, &bucket, "streamed object", Vec::new());
        assert_eq!(get.status, 200, "{}: {}", t.name, get.text());
        assert!(
            get.body == data,
            "{}: streamed object differs ({} bytes back)",
            t.name,
            get.body.len()
        );

        // A chunk signed with another key is refused.
        let wrong = SigV4Signer::new(
            Credentials::new(t.access_key.clone(), corrupt(&t.secret_key)),
            t.region.clone(),
        );
        let mut req = Request::put(format!("http://{}/{bucket}/bad-stream", t.authority))
            .body(Vec::new())
            .unwrap();
        let mut chunks = wrong
            .sign_streaming_at(&mut req, 10, 65_536, std::time::SystemTime::now())
            .unwrap();
        *req.body_mut() = chunks.encode_body(b"0123456789");
        assert_eq!(raw::send(&req).unwrap().status, 403, "{}", t.name);
    }
}

/// Uploads that end with a trailing CRC32: `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (the `aws`
/// CLI over HTTPS: unsigned chunks) and `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` (the AWS
/// SDKs over plain HTTP: signed chunks, signed trailer), under signatures of ours, are stored;
/// a wrong secret or a tampered trailer signature is refused. Unsigned: s3s-fs and Garage;
/// signed: s3s-fs (Garage 2.5 signs the trailer with the chunk algorithm line
/// `AWS4-HMAC-SHA256-PAYLOAD` chained on the last data chunk, not on the final empty one,
/// so it refuses what the AWS example and the SDKs send). The gateway of the tests, Ceph 16,
/// predates trailers: it answers `XAmzContentSHA256Mismatch` to both.
#[test]
fn trailer_uploads_accepted() {
    let server = sos_testing::EmbeddedS3::start().expect("start the embedded S3 server");
    let mut targets = vec![Target::embedded(&server)];
    if let Some(s) = sos_testing::garage() {
        targets.push(Target {
            name: "garage",
            authority: s.authority().to_owned(),
            vhost_base: String::new(),
            access_key: s.access_key,
            secret_key: s.secret_key,
            region: s.region,
            bad_signature_code: "AccessDenied",
        });
    }
    // CRC32 of `hello`: 0x3610a686.
    const CRC32: &str = "NhCmhg==";
    let data: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
    let data_crc32 = {
        // Bitwise CRC-32 (IEEE), enough for a test body.
        let mut crc = !0u32;
        for &b in &data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        let bytes = (!crc).to_be_bytes();
        let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let n = u32::from_be_bytes(bytes);
        let c = |shift: u32| table[((n >> shift) & 63) as usize] as char;
        format!(
            "{}{}{}{}{}{}==",
            c(26),
            c(20),
            c(14),
            c(8),
            c(2),
            table[((n & 3) << 4) as usize] as char
        )
    };
    for t in targets {
        let bucket = sos_testing::unique_name("auth-trailer");
        create_bucket(&t, &bucket);
        let signer = |secret: &str| {
            SigV4Signer::new(
                Credentials::new(t.access_key.clone(), secret),
                t.region.clone(),
            )
        };
        let url = |key: &str| format!("http://{}/{bucket}/{key}", t.authority);

        // Unsigned chunks.
        let body = format!("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:{CRC32}\r\n\r\n").into_bytes();
        let unsigned = |secret: &str| {
            let mut req = Request::put(url("unsigned"))
                .header("content-encoding", "aws-chunked")
                .header("x-amz-decoded-content-length", "5")
                .header("x-amz-trailer", "x-amz-checksum-crc32")
                .header("content-length", body.len())
                .body(body.clone())
                .unwrap();
            signer(secret)
                .sign(&mut req, PayloadHash::UnsignedTrailer)
                .unwrap();
            raw::send(&req).unwrap()
        };
        assert_eq!(unsigned(&corrupt(&t.secret_key)).status, 403, "{}", t.name);
        let put = unsigned(&t.secret_key);
        assert_eq!(
            put.status,
            200,
            "{}: unsigned trailer: {}",
            t.name,
            put.text()
        );
        let get = |key: &str| plain(&t, Method::GET, &bucket, key, Vec::new());
        let got = get("unsigned");
        assert_eq!(
            (got.status, got.text().as_str()),
            (200, "hello"),
            "{}",
            t.name
        );

        if t.name == "garage" {
            continue;
        }
        // Signed chunks and trailer.
        let signed = |secret: &str, tamper: bool| {
            let mut req = Request::put(url("signed")).body(Vec::new()).unwrap();
            let mut chunks = signer(secret)
                .sign_streaming_with_trailer_at(
                    &mut req,
                    data.len() as u64,
                    65_536,
                    sos_auth::TrailingChecksum::Crc32,
                    std::time::SystemTime::now(),
                )
                .unwrap();
            let mut body = chunks.encode_body_with_trailer(&data, &data_crc32).unwrap();
            if tamper {
                // The last hex digit of the trailer signature.
                let at = body.len() - 5;
                body[at] = if body[at] == b'0' { b'1' } else { b'0' };
            }
            *req.body_mut() = body;
            raw::send(&req).unwrap()
        };
        assert_eq!(
            signed(&corrupt(&t.secret_key), false).status,
            403,
            "{}",
            t.name
        );
        // Refused (s3s-fs answers 500 for it), and nothing is stored.
        let tampered = signed(&t.secret_key, true);
        assert!(
            tampered.status >= 400,
            "{}: a tampered trailer signature was taken: {} {}",
            t.name,
            tampered.status,
            tampered.text()
        );
        assert_eq!(
            get("signed").status,
            404,
            "{}: after a tampered upload",
            t.name
        );
        let put = signed(&t.secret_key, false);
        assert_eq!(
            put.status,
            200,
            "{}: signed trailer: {}",
            t.name,
            put.text()
        );

        let got = get("signed");
        assert_eq!(got.status, 200, "{}: {}", t.name, got.text());
        assert!(got.body == data, "{}: the signed upload differs", t.name);
    }
}
