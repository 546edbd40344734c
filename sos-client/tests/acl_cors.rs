//! ACLs really enforced (the RADOS Gateway) and CORS configurations (the gateway and
//! Garage), checked from the outside with anonymous curl requests.

use std::process::Command;

use http::Method;
use sos_acl::{CorsRule, Grant, Grantee, Permission};
use sos_client::{
    AccessControlPolicy, Addressing, CannedAcl, Client, CorsConfiguration, Credentials, Endpoint,
    ErrorCode, SignatureVersion,
};

use crate::common::{self, Target, remove_bucket};

/// `curl` status of an anonymous request.
fn curl_status(args: &[&str]) -> u16 {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "20",
        ])
        .args(args)
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

fn object_url(target: &Target, bucket: &str, key: &str) -> String {
    Endpoint::parse(&target.endpoint)
        .unwrap()
        .object_url(bucket, key)
        .unwrap()
}

async fn acl_enforced(target: &Target, client: &Client, label: &str) {
    let bucket = target.bucket(client, "sos-acl").await;
    let key = "shared/photo 1.jpg";
    client
        .put_object(&bucket, key)
        .body("pixels")
        .send()
        .await
        .unwrap();
    let url = object_url(target, &bucket, key);
    assert_eq!(curl_status(&[&url]), 403, "{label}: private by default");

    client
        .set_object_acl(&bucket, key, CannedAcl::PublicRead)
        .await
        .unwrap();
    assert_eq!(curl_status(&[&url]), 200, "{label}: public-read");
    let acl = client.get_object_acl(&bucket, key).await.unwrap();
    assert!(acl.readable_by_everyone(), "{label}: {acl:?}");
    assert!(!acl.writable_by_everyone(), "{label}");

    client
        .set_object_acl(&bucket, key, CannedAcl::Private)
        .await
        .unwrap();
    assert_eq!(curl_status(&[&url]), 403, "{label}: private again");
    assert!(
        !client
            .get_object_acl(&bucket, key)
            .await
            .unwrap()
            .readable_by_everyone()
    );

    // An ACL given at upload, and a full policy document put back.
    client
        .put_object(&bucket, "open.txt")
        .body("open")
        .acl(CannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    let open_url = object_url(target, &bucket, "open.txt");
    assert_eq!(curl_status(&[&open_url]), 200, "{label}");
    let policy = client.get_object_acl(&bucket, "open.txt").await.unwrap();
    let private = AccessControlPolicy::new(policy.owner.clone()).with_grant(Grant::new(
        policy.owner.as_grantee(),
        Permission::FullControl,
    ));
    client
        .put_object_acl(&bucket, "open.txt", &private)
        .await
        .unwrap();
    assert_eq!(curl_status(&[&open_url]), 403, "{label}");
    client
        .put_object_acl(&bucket, "open.txt", &policy)
        .await
        .unwrap();
    assert_eq!(curl_status(&[&open_url]), 200, "{label}");

    // Bucket ACL: public-read lets anyone list.
    let bucket_url = object_url(target, &bucket, "");
    assert_eq!(curl_status(&[&bucket_url]), 403, "{label}");
    client
        .set_bucket_acl(&bucket, CannedAcl::PublicRead)
        .await
        .unwrap();
    assert_eq!(curl_status(&[&bucket_url]), 200, "{label}");
    assert!(
        client
            .get_bucket_acl(&bucket)
            .await
            .unwrap()
            .readable_by_everyone()
    );
    client
        .set_bucket_acl(&bucket, CannedAcl::Private)
        .await
        .unwrap();
    assert_eq!(curl_status(&[&bucket_url]), 403, "{label}");

    // A grant to another user, by canonical id.
    if let Some((access, secret)) = &target.second_user {
        let other = Client::builder()
            .endpoint(target.endpoint_for(Addressing::Path))
            .credentials(Credentials::new(access.clone(), secret.clone()))
            .build()
            .unwrap();
        let denied = other.get_object(&bucket, key).bytes().await.unwrap_err();
        assert_eq!(
            denied.code(),
            Some(&ErrorCode::AccessDenied),
            "{label}: {denied}"
        );
        let own = target.bucket(&other, "sos-acl-other").await;
        let other_id = other.get_bucket_acl(&own).await.unwrap().owner.id;
        let mut acl = client.get_object_acl(&bucket, key).await.unwrap();
        acl.grants
            .push(Grant::new(Grantee::user(other_id), Permission::Read));
        client.put_object_acl(&bucket, key, &acl).await.unwrap();
        assert_eq!(
            other.get_object(&bucket, key).bytes().await.unwrap(),
            "pixels"
        );
        assert_eq!(curl_status(&[&url]), 403, "{label}: still not public");
        other.delete_bucket(&own).await.unwrap();
    }
    remove_bucket(client, &bucket).await;
}

#[tokio::test]
async fn rados_gateway_acls_are_enforced() {
    let Some(target) = common::rados_gateway() else {
        return;
    };
    for version in [SignatureVersion::V4, SignatureVersion::V2] {
        let client = target.client_with(version, Addressing::VirtualHost);
        acl_enforced(&target, &client, &format!("radosgw {version:?}")).await;
    }
}

async fn cors_round_trip(target: &Target, client: &Client, bucket: &str) {
    assert_eq!(
        client.get_bucket_cors(bucket).await.unwrap(),
        None,
        "{}",
        target.name
    );
    let cors = CorsConfiguration::new()
        .with_rule(
            CorsRule::new()
                .with_allowed_origin("https://app.example.com")
                .with_allowed_methods([Method::GET, Method::PUT])
                .with_allowed_header("content-type")
                .with_max_age_seconds(600),
        )
        .build()
        .unwrap();
    client.put_bucket_cors(bucket, &cors).await.unwrap();
    let back = client
        .get_bucket_cors(bucket)
        .await
        .unwrap()
        .expect("a configuration");
    assert_eq!(back.rules.len(), 1, "{}: {back:?}", target.name);
    let url = object_url(target, bucket, "any.txt");
    let preflight = |origin: &str| {
        curl_status(&[
            "-X",
            "OPTIONS",
            "-H",
            &format!("Origin: {origin}"),
            "-H",
            "Access-Control-Request-Method: PUT",
            &url,
        ])
    };
    assert_eq!(preflight("https://app.example.com"), 200, "{}", target.name);
    assert_eq!(
        preflight("https://evil.example.com"),
        403,
        "{}",
        target.name
    );
    client.delete_bucket_cors(bucket).await.unwrap();
    assert_eq!(
        client.get_bucket_cors(bucket).await.unwrap(),
        None,
        "{}",
        target.name
    );
}

#[tokio::test]
async fn cors_configurations() {
    if let Some(target) = common::rados_gateway() {
        let client = target.client();
        let bucket = target.bucket(&client, "sos-cors").await;
        cors_round_trip(&target, &client, &bucket).await;
        remove_bucket(&client, &bucket).await;
    }
    if let Some(target) = common::garage() {
        // Garage answers anonymous preflights only for buckets with a global alias, which
        // a key cannot create: use the last of those garage.sh made for CORS tests.
        let buckets = std::env::var("SOS_TEST_GARAGE_CORS_BUCKETS")
            .expect("testing/servers/garage.sh up exports SOS_TEST_GARAGE_CORS_BUCKETS");
        let bucket = buckets.rsplit(',').next().unwrap().to_owned();
        let client = target.client();
        client.delete_bucket_cors(&bucket).await.unwrap();
        cors_round_trip(&target, &client, &bucket).await;
    }
}

#[tokio::test]
async fn invalid_cors_is_refused_before_sending() {
    let target = common::embedded();
    let client = target.client();
    let bad = CorsConfiguration::new().with_rule(CorsRule::new());
    let err = client
        .put_bucket_cors("any-bucket", &bad)
        .await
        .unwrap_err();
    assert!(matches!(err, sos_client::Error::Acl(_)), "{err}");
}

#[tokio::test]
async fn embedded_server_stores_acls_and_cors() {
    // The embedded server keeps ACLs and CORS (not enforced): round trips through it.
    let target = common::embedded();
    let client = target.client();
    let bucket = target.bucket(&client, "sos-acl-local").await;
    client
        .put_object(&bucket, "k")
        .body("x")
        .send()
        .await
        .unwrap();
    assert!(
        !client
            .get_object_acl(&bucket, "k")
            .await
            .unwrap()
            .readable_by_everyone()
    );
    client
        .set_object_acl(&bucket, "k", CannedAcl::PublicRead)
        .await
        .unwrap();
    let acl = client.get_object_acl(&bucket, "k").await.unwrap();
    assert!(
        acl.readable_by_everyone() && !acl.writable_by_everyone(),
        "{acl:?}"
    );
    assert_eq!(acl.owner.id, sos_testing::OWNER_ID);
    client
        .put_object_acl(
            &bucket,
            "k",
            &CannedAcl::Private.expand_for_object(&acl.owner, &acl.owner),
        )
        .await
        .unwrap();
    assert!(
        !client
            .get_object_acl(&bucket, "k")
            .await
            .unwrap()
            .readable_by_everyone()
    );
    client
        .put_object(&bucket, "open")
        .body("x")
        .acl(CannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    assert!(
        client
            .get_object_acl(&bucket, "open")
            .await
            .unwrap()
            .readable_by_everyone()
    );
    let err = client.get_object_acl(&bucket, "missing").await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NoSuchKey), "{err}");
    client
        .set_bucket_acl(&bucket, CannedAcl::PublicRead)
        .await
        .unwrap();
    assert!(
        client
            .get_bucket_acl(&bucket)
            .await
            .unwrap()
            .readable_by_everyone()
    );
    assert_eq!(client.get_bucket_cors(&bucket).await.unwrap(), None);
    let cors = CorsConfiguration::new()
        .with_rule(
            CorsRule::new()
                .with_allowed_origin("https://app.example.com")
                .with_allowed_methods([Method::GET]),
        )
        .build()
        .unwrap();
    client.put_bucket_cors(&bucket, &cors).await.unwrap();
    let back = client.get_bucket_cors(&bucket).await.unwrap().unwrap();
    assert_eq!(back.rules[0].allowed_origins, cors.rules[0].allowed_origins);
    client.delete_bucket_cors(&bucket).await.unwrap();
    assert_eq!(client.get_bucket_cors(&bucket).await.unwrap(), None);
    remove_bucket(&client, &bucket).await;
}
