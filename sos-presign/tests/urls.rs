//! URL shapes and input errors, without a server.

use std::time::{Duration, UNIX_EPOCH};

use sos_auth::Credentials;
use sos_presign::{
    Addressing, Endpoint, Error, Presigner, SignatureVersion, Zone, check_bucket_name,
};

fn t0() -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_323_045)
}

fn presigner(addressing: Addressing) -> Presigner {
    Presigner::new(
        Credentials::new("EXOabc", "secret"),
        Endpoint::zone(Zone::ChGva2).with_addressing(addressing),
    )
}

#[test]
fn zones_and_endpoints() {
    for zone in Zone::ALL {
        assert_eq!(zone.region().parse::<Zone>().unwrap(), zone);
        assert_eq!(Endpoint::zone(zone).host(), format!("sos-{zone}.exo.io"));
        assert_eq!(
            Endpoint::parse(&format!("https://sos-{zone}.exo.io"))
                .unwrap()
                .region(),
            zone.region()
        );
    }
    assert!(matches!(
        "mars-1".parse::<Zone>(),
        Err(Error::InvalidEndpoint { .. })
    ));
    for bad in [
        "ftp://x",
        "http://",
        "http://h/path",
        "http://u@h",
        "sos-ch-gva-2.exo.io",
    ] {
        assert!(Endpoint::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(
        "ch-dk-2".parse::<Endpoint>().unwrap(),
        Endpoint::zone(Zone::ChDk2)
    );
    assert_eq!(
        "http://127.0.0.1:7480/".parse::<Endpoint>().unwrap().host(),
        "127.0.0.1:7480"
    );
}

#[test]
fn v4_url_shape() {
    let url = presigner(Addressing::VirtualHost)
        .get_object("photos", "2026/été.jpg")
        .expires_in(Duration::from_secs(900))
        .response_content_type("image/jpeg")
        .sign_at(t0())
        .unwrap();
    assert!(url.url.starts_with("https://photos.sos-ch-gva-2.exo.io/2026/%C3%A9t%C3%A9.jpg?response-content-type=image%2Fjpeg&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=EXOabc%2F20260102%2Fch-gva-2%2Fs3%2Faws4_request&X-Amz-Date=20260102T030405Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature="), "{}", url.url);
    assert_eq!(url.expires_at, t0() + Duration::from_secs(900));
    assert!(url.headers.is_empty());
}

#[test]
fn v2_url_shape() {
    let url = presigner(Addressing::Path)
        .with_signature_version(SignatureVersion::V2)
        .put_object("b-1", "a b")
        .acl("public-read")
        .expires_at(t0() + Duration::from_secs(60))
        .sign_at(t0())
        .unwrap();
    assert!(url.url.starts_with("https://sos-ch-gva-2.exo.io/b-1/a%20b?AWSAccessKeyId=EXOabc&Expires=1767323105&Signature="), "{}", url.url);
    assert_eq!(url.headers["x-amz-acl"], "public-read");
}

#[test]
fn expiry_limits_are_errors_not_clamps() {
    let p = presigner(Addressing::Path);
    for secs in [0, 604_801, 30 * 86_400] {
        let err = p
            .get_object("bucket", "k")
            .expires_in(Duration::from_secs(secs))
            .sign_at(t0())
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidExpiry { seconds, max: 604_800, .. } if seconds == secs),
            "{secs}: {err}"
        );
    }
    assert!(
        p.get_object("bucket", "k")
            .expires_in(Duration::from_secs(604_800))
            .sign_at(t0())
            .is_ok()
    );
    let v2 = p.clone().with_signature_version(SignatureVersion::V2);
    assert!(
        v2.get_object("bucket", "k")
            .expires_in(Duration::from_secs(30 * 86_400))
            .sign_at(t0())
            .is_ok()
    );
    assert!(matches!(
        v2.get_object("bucket", "k")
            .expires_at(t0() - Duration::from_secs(1))
            .sign_at(t0()),
        Err(Error::InvalidExpiry { .. })
    ));
}

#[test]
fn buckets_named_by_the_older_rules_stay_addressable() {
    // Names S3 allowed before today's rules (capitals, `_`, `.-`): still reachable, and a
    // virtual-host endpoint uses path-style for them, as they cannot be host labels.
    for old in ["Old_Bucket", "UPPER", "a.-b", "ab"] {
        let url = presigner(Addressing::VirtualHost)
            .get_object(old, "k")
            .sign_at(t0())
            .unwrap()
            .url;
        assert!(
            url.starts_with(&format!("https://sos-ch-gva-2.exo.io/{old}/k?")),
            "{url}"
        );
    }
    let url = presigner(Addressing::VirtualHost)
        .get_object("new-bucket", "k")
        .sign_at(t0())
        .unwrap()
        .url;
    assert!(
        url.starts_with("https://new-bucket.sos-ch-gva-2.exo.io/k?"),
        "{url}"
    );
    // A new bucket's name follows today's rules.
    for bad in ["Old_Bucket", "UPPER", "a.-b", "ab", "a..b", "10.0.0.1"] {
        assert!(
            matches!(check_bucket_name(bad), Err(Error::InvalidBucket { .. })),
            "{bad}"
        );
    }
    assert!(check_bucket_name("new-bucket").is_ok());
}

#[test]
fn bad_input_is_a_typed_error() {
    let p = presigner(Addressing::Path);
    for bad in ["", "no/such", "a b", "été"] {
        assert!(
            matches!(
                p.get_object(bad, "k").sign_at(t0()),
                Err(Error::InvalidBucket { .. })
            ),
            "{bad}"
        );
    }
    // S3's 1024-byte limit is for new objects: a longer key (Garage holds them) can still
    // be read, not written.
    assert!(
        p.get_object("bucket", &"k".repeat(1025))
            .sign_at(t0())
            .is_ok()
    );
    assert!(matches!(
        p.put_object("bucket", &"k".repeat(1025)).sign_at(t0()),
        Err(Error::InvalidKey(_))
    ));
    assert!(matches!(
        p.get_object("bucket", "k")
            .header("bad header", "v")
            .sign_at(t0()),
        Err(Error::InvalidHeader { .. })
    ));
    assert!(matches!(
        p.get_object("bucket", "k")
            .metadata("x", "line\nbreak")
            .sign_at(t0()),
        Err(Error::InvalidHeader { .. })
    ));
    assert!(matches!(
        p.upload_part("bucket", "k", "id", 0).sign_at(t0()),
        Err(Error::InvalidKey(_))
    ));
    let ok = p
        .upload_part("bucket", "k", "id+/=", 10_000)
        .sign_at(t0())
        .unwrap();
    assert!(
        ok.url.contains("?partNumber=10000&uploadId=id%2B%2F%3D&"),
        "{}",
        ok.url
    );
}

#[test]
fn presigner_is_fast_enough_to_share() {
    // Clones share the key cache: the key is derived once for any number of URLs.
    let p = presigner(Addressing::Path);
    let q = p.clone();
    let _ = p.get_object("bucket", "a").sign_at(t0()).unwrap();
    let _ = q.get_object("bucket", "b").sign_at(t0()).unwrap();
    assert_eq!(p.v4_signer().key_cache().len(), 1);
}

proptest::proptest! {
    /// Any UTF-8 key gives a URL that parses, and whose path decodes back to bucket + key.
    #[test]
    fn any_key_round_trips(key in "\\PC{1,60}") {
        let url = presigner(Addressing::Path).get_object("bucket", &key).sign_at(t0()).unwrap();
        let uri: http::Uri = url.url.parse().unwrap();
        let path = uri.path();
        let mut decoded = Vec::new();
        let bytes = path.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                decoded.push(u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap());
                i += 3;
            } else {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
        proptest::prop_assert_eq!(String::from_utf8(decoded).unwrap(), format!("/bucket/{key}"));
    }
}

/// From a differential run against botocore and the RADOS Gateway.
#[test]
fn header_values_query_parameters_and_expiry_as_signed() {
    let p = presigner(Addressing::Path);
    // Non-ASCII metadata cannot be sent by a browser: refused, with the reason.
    let err = p
        .put_object("bucket", "k")
        .metadata("note", "café")
        .sign_at(t0())
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidHeader { name, .. } if name == "x-amz-meta-note"),
        "{err}"
    );
    assert!(err.to_string().contains("printable ASCII"), "{err}");
    // Blanks as signed: trimmed, runs made one space.
    let url = p
        .put_object("bucket", "k")
        .metadata("note", "\t a  b\t\tc ")
        .sign_at(t0())
        .unwrap();
    assert_eq!(url.headers["x-amz-meta-note"], "a b c");
    // A version, a sub-resource without a value.
    let url = p
        .get_object("bucket", "k")
        .version_id("3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")
        .sign_at(t0())
        .unwrap();
    assert!(
        url.url
            .contains("/k?versionId=3%2FL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY&X-Amz-"),
        "{}",
        url.url
    );
    for version in [SignatureVersion::V4, SignatureVersion::V2] {
        let url = p
            .clone()
            .with_signature_version(version)
            .request(http::Method::GET, "bucket", "k")
            .query("tagging", "")
            .sign_at(t0())
            .unwrap();
        assert!(url.url.contains("/k?tagging&"), "{}", url.url);
    }
    // The expiry reported is the one the URL carries, to the second.
    let at = t0() + Duration::from_millis(700);
    let url = p
        .get_object("bucket", "k")
        .expires_in(Duration::from_millis(1500))
        .sign_at(at)
        .unwrap();
    assert!(url.url.contains("X-Amz-Expires=1&"), "{}", url.url);
    assert_eq!(url.expires_at, t0() + Duration::from_secs(1));
    let url = p
        .clone()
        .with_signature_version(SignatureVersion::V2)
        .get_object("bucket", "k")
        .expires_at(t0() + Duration::from_millis(2500))
        .sign_at(at)
        .unwrap();
    assert_eq!(url.expires_at, t0() + Duration::from_secs(2));
    // A zone's URL with its default port is still the zone.
    let e = Endpoint::parse("https://sos-ch-gva-2.exo.io:443").unwrap();
    assert_eq!((e.region(), e.host()), ("ch-gva-2", "sos-ch-gva-2.exo.io"));
    let e = Endpoint::parse("http://127.0.0.1:80/").unwrap();
    assert_eq!(e.host(), "127.0.0.1");
}
