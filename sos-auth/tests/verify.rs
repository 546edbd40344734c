//! The verifier: every way a signature can fail has its own error.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use sos_auth::{
    Credentials, Error, PayloadHash, SigV2Signer, SigV4Signer, SignatureVersion, Verifier,
};

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_323_045)
}

fn creds() -> Credentials {
    Credentials::new("AKIDVERIFY", "verify/secret+key").with_session_token("tok en")
}

fn verifier() -> Verifier {
    Verifier::from_credentials([creds()]).with_host_base("s3.localhost:9000")
}

fn signed_v4() -> Request<()> {
    let mut req = Request::put("http://127.0.0.1:9000/bucket/a%20key?uploadId=x%2By&partNumber=3")
        .header("content-type", "text/plain")
        .header("x-amz-meta-note", "  two   spaces ")
        .body(())
        .unwrap();
    SigV4Signer::new(creds(), "ch-gva-2")
        .sign_at(&mut req, PayloadHash::of(b"hi"), t0())
        .unwrap();
    req
}

#[test]
fn v4_header_round_trip() {
    let ok = verifier()
        .verify_at(&signed_v4(), t0() + Duration::from_secs(899))
        .unwrap();
    assert_eq!(ok.version, SignatureVersion::V4Header);
    assert_eq!(ok.access_key, "AKIDVERIFY");
    assert_eq!(ok.region.as_deref(), Some("ch-gva-2"));
    assert_eq!(ok.payload, Some(PayloadHash::of(b"hi")));
}

#[test]
fn v4_header_failures() {
    let v = verifier();
    let mut tampered = signed_v4();
    tampered
        .headers_mut()
        .insert("x-amz-meta-note", HeaderValue::from_static("other"));
    assert!(matches!(
        v.verify_at(&tampered, t0()),
        Err(Error::SignatureMismatch)
    ));

    let mut removed = signed_v4();
    removed.headers_mut().remove("content-type");
    assert!(
        matches!(v.verify_at(&removed, t0()), Err(Error::MalformedSignature(m)) if m.contains("content-type"))
    );

    assert!(matches!(
        v.verify_at(&signed_v4(), t0() + Duration::from_secs(901)),
        Err(Error::RequestTimeTooSkewed {
            max_skew_secs: 900,
            ..
        })
    ));
    assert!(matches!(
        v.verify_at(&signed_v4(), t0() - Duration::from_secs(901)),
        Err(Error::RequestTimeTooSkewed { .. })
    ));

    let other = Verifier::from_credentials([Credentials::new("SOMEONE", "x")]);
    assert!(
        matches!(other.verify_at(&signed_v4(), t0()), Err(Error::UnknownAccessKey(k)) if k == "AKIDVERIFY")
    );

    let wrong_secret =
        Verifier::from_credentials([Credentials::new("AKIDVERIFY", "verify/secret+kez")]);
    assert!(matches!(
        wrong_secret.verify_at(&signed_v4(), t0()),
        Err(Error::SignatureMismatch)
    ));

    let region_bound = Verifier::from_credentials([creds()]).with_region("de-fra-1");
    assert!(matches!(
        region_bound.verify_at(&signed_v4(), t0()),
        Err(Error::InvalidScope(_))
    ));

    let mut unsigned = signed_v4();
    unsigned.headers_mut().remove("authorization");
    assert!(matches!(
        v.verify_at(&unsigned, t0()),
        Err(Error::MissingSignature)
    ));

    for bad in [
        "Bearer abc",
        "AWS4-HMAC-SHA256 garbage",
        "AWS4-HMAC-SHA256 Credential=a/b",
        "AWS nocolon",
    ] {
        let mut req = signed_v4();
        req.headers_mut()
            .insert("authorization", HeaderValue::from_static(bad));
        let err = v.verify_at(&req, t0()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::UnsupportedAlgorithm(_) | Error::MalformedSignature(_)
            ),
            "{bad}: {err:?}"
        );
    }
}

fn presigned_v4(method: &Method, expires: u64) -> Uri {
    let mut headers = HeaderMap::new();
    headers.insert("x-amz-acl", HeaderValue::from_static("public-read"));
    SigV4Signer::new(creds(), "ch-gva-2")
        .presign_at(
            method,
            &"http://127.0.0.1:9000/bucket/k%C3%A9y?response-content-type=text%2Fplain"
                .parse()
                .unwrap(),
            &headers,
            Duration::from_secs(expires),
            t0(),
        )
        .unwrap()
        .parse()
        .unwrap()
}

fn request(method: Method, uri: Uri, acl: bool) -> Request<()> {
    let mut b = Request::builder().method(method).uri(uri);
    if acl {
        b = b.header("x-amz-acl", "public-read");
    }
    b.body(()).unwrap()
}

#[test]
fn v4_query_round_trip_and_failures() {
    let v = verifier();
    let url = presigned_v4(&Method::PUT, 60);
    assert!(
        url.query()
            .unwrap()
            .contains("X-Amz-Security-Token=tok%20en")
    );
    assert!(
        url.query()
            .unwrap()
            .contains("X-Amz-SignedHeaders=host%3Bx-amz-acl")
    );
    let ok = v
        .verify_at(
            &request(Method::PUT, url.clone(), true),
            t0() + Duration::from_secs(60),
        )
        .unwrap();
    assert_eq!(ok.version, SignatureVersion::V4Query);
    assert_eq!(ok.expires_at, Some(t0() + Duration::from_secs(60)));

    assert!(matches!(
        v.verify_at(
            &request(Method::PUT, url.clone(), true),
            t0() + Duration::from_secs(61)
        ),
        Err(Error::Expired { .. })
    ));
    assert!(matches!(
        v.verify_at(&request(Method::GET, url.clone(), true), t0()),
        Err(Error::SignatureMismatch)
    ));
    assert!(matches!(
        v.verify_at(&request(Method::PUT, url.clone(), false), t0()),
        Err(Error::MalformedSignature(_))
    ));

    // One character of the signature changed.
    let text = url.to_string();
    let last = text.chars().last().unwrap();
    let flipped = format!(
        "{}{}",
        &text[..text.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    assert!(matches!(
        v.verify_at(&request(Method::PUT, flipped.parse().unwrap(), true), t0()),
        Err(Error::SignatureMismatch)
    ));
}

#[test]
fn unsigned_amz_headers_are_refused() {
    // Added to a signed request after signing: an ACL, a copy source. S3 refuses them
    // ("headers present in the request which were not signed"); a verifier that took them
    // would let anyone holding a signed request make an object public or copy another.
    let v = verifier();
    let at = t0() + Duration::from_secs(1);
    for (name, value) in [
        ("x-amz-acl", "public-read"),
        ("x-amz-copy-source", "/other/secret"),
        ("x-amz-meta-extra", "1"),
    ] {
        let mut req = signed_v4();
        req.headers_mut()
            .insert(name, HeaderValue::from_static(value));
        assert!(
            matches!(v.verify_at(&req, at), Err(Error::HeadersNotSigned(ref h)) if h == name),
            "{name}"
        );
    }
    let url = presigned_v4(&Method::PUT, 60);
    let mut req = request(Method::PUT, url.clone(), true);
    req.headers_mut()
        .insert("x-amz-grant-read", HeaderValue::from_static("uri=\"x\""));
    assert!(matches!(
        v.verify_at(&req, at),
        Err(Error::HeadersNotSigned(ref h)) if h == "x-amz-grant-read"
    ));
    // `x-amz-content-sha256` may go unsigned with a pre-signed URL (its value is in the
    // canonical request either way); headers other than `x-amz-*` too.
    let mut req = request(Method::PUT, url, true);
    req.headers_mut().insert(
        "x-amz-content-sha256",
        HeaderValue::from_static("UNSIGNED-PAYLOAD"),
    );
    req.headers_mut()
        .insert("user-agent", HeaderValue::from_static("curl/8"));
    v.verify_at(&req, at).unwrap();
}

#[test]
fn v2_round_trips_and_failures() {
    let signer = SigV2Signer::new(creds()).with_host_base("s3.localhost:9000");
    let v = verifier();
    for uri in [
        "http://127.0.0.1:9000/bucket/a%20b?acl",
        "http://bucket.s3.localhost:9000/a%20b?uploads",
    ] {
        let mut req = Request::post(uri)
            .header("content-md5", "abc==")
            .body(())
            .unwrap();
        signer.sign_at(&mut req, t0()).unwrap();
        assert_eq!(
            v.verify_at(&req, t0()).unwrap().version,
            SignatureVersion::V2Header,
            "{uri}"
        );
        assert!(matches!(
            v.verify_at(&req, t0() + Duration::from_secs(3600)),
            Err(Error::RequestTimeTooSkewed { .. })
        ));
        req.headers_mut()
            .insert("content-md5", HeaderValue::from_static("abd=="));
        assert!(
            matches!(v.verify_at(&req, t0()), Err(Error::SignatureMismatch)),
            "{uri}"
        );
    }
    let url = signer
        .presign_at(
            &Method::GET,
            &"http://bucket.s3.localhost:9000/k".parse().unwrap(),
            &HeaderMap::new(),
            t0() + Duration::from_secs(30),
        )
        .unwrap()
        .parse::<Uri>()
        .unwrap();
    let ok = v
        .verify_at(&request(Method::GET, url.clone(), false), t0())
        .unwrap();
    assert_eq!(ok.version, SignatureVersion::V2Query);
    assert!(matches!(
        v.verify_at(
            &request(Method::GET, url.clone(), false),
            t0() + Duration::from_secs(31)
        ),
        Err(Error::Expired { .. })
    ));
    assert!(matches!(
        v.verify_at(&request(Method::DELETE, url, false), t0()),
        Err(Error::SignatureMismatch)
    ));
}

proptest::proptest! {
    /// Arbitrary Authorization headers and queries give an error, never a panic.
    #[test]
    fn verifier_never_panics(auth in "\\PC{0,200}", query in "[ -~]{0,200}") {
        let v = verifier();
        let mut req = Request::get("http://127.0.0.1:9000/b/k").body(()).unwrap();
        if let Ok(value) = HeaderValue::from_str(&auth) {
            req.headers_mut().insert("authorization", value);
            req.headers_mut().insert("x-amz-date", HeaderValue::from_static("20260102T030405Z"));
            req.headers_mut().insert("x-amz-content-sha256", HeaderValue::from_static("UNSIGNED-PAYLOAD"));
            let _ = v.verify_at(&req, t0());
        }
        let q: String = query.chars().filter(|c| !matches!(c, ' ' | '"' | '#' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}')).collect();
        for prefix in ["X-Amz-Algorithm=AWS4-HMAC-SHA256&", "AWSAccessKeyId=AKIDVERIFY&Signature=x&", ""] {
            if let Ok(uri) = format!("http://127.0.0.1:9000/b/k?{prefix}{q}").parse::<Uri>() {
                let _ = v.verify_at(&request(Method::GET, uri, false), t0());
            }
        }
    }
}

#[test]
fn repeated_headers_are_joined_in_order() {
    let req = Request::get("http://127.0.0.1:9000/b/k")
        .header("x-amz-meta-b", " 2 ")
        .header("x-amz-meta-a", "z")
        .header("x-amz-meta-b", "1")
        .header("x-amz-meta-b", "3  4")
        .body(())
        .unwrap();
    let signer = SigV4Signer::new(creds(), "ch-gva-2");
    let canonical = signer
        .canonical_request_at(&req, PayloadHash::EMPTY, t0())
        .unwrap();
    assert!(
        canonical.contains("\nx-amz-meta-a:z\nx-amz-meta-b:2,1,3 4\nx-amz-security-token:tok en\n"),
        "{canonical}"
    );
    assert!(canonical.contains("\nhost;x-amz-content-sha256;x-amz-date;x-amz-meta-a;x-amz-meta-b;x-amz-security-token\n"), "{canonical}");
    let mut signed = req;
    signer
        .sign_at(&mut signed, PayloadHash::EMPTY, t0())
        .unwrap();
    verifier().verify_at(&signed, t0()).unwrap();
}

/// A streaming upload (with a trailing checksum or not) signed by us: the verifier accepts
/// the request, and its chunk verifier takes the body apart; a changed byte, a wrong chunk
/// signature or a cut body is refused.
#[test]
fn streaming_bodies_are_verified_chunk_by_chunk() {
    use sos_auth::TrailingChecksum;
    let creds = Credentials::new("EXOabc", "secret");
    let now = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
    let signer = SigV4Signer::new(creds.clone(), "ch-gva-2");
    let verifier = Verifier::from_credentials([creds]);
    let data: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
    for trailer in [None, Some(TrailingChecksum::Crc32)] {
        let mut request = http::Request::put("https://sos-ch-gva-2.exo.io/b/k")
            .body(())
            .unwrap();
        let body = match trailer {
            None => signer
                .sign_streaming_at(&mut request, data.len() as u64, 16_384, now)
                .unwrap()
                .encode_body(&data),
            Some(t) => signer
                .sign_streaming_with_trailer_at(&mut request, data.len() as u64, 16_384, t, now)
                .unwrap()
                .encode_body_with_trailer(&data, "AAAAAA==")
                .unwrap(),
        };
        let verified = verifier.verify_at(&request, now).unwrap();
        let chunks = verified.chunk_verifier().expect("a chunk verifier");
        let shown = format!("{chunks:?} {verified:?}");
        let key = sos_auth::SigningKey::derive(&"secret".into(), "20260102", "ch-gva-2", "s3");
        let key_hex: String = key.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert!(
            !shown.contains("secret") && !shown.contains(&key_hex),
            "{shown}"
        );
        let decoded = chunks.clone().decode_body(&body).unwrap();
        assert_eq!(decoded.data, data, "{trailer:?}");
        assert_eq!(
            decoded.trailer,
            trailer.map(|t| (t.header_name().to_owned(), "AAAAAA==".to_owned()))
        );

        let mut changed = body.clone();
        changed[40_000] ^= 1;
        assert!(matches!(
            chunks.clone().decode_body(&changed),
            Err(Error::SignatureMismatch)
        ));
        let text = String::from_utf8_lossy(&body).into_owned();
        let sig_at = text.find(";chunk-signature=").unwrap() + ";chunk-signature=".len();
        let mut wrong_sig = body.clone();
        wrong_sig[sig_at] = if wrong_sig[sig_at] == b'0' {
            b'1'
        } else {
            b'0'
        };
        assert!(matches!(
            chunks.clone().decode_body(&wrong_sig),
            Err(Error::SignatureMismatch)
        ));
        assert!(matches!(
            chunks.clone().decode_body(&body[..body.len() - 3]),
            Err(Error::MalformedSignature(_))
        ));
    }
    // Other payloads have no chunks to verify.
    let mut request = http::Request::get("https://sos-ch-gva-2.exo.io/b/k")
        .body(())
        .unwrap();
    signer
        .sign_at(&mut request, sos_auth::PayloadHash::EMPTY, now)
        .unwrap();
    assert!(
        verifier
            .verify_at(&request, now)
            .unwrap()
            .chunk_verifier()
            .is_none()
    );
}

/// From a review: the chunk verifier holds a body to what its request announced, parses
/// sizes strictly; the trailer writer refuses what is not base64; an oversized body is an
/// error; a URI host in capitals (HTTP/2: no Host header) is checked as received.
#[test]
fn streaming_edges_and_host_case() {
    use sos_auth::TrailingChecksum;
    let creds = Credentials::new("EXOabc", "secret");
    let now = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
    let signer = SigV4Signer::new(creds.clone(), "ch-gva-2");
    let verifier = Verifier::from_credentials([creds.clone()]);
    let signed = |len: u64, trailer: Option<TrailingChecksum>| {
        let mut request = Request::put("https://sos-ch-gva-2.exo.io/b/k")
            .body(())
            .unwrap();
        let chunks = match trailer {
            None => signer.sign_streaming_at(&mut request, len, 8, now),
            Some(t) => signer.sign_streaming_with_trailer_at(&mut request, len, 8, t, now),
        }
        .unwrap();
        let chunks_verifier = verifier
            .verify_at(&request, now)
            .unwrap()
            .chunk_verifier()
            .unwrap();
        (chunks, chunks_verifier)
    };
    // More data than announced.
    let (mut chunks, check) = signed(4, None);
    let body = chunks.encode_body(b"0123456789");
    assert!(matches!(
        check.clone().decode_body(&body),
        Err(Error::MalformedSignature(_))
    ));
    // A size with a sign, or too many digits.
    let (mut chunks, check) = signed(4, None);
    let body = chunks.encode_body(b"0123");
    let plus = [b"+".as_slice(), &body].concat();
    assert!(matches!(
        check.clone().decode_body(&plus),
        Err(Error::MalformedSignature(_))
    ));
    let decoded = check.clone().decode_body(&body).unwrap();
    assert_eq!(
        (decoded.data.as_slice(), decoded.trailer),
        (b"0123".as_slice(), None)
    );
    // A trailer other than the announced one, signed properly.
    let (mut chunks, check) = signed(4, Some(TrailingChecksum::Crc32));
    let mut body = Vec::new();
    chunks.write_chunk(b"0123", &mut body);
    chunks.write_chunk_header(&[], &mut body);
    let sig = chunks.sign_trailer("x-amz-meta-evil", "hello").to_owned();
    body.extend_from_slice(
        format!("x-amz-meta-evil:hello\r\nx-amz-trailer-signature:{sig}\r\n\r\n").as_bytes(),
    );
    assert!(matches!(
        check.clone().decode_body(&body),
        Err(Error::MalformedSignature(_))
    ));
    // Only base64 goes into a trailer.
    let (mut chunks, _) = signed(0, Some(TrailingChecksum::Crc32));
    assert!(chunks.encode_body_with_trailer(b"", "AB\r\nCDEF").is_err());
    assert!(chunks.encode_body_with_trailer(b"", " NhCmhg=").is_err());
    // A body whose length does not fit is an error, not a wrapped Content-Length.
    let mut request = Request::put("https://sos-ch-gva-2.exo.io/b/k")
        .body(())
        .unwrap();
    assert!(matches!(
        signer.sign_streaming_at(&mut request, u64::MAX, 1, now),
        Err(Error::InvalidRequest(_))
    ));
    assert_eq!(sos_auth::ChunkSigner::encoded_length(u64::MAX, 1), u64::MAX);

    // A client that signs the host as written (aws-sigv4, curl) and a server without a Host
    // header (HTTP/2): accepted. Ours, which signs it lower-cased: accepted too.
    let mut as_written = Request::get("https://sos-ch-gva-2.exo.io/b/k")
        .header("host", "SOS-CH-GVA-2.EXO.IO")
        .body(())
        .unwrap();
    signer
        .sign_at(&mut as_written, PayloadHash::EMPTY, now)
        .unwrap();
    let mut received = Request::get("https://SOS-CH-GVA-2.EXO.IO/b/k")
        .body(())
        .unwrap();
    for name in ["authorization", "x-amz-date", "x-amz-content-sha256"] {
        received
            .headers_mut()
            .insert(name, as_written.headers()[name].clone());
    }
    verifier.verify_at(&received, now).unwrap();
    let mut ours = Request::get("https://SOS-CH-GVA-2.EXO.IO/b/k")
        .body(())
        .unwrap();
    signer.sign_at(&mut ours, PayloadHash::EMPTY, now).unwrap();
    *ours.uri_mut() = "https://SOS-CH-GVA-2.EXO.IO/b/k".parse().unwrap();
    verifier.verify_at(&ours, now).unwrap();
    // A pre-signed URL with a Host header given keeps the URL's host as it is signed.
    let mut host = HeaderMap::new();
    host.insert("host", HeaderValue::from_static("SOS.EXO.IO"));
    let url = signer
        .presign_url_at(
            &Method::GET,
            "https://SOS.EXO.IO/b/k",
            &host,
            Duration::from_secs(60),
            now,
        )
        .unwrap();
    assert!(url.starts_with("https://SOS.EXO.IO/b/k?"), "{url}");
}

/// The `Authorization` header of `req`, with `edit` applied.
fn edit_auth(req: &mut Request<()>, edit: impl Fn(&str) -> String) {
    let auth = edit(req.headers()["authorization"].to_str().unwrap());
    req.headers_mut()
        .insert("authorization", HeaderValue::from_str(&auth).unwrap());
}

/// From a differential against the RADOS Gateway: a V2 pre-signed URL carries its `x-amz-*`
/// headers in the query (botocore signs them as headers and moves them there; the gateway
/// signs `x-amz-meta-*` from the query). The URL used without those headers is accepted, and
/// one added to the query after signing is refused (it used to go unchecked).
#[test]
fn v2_presigned_amz_query_parameters_are_signed() {
    let signer = SigV2Signer::new(creds()).with_host_base("s3.localhost:9000");
    let v = verifier();
    let uri: Uri = "http://127.0.0.1:9000/bucket/k".parse().unwrap();
    let mut meta = HeaderMap::new();
    meta.insert("x-amz-meta-a", HeaderValue::from_static("1"));
    let expires = t0() + Duration::from_secs(60);
    let signed_with_meta = signer
        .presign_at(&Method::PUT, &uri, &meta, expires)
        .unwrap();
    // botocore's form: the header moved to the query, not sent.
    let moved: Uri = format!("{signed_with_meta}&x-amz-meta-a=1")
        .parse()
        .unwrap();
    let ok = v
        .verify_at(&request(Method::PUT, moved.clone(), false), t0())
        .unwrap();
    assert_eq!(ok.version, SignatureVersion::V2Query);
    // A different value, or a parameter the signature did not cover, is refused.
    let changed: Uri = format!("{signed_with_meta}&x-amz-meta-a=2")
        .parse()
        .unwrap();
    assert!(matches!(
        v.verify_at(&request(Method::PUT, changed, false), t0()),
        Err(Error::SignatureMismatch)
    ));
    let plain = signer
        .presign_at(&Method::PUT, &uri, &HeaderMap::new(), expires)
        .unwrap();
    for added in ["x-amz-meta-a=1", "X-Amz-Acl=public-read"] {
        let uri: Uri = format!("{plain}&{added}").parse().unwrap();
        assert!(
            matches!(
                v.verify_at(&request(Method::PUT, uri, false), t0()),
                Err(Error::SignatureMismatch)
            ),
            "{added}"
        );
    }
    // A line break decoded from the query would write a line of its own into the string to
    // sign (here: a metadata value signed as such, turned into an ACL line).
    let mut acl = HeaderMap::new();
    acl.insert("x-amz-acl", HeaderValue::from_static("public-read"));
    acl.insert("x-amz-meta-a", HeaderValue::from_static("1"));
    let signed_with_acl = signer
        .presign_at(&Method::PUT, &uri, &acl, expires)
        .unwrap();
    let injected: Uri = format!("{signed_with_acl}&x-amz-acl=public-read%0Ax-amz-meta-a:1")
        .parse()
        .unwrap();
    assert!(matches!(
        v.verify_at(&request(Method::PUT, injected, false), t0()),
        Err(Error::MalformedSignature(_))
    ));
    // Sent both as a header and in the query: both values count, so a signature over one
    // of them does not cover the other.
    let mut both = request(Method::PUT, moved, false);
    both.headers_mut()
        .insert("x-amz-meta-a", HeaderValue::from_static("1"));
    assert!(matches!(
        v.verify_at(&both, t0()),
        Err(Error::SignatureMismatch)
    ));
}

/// S3 refuses a credential scope of another service (AWS: "If the credential scope does
/// not specify the same service as the host header, the signature verification step
/// fails"); Garage answers `AuthorizationHeaderMalformed`. A key derived for another
/// service must not sign S3 requests.
#[test]
fn the_scope_must_name_the_service() {
    let signer = SigV4Signer::new(creds(), "ch-gva-2").with_service("sts");
    let mut req = Request::get("http://127.0.0.1:9000/bucket/k")
        .body(())
        .unwrap();
    signer.sign_at(&mut req, PayloadHash::EMPTY, t0()).unwrap();
    assert!(
        matches!(verifier().verify_at(&req, t0()), Err(Error::InvalidScope(m)) if m.contains("sts"))
    );
    let url: Uri = signer
        .presign_at(
            &Method::GET,
            &"http://127.0.0.1:9000/bucket/k".parse().unwrap(),
            &HeaderMap::new(),
            Duration::from_secs(60),
            t0(),
        )
        .unwrap()
        .parse()
        .unwrap();
    assert!(matches!(
        verifier().verify_at(&request(Method::GET, url.clone(), false), t0()),
        Err(Error::InvalidScope(_))
    ));
    // A verifier for that service takes them.
    let sts = verifier().with_service("sts");
    sts.verify_at(&req, t0()).unwrap();
    sts.verify_at(&request(Method::GET, url, false), t0())
        .unwrap();
}

/// `SignedHeaders` is a sorted list of distinct lower-case names, and S3 signs it as sent:
/// the gateway refuses a list in another order (signed over the sorted headers), Garage and
/// s3s one with a repeat. The verifier used to rebuild the list sorted and accept both.
#[test]
fn signed_headers_must_be_sorted_and_distinct() {
    let v = verifier();
    let at = t0() + Duration::from_secs(1);
    v.verify_at(&signed_v4(), at).unwrap();
    for (from, to) in [
        (
            "SignedHeaders=content-type;host;",
            "SignedHeaders=host;content-type;",
        ),
        (
            "SignedHeaders=content-type;host;",
            "SignedHeaders=content-type;host;host;",
        ),
        (
            "SignedHeaders=content-type;host;",
            "SignedHeaders=content-type;Host;",
        ),
        (
            "SignedHeaders=content-type;host;",
            "SignedHeaders=content-type;;host;",
        ),
    ] {
        let mut req = signed_v4();
        edit_auth(&mut req, |a| {
            assert!(a.contains(from), "{a}");
            a.replace(from, to)
        });
        assert!(
            matches!(v.verify_at(&req, at), Err(Error::MalformedSignature(ref m)) if m.contains("SignedHeaders")),
            "{to}: {:?}",
            v.verify_at(&req, at)
        );
    }
}

/// One signature per request. S3: "Only one auth mechanism allowed; only the X-Amz-Algorithm
/// query parameter, Signature query string parameter or the Authorization header should be
/// specified". Two `Authorization` headers are refused too (the gateway reads the second,
/// a verifier reading the first would judge another request), as is a parameter of the
/// signature given twice (Garage and s3s refuse a repeated `X-Amz-Signature`).
#[test]
fn one_signature_said_once() {
    let v = verifier();
    let at = t0() + Duration::from_secs(1);
    let malformed = |r: sos_auth::Result<sos_auth::VerifiedRequest>| {
        matches!(r, Err(Error::MalformedSignature(_)))
    };

    let mut twice = signed_v4();
    twice.headers_mut().append(
        "authorization",
        HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=x/20260102/a/s3/aws4_request"),
    );
    assert!(malformed(v.verify_at(&twice, at)));

    // A header signature over a URL that also holds pre-signed parameters (signed as query).
    let v4 = SigV4Signer::new(creds(), "ch-gva-2");
    for query in [
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "Signature=abc&AWSAccessKeyId=x",
    ] {
        let mut req = Request::get(format!("http://127.0.0.1:9000/bucket/k?{query}"))
            .body(())
            .unwrap();
        v4.sign_at(&mut req, PayloadHash::EMPTY, t0()).unwrap();
        assert!(malformed(v.verify_at(&req, at)), "{query}");
    }
    let v2 = SigV2Signer::new(creds()).with_host_base("s3.localhost:9000");
    let mut req = Request::get("http://127.0.0.1:9000/bucket/k?Signature=abc&AWSAccessKeyId=x")
        .body(())
        .unwrap();
    v2.sign_at(&mut req, t0()).unwrap();
    assert!(malformed(v.verify_at(&req, at)));

    // The same element twice in the Authorization header.
    let mut req = signed_v4();
    edit_auth(&mut req, |a| {
        let credential = a.split(", ").next().unwrap().split(' ').nth(1).unwrap();
        format!("{a}, {credential}")
    });
    assert!(malformed(v.verify_at(&req, at)));

    // A pre-signed parameter twice, even with the same value.
    let url = presigned_v4(&Method::PUT, 60).to_string();
    for name in ["X-Amz-Signature", "X-Amz-Date", "X-Amz-Security-Token"] {
        let pair = url
            .split(['?', '&'])
            .find(|p| p.starts_with(&format!("{name}=")))
            .unwrap();
        let uri: Uri = format!("{url}&{pair}").parse().unwrap();
        assert!(
            malformed(v.verify_at(&request(Method::PUT, uri, true), at)),
            "{name}"
        );
    }
    let url = v2
        .presign_at(
            &Method::GET,
            &"http://127.0.0.1:9000/bucket/k".parse().unwrap(),
            &HeaderMap::new(),
            t0() + Duration::from_secs(30),
        )
        .unwrap();
    v.verify_at(&request(Method::GET, url.parse().unwrap(), false), t0())
        .unwrap();
    let pair = url
        .split(['?', '&'])
        .find(|p| p.starts_with("Signature="))
        .unwrap();
    let uri: Uri = format!("{url}&{pair}").parse().unwrap();
    assert!(malformed(
        v.verify_at(&request(Method::GET, uri, false), t0())
    ));

    // A V4 pre-signed query that also carries V2's parameters (signed with it): S3's "Only
    // one auth mechanism allowed".
    let url = SigV4Signer::new(creds(), "ch-gva-2")
        .presign_at(
            &Method::GET,
            &"http://127.0.0.1:9000/bucket/k?AWSAccessKeyId=x&Signature=abc"
                .parse()
                .unwrap(),
            &HeaderMap::new(),
            Duration::from_secs(60),
            t0(),
        )
        .unwrap();
    assert!(malformed(v.verify_at(
        &request(Method::GET, url.parse().unwrap(), false),
        at
    )));
}

/// S3: X-Amz-Expires is "between 1 and 604800": 0 is malformed (it used to be reported as
/// an expired URL).
#[test]
fn x_amz_expires_zero_is_malformed() {
    let url = presigned_v4(&Method::PUT, 1).to_string();
    assert!(url.contains("X-Amz-Expires=1&"), "{url}");
    let zero: Uri = url
        .replace("X-Amz-Expires=1&", "X-Amz-Expires=0&")
        .parse()
        .unwrap();
    let err = verifier()
        .verify_at(&request(Method::PUT, zero, true), t0())
        .unwrap_err();
    assert!(
        matches!(err, Error::MalformedSignature(ref m) if m.contains("X-Amz-Expires")),
        "{err:?}"
    );
}

/// V2 edges the gateway decides: `AWS  AKID:sig` (two spaces) names the key ` AKID`
/// (`InvalidAccessKeyId`; it used to be trimmed and accepted); an `x-amz-date` in SigV4's
/// `YYYYMMDDTHHMMSSZ` form is a time the gateway and s3s take (it used to be malformed).
#[test]
fn v2_header_edges() {
    let signer = SigV2Signer::new(creds()).with_host_base("s3.localhost:9000");
    let v = verifier();
    let mut req = Request::get("http://127.0.0.1:9000/bucket/k")
        .body(())
        .unwrap();
    signer.sign_at(&mut req, t0()).unwrap();
    v.verify_at(&req, t0()).unwrap();
    edit_auth(&mut req, |a| a.replacen("AWS ", "AWS  ", 1));
    assert!(
        matches!(v.verify_at(&req, t0()), Err(Error::UnknownAccessKey(k)) if k == " AKIDVERIFY")
    );

    let sts = "GET\n\n\n\nx-amz-date:20260102T030405Z\nx-amz-security-token:tok en\n/bucket/k";
    let mut req = Request::get("http://127.0.0.1:9000/bucket/k")
        .header("x-amz-date", "20260102T030405Z")
        .header("x-amz-security-token", "tok en")
        .body(())
        .unwrap();
    let auth = format!("AWS AKIDVERIFY:{}", signer.sign_string(sts));
    req.headers_mut()
        .insert("authorization", HeaderValue::from_str(&auth).unwrap());
    let ok = v.verify_at(&req, t0() + Duration::from_secs(5)).unwrap();
    assert_eq!(ok.signed_at, Some(t0()));
    assert!(matches!(
        v.verify_at(&req, t0() + Duration::from_secs(901)),
        Err(Error::RequestTimeTooSkewed { .. })
    ));
}
