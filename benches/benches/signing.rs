//! Signing benchmarks: sos-auth's V4 header signing (cached and uncached key), V4 pre-signing
//! and V2 header signing, and — with `--features peers` — the same request signed by
//! `aws-sigv4`, `reqsign` and `rusty-s3` (pre-signing only).
//!
//! The request: `GET https://examplebucket.s3.amazonaws.com/photos/2026/puppy%20dog.jpg`
//! with `range: bytes=0-1023`, region `ch-gva-2`, at a fixed time.
//!
//! `cargo bench -p sos-benches --bench signing [--features peers]`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use http::{HeaderMap, Method};
use sos_auth::{Credentials, PayloadHash, SigV2Signer, SigV4Signer};

use sos_benches::{ACCESS_KEY, REGION, SECRET_KEY, URL, request, time};

/// Requests are prepared in batches of 64 outside the timed loop: small enough to stay in
/// cache (criterion's `SmallInput` keeps a tenth of a sample's iterations alive, megabytes of
/// cold requests), the same for every crate measured.
const BATCH: BatchSize = BatchSize::NumIterations(64);

fn ours(c: &mut Criterion) {
    let creds = Credentials::new(ACCESS_KEY, SECRET_KEY);
    let signer = SigV4Signer::new(creds.clone(), REGION);
    let t = time();
    signer
        .sign_at(&mut request(), PayloadHash::EMPTY, t)
        .unwrap(); // warm the key cache

    let mut g = c.benchmark_group("sigv4");
    g.bench_function("header/cached_key", |b| {
        b.iter_batched_ref(
            request,
            |req| {
                signer
                    .sign_at(req, black_box(PayloadHash::EMPTY), black_box(t))
                    .unwrap()
            },
            BATCH,
        );
    });
    g.bench_function("header/cached_key/two_threads", |b| {
        // Clones of one signer on two threads at once (a client's runtime workers): the
        // time per signature of both together. Each thread re-signs one request (the
        // signer replaces its own headers), so nothing is prepared in the timed loop.
        b.iter_custom(|iters| {
            let started = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..2 {
                    let signer = signer.clone();
                    s.spawn(move || {
                        let mut req = request();
                        for _ in 0..iters.div_ceil(2) {
                            signer
                                .sign_at(&mut req, black_box(PayloadHash::EMPTY), black_box(t))
                                .unwrap();
                        }
                    });
                }
            });
            started.elapsed()
        });
    });
    g.bench_function("header/uncached_key", |b| {
        // A new signer each time: its cache is empty, so the key is derived (4 HMACs).
        b.iter_batched_ref(
            || (request(), SigV4Signer::new(creds.clone(), REGION)),
            |(req, fresh)| {
                fresh
                    .sign_at(req, black_box(PayloadHash::EMPTY), black_box(t))
                    .unwrap()
            },
            BATCH,
        );
    });
    let uri: http::Uri = URL.parse().unwrap();
    let no_headers = HeaderMap::new();
    g.bench_function("presign_get", |b| {
        b.iter(|| {
            signer
                .presign_at(
                    &Method::GET,
                    black_box(&uri),
                    &no_headers,
                    Duration::from_secs(3600),
                    black_box(t),
                )
                .unwrap()
        });
    });
    let presigner = sos_presign::Presigner::new(
        creds.clone(),
        sos_presign::Endpoint::parse("https://examplebucket.s3.amazonaws.com")
            .unwrap()
            .with_region(REGION),
    );
    g.bench_function("presign_get/sos-presign_builder", |b| {
        // The whole builder path: bucket check, key encoding, URL assembly, signing.
        b.iter(|| {
            presigner
                .get_object("examplebucket", black_box("photos/2026/puppy dog.jpg"))
                .sign_at(black_box(t))
                .unwrap()
        });
    });
    let policy = sos_presign::PostPolicy::new(
        "examplebucket",
        sos_presign::KeyCondition::StartsWith("uploads/".into()),
    )
    .expires_in(Duration::from_secs(600))
    .content_length_range(1, 10 << 20)
    .content_type_starts_with("image/")
    .acl("private")
    .success_action_status(201)
    .metadata("uploader", "bench");
    g.bench_function("post_policy", |b| {
        b.iter(|| {
            presigner
                .post_form_at(black_box(&policy), black_box(t))
                .unwrap()
        });
    });
    g.finish();

    let v2 = SigV2Signer::new(creds).with_host_base("s3.amazonaws.com");
    c.bench_function("sigv2/header", |b| {
        b.iter_batched_ref(request, |req| v2.sign_at(req, black_box(t)).unwrap(), BATCH);
    });
}

#[cfg(feature = "peers")]
mod peers {
    use super::*;
    use http::Request;

    pub(crate) fn aws_sigv4(c: &mut Criterion) {
        use aws_credential_types::Credentials as AwsCredentials;
        use aws_sigv4::http_request::{
            PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
            SignatureLocation, SigningSettings, UriPathNormalizationMode, sign,
        };
        use aws_smithy_runtime_api::client::identity::Identity;

        let identity: Identity =
            AwsCredentials::new(ACCESS_KEY, SECRET_KEY, None, None, "bench").into();
        let settings = |location: SignatureLocation, expires: Option<Duration>| {
            let mut s = SigningSettings::default();
            s.percent_encoding_mode = PercentEncodingMode::Single;
            s.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
            s.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
            s.signature_location = location;
            s.expires_in = expires;
            s
        };
        let header_params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(REGION)
            .name("s3")
            .time(time())
            .settings(settings(SignatureLocation::Headers, None))
            .build()
            .unwrap()
            .into();
        let query_params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(REGION)
            .name("s3")
            .time(time())
            .settings(settings(
                SignatureLocation::QueryParams,
                Some(Duration::from_secs(3600)),
            ))
            .build()
            .unwrap()
            .into();

        let sign_header = |req: &mut Request<()>| {
            let headers: Vec<(&str, &str)> = req
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
                .collect();
            let signable =
                SignableRequest::new("GET", URL, headers.into_iter(), SignableBody::Bytes(&[]))
                    .unwrap();
            let (instructions, _) = sign(signable, &header_params).unwrap().into_parts();
            instructions.apply_to_request_http1x(req);
        };
        let presign = || {
            let signable = SignableRequest::new(
                "GET",
                URL,
                std::iter::empty(),
                SignableBody::UnsignedPayload,
            )
            .unwrap();
            let (instructions, _) = sign(signable, &query_params).unwrap().into_parts();
            let mut req = Request::get(URL).body(()).unwrap();
            instructions.apply_to_request_http1x(&mut req);
            req.uri().to_string()
        };
        // Sanity: the peer really signs.
        let mut check = request();
        sign_header(&mut check);
        assert!(
            check.headers()["authorization"]
                .to_str()
                .unwrap()
                .contains("Signature=")
        );
        assert!(presign().contains("X-Amz-Signature="));

        c.bench_function("peers/aws-sigv4/header", |b| {
            b.iter_batched_ref(request, |req| sign_header(req), BATCH);
        });
        c.bench_function("peers/aws-sigv4/presign_get", |b| b.iter(presign));
    }

    pub(crate) fn reqsign(c: &mut Criterion) {
        use reqsign_core::{Context, SignRequest};
        let signer = reqsign_aws_v4::RequestSigner::new("s3", REGION);
        let cred = reqsign_aws_v4::Credential {
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: SECRET_KEY.into(),
            session_token: None,
            expires_in: None,
        };
        let ctx = Context::new();
        // reqsign reads the clock itself (its fixed-time hook is test-only).
        let sign = |parts: &mut http::request::Parts| {
            futures_executor::block_on(signer.sign_request(&ctx, parts, Some(&cred), None))
                .unwrap();
        };
        let parts = || {
            let mut p = request().into_parts().0;
            p.headers
                .insert("x-amz-content-sha256", sos_auth_empty_hash());
            p
        };
        let mut check = parts();
        sign(&mut check);
        assert!(
            check.headers["authorization"]
                .to_str()
                .unwrap()
                .contains("Signature=")
        );
        c.bench_function("peers/reqsign/header", |b| {
            b.iter_batched_ref(parts, |p| sign(p), BATCH);
        });
    }

    fn sos_auth_empty_hash() -> http::HeaderValue {
        http::HeaderValue::from_static(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        )
    }

    pub(crate) fn rusty_s3(c: &mut Criterion) {
        use rusty_s3::{Bucket, S3Action, UrlStyle};
        let bucket = Bucket::new(
            url::Url::parse("https://s3.amazonaws.com").unwrap(),
            UrlStyle::VirtualHost,
            "examplebucket",
            REGION,
        )
        .unwrap();
        let creds = rusty_s3::Credentials::new(ACCESS_KEY, SECRET_KEY);
        let t = jiff::Timestamp::from_second(1_767_323_045).unwrap();
        let presign = || {
            bucket
                .get_object(Some(&creds), "photos/2026/puppy dog.jpg")
                .sign_with_time(Duration::from_secs(3600), black_box(&t))
        };
        assert!(presign().as_str().contains("X-Amz-Signature="));
        c.bench_function("peers/rusty-s3/presign_get", |b| b.iter(presign));
    }
}

#[cfg(feature = "peers")]
fn peer_benches(c: &mut Criterion) {
    peers::aws_sigv4(c);
    peers::reqsign(c);
    peers::rusty_s3(c);
}

#[cfg(not(feature = "peers"))]
fn peer_benches(_: &mut Criterion) {}

criterion_group!(benches, ours, peer_benches);
criterion_main!(benches);
