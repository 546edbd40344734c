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
    for policy in [
        base().content_length_range(10, 1),
        base().expires_in(Duration::ZERO),
        base().success_action_status(302),
    ] {
        assert!(matches!(
            p.post_form(&policy),
            Err(sos_presign::Error::InvalidPolicy(_))
        ));
    }
    assert!(matches!(
        p.post_form(&PostPolicy::new(
            "bad/bucket",
            KeyCondition::Exact("k".into())
        )),
        Err(sos_presign::Error::InvalidBucket { .. })
    ));
}
