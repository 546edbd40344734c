//! Pre-signed URLs of other signers' test suites, made again through the [`Presigner`] builder
//! (bucket, key, query, signed headers, expiry): the same signature. The vectors themselves
//! are in `sos-auth/tests/vectors/others/` with their sources (rusty-s3 0.11.0, aws-sdk-go
//! 8d203cc, object_store 0.14.2, aws-sdk-s3 1.157.0, aws-sdk-php 048547d, s3s 0.14.1).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;
use sos_auth::Credentials;
use sos_presign::{Addressing, Endpoint, Presigner, SignatureVersion};

const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn at(unix: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix)
}

fn endpoint(url: &str, region: &str, addressing: Addressing) -> Endpoint {
    Endpoint::parse(url)
        .unwrap()
        .with_region(region)
        .with_addressing(addressing)
}

/// The value of `name` in the query of `url`.
fn param<'u>(url: &'u str, name: &str) -> &'u str {
    url.split_once('?')
        .unwrap()
        .1
        .split('&')
        .find_map(|p| p.strip_prefix(name).and_then(|p| p.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// rusty-s3's actions (src/actions/**), all at 2013-05-24T00:00:00Z for 86400 s.
#[test]
fn rusty_s3_actions() {
    let p = Presigner::new(
        Credentials::new(AK, SK),
        endpoint(
            "https://s3.amazonaws.com",
            "us-east-1",
            Addressing::VirtualHost,
        ),
    );
    let day = Duration::from_secs(86_400);
    let t = at(1_369_353_600);
    let cases = [
        (
            p.get_object("examplebucket", "test.txt"),
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        ),
        (
            p.get_object("examplebucket", "test.txt")
                .response_content_type("text/plain"),
            "9cee3ba363b3a52fed152d18bb250d52a459d0905600d9b032825a3794ffd2cb",
        ),
        (
            p.upload_part("examplebucket", "test.txt", "abcd", 1),
            "d2ed12e1e116c88a79cd6d1726f5fe75c99db8a0292ba000f97ecc309a9303f8",
        ),
        (
            p.request(Method::GET, "examplebucket", "test.txt")
                .query("max-parts", "50")
                .query("part-number-marker", "100")
                .query("uploadId", "abcd"),
            "ea8eecb4f2534d606474497e6088ceb262081bf7c5a289ff0598aafdd66055da",
        ),
        (
            p.request(Method::POST, "examplebucket", "test.txt")
                .query("uploads", "1"),
            "a6289f9e5ff2a914c6e324403bcd00b1d258c568487faa50d317ef0910c25c0a",
        ),
        (
            p.request(Method::PUT, "examplebucket", ""),
            "fb5c8ab11e9fd9d3c54ea0293e1df0820feef6c1f2de12e5fe00636e3f0cf9d2",
        ),
        (
            // object_store's signed_url_with_signed_headers
            p.put_object("examplebucket", "test.txt")
                .content_type("text/plain"),
            "653d5b202899172830dfe331b817de16c682b8b1e366de1b251ae709a20e20f9",
        ),
    ];
    for (request, signature) in cases {
        let url = request.expires_in(day).sign_at(t).unwrap().url;
        assert_eq!(param(&url, "X-Amz-Signature"), signature, "{url}");
    }
}

/// aws-sdk-go's TestPresignHandler (signed headers with a `+`, a space and a `$`, and a
/// session token) and aws-sdk-rust's test_presigned_upload_part (a signed Content-Length).
#[test]
fn aws_sdk_presigned_uploads() {
    let go = Presigner::new(
        Credentials::new("AKID", "SECRET").with_session_token("SESSION"),
        endpoint(
            "https://s3.mock-region.amazonaws.com",
            "mock-region",
            Addressing::VirtualHost,
        ),
    );
    let signed = go
        .put_object("bucket", "key")
        .header("content-disposition", "a+b c$d")
        .acl("public-read")
        .expires_in(Duration::from_secs(300))
        .sign_at(UNIX_EPOCH)
        .unwrap();
    assert!(
        signed
            .url
            .starts_with("https://bucket.s3.mock-region.amazonaws.com/key?"),
        "{}",
        signed.url
    );
    assert_eq!(
        param(&signed.url, "X-Amz-Signature"),
        "2d76a414208c0eac2a23ef9c834db9635ecd5a0fbb447a00ad191f82d854f55b"
    );

    let rust = Presigner::new(
        Credentials::new("ANOTREAL", "notrealrnrELgWzOk3IfjzDKtFBhDby")
            .with_session_token("notarealsessiontoken"),
        endpoint(
            "https://s3.us-east-1.amazonaws.com",
            "us-east-1",
            Addressing::VirtualHost,
        ),
    );
    let signed = rust
        .request(Method::PUT, "bucket", "key")
        .query("x-id", "UploadPart")
        .query("partNumber", "0")
        .query("uploadId", "upload-id")
        .header("content-length", "12345")
        .expires_in(Duration::from_secs(30))
        .sign_at(at(1_234_567_891))
        .unwrap();
    assert_eq!(
        param(&signed.url, "X-Amz-Signature"),
        "a702867244f0bd1fb4d161e2a062520dcbefae3b9992d2e5366bcd61a60c6ddd"
    );
}

/// V2 query authentication: aws-sdk-php's testCreatesPresignedUrls (path-style and virtual
/// host, `Expires` 1397952000) and s3s's example (the developer guide's, Expires 1175139620).
#[test]
fn v2_query_authentication() {
    let path = Presigner::new(
        Credentials::new("foo", "bar"),
        endpoint("http://s3.amazonaws.com", "us-east-1", Addressing::Path),
    )
    .with_signature_version(SignatureVersion::V2);
    let virtual_host = Presigner::new(
        Credentials::new("foo", "bar"),
        endpoint(
            "http://s3.amazonaws.com",
            "us-east-1",
            Addressing::VirtualHost,
        ),
    )
    .with_signature_version(SignatureVersion::V2);
    let expires = at(1_397_952_000);
    let cases = [
        (
            path.get_object("t1234", "test").expires_at(expires),
            "hIZ2sBC96XAf1hiqE%2BuCC8VNKt8%3D",
        ),
        (
            path.put_object("t1234", "put").expires_at(expires),
            "X5F%2FUBPes8Fc6vr%2Bl%2FQ5ltmKxc0%3D",
        ),
        (
            path.put_object("t1234", "put")
                .content_type("foo")
                .expires_at(expires),
            "cAUmoCjwcyKXjY2ilsGX7ghlHUI%3D",
        ),
        (
            virtual_host.head_object("test", "test").expires_at(expires),
            "1DQjgb9HhOH91oLFbwX8wze1tGs%3D",
        ),
    ];
    for (request, signature) in cases {
        let url = request.sign_at(at(1_397_900_000)).unwrap().url;
        assert_eq!(param(&url, "Signature"), signature, "{url}");
        assert_eq!(param(&url, "Expires"), "1397952000", "{url}");
    }

    let s3s = Presigner::new(
        Credentials::new(AK, SK),
        endpoint(
            "http://s3.amazonaws.com",
            "us-east-1",
            Addressing::VirtualHost,
        ),
    )
    .with_signature_version(SignatureVersion::V2);
    let url = s3s
        .get_object("awsexamplebucket1", "photos/puppy.jpg")
        .expires_at(at(1_175_139_620))
        .sign_at(at(1_175_139_000))
        .unwrap()
        .url;
    assert!(
        url.starts_with("http://awsexamplebucket1.s3.amazonaws.com/photos/puppy.jpg?"),
        "{url}"
    );
    assert_eq!(param(&url, "Signature"), "1No4mq5ETf02z8aet9voy6gui6E%3D");
}
