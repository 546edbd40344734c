//! Keys at the edges of what S3 carries, found by differential testing against the aws CLI
//! (botocore): characters XML 1.0 cannot hold, in listings and batch deletes, and keys longer
//! than S3's 1024 bytes (refused when an object is created, left to the server otherwise).

use std::collections::BTreeSet;

use futures_util::TryStreamExt;
use sos_client::{Client, Error, ErrorCode, ListEntry, ListVersion, MAX_KEY_BYTES, Metadata};

use crate::common::{self, Target, remove_bucket};

/// Keys with characters XML 1.0 cannot carry, not even as character references (U+0001,
/// U+000B, U+001F, U+FFFE, U+FFFF), and ones it carries only escaped (tab, CR, CR LF, `<&>'"`),
/// some below a `/`.
const KEYS: &[&str] = &[
    "ctl/\u{1}a",
    "ctl/\u{b}/b",
    "ctl/\u{1f}/c",
    "ctl/cr\r",
    "ctl/crlf\r\n/d",
    "ctl/tab\t",
    "ctl/\u{FFFE}",
    "ctl/\u{FFFF}/e",
    "ctl/<&>'\" ",
    "ctl/plain",
];

/// Every page of a listing under `ctl/`, two keys a page: objects and common prefixes in order.
async fn listed(
    client: &Client,
    bucket: &str,
    version: ListVersion,
    delimiter: Option<&str>,
) -> Vec<ListEntry> {
    let mut list = client
        .list_objects(bucket)
        .prefix("ctl/")
        .version(version)
        .max_keys(2)
        .max_pages(100);
    if let Some(d) = delimiter {
        list = list.delimiter(d);
    }
    let mut entries = Vec::new();
    let pages: Vec<_> = list.pages().try_collect().await.unwrap();
    for page in pages {
        entries.extend(page.objects.into_iter().map(ListEntry::Object));
        entries.extend(page.common_prefixes.into_iter().map(ListEntry::Prefix));
    }
    entries
}

fn names(entries: &[ListEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| match e {
            ListEntry::Object(o) => o.key.clone(),
            ListEntry::Prefix(p) => format!("prefix {p}"),
        })
        .collect()
}

/// Listings (V2 and V1, paginated, with and without a delimiter) give the keys as they were
/// written: the client does not ask for `encoding-type=url` (what the RADOS Gateway leaves
/// unencoded, `NextMarker`, `StartAfter`, breaks botocore's decoding) and reads the character
/// references and raw control characters the servers send. A batch delete removes every key:
/// those XML cannot carry go as single `DELETE`s (in a `?delete` body the RADOS Gateway and
/// Garage refuse the whole request, `MalformedXML`).
async fn keys_xml_cannot_carry(target: &Target) {
    let name = target.name;
    let client = target.client();
    let bucket = target.bucket(&client, "sos-ctl").await;
    for key in KEYS {
        client
            .put_object(&bucket, key)
            .body(key.as_bytes().to_vec())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: put {key:?}: {e}"));
    }
    let sorted: BTreeSet<&str> = KEYS.iter().copied().collect();
    let expected: Vec<String> = sorted.iter().map(|k| (*k).to_owned()).collect();
    // With `/`: keys with a second `/` fold into their prefix, which may span pages (the
    // order within a page is objects then prefixes, as the server sends them).
    let mut folded: Vec<String> = Vec::new();
    for key in &sorted {
        let rest = &key["ctl/".len()..];
        match rest.find('/') {
            Some(i) => {
                let prefix = format!("prefix ctl/{}", &rest[..=i]);
                if !folded.contains(&prefix) {
                    folded.push(prefix);
                }
            }
            None => folded.push((*key).to_owned()),
        }
    }
    for version in [ListVersion::V2, ListVersion::V1] {
        let all = listed(&client, &bucket, version, None).await;
        assert_eq!(names(&all), expected, "{name} {version:?}");
        for entry in &all {
            let ListEntry::Object(o) = entry else {
                unreachable!()
            };
            assert_eq!(o.size, o.key.len() as u64, "{name}: {:?}", o.key);
        }
        let mut grouped = names(&listed(&client, &bucket, version, Some("/")).await);
        grouped.sort_by_key(|n| n.trim_start_matches("prefix ").to_owned());
        assert_eq!(grouped, folded, "{name} {version:?} with a delimiter");
    }
    for key in KEYS {
        let body = client.get_object(&bucket, key).bytes().await.unwrap();
        assert_eq!(body, key.as_bytes(), "{name}: {key:?}");
    }

    let missing = "ctl/missing \u{1}";
    let out = client
        .delete_objects(&bucket, KEYS.iter().copied().chain([missing]))
        .await
        .unwrap_or_else(|e| panic!("{name}: delete many: {e}"));
    assert!(out.errors.is_empty(), "{name}: {:?}", out.errors);
    let deleted: BTreeSet<&str> = out.deleted.iter().map(String::as_str).collect();
    let mut wanted = sorted.clone();
    wanted.insert(missing);
    assert_eq!(
        deleted, wanted,
        "{name}: a missing key is reported deleted, as S3 does"
    );
    assert!(
        listed(&client, &bucket, ListVersion::V2, None)
            .await
            .is_empty(),
        "{name}: every key deleted"
    );
    remove_bucket(&client, &bucket).await;
}

/// S3's 1024-byte limit is checked when an object is created; other requests leave the key's
/// length to the server (Garage holds longer keys; the RADOS Gateway answers
/// `InvalidObjectName`), as the aws CLI does, so such objects stay readable and deletable.
async fn long_keys_left_to_the_server(target: &Target) {
    let name = target.name;
    let client = target.client();
    let bucket = target.bucket(&client, "sos-long").await;
    let long = "k".repeat(MAX_KEY_BYTES + 1);
    let longest = "é".repeat(MAX_KEY_BYTES / 2);
    client
        .put_object(&bucket, &longest)
        .body("x")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: a key of exactly 1024 bytes: {e}"));
    for err in [
        client
            .put_object(&bucket, &long)
            .body("x")
            .send()
            .await
            .unwrap_err(),
        client
            .copy_object(&bucket, &longest, &bucket, &long)
            .send()
            .await
            .unwrap_err(),
        client
            .create_multipart_upload(&bucket, &long, &Metadata::new(), None)
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, Error::InvalidKey(_)), "{name}: {err}");
    }
    for err in [
        client.get_object(&bucket, &long).bytes().await.unwrap_err(),
        client.head_object(&bucket, &long).await.unwrap_err(),
    ] {
        assert!(
            matches!(err, Error::Service(_)) && err.status().is_some_and(|s| s.is_client_error()),
            "{name}: the server's answer, not the client's refusal: {err}"
        );
    }
    let out = client
        .delete_objects(&bucket, [long.as_str(), longest.as_str()])
        .await
        .unwrap_or_else(|e| panic!("{name}: delete many: {e}"));
    assert!(out.errors.is_empty(), "{name}: {:?}", out.errors);
    assert!(out.deleted.contains(&longest), "{name}: {:?}", out.deleted);
    remove_bucket(&client, &bucket).await;
}

/// A key deleted on its own (XML cannot carry it) is reported like a key of a `?delete`
/// batch: a refusal of that key in the output's errors, a missing bucket as the call's error.
async fn single_deletes_report_per_key(target: &Target, second: &Client) {
    let name = target.name;
    let client = target.client();
    let bucket = target.bucket(&client, "sos-ctl-acl").await;
    let key = "owner's \u{1}";
    client
        .put_object(&bucket, key)
        .body("x")
        .send()
        .await
        .unwrap();
    let out = second.delete_objects(&bucket, [key]).await.unwrap();
    assert!(out.deleted.is_empty(), "{name}: {out:?}");
    assert_eq!(out.errors.len(), 1, "{name}: {out:?}");
    assert_eq!(out.errors[0].key, key, "{name}");
    assert_eq!(out.errors[0].code, ErrorCode::AccessDenied, "{name}");
    assert!(client.object_exists(&bucket, key).await.unwrap(), "{name}");
    let err = client
        .delete_objects("sos-no-such-bucket-here", [key])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NoSuchBucket), "{name}: {err}");
    // Nothing is sent when one of the keys cannot be: `.`/`..` segments (which the HTTP
    // stack would resolve) in a key that must go on its own.
    let err = client
        .delete_objects(&bucket, [key, "a/../\u{1}"])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidKey(_)), "{name}: {err}");
    assert!(client.object_exists(&bucket, key).await.unwrap(), "{name}");
    remove_bucket(&client, &bucket).await;
}

#[tokio::test]
async fn single_deletes_on_the_rados_gateway() {
    let Some(target) = common::rados_gateway() else {
        return;
    };
    let (access, secret) = target
        .second_user
        .clone()
        .expect("the RADOS Gateway's second user (SOS_TEST_RGW_ACCESS_KEY2/SECRET_KEY2)");
    let mut other = target.clone();
    other.access_key = access;
    other.secret_key = secret;
    single_deletes_report_per_key(&target, &other.client()).await;
}

#[tokio::test]
async fn keys_xml_cannot_carry_on_every_server() {
    for target in common::all() {
        keys_xml_cannot_carry(&target).await;
    }
}

#[tokio::test]
async fn long_keys_on_the_rados_gateway_and_garage() {
    for target in [common::rados_gateway(), common::garage()]
        .into_iter()
        .flatten()
    {
        long_keys_left_to_the_server(&target).await;
    }
}
