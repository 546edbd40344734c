//! Browser POST uploads sent by curl (`-F`, as a browser sends a form) to real servers.

use std::time::Duration;

use sos_presign::{Addressing, KeyCondition, PostForm, PostPolicy, SignatureVersion};

use crate::common::{CurlResult, Target, curl};

/// Posts the form with `file` as the file field; `override_field` replaces a field's value.
fn post(
    t: &Target,
    form: &PostForm,
    file: &std::path::Path,
    override_field: Option<(&str, &str)>,
    dir: &std::path::Path,
) -> CurlResult {
    let mut args: Vec<String> = Vec::new();
    for (name, value) in &form.fields {
        let value = match override_field {
            Some((n, v)) if n == name => v,
            _ => value.as_str(),
        };
        args.push("--form-string".into());
        args.push(format!("{name}={value}"));
    }
    // What a page fills in: the file's own type, as a browser's `file.type`.
    for (name, prefix) in &form.fill_in {
        assert_eq!((name.as_str(), prefix.as_str()), ("Content-Type", "text/"));
        let value = match override_field {
            Some((n, v)) if n == name => v,
            _ => "text/plain",
        };
        args.push("--form-string".into());
        args.push(format!("{name}={value}"));
    }
    args.push("-F".into());
    args.push(format!(
        "file=@{};filename=hello.txt;type=text/plain",
        file.display()
    ));
    args.push(form.url.clone());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(&refs, t.port, dir)
}

#[test]
fn browser_post_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.txt");
    std::fs::write(&small, b"hello from a browser form\n").unwrap();
    let big = dir.path().join("big.txt");
    std::fs::write(&big, vec![b'x'; 5000]).unwrap();
    for t in Target::all() {
        for version in [SignatureVersion::V4, SignatureVersion::V2] {
            let ctx = format!("{} {version:?}", t.name);
            let bucket = t.create_bucket("post");
            let presigner = t.presigner(Addressing::Path, version);
            let policy = PostPolicy::new(&bucket, KeyCondition::StartsWith("uploads/".into()))
                .expires_in(Duration::from_secs(300))
                .content_length_range(1, 1000)
                .content_type_starts_with("text/")
                .success_action_status(201)
                .metadata("uploader", "form");
            let form = presigner.post_form(&policy).unwrap();

            // A key chosen by the page, inside the allowed prefix.
            let r = post(
                &t,
                &form,
                &small,
                Some(("key", "uploads/chosen.txt")),
                dir.path(),
            );
            assert_eq!(
                r.status,
                201,
                "{ctx}: {}\npolicy {}",
                String::from_utf8_lossy(&r.body),
                form.policy
            );
            let back = t.signed(
                http::Method::GET,
                &format!("/{bucket}/uploads/chosen.txt"),
                Vec::new(),
            );
            assert_eq!(back.status, 200, "{ctx}: uploaded object");
            assert_eq!(back.body, b"hello from a browser form\n", "{ctx}");
            assert_eq!(back.header("x-amz-meta-uploader"), Some("form"), "{ctx}");
            // The type the page filled in, not the policy's prefix.
            assert_eq!(back.header("content-type"), Some("text/plain"), "{ctx}");

            // The default key field, `uploads/${filename}`: S3 puts the browser's file name
            // there. s3s-fs 0.14.1 does not substitute `${filename}` (it stores the key as
            // written), so only the gateway is asked.
            if t.name == "radosgw" {
                let r = post(&t, &form, &small, None, dir.path());
                assert_eq!(r.status, 201, "{ctx}: {}", String::from_utf8_lossy(&r.body));
                let back = t.signed(
                    http::Method::GET,
                    &format!("/{bucket}/uploads/hello.txt"),
                    Vec::new(),
                );
                assert_eq!(
                    back.status, 200,
                    "{ctx}: ${{filename}} was not replaced by the file name"
                );
            }

            let r = post(
                &t,
                &form,
                &big,
                Some(("key", "uploads/big.txt")),
                dir.path(),
            );
            assert!(
                r.status == 400 || r.status == 403,
                "{ctx}: a file over content-length-range got {}",
                r.status
            );
            let too_big = t.signed(
                http::Method::GET,
                &format!("/{bucket}/uploads/big.txt"),
                Vec::new(),
            );
            assert_eq!(
                too_big.status, 404,
                "{ctx}: a refused upload left an object"
            );
            // A broken condition is refused: S3 and the gateway answer 403 AccessDenied,
            // s3s-fs 400 InvalidPolicyDocument.
            let refused = |r: &CurlResult| r.status == 403 || r.status == 400;
            let r = post(
                &t,
                &form,
                &small,
                Some(("key", "elsewhere/hello.txt")),
                dir.path(),
            );
            assert!(
                refused(&r),
                "{ctx}: a key outside starts-with got {}: {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
            let r = post(
                &t,
                &form,
                &small,
                Some(("Content-Type", "image/png")),
                dir.path(),
            );
            assert!(
                refused(&r),
                "{ctx}: a content type outside starts-with got {}",
                r.status
            );
            let missing = t.signed(
                http::Method::GET,
                &format!("/{bucket}/elsewhere/hello.txt"),
                Vec::new(),
            );
            assert_eq!(missing.status, 404, "{ctx}: refused uploads left nothing");

            // A form whose signature was made with another secret.
            let forged = sos_presign::Presigner::new(
                sos_auth::Credentials::new(t.access_key.clone(), "not-the-secret"),
                t.endpoint(Addressing::Path),
            )
            .with_signature_version(version)
            .post_form(&policy)
            .unwrap();
            let r = post(&t, &forged, &small, None, dir.path());
            assert_eq!(r.status, 403, "{ctx}: forged form");

            let mut keys = vec!["uploads/chosen.txt".to_owned()];
            if t.name == "radosgw" {
                keys.push("uploads/hello.txt".to_owned());
            }
            remove(&t, &bucket, &keys);
        }
    }
}

#[test]
fn post_policy_errors() {
    let p = sos_presign::Presigner::new(
        sos_auth::Credentials::new("a", "b"),
        "ch-gva-2".parse().unwrap(),
    );
    let base = || PostPolicy::new("bucket", KeyCondition::Exact("k".into()));
    let prefix = |p: &str| PostPolicy::new("bucket", KeyCondition::StartsWith(p.into()));
    for (what, policy) in [
        ("empty range", base().content_length_range(10, 1)),
        ("no expiry", base().expires_in(Duration::ZERO)),
        ("status 302", base().success_action_status(302)),
        // The server puts the file name in place of `${filename}` before it checks `key`
        // (the gateway: 403 "variable not met condition: key"; Garage: 400).
        (
            "exact ${filename}",
            PostPolicy::new("bucket", KeyCondition::Exact("up/${filename}".into())),
        ),
        ("prefix ${filename}", prefix("up/${filename}/")),
        // The gateway reads a starts-with value beginning with `$` as a field reference, a
        // missing one as "": `["starts-with", "$key", "$HOME/"]` let it store any key.
        ("$ key prefix", prefix("$HOME/")),
        ("$ type prefix", base().content_type_starts_with("$x")),
        // S3 ignores a redirect it cannot read; the gateway redirects to
        // `not a url?bucket=...`.
        ("not a URL", base().success_action_redirect("not a url")),
        ("relative URL", base().success_action_redirect("/done")),
        ("no host", base().success_action_redirect("https:///done")),
        ("reserved key", base().field("key", "other")),
        ("reserved Policy", base().field("Policy", "x")),
        ("reserved signature", base().field("X-Amz-Signature", "x")),
        ("reserved token", base().field("x-amz-security-token", "x")),
        (
            "reserved status",
            base().field("success_action_status", "201"),
        ),
        ("empty metadata name", base().metadata("", "v")),
        ("space in metadata name", base().metadata("a b", "v")),
        ("quote in field name", base().field("a\"b", "v")),
        ("non-ASCII field name", base().field("x-amz-meta-ü", "v")),
        ("empty field name", base().field("", "v")),
    ] {
        assert!(
            matches!(
                p.post_form(&policy),
                Err(sos_presign::Error::InvalidPolicy(_))
            ),
            "{what}: {:?}",
            p.post_form(&policy).map(|f| f.policy)
        );
    }
    for key in [
        KeyCondition::Exact(String::new()),
        KeyCondition::Exact("k".repeat(1025)),
        KeyCondition::StartsWith("k".repeat(1024)),
    ] {
        assert!(matches!(
            p.post_form(&PostPolicy::new("bucket", key)),
            Err(sos_presign::Error::InvalidKey(_))
        ));
    }
    // What is fine: an empty prefix (any key, any type), `$` inside a prefix or in an exact
    // value (compared as written), a URL with a query, an `x-ignore-` field.
    for policy in [
        prefix("").content_type_starts_with(""),
        prefix("a$b/").content_type("$x"),
        base()
            .metadata("cost", "$5")
            .field("x-ignore-note", "$HOME"),
        base().success_action_redirect("HTTPS://example.com/done?a=1"),
        base().field("Cache-Control", "max-age=60"),
    ] {
        assert!(p.post_form(&policy).is_ok(), "{policy:?}");
    }
    assert!(matches!(
        p.post_form(&PostPolicy::new(
            "bad/bucket",
            KeyCondition::Exact("k".into())
        )),
        Err(sos_presign::Error::InvalidBucket { .. })
    ));
}

/// Posts `fields` then the file, named `filename` as a browser names it, with curl (`-F`, as
/// a browser sends a form).
fn send(
    t: &Target,
    url: &str,
    fields: &[(String, String)],
    file: &std::path::Path,
    filename: &str,
    dir: &std::path::Path,
) -> CurlResult {
    let mut args: Vec<String> = Vec::new();
    for (name, value) in fields {
        args.push("--form-string".into());
        args.push(format!("{name}={value}"));
    }
    args.push("-F".into());
    args.push(format!(
        "file=@{};filename={filename};type=text/plain",
        file.display()
    ));
    args.push(url.to_owned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(&refs, t.port, dir)
}

/// The form's fields with `key` set as a page sets it (s3s-fs does not replace
/// `${filename}`).
fn with_key(form: &PostForm, key: &str) -> Vec<(String, String)> {
    let mut fields = form.fields.clone();
    for (name, value) in &mut fields {
        if name == "key" {
            *value = key.to_owned();
        }
    }
    fields
}

/// The form's fields, then what the page fills in (`value` for each).
fn filled(form: &PostForm, value: &str) -> Vec<(String, String)> {
    let mut fields = form.fields.clone();
    fields.extend(
        form.fill_in
            .iter()
            .map(|(n, _)| (n.clone(), value.to_owned())),
    );
    fields
}

/// Deletes these objects and the bucket (signed requests, not the code under test).
fn remove(t: &Target, bucket: &str, keys: &[String]) {
    for key in keys {
        let path = format!("/{bucket}/{}", sos_presign::encode_key(key));
        let status = t.signed(http::Method::DELETE, &path, Vec::new()).status;
        assert!(
            status == 204 || status == 200,
            "{}: delete {key}: {status}",
            t.name
        );
    }
    let status = t
        .signed(http::Method::DELETE, &format!("/{bucket}"), Vec::new())
        .status;
    assert_eq!(status, 204, "{}: delete bucket {bucket}", t.name);
}

/// Decodes an RFC 2047 `=?UTF-8?B?...?=` header value; any other value as it is.
fn rfc2047(value: &str) -> String {
    use base64::Engine;
    value
        .strip_prefix("=?UTF-8?B?")
        .and_then(|v| v.strip_suffix("?="))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| value.to_owned())
}

fn one_file(dir: &std::path::Path, name: &str, len: usize) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, vec![b'x'; len]).unwrap();
    path
}

/// `PostForm::expires_at` is the policy's `expiration`, to the second, as for URLs: the
/// signing second plus whole seconds. A form valid less than a second, or past the year
/// 9999 (beyond what the expiration's four-digit year states, and past `SystemTime`'s range
/// for `Duration::MAX`), is refused, not a panic.
#[test]
fn post_form_expiry_is_whole_seconds() {
    use std::time::UNIX_EPOCH;
    let p = sos_presign::Presigner::new(
        sos_auth::Credentials::new("a", "b"),
        "ch-gva-2".parse().unwrap(),
    );
    let time = UNIX_EPOCH + Duration::from_millis(1_767_323_045_750);
    let policy = |d| PostPolicy::new("bucket", KeyCondition::Exact("k".into())).expires_in(d);
    let form = p
        .post_form_at(&policy(Duration::from_millis(300_900)), time)
        .unwrap();
    assert_eq!(
        form.expires_at,
        UNIX_EPOCH + Duration::from_secs(1_767_323_345)
    );
    let doc: serde_json::Value = serde_json::from_str(&form.policy).unwrap();
    assert_eq!(doc["expiration"], "2026-01-02T03:09:05.000Z");
    assert_eq!(form.field("x-amz-date"), Some("20260102T030405Z"));
    for d in [
        Duration::from_millis(999),
        Duration::MAX,
        Duration::from_secs(8000 * 365 * 86_400),
    ] {
        assert!(
            matches!(
                p.post_form_at(&policy(d), time),
                Err(sos_presign::Error::InvalidPolicy(_))
            ),
            "{d:?}"
        );
    }
}

/// A field is sent once and has one condition: setting it again (names in any case, as the
/// servers compare them) replaces it. Two `x-amz-meta-who` fields with two conditions fail
/// on the gateway (it keeps one value and checks both).
#[test]
fn post_fields_set_twice_are_one() {
    let p = sos_presign::Presigner::new(
        sos_auth::Credentials::new("a", "b"),
        "ch-gva-2".parse().unwrap(),
    );
    let policy = PostPolicy::new("bucket", KeyCondition::Exact("k".into()))
        .metadata("who", "first")
        .acl("private")
        .content_type("text/plain")
        .metadata("WHO", "second")
        .field("ACL", "public-read")
        .content_type_starts_with("image/");
    let form = p.post_form(&policy).unwrap();
    let names: Vec<&str> = form.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "key",
            "x-amz-meta-WHO",
            "ACL",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "policy",
            "x-amz-signature"
        ]
    );
    assert_eq!(form.field("x-amz-meta-WHO"), Some("second"));
    assert_eq!(form.field("ACL"), Some("public-read"));
    assert_eq!(
        form.fill_in,
        [("Content-Type".to_owned(), "image/".to_owned())]
    );
    let doc: serde_json::Value = serde_json::from_str(&form.policy).unwrap();
    // The field each condition is about: `{"name": ...}` or `[op, "$name", ...]`.
    let about: Vec<String> = doc["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| match c.as_object() {
            Some(o) => o.keys().next().unwrap().to_ascii_lowercase(),
            None => c[1]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches('$')
                .to_ascii_lowercase(),
        })
        .collect();
    for field in ["x-amz-meta-who", "acl", "content-type"] {
        let n = about.iter().filter(|a| *a == field).count();
        assert_eq!(n, 1, "{field}: {}", form.policy);
    }
}

/// The form the page gets: UTF-8 whatever the page's encoding (the policy is UTF-8), and no
/// named input but the fields, what the page fills in and the file (the servers refuse a
/// field the policy does not mention).
#[test]
fn post_html_sends_only_policy_fields() {
    let p = sos_presign::Presigner::new(
        sos_auth::Credentials::new("a", "b"),
        "ch-gva-2".parse().unwrap(),
    );
    let form = p
        .post_form(
            &PostPolicy::new("bucket", KeyCondition::StartsWith("up/".into()))
                .content_type_starts_with("image/")
                .metadata("who", "Jürg 😀"),
        )
        .unwrap();
    let html = form.html();
    assert!(html.contains(r#"accept-charset="UTF-8""#), "{html}");
    let named: Vec<&str> = html
        .split("name=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let mut expected: Vec<&str> = form
        .fields
        .iter()
        .chain(&form.fill_in)
        .map(|(n, _)| n.as_str())
        .collect();
    expected.push("file");
    assert_eq!(named, expected, "{html}");
    assert!(html.contains(r#"value="Jürg 😀""#), "{html}");
}

/// What the servers accept and refuse of our forms, V4 and V2 (Garage: V4 only):
/// `content-length-range` at and beyond both bounds, a range up to `u64::MAX`, UTF-8 (emoji
/// too), quotes, backslashes and `$` in a key prefix and in values, every success action,
/// fields outside the policy, other standard fields, expired forms and session tokens.
#[test]
fn post_conditions_on_servers() {
    use std::time::SystemTime;
    let dir = tempfile::tempdir().unwrap();
    let five = one_file(dir.path(), "five", 5);
    for (t, versions) in Target::all_with_versions() {
        for version in versions {
            let ctx = format!("{} {version:?}", t.name);
            let bucket = t.create_bucket("post");
            let mut keys: Vec<String> = Vec::new();
            let presigner = t.presigner(Addressing::Path, version);
            let head = |key: &str| {
                let path = format!("/{bucket}/{}", sos_presign::encode_key(key));
                t.signed(http::Method::HEAD, &path, Vec::new())
            };
            let refused = |r: &CurlResult| r.status == 400 || r.status == 403;
            let body = |r: &CurlResult| String::from_utf8_lossy(&r.body).into_owned();

            // content-length-range: both bounds inclusive.
            let form = presigner
                .post_form(
                    &PostPolicy::new(&bucket, KeyCondition::StartsWith("r/".into()))
                        .content_length_range(5, 10),
                )
                .unwrap();
            for len in [4, 5, 10, 11] {
                let file = one_file(dir.path(), &format!("len{len}"), len);
                let name = format!("{len}.txt");
                let key = format!("r/{name}");
                let r = send(
                    &t,
                    &form.url,
                    &with_key(&form, &key),
                    &file,
                    &name,
                    dir.path(),
                );
                if (5..=10).contains(&len) {
                    assert_eq!(r.status, 204, "{ctx}: {len} bytes in [5, 10]: {}", body(&r));
                    keys.push(format!("r/{name}"));
                } else {
                    assert!(
                        refused(&r),
                        "{ctx}: {len} bytes outside [5, 10]: {}",
                        r.status
                    );
                    assert_eq!(head(&format!("r/{name}")).status, 404, "{ctx}: {len} bytes");
                }
            }

            // No practical maximum: the gateway refuses numbers from 2^63 - 1 on (400 "Bad
            // content-length-range param"), so u64::MAX is written as 2^63 - 2.
            let form = presigner
                .post_form(
                    &PostPolicy::new(&bucket, KeyCondition::Exact("huge".into()))
                        .content_length_range(0, u64::MAX),
                )
                .unwrap();
            assert!(
                form.policy.contains("9223372036854775806]"),
                "{}",
                form.policy
            );
            let r = send(&t, &form.url, &form.fields, &five, "five", dir.path());
            assert_eq!(r.status, 204, "{ctx}: range up to u64::MAX: {}", body(&r));
            keys.push("huge".into());

            // UTF-8 as is (an escaped surrogate pair, as botocore writes an emoji, fails on
            // the gateway), quotes, backslashes, `$` inside a prefix and in exact values.
            let prefix = "v/ü 😀 \"q\" \\ a$b/";
            let who = "Jürg 😀 \"q\" \\ $5";
            let form = presigner
                .post_form(
                    &PostPolicy::new(&bucket, KeyCondition::StartsWith(prefix.into()))
                        // Set twice: sent once (two fields fail: the gateway checks both
                        // conditions against one value, Garage refuses a repeated field).
                        .metadata("who", "draft")
                        .metadata("who", who)
                        .content_type("text/plain; charset=utf-8")
                        .acl("private")
                        .success_action_status(201),
                )
                .unwrap();
            let key = format!("{prefix}f.txt");
            let r = send(
                &t,
                &form.url,
                &with_key(&form, &key),
                &five,
                "f.txt",
                dir.path(),
            );
            assert_eq!(r.status, 201, "{ctx}: {}\n{}", body(&r), form.policy);
            assert!(
                body(&r).contains("<Bucket>"),
                "{ctx}: 201 body {}",
                body(&r)
            );
            let back = head(&key);
            assert_eq!(back.status, 200, "{ctx}: stored under {key:?}");
            // The gateway and Garage answer the UTF-8 as is; s3s-fs, as S3, RFC 2047-encoded.
            assert_eq!(
                back.header("x-amz-meta-who").map(rfc2047),
                Some(who.to_owned()),
                "{ctx}"
            );
            assert_eq!(
                back.header("content-type"),
                Some("text/plain; charset=utf-8"),
                "{ctx}"
            );
            keys.push(key);

            // Success actions: 200 and 204 empty, a redirect with the key appended.
            for (key, status) in [("s200", 200), ("s204", 204)] {
                let form = presigner
                    .post_form(
                        &PostPolicy::new(&bucket, KeyCondition::Exact(key.into()))
                            .success_action_status(status),
                    )
                    .unwrap();
                let r = send(&t, &form.url, &form.fields, &five, "five", dir.path());
                assert_eq!(r.status, status, "{ctx}: {}", body(&r));
                keys.push(key.into());
            }
            let form = presigner
                .post_form(
                    &PostPolicy::new(&bucket, KeyCondition::Exact("redirected".into()))
                        .success_action_redirect("https://example.com/done"),
                )
                .unwrap();
            let r = send(&t, &form.url, &form.fields, &five, "five", dir.path());
            assert_eq!(r.status, 303, "{ctx}: {}", body(&r));
            let location = r.header("location").unwrap_or_default();
            assert!(
                location.starts_with("https://example.com/done?")
                    && location.contains("key=redirected"),
                "{ctx}: {location}"
            );
            keys.push("redirected".into());

            // Every field needs a condition, but for `x-ignore-*` ones; other standard fields
            // carry one like any other.
            let form = presigner
                .post_form(
                    &PostPolicy::new(&bucket, KeyCondition::Exact("fields".into()))
                        .field("Cache-Control", "max-age=60")
                        .field("Content-Disposition", "attachment; filename=\"a b.txt\"")
                        .field("Content-Encoding", "identity")
                        .field("Expires", "Thu, 01 Dec 2094 16:00:00 GMT")
                        // Written `x-amz-meta-Camel`: the gateway drops `X-Amz-Meta-*` fields.
                        .field("X-Amz-Meta-Camel", "v"),
                )
                .unwrap();
            let mut extra = form.fields.clone();
            extra.push(("x-amz-meta-extra".into(), "v".into()));
            let r = send(&t, &form.url, &extra, &five, "five", dir.path());
            assert!(
                refused(&r),
                "{ctx}: a field outside the policy got {}",
                r.status
            );
            assert_eq!(head("fields").status, 404, "{ctx}");
            let mut ignored = form.fields.clone();
            ignored.push(("x-ignore-extra".into(), "v".into()));
            let r = send(&t, &form.url, &ignored, &five, "five", dir.path());
            assert_eq!(r.status, 204, "{ctx}: x-ignore- field: {}", body(&r));
            assert_eq!(
                head("fields").header("x-amz-meta-camel"),
                Some("v"),
                "{ctx}"
            );
            if t.name == "garage" {
                // The gateway (Ceph 16) does not store these fields; S3 and Garage do.
                assert_eq!(head("fields").header("cache-control"), Some("max-age=60"));
            }
            keys.push("fields".into());

            // An expired form.
            let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
            let form = presigner
                .post_form_at(
                    &PostPolicy::new(&bucket, KeyCondition::Exact("expired".into())),
                    two_hours_ago,
                )
                .unwrap();
            let r = send(&t, &form.url, &form.fields, &five, "five", dir.path());
            assert!(refused(&r), "{ctx}: expired form got {}", r.status);
            assert_eq!(head("expired").status, 404, "{ctx}");

            // An empty starts-with prefix: any type the page fills in.
            let form = presigner
                .post_form(
                    &PostPolicy::new(&bucket, KeyCondition::Exact("anytype".into()))
                        .content_type_starts_with(""),
                )
                .unwrap();
            let fields = filled(&form, "application/x-anything");
            let r = send(&t, &form.url, &fields, &five, "five", dir.path());
            assert_eq!(r.status, 204, "{ctx}: any type: {}", body(&r));
            keys.push("anytype".into());

            // Session credentials: the token is a field with its own condition (the gateway
            // refuses a field without one). The servers here have no STS and ignore it.
            let with_token = sos_presign::Presigner::new(
                t.credentials().with_session_token("FQoGZXIvYXdzEFAaDOKEN"),
                t.endpoint(Addressing::Path),
            )
            .with_signature_version(version);
            let form = with_token
                .post_form(&PostPolicy::new(
                    &bucket,
                    KeyCondition::Exact("token".into()),
                ))
                .unwrap();
            assert_eq!(
                form.field("x-amz-security-token"),
                Some("FQoGZXIvYXdzEFAaDOKEN")
            );
            assert!(
                form.policy
                    .contains(r#"{"x-amz-security-token":"FQoGZXIvYXdzEFAaDOKEN"}"#)
            );
            let r = send(&t, &form.url, &form.fields, &five, "five", dir.path());
            assert_eq!(r.status, 204, "{ctx}: with a session token: {}", body(&r));
            keys.push("token".into());

            remove(&t, &bucket, &keys);
        }
    }
}

/// `vectors/botocore_post.json` (see `vectors/gen_botocore_post.py`).
#[derive(serde::Deserialize)]
struct BotocoreFile {
    access_key: String,
    secret_key: String,
    time: String,
    time_millis: u64,
    cases: Vec<BotocoreCase>,
}

#[derive(serde::Deserialize)]
struct BotocoreCase {
    name: String,
    endpoint: String,
    region: String,
    addressing: String,
    version: String,
    session_token: Option<String>,
    bucket: String,
    expires_in: u64,
    key: std::collections::HashMap<String, String>,
    range: Option<(u64, u64)>,
    acl: Option<String>,
    status: Option<u16>,
    redirect: Option<String>,
    content_type: Option<std::collections::HashMap<String, String>>,
    metadata: Vec<(String, String)>,
    fields: Vec<(String, String)>,
    botocore: BotocoreForm,
}

#[derive(serde::Deserialize)]
struct BotocoreForm {
    url: String,
    fields: Vec<(String, String)>,
}

/// A policy's conditions in one form, sorted: `(op, field lower-cased, value)`, where an
/// object `{"f": "v"}` is `eq` (botocore and we write objects; the order, the spacing and
/// botocore's `\u` escapes differ).
fn conditions_of(policy: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = policy["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| match c {
            serde_json::Value::Object(o) => {
                let (name, value) = o.iter().next().unwrap();
                ("eq".into(), name.to_ascii_lowercase(), value.to_string())
            }
            serde_json::Value::Array(a) if a[0] == "content-length-range" => {
                ("range".into(), a[1].to_string(), a[2].to_string())
            }
            serde_json::Value::Array(a) => (
                a[0].as_str().unwrap().to_owned(),
                a[1].as_str().unwrap().to_ascii_lowercase(),
                a[2].to_string(),
            ),
            other => panic!("condition {other}"),
        })
        .collect();
    out.sort();
    out
}

/// Our forms equal botocore's `generate_presigned_post` for the same inputs: the same URL,
/// the same fields (but `policy` and the signature) with the same values, the same conditions
/// and expiration; and our V4 and V2 signers give botocore's signature over botocore's policy.
/// (The policy texts differ: botocore writes `", "`, `\u` escapes for non-ASCII and no
/// milliseconds in the expiration, which the servers read alike; emoji as escaped surrogate
/// pairs, which the gateway does not decode.)
#[test]
fn post_forms_equal_botocore() {
    use base64::Engine;
    use std::time::UNIX_EPOCH;
    let file: BotocoreFile =
        serde_json::from_str(include_str!("vectors/botocore_post.json")).unwrap();
    assert!(file.cases.len() >= 100, "{} cases", file.cases.len());
    let time = sos_auth::AmzDate::parse(&file.time).unwrap().system_time()
        + Duration::from_millis(file.time_millis);
    let b64 = base64::engine::general_purpose::STANDARD;
    for c in &file.cases {
        let ctx = &c.name;
        let mut credentials =
            sos_auth::Credentials::new(file.access_key.clone(), file.secret_key.clone());
        if let Some(token) = &c.session_token {
            credentials = credentials.with_session_token(token.clone());
        }
        let addressing = if c.addressing == "virtual" {
            Addressing::VirtualHost
        } else {
            Addressing::Path
        };
        let endpoint = sos_presign::Endpoint::parse(&c.endpoint)
            .unwrap()
            .with_region(c.region.clone())
            .with_addressing(addressing);
        let version = if c.version == "V2" {
            SignatureVersion::V2
        } else {
            SignatureVersion::V4
        };
        let presigner =
            sos_presign::Presigner::new(credentials, endpoint).with_signature_version(version);
        let key = match (c.key.get("exact"), c.key.get("starts_with")) {
            (Some(k), _) => KeyCondition::Exact(k.clone()),
            (None, Some(p)) => KeyCondition::StartsWith(p.clone()),
            _ => panic!("{ctx}: key"),
        };
        let mut policy =
            PostPolicy::new(&c.bucket, key).expires_in(Duration::from_secs(c.expires_in));
        if let Some((min, max)) = c.range {
            policy = policy.content_length_range(min, max);
        }
        if let Some(acl) = &c.acl {
            policy = policy.acl(acl);
        }
        if let Some(status) = c.status {
            policy = policy.success_action_status(status);
        }
        if let Some(url) = &c.redirect {
            policy = policy.success_action_redirect(url);
        }
        let mut fill_in = Vec::new();
        if let Some(t) = &c.content_type {
            if let Some(exact) = t.get("exact") {
                policy = policy.content_type(exact);
            }
            if let Some(prefix) = t.get("starts_with") {
                policy = policy.content_type_starts_with(prefix);
                fill_in.push(("Content-Type".to_owned(), prefix.clone()));
            }
        }
        for (name, value) in &c.metadata {
            policy = policy.metadata(name, value);
        }
        for (name, value) in &c.fields {
            policy = policy.field(name, value);
        }
        let form = presigner.post_form_at(&policy, time).unwrap();

        assert_eq!(
            form.url.trim_end_matches('/'),
            c.botocore.url.trim_end_matches('/'),
            "{ctx}"
        );
        let signed = ["policy", "x-amz-signature", "signature"];
        let sorted = |fields: &[(String, String)]| {
            let mut f: Vec<(String, String)> = fields
                .iter()
                .filter(|(n, _)| !signed.contains(&n.as_str()))
                .cloned()
                .collect();
            f.sort();
            f
        };
        assert_eq!(sorted(&form.fields), sorted(&c.botocore.fields), "{ctx}");
        assert_eq!(form.fill_in, fill_in, "{ctx}");

        let theirs = |name: &str| {
            c.botocore
                .fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let their_policy = theirs("policy");
        let decoded: serde_json::Value =
            serde_json::from_slice(&b64.decode(&their_policy).unwrap()).unwrap();
        let ours: serde_json::Value = serde_json::from_str(&form.policy).unwrap();
        assert_eq!(conditions_of(&ours), conditions_of(&decoded), "{ctx}");
        assert_eq!(
            ours["expiration"].as_str().unwrap().replace(".000Z", "Z"),
            decoded["expiration"],
            "{ctx}"
        );
        let expiration = UNIX_EPOCH
            + Duration::from_secs(time.duration_since(UNIX_EPOCH).unwrap().as_secs())
            + Duration::from_secs(c.expires_in);
        assert_eq!(form.expires_at, expiration, "{ctx}");

        let (ours, theirs_signature) = match version {
            SignatureVersion::V4 => (
                presigner
                    .v4_signer()
                    .sign_string_at(their_policy.as_bytes(), time),
                theirs("x-amz-signature"),
            ),
            SignatureVersion::V2 => (
                presigner.v2_signer().sign_string(&their_policy),
                theirs("signature"),
            ),
        };
        assert_eq!(
            ours, theirs_signature,
            "{ctx}: signature over botocore's policy"
        );
    }
}
