//! Bucket versioning on the RADOS Gateway: the state, overwrites and deletes keeping
//! versions, listing them across pages, reading, heading and deleting one version.

use futures_util::TryStreamExt;
use sos_client::{
    Addressing, Client, ErrorCode, SignatureVersion, VersionEntry, VersionMarker, VersioningStatus,
};

use crate::common::{self, Target};

async fn versions(client: &Client, bucket: &str, max_keys: Option<u32>) -> Vec<VersionEntry> {
    let mut list = client.list_object_versions(bucket).max_pages(100);
    if let Some(n) = max_keys {
        list = list.max_keys(n);
    }
    list.entries().try_collect().await.unwrap()
}

/// `(key, version id, is a delete marker, is latest)` of each entry.
fn summary(entries: &[VersionEntry]) -> Vec<(String, String, bool, bool)> {
    entries
        .iter()
        .map(|e| match e {
            VersionEntry::Version(v) => (v.key.clone(), v.version_id.clone(), false, v.is_latest),
            VersionEntry::DeleteMarker(m) => {
                (m.key.clone(), m.version_id.clone(), true, m.is_latest)
            }
            other => (other.key().to_owned(), String::new(), false, false),
        })
        .collect()
}

/// Deletes every version and marker (in one batch call), then the bucket.
pub(crate) async fn remove_versioned_bucket(client: &Client, bucket: &str) {
    let all: Vec<(String, String)> = versions(client, bucket, None)
        .await
        .into_iter()
        .filter_map(|e| match e {
            VersionEntry::Version(v) => Some((v.key, v.version_id)),
            VersionEntry::DeleteMarker(m) => Some((m.key, m.version_id)),
            _ => None,
        })
        .collect();
    let out = client
        .delete_object_versions(bucket, all.iter().map(|(k, v)| (k, v)))
        .await
        .unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let mut deleted: Vec<(String, String)> = out
        .deleted
        .into_iter()
        .map(|d| (d.key, d.version_id))
        .collect();
    let mut expected = all;
    deleted.sort();
    expected.sort();
    assert_eq!(deleted, expected);
    assert!(versions(client, bucket, None).await.is_empty());
    client.delete_bucket(bucket).await.unwrap();
}

async fn versions_kept(target: &Target, label: &str, client: &Client) {
    let bucket = target.bucket(client, "sos-ver").await;
    assert_eq!(
        client.bucket_versioning(&bucket).await.unwrap(),
        VersioningStatus::Unversioned,
        "{label}"
    );
    // Written before versioning: the `null` version.
    client
        .put_object(&bucket, "doc 1.txt")
        .body("zero")
        .send()
        .await
        .unwrap();
    client.set_bucket_versioning(&bucket, true).await.unwrap();
    assert_eq!(
        client.bucket_versioning(&bucket).await.unwrap(),
        VersioningStatus::Enabled,
        "{label}"
    );
    let one = client
        .put_object(&bucket, "doc 1.txt")
        .body("one")
        .send()
        .await
        .unwrap()
        .version_id
        .expect("a versioned put returns its version id");
    let two = client
        .put_object(&bucket, "doc 1.txt")
        .body("two!")
        .send()
        .await
        .unwrap()
        .version_id
        .expect("a versioned put returns its version id");
    assert_ne!(one, two, "{label}");
    client
        .put_object(&bucket, "dir/other")
        .body("x")
        .send()
        .await
        .unwrap();

    // A copy of an older version, in one request and through the transfer manager; the
    // copy is a new version of its own.
    let copied = client
        .copy_object(&bucket, "doc 1.txt", &bucket, "copies/one")
        .source_version_id(&one)
        .send()
        .await
        .unwrap();
    // (The gateway sends no `x-amz-version-id` for a copy.)
    assert!(copied.etag.is_some(), "{label}: {copied:?}");
    client
        .copy(&bucket, "doc 1.txt", &bucket, "copies/one again")
        .source_version_id(&one)
        .send()
        .await
        .unwrap();
    for key in ["copies/one", "copies/one again"] {
        let body = client.get_object(&bucket, key).bytes().await.unwrap();
        assert_eq!(&body[..], b"one", "{label}: {key}");
    }
    let copies: Vec<(String, String)> = versions(client, &bucket, None)
        .await
        .into_iter()
        .filter_map(|e| match e {
            VersionEntry::Version(v) if v.key.starts_with("copies/") => Some((v.key, v.version_id)),
            _ => None,
        })
        .collect();
    assert_eq!(copies.len(), 2, "{label}: {copies:?}");
    let out = client
        .delete_object_versions(&bucket, copies.iter().map(|(k, v)| (k, v)))
        .await
        .unwrap();
    assert!(out.errors.is_empty(), "{label}: {:?}", out.errors);

    // A delete adds a marker: the key reads as missing, its versions stay.
    client.delete_object(&bucket, "doc 1.txt").await.unwrap();
    let err = client
        .get_object(&bucket, "doc 1.txt")
        .bytes()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NoSuchKey), "{label}: {err}");

    let all = versions(client, &bucket, None).await;
    let got = summary(&all);
    assert_eq!(got.len(), 5, "{label}: {got:?}");
    assert_eq!(got[0].0, "dir/other", "{label}: {got:?}");
    let doc: Vec<_> = got[1..].iter().collect();
    // Newest first: the marker (latest), two, one, the null version.
    assert!(doc[0].2 && doc[0].3, "{label}: {got:?}");
    assert_eq!(
        (doc[1].1.as_str(), doc[1].2),
        (two.as_str(), false),
        "{label}"
    );
    assert_eq!(
        (doc[2].1.as_str(), doc[2].2),
        (one.as_str(), false),
        "{label}"
    );
    assert_eq!(doc[3].1, "null", "{label}: {got:?}");
    assert!(doc.iter().all(|d| d.0 == "doc 1.txt"), "{label}: {got:?}");
    if let VersionEntry::Version(v) = &all[2] {
        assert_eq!(v.size, 4, "{label}");
        assert!(v.etag.is_some() && v.last_modified.is_some(), "{label}");
    }

    // The same entries one per page: markers carry key and version id.
    assert_eq!(versions(client, &bucket, Some(1)).await, all, "{label}");
    let first = client
        .list_object_versions(&bucket)
        .max_keys(2)
        .page(None)
        .await
        .unwrap();
    let next = first
        .next
        .clone()
        .expect("a truncated page says where to go on");
    let rest: Vec<VersionEntry> = client
        .list_object_versions(&bucket)
        .start_after(VersionMarker {
            key: next.key,
            version_id: next.version_id,
        })
        .entries()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest, all[2..], "{label}");
    // A delimiter groups the directory.
    let top: Vec<VersionEntry> = client
        .list_object_versions(&bucket)
        .delimiter("/")
        .entries()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(top[0], VersionEntry::Prefix("dir/".into()), "{label}");
    assert_eq!(top.len(), 5, "{label}: {top:?}");

    // Older versions stay readable, by id.
    for (id, body) in [(&one, "one"), (&two, "two!"), (&"null".to_owned(), "zero")] {
        let got = client
            .get_object(&bucket, "doc 1.txt")
            .version_id(id.as_str())
            .bytes()
            .await
            .unwrap();
        assert_eq!(got, body.as_bytes(), "{label}: {id}");
    }
    let info = client
        .head_object_version(&bucket, "doc 1.txt", &two)
        .await
        .unwrap();
    assert_eq!(info.content_length, 4, "{label}");
    assert_eq!(info.version_id.as_deref(), Some(two.as_str()), "{label}");

    // Deleting the marker brings the latest version back; deleting a version removes it.
    let VersionEntry::DeleteMarker(marker) = &all[1] else {
        panic!("{label}: {all:?}");
    };
    for (version, then_current) in [(&marker.version_id, "two!"), (&two, "one")] {
        client
            .delete_object_version(&bucket, "doc 1.txt", version)
            .await
            .unwrap();
        let current = client
            .get_object(&bucket, "doc 1.txt")
            .bytes()
            .await
            .unwrap();
        assert_eq!(current, then_current.as_bytes(), "{label}: {version}");
    }
    let err = client
        .head_object_version(&bucket, "doc 1.txt", &two)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{label}: {err}");

    // Versions of a key XML cannot carry go one by one, reported alike.
    let odd = "ctl\u{1}key";
    let mut odd_versions = Vec::new();
    for body in ["1", "2"] {
        let put = client
            .put_object(&bucket, odd)
            .body(body)
            .send()
            .await
            .unwrap();
        odd_versions.push((odd.to_owned(), put.version_id.unwrap()));
    }
    let out = client
        .delete_object_versions(&bucket, odd_versions.iter().map(|(k, v)| (k, v)))
        .await
        .unwrap();
    assert!(out.errors.is_empty(), "{label}: {:?}", out.errors);
    assert_eq!(out.deleted.len(), 2, "{label}");
    assert!(
        !client.object_exists(&bucket, odd).await.unwrap(),
        "{label}"
    );

    client.set_bucket_versioning(&bucket, false).await.unwrap();
    assert_eq!(
        client.bucket_versioning(&bucket).await.unwrap(),
        VersioningStatus::Suspended,
        "{label}"
    );
    remove_versioned_bucket(client, &bucket).await;
}

#[tokio::test]
async fn rados_gateway_versioning() {
    let Some(target) = common::rados_gateway() else {
        return;
    };
    for (version, addressing) in [
        (SignatureVersion::V4, Addressing::Path),
        (SignatureVersion::V2, Addressing::VirtualHost),
    ] {
        let client = target.client_with(version, addressing);
        versions_kept(
            &target,
            &format!("radosgw {version:?} {addressing:?}"),
            &client,
        )
        .await;
    }
}

#[tokio::test]
async fn unversioned_stores_answer_with_a_typed_outcome() {
    // s3s-fs and Garage have no versioning: the state reads as never enabled or as a
    // typed error, never a panic or a wrong `Enabled`.
    let mut targets = vec![common::embedded()];
    targets.extend(common::garage());
    for target in targets {
        let client = target.client();
        let bucket = target.bucket(&client, "sos-nover").await;
        match client.bucket_versioning(&bucket).await {
            Ok(status) => assert_eq!(status, VersioningStatus::Unversioned, "{}", target.name),
            Err(e) => assert!(
                matches!(e, sos_client::Error::Service(_)),
                "{}: {e}",
                target.name
            ),
        }
        common::remove_bucket(&client, &bucket).await;
    }
}
