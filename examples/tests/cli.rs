//! The `sos` binary: the s3cmd seed session against the embedded server, and ACL, CORS,
//! sync and the rest against the RADOS Gateway with the seed's `~/.s3cfg` (V2, and V4),
//! s3cmd's command lines (`--add-header`, `--acl-grant`, `signurl`, `multipart`, ...) checked
//! on the bucket with the client library, and the names recursive commands give compared
//! with s3cmd's own.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use sos_client::{Client, Endpoint, ObjectInfo};
use sos_testing::EmbeddedS3;

/// A home directory with a `.s3cfg` like the seed's, pointed at a local server.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new(host: &str, access: &str, secret: &str, signature_v2: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".s3cfg"),
            format!(
                "[default]\nhost_base = {host}\nhost_bucket = {host}\naccess_key = {access}\n\
                 secret_key = {secret}\nuse_https = False\nsignature_v2 = {}\n",
                if signature_v2 { "True" } else { "False" }
            ),
        )
        .unwrap();
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `sos ARGS` with this home, no other configuration, in the home directory.
    fn sos(&self, args: &[&str]) -> Output {
        self.sos_env(args, &[])
    }

    /// Runs `sos ARGS` with this home and the variables `env` set.
    fn sos_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sos"));
        cmd.args(args)
            .current_dir(self.path())
            .env("HOME", self.path());
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_S3",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "EXOSCALE_API_KEY",
            "EXOSCALE_API_SECRET",
            "S3CMD_CONFIG",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_CONFIG_FILE",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        cmd.output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.sos(args);
        assert!(
            out.status.success(),
            "sos {args:?} failed ({:?}): {}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and expects exit `code`; returns stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.sos(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "sos {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.starts_with("error: ") || code == 2, "{stderr}");
        // One clear line (clap's own usage errors aside), no Debug dump.
        assert!(
            code == 2 || stderr.trim_end().lines().count() == 1,
            "{stderr}"
        );
        assert!(
            !stderr.contains("Service(") && !stderr.contains("{ "),
            "{stderr}"
        );
        stderr
    }

    fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, data).unwrap();
        path
    }
}

fn embedded() -> &'static EmbeddedS3 {
    static SERVER: OnceLock<EmbeddedS3> = OnceLock::new();
    SERVER.get_or_init(|| EmbeddedS3::start().unwrap())
}

fn picture() -> Vec<u8> {
    (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn unique(prefix: &str) -> String {
    sos_testing::unique_name(prefix)
}

/// The s3cmd quick start of the seed, with `sos` in place of `s3cmd`.
fn seed_session(home: &Home) {
    let bucket = unique("my-new-bucket");
    let uri = format!("s3://{bucket}");
    let out = home.ok(&["mb", &uri]);
    assert!(out.contains(&bucket), "{out}");
    let out = home.ok(&["ls"]);
    assert!(out.contains(&format!("s3://{bucket}")), "{out}");
    let picture = picture();
    home.write("picture.jpg", &picture);
    home.ok(&["put", "picture.jpg", &format!("{uri}/picture.jpg")]);
    let out = home.ok(&["ls", &uri]);
    assert!(out.contains(&format!("{uri}/picture.jpg")), "{out}");
    assert!(out.contains(&picture.len().to_string()), "{out}");
    home.ok(&["get", &format!("{uri}/picture.jpg"), "picture_download.jpg"]);
    assert_eq!(
        std::fs::read(home.path().join("picture_download.jpg")).unwrap(),
        picture
    );
    // An existing file is not overwritten without --force.
    home.fails(
        &["get", &format!("{uri}/picture.jpg"), "picture_download.jpg"],
        2,
    );
    home.ok(&[
        "get",
        "--force",
        &format!("{uri}/picture.jpg"),
        "picture_download.jpg",
    ]);
    let info = home.ok(&["info", &format!("{uri}/picture.jpg")]);
    assert!(info.contains("image/jpeg"), "content type guessed: {info}");
    home.ok(&["del", &format!("{uri}/picture.jpg")]);
    home.ok(&["rb", &uri]);
}

#[test]
fn seed_session_against_the_embedded_server() {
    let s3 = embedded();
    let host = s3.endpoint().trim_start_matches("http://").to_owned();
    let home = Home::new(&host, s3.access_key(), s3.secret_key(), true);
    seed_session(&home);
    let home = Home::new(&host, s3.access_key(), s3.secret_key(), false);
    seed_session(&home);
}

fn gateway_home() -> Option<Home> {
    let gw = sos_testing::rados_gateway()?;
    Some(Home::new(
        gw.authority(),
        &gw.access_key,
        &gw.secret_key,
        true,
    ))
}

/// The gateway with a V4 `~/.s3cfg` (`signature_v2 = False`), and the server.
fn gateway_home_v4() -> Option<(Home, sos_testing::ExternalServer)> {
    let gw = sos_testing::rados_gateway()?;
    let home = Home::new(gw.authority(), &gw.access_key, &gw.secret_key, false);
    Some((home, gw))
}

fn curl_status(url: &str) -> u16 {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "20",
            url,
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

#[test]
fn seed_session_against_the_gateway_with_signature_v2() {
    let Some(home) = gateway_home() else { return };
    seed_session(&home);
}

#[test]
fn acl_and_cors_commands_against_the_gateway() {
    let Some(home) = gateway_home() else { return };
    let gw = sos_testing::rados_gateway().unwrap();
    let bucket = unique("sos-cli-acl");
    let uri = format!("s3://{bucket}");
    home.ok(&["mb", &uri]);
    home.write("page.html", b"<h1>hi</h1>");
    home.ok(&["put", "page.html", &format!("{uri}/")]);
    let url = format!("{}/{bucket}/page.html", gw.endpoint);
    assert_eq!(curl_status(&url), 403);
    home.ok(&["setacl", "--acl-public", &format!("{uri}/page.html")]);
    assert_eq!(curl_status(&url), 200);
    let acl = home.ok(&["getacl", &format!("{uri}/page.html")]);
    assert!(acl.contains("READ") && acl.contains("all-users"), "{acl}");
    home.ok(&[
        "setacl",
        "--revoke",
        "all-users",
        &format!("{uri}/page.html"),
    ]);
    assert_eq!(curl_status(&url), 403);
    home.ok(&[
        "setacl",
        "--grant",
        "read:all-users",
        &format!("{uri}/page.html"),
    ]);
    assert_eq!(curl_status(&url), 200);
    home.ok(&["setacl", "--acl-private", &format!("{uri}/page.html")]);
    assert_eq!(curl_status(&url), 403);
    // Uploaded public.
    home.ok(&[
        "put",
        "--acl-public",
        "page.html",
        &format!("{uri}/open.html"),
    ]);
    assert_eq!(
        curl_status(&format!("{}/{bucket}/open.html", gw.endpoint)),
        200
    );
    home.fails(&["setacl", "--grant", "nonsense:x", &uri], 2);

    // CORS from the AWS CLI's JSON and from XML.
    home.fails(&["getcors", &uri], 3);
    home.write(
        "cors.json",
        br#"{"CORSRules": [{"AllowedOrigins": ["https://app.example.com"],
            "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"], "MaxAgeSeconds": 600}]}"#,
    );
    home.ok(&["setcors", &uri, "cors.json"]);
    let xml = home.ok(&["getcors", &uri]);
    assert!(
        xml.contains("<AllowedOrigin>https://app.example.com</AllowedOrigin>"),
        "{xml}"
    );
    let json = home.ok(&["getcors", "--json", &uri]);
    assert!(json.contains("\"AllowedOrigins\""), "{json}");
    home.write("cors.xml", xml.as_bytes());
    home.ok(&["setcors", &uri, "cors.xml"]);
    let info = home.ok(&["info", &uri]);
    assert!(
        info.contains("CORS:") && info.contains("app.example.com"),
        "{info}"
    );
    home.ok(&["delcors", &uri]);
    home.fails(&["getcors", &uri], 3);
    home.write(
        "bad.json",
        br#"{"CORSRules": [{"AllowedMethods": ["GET"]}]}"#,
    );
    home.fails(&["setcors", &uri, "bad.json"], 2);
    home.ok(&["rb", "--recursive", &uri]);
}

#[test]
fn sync_copy_move_du_presign_and_errors() {
    let Some(home) = gateway_home() else { return };
    let bucket = unique("sos-cli-sync");
    let uri = format!("s3://{bucket}");
    home.ok(&["mb", &uri]);
    home.write("site/index.html", b"<html>index</html>");
    home.write("site/css/site.css", b"body{}");
    home.write("site/img/big.bin", &vec![7u8; 6 * 1024 * 1024 + 5]);
    let args = [
        "sync",
        "--part-size-mib",
        "5",
        "site/",
        &format!("{uri}/www/"),
    ];
    let out = home.ok(&args);
    assert!(out.contains("3 uploaded, 0 unchanged"), "{out}");
    let out = home.ok(&args);
    assert!(
        out.contains("0 uploaded, 3 unchanged"),
        "multipart ETag matched: {out}"
    );
    home.write("site/index.html", b"<html>changed</html>");
    std::fs::remove_file(home.path().join("site/css/site.css")).unwrap();
    let out = home.ok(&[
        "sync",
        "--part-size-mib",
        "5",
        "--delete",
        "site/",
        &format!("{uri}/www/"),
    ]);
    assert!(out.contains("1 uploaded, 1 unchanged, 1 deleted"), "{out}");
    let listing = home.ok(&["ls", "--recursive", &uri]);
    assert!(
        !listing.contains("site.css") && listing.contains("www/index.html"),
        "{listing}"
    );
    let top = home.ok(&["ls", &uri]);
    assert!(
        top.contains("DIR") && top.contains(&format!("{uri}/www/")),
        "{top}"
    );

    home.ok(&[
        "cp",
        &format!("{uri}/www/index.html"),
        &format!("{uri}/copy.html"),
    ]);
    home.ok(&[
        "mv",
        &format!("{uri}/copy.html"),
        &format!("{uri}/moved.html"),
    ]);
    let listing = home.ok(&["ls", &uri]);
    assert!(
        listing.contains("moved.html") && !listing.contains("copy.html"),
        "{listing}"
    );
    home.ok(&[
        "cp",
        "--recursive",
        &format!("{uri}/www/"),
        &format!("{uri}/backup/"),
    ]);
    let du = home.ok(&["du", &format!("{uri}/backup/")]);
    assert!(du.contains(" 2 objects"), "{du}");

    let url = home.ok(&["presign", "--expires", "300", &format!("{uri}/moved.html")]);
    let out = Command::new("curl")
        .args(["-s", "--max-time", "20", url.trim()])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"<html>changed</html>");

    // Exit codes and messages a script can rely on.
    let err = home.fails(&["get", &format!("{uri}/nope"), "x"], 3);
    assert!(err.contains("NoSuchKey"), "{err}");
    home.fails(&["ls", "s3://sos-no-such-bucket-cli"], 3);
    home.fails(&["mb", "s3://Bad_Name"], 2);
    home.fails(&["put", "site", &format!("{uri}/")], 2);
    // (V2 URLs may live longer than V4 ones; none may be expired at birth.)
    home.fails(
        &["presign", "--expires", "0", &format!("{uri}/moved.html")],
        2,
    );
    home.fails(&["ls", "not-a-uri"], 2);
    home.fails(&["frobnicate"], 2);

    home.ok(&["del", "--recursive", "--force", &uri]);
    assert!(home.ok(&["ls", "--recursive", &uri]).trim().is_empty());
    home.ok(&["rb", &uri]);
}

#[test]
fn no_credentials_is_a_clear_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sos"))
        .args(["--zone", "ch-gva-2", "ls"])
        .env("HOME", home.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("EXOSCALE_API_KEY")
        .env_remove("AWS_PROFILE")
        .env_remove("S3CMD_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error:") && stderr.contains("EXOSCALE_API_KEY"),
        "{stderr}"
    );
}

/// The bucket as the client library sees it: what the commands did, judged independently of
/// the command line.
struct Judge {
    rt: tokio::runtime::Runtime,
    client: Client,
}

impl Judge {
    fn new(gw: &sos_testing::ExternalServer) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = Client::builder()
            .endpoint(
                Endpoint::parse(&gw.endpoint)
                    .unwrap()
                    .with_region(gw.region.clone()),
            )
            .credentials(sos_auth::Credentials::new(
                gw.access_key.clone(),
                sos_auth::Secret::from(gw.secret_key.as_str()),
            ))
            .build()
            .unwrap();
        Self { rt, client }
    }

    fn head(&self, bucket: &str, key: &str) -> Option<ObjectInfo> {
        self.rt.block_on(self.client.head_object(bucket, key)).ok()
    }

    /// The content of an object, `None` when it cannot be read (missing).
    fn read(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.rt
            .block_on(self.client.get_object(bucket, key).bytes())
            .ok()
            .map(|b| b.to_vec())
    }

    /// Writes an object.
    fn put(&self, bucket: &str, key: &str, data: &[u8]) {
        self.rt
            .block_on(
                self.client
                    .put_object(bucket, key)
                    .body(data.to_vec())
                    .send(),
            )
            .unwrap();
    }

    /// Every key under `prefix`, sorted.
    fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        use futures_util::TryStreamExt;
        let mut keys: Vec<String> = self
            .rt
            .block_on(
                self.client
                    .list_objects(bucket.to_owned())
                    .prefix(prefix.to_owned())
                    .objects()
                    .map_ok(|o| o.key)
                    .try_collect(),
            )
            .unwrap();
        keys.sort();
        keys
    }

    fn public(&self, bucket: &str, key: &str) -> bool {
        self.rt
            .block_on(self.client.get_object_acl(bucket, key))
            .unwrap()
            .readable_by_everyone()
    }

    /// Starts a multipart upload with one 5 MiB part; returns its id.
    fn pending_upload(&self, bucket: &str, key: &str) -> String {
        let meta = sos_client::Metadata::new();
        let upload = self
            .rt
            .block_on(
                self.client
                    .create_multipart_upload(bucket, key, &meta, None),
            )
            .unwrap();
        self.rt
            .block_on(self.client.upload_part(
                &upload,
                1,
                vec![1u8; 5 * 1024 * 1024].into(),
                sos_client::Checksum::Auto,
            ))
            .unwrap();
        upload.upload_id
    }
}

fn lines_with<'a>(out: &'a str, needle: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.contains(needle)).collect()
}

/// s3cmd's options on uploads and copies, and the objects they leave: headers, metadata,
/// ACL; `modify` in place; a move keeps a public object public; V4 and an empty file.
#[test]
fn s3cmd_upload_options_headers_and_acls() {
    let Some((home, gw)) = gateway_home_v4() else {
        return;
    };
    let judge = Judge::new(&gw);
    let bucket = unique("sos-cli-hdr");
    let uri = format!("s3://{bucket}");
    home.ok(&["mb", &uri]);
    home.write("a b.txt", b"space name\n");
    home.write("empty.txt", b"");
    home.write("ünï cödé.txt", b"unicode\n");

    // An empty file with V4 over http (the gateway refused it as an aws-chunked stream);
    // s3cmd's options before the command's name.
    home.ok(&["-P", "put", "empty.txt", "ünï cödé.txt", &format!("{uri}/")]);
    assert!(judge.public(&bucket, "empty.txt"));
    assert_eq!(judge.head(&bucket, "empty.txt").unwrap().content_length, 0);
    assert_eq!(
        judge.head(&bucket, "ünï cödé.txt").unwrap().content_length,
        8
    );

    // s3cmd put -P --mime-type --add-header, as the guides write it.
    let out = home.ok(&[
        "put",
        "-P",
        "--mime-type=text/x-custom",
        "--add-header=Cache-Control:max-age=60",
        "--add-header=x-amz-meta-color: blue",
        "a b.txt",
        &format!("{uri}/hdr.txt"),
    ]);
    assert!(
        out.contains(&format!(
            "Public URL of the object is: {}/{bucket}/hdr.txt",
            gw.endpoint
        )),
        "{out}"
    );
    let info = judge.head(&bucket, "hdr.txt").unwrap();
    assert_eq!(info.metadata.content_type.as_deref(), Some("text/x-custom"));
    assert_eq!(info.metadata.cache_control.as_deref(), Some("max-age=60"));
    assert_eq!(info.metadata.user["color"], "blue");
    assert_eq!(
        curl_status(&format!("{}/{bucket}/hdr.txt", gw.endpoint)),
        200
    );
    // Headers sos cannot send, and other storage classes, are refused before any request.
    home.fails(
        &[
            "put",
            "--add-header=X-Frob:1",
            "a b.txt",
            &format!("{uri}/x"),
        ],
        2,
    );
    home.fails(
        &[
            "put",
            "--storage-class=GLACIER",
            "a b.txt",
            &format!("{uri}/x"),
        ],
        2,
    );
    assert!(judge.head(&bucket, "x").is_none());

    // modify: headers merged, removed, the ACL kept; the stored aws-chunked encoding of a
    // V4 streaming upload is not carried over.
    home.ok(&[
        "modify",
        "--add-header=Cache-Control:max-age=3600",
        "--add-header=x-amz-meta-foo:bar",
        "--remove-header=x-amz-meta-color",
        &format!("{uri}/hdr.txt"),
    ]);
    let info = judge.head(&bucket, "hdr.txt").unwrap();
    assert_eq!(info.metadata.cache_control.as_deref(), Some("max-age=3600"));
    assert_eq!(info.metadata.content_type.as_deref(), Some("text/x-custom"));
    assert_eq!(
        info.metadata.user.get("foo").map(String::as_str),
        Some("bar")
    );
    assert!(!info.metadata.user.contains_key("color"), "{info:?}");
    assert!(
        info.metadata
            .content_encoding
            .as_deref()
            .is_none_or(|e| !e.contains("aws-chunked")),
        "{info:?}"
    );
    assert!(judge.public(&bucket, "hdr.txt"));
    home.fails(&["modify", &format!("{uri}/hdr.txt")], 2);
    home.fails(&["modify", "-m", "text/plain", &format!("{uri}/nope")], 3);

    // A move keeps the ACL and the metadata (s3cmd copies the source's ACL); onto itself it
    // is refused and the object stays.
    home.ok(&["mv", &format!("{uri}/hdr.txt"), &format!("{uri}/moved/")]);
    assert!(judge.head(&bucket, "hdr.txt").is_none());
    let info = judge.head(&bucket, "moved/hdr.txt").unwrap();
    assert_eq!(
        info.metadata.user.get("foo").map(String::as_str),
        Some("bar")
    );
    assert!(judge.public(&bucket, "moved/hdr.txt"));
    home.fails(
        &[
            "mv",
            &format!("{uri}/moved/hdr.txt"),
            &format!("{uri}/moved/hdr.txt"),
        ],
        2,
    );
    assert!(judge.head(&bucket, "moved/hdr.txt").is_some());
    // cp with --acl-private and a new type: the copy only.
    home.ok(&[
        "cp",
        "--acl-private",
        "-m",
        "text/plain",
        &format!("{uri}/moved/hdr.txt"),
        &format!("{uri}/private.txt"),
    ]);
    assert!(!judge.public(&bucket, "private.txt"));
    let info = judge.head(&bucket, "private.txt").unwrap();
    assert_eq!(info.metadata.content_type.as_deref(), Some("text/plain"));
    assert_eq!(
        info.metadata.user.get("foo").map(String::as_str),
        Some("bar")
    );
    assert!(judge.public(&bucket, "moved/hdr.txt"));

    let out = home.ok(&["info", &format!("{uri}/moved/hdr.txt")]);
    assert!(
        out.contains("MIME type: text/x-custom") && out.contains("x-amz-meta-foo: bar"),
        "{out}"
    );
    assert!(out.contains("URL:"), "a public object's URL: {out}");
    home.ok(&["rb", "--recursive", &uri]);
}

/// `setacl` in s3cmd's forms, `setcors FILE s3://BUCKET`, `signurl`, `multipart`, `listmp`,
/// `abortmp`, and messages that say what is missing.
#[test]
fn s3cmd_acl_cors_signurl_multipart_and_errors() {
    let Some(home) = gateway_home() else { return };
    let gw = sos_testing::rados_gateway().unwrap();
    let judge = Judge::new(&gw);
    let bucket = unique("sos-cli-s3cmd");
    let uri = format!("s3://{bucket}");
    home.ok(&["mb", &uri]);
    home.write("site/a.html", b"<p>a</p>");
    home.write("site/d/b.html", b"<p>b</p>");
    home.ok(&["put", "--recursive", "site/", &format!("{uri}/www/")]);
    let url = |key: &str| format!("{}/{bucket}/{key}", gw.endpoint);

    // setacl -P --recursive, then a grant and a revoke of READ for all users.
    let out = home.ok(&["setacl", "-P", "--recursive", &format!("{uri}/www/")]);
    assert_eq!(lines_with(&out, "ACL set to Public").len(), 2, "{out}");
    assert_eq!(curl_status(&url("www/d/b.html")), 200);
    home.ok(&[
        "setacl",
        "--acl-revoke=read:all-users",
        &format!("{uri}/www/d/b.html"),
    ]);
    assert_eq!(curl_status(&url("www/d/b.html")), 403);
    assert_eq!(curl_status(&url("www/a.html")), 200);
    home.ok(&[
        "setacl",
        "--acl-grant=read:http://acs.amazonaws.com/groups/global/AllUsers",
        &format!("{uri}/www/d/b.html"),
    ]);
    assert_eq!(curl_status(&url("www/d/b.html")), 200);
    home.ok(&["setacl", "--acl-private", &format!("{uri}/www/d/b.html")]);
    assert_eq!(curl_status(&url("www/d/b.html")), 403);
    let err = home.fails(&["setacl", "--acl-public", &format!("{uri}/nope")], 3);
    assert!(err.contains("no such object"), "{err}");

    // s3cmd's argument order for setcors.
    home.write(
        "cors.xml",
        b"<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example.com</AllowedOrigin>\
          <AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
    );
    home.ok(&["setcors", "cors.xml", &uri]);
    assert!(home.ok(&["getcors", &uri]).contains("app.example.com"));
    home.ok(&["delcors", &uri]);

    // signurl with +SECONDS and a Unix time; an expiry in the past is refused.
    let signed = home.ok(&["signurl", &format!("{uri}/www/d/b.html"), "+300"]);
    assert_eq!(curl_status(signed.trim()), 200);
    let at = (std::time::SystemTime::now() + std::time::Duration::from_secs(600))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let signed = home.ok(&["signurl", &format!("{uri}/www/d/b.html"), &at]);
    assert!(signed.contains(&format!("Expires={at}")), "{signed}");
    assert_eq!(curl_status(signed.trim()), 200);
    home.fails(&["signurl", &format!("{uri}/www/d/b.html"), "1000"], 2);

    // Multipart uploads in progress: listed, their parts listed, aborted; a wrong id is
    // not "aborted".
    let id = judge.pending_upload(&bucket, "big upload ü.bin");
    let out = home.ok(&["multipart", &uri]);
    assert!(
        out.contains(&id) && out.contains(&format!("{uri}/big upload ü.bin")),
        "{out}"
    );
    let target = format!("{uri}/big upload ü.bin");
    let out = home.ok(&["listmp", &target, &id]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("1\t") && l.ends_with("\t5242880")),
        "{out}"
    );
    home.ok(&["abortmp", &target, &id]);
    assert!(!home.ok(&["multipart", &uri]).contains(&id));
    let err = home.fails(&["abortmp", &target, &id], 3);
    assert!(err.contains("no multipart upload"), "{err}");

    // What is missing is named: the bucket, or the object.
    let err = home.fails(&["get", &format!("s3://{bucket}-none/x")], 3);
    assert!(err.contains("no such bucket"), "{err}");
    let err = home.fails(&["info", &format!("{uri}/nope")], 3);
    assert!(
        err.contains(&format!("{uri}/nope")) && err.contains("no such object"),
        "{err}"
    );
    home.fails(&["get", &format!("{uri}/www/")], 2);
    home.fails(&["mb", &format!("{uri}/key")], 2);

    // del: a folder needs --recursive, a whole bucket --force as well (nothing deleted).
    home.fails(&["del", &format!("{uri}/www/")], 2);
    home.fails(&["del", "--recursive", &uri], 2);
    assert_eq!(judge.keys(&bucket, "").len(), 2);
    let out = home.ok(&["del", "--recursive", "--dry-run", &format!("{uri}/www/d")]);
    assert!(out.contains("www/d/b.html"), "{out}");
    assert_eq!(judge.keys(&bucket, "").len(), 2);
    // rb: not empty is an error that says what to do; --force empties it.
    let err = home.fails(&["rb", &uri], 1);
    assert!(err.contains("--recursive"), "{err}");
    // Options before the command's name, as s3cmd takes them.
    home.ok(&["--force", "rb", &uri]);
    home.ok(&["rb", "--force", &uri]);
    home.fails(&["rb", &uri], 3);
}

/// `-c FILE` is the configuration, as with s3cmd: its keys and host win over AWS_* variables
/// (which would otherwise come first).
#[test]
fn config_file_wins_over_the_environment() {
    let Some(home) = gateway_home() else { return };
    let cfg = home.path().join(".s3cfg").display().to_string();
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDBOGUS"),
        ("AWS_SECRET_ACCESS_KEY", "bogus-secret"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ];
    let out = home.sos_env(&["-c", &cfg, "ls"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without -c, the environment comes first (as for the AWS CLI): the bogus endpoint.
    let out = home.sos_env(&["ls"], &env);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("bogus-secret"), "{stderr}");
    // A connection error names the endpoint (the client leaves URLs out of its errors).
    assert!(
        stderr.contains("(endpoint http://127.0.0.1:9)") && stderr.lines().count() == 1,
        "{stderr}"
    );
    // Its `$NAME` values read the environment, the AWS_* keys included, though those do not
    // take part as a credentials source of their own.
    let gw = sos_testing::rados_gateway().unwrap();
    home.write(
        "env.cfg",
        format!(
            "[default]\nhost_base = {}\nhost_bucket = {}\naccess_key = $AWS_ACCESS_KEY_ID\n\
             secret_key = $AWS_SECRET_ACCESS_KEY\nuse_https = False\nsignature_v2 = True\n",
            gw.authority(),
            gw.authority()
        )
        .as_bytes(),
    );
    let real = [
        ("AWS_ACCESS_KEY_ID", gw.access_key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", gw.secret_key.as_str()),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ];
    let out = home.sos_env(&["-c", "env.cfg", "ls"], &real);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same file with a wrong key in the variable: refused by the gateway.
    let wrong = [
        ("AWS_ACCESS_KEY_ID", gw.access_key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", "wrong-secret"),
    ];
    let out = home.sos_env(&["-c", "env.cfg", "ls"], &wrong);
    assert!(!out.status.success());
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("wrong-secret"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A malformed file: its line, once, and not the usage hint about credentials.
    home.write(
        "bad.cfg",
        b"[default]\naccess_key = AK\nsecret_key = s3cr3t\nuse_https = maybe\n",
    );
    let err = home.fails(&["-c", "bad.cfg", "ls"], 2);
    assert!(
        err.contains("bad.cfg:4") && !err.contains("s3cr3t"),
        "{err}"
    );
    assert!(!err.contains("EXOSCALE_API_KEY"), "{err}");
}

/// What the recursive commands name, compared with what s3cmd names for the same command
/// line: `put -r`, `cp -r`, `get -r`, `sync` both ways, with and without a trailing `/`.
#[test]
fn recursive_names_are_s3cmds() {
    let Some(home) = gateway_home() else { return };
    let gw = sos_testing::rados_gateway().unwrap();
    let judge = Judge::new(&gw);
    let s3cmd = sos_testing::cli::S3cmd::new(&gw.endpoint, &gw.access_key, &gw.secret_key, true);
    let bucket = unique("sos-cli-names");
    let uri = format!("s3://{bucket}");
    home.ok(&["mb", &uri]);
    home.write("dir/top.html", b"top");
    home.write("dir/sub/x.css", b"x");
    home.write("dir/sub/skip.log", b"log");
    home.write("dir/sub/sp ace ü.txt", b"unicode");

    // Each tool writes under its own root; the names below the roots must be equal.
    let run_both = |args: &dyn Fn(&str) -> Vec<String>| {
        for tool in ["s3cmd", "sos"] {
            let args = args(tool);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            if tool == "sos" {
                home.ok(&args);
            } else {
                let out = s3cmd
                    .command(&args)
                    .current_dir(home.path())
                    .output()
                    .unwrap();
                assert!(out.status.success(), "s3cmd {args:?}: {out:?}");
            }
        }
    };
    let same_keys = |what: &str| {
        let strip = |tool: &str| -> Vec<String> {
            let root = format!("{tool}/{what}/");
            judge
                .keys(&bucket, &root)
                .into_iter()
                .map(|k| k[root.len()..].to_owned())
                .collect()
        };
        let (theirs, ours) = (strip("s3cmd"), strip("sos"));
        assert!(!ours.is_empty(), "{what}: nothing written");
        assert_eq!(ours, theirs, "{what}: sos vs s3cmd");
    };
    run_both(&|t| {
        ["put", "--recursive", "dir", &format!("{uri}/{t}/put1/")]
            .map(String::from)
            .to_vec()
    });
    same_keys("put1");
    run_both(&|t| {
        [
            "put",
            "--recursive",
            "--exclude",
            "*.log",
            "dir/",
            &format!("{uri}/{t}/put2/"),
        ]
        .map(String::from)
        .to_vec()
    });
    same_keys("put2");
    assert!(
        !judge
            .keys(&bucket, "sos/put2/")
            .iter()
            .any(|k| k.ends_with(".log"))
    );
    run_both(&|t| {
        [
            "cp",
            "--recursive",
            &format!("{uri}/sos/put1/dir"),
            &format!("{uri}/{t}/cp1/"),
        ]
        .map(String::from)
        .to_vec()
    });
    same_keys("cp1");
    run_both(&|t| {
        [
            "cp",
            "--recursive",
            &format!("{uri}/sos/put1/dir/"),
            &format!("{uri}/{t}/cp2/"),
        ]
        .map(String::from)
        .to_vec()
    });
    same_keys("cp2");
    run_both(&|t| {
        ["sync", "dir", &format!("{uri}/{t}/sync1/")]
            .map(String::from)
            .to_vec()
    });
    same_keys("sync1");

    // Downloads: the files each tool writes below its own directory.
    let files = |dir: &str| -> Vec<String> {
        let root = home.path().join(dir);
        let mut out = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p.strip_prefix(&root).unwrap().display().to_string());
                }
            }
        }
        out.sort();
        out
    };
    for (name, source) in [
        ("get1", format!("{uri}/sos/put1/dir")),
        ("get2", format!("{uri}/sos/put1/dir/")),
    ] {
        for tool in ["s3cmd", "sos"] {
            std::fs::create_dir_all(home.path().join(format!("{tool}-{name}"))).unwrap();
        }
        run_both(&|t| {
            ["get", "--recursive", &source, &format!("{t}-{name}/")]
                .map(String::from)
                .to_vec()
        });
        let ours = files(&format!("sos-{name}"));
        assert!(!ours.is_empty());
        assert_eq!(ours, files(&format!("s3cmd-{name}")), "{name}");
    }
    run_both(&|t| {
        [
            "sync",
            &format!("{uri}/sos/put1/dir"),
            &format!("{t}-sync/"),
        ]
        .map(String::from)
        .to_vec()
    });
    assert_eq!(files("sos-sync"), files("s3cmd-sync"));
    home.ok(&["rb", "--recursive", &uri]);
}

/// Several sources that would go to one destination are refused before anything is written
/// (`mv` used to copy both and keep the last: the first's data was gone), by `mv`, `mv -r`,
/// `cp`, `put`, `put -r` and `get`; objects `x` and `x/y` are not both written as files; a
/// copy that replaces the source of another runs after it; `mv` of one source twice and a
/// sync between overlapping prefixes are refused.
#[test]
fn sources_never_share_a_destination() {
    let Some(home) = gateway_home() else { return };
    let gw = sos_testing::rados_gateway().unwrap();
    let judge = Judge::new(&gw);
    let bucket = unique("sos-cli-dups");
    let uri = format!("s3://{bucket}");
    home.ok(&["mb", &uri]);
    judge.put(&bucket, "d1/f", b"one");
    judge.put(&bucket, "d2/f", b"two");
    let (d1, d2) = (format!("{uri}/d1/f"), format!("{uri}/d2/f"));
    let dest = format!("{uri}/dest/");
    let untouched = || {
        assert_eq!(judge.read(&bucket, "d1/f").as_deref(), Some(&b"one"[..]));
        assert_eq!(judge.read(&bucket, "d2/f").as_deref(), Some(&b"two"[..]));
        assert!(judge.keys(&bucket, "dest/").is_empty());
    };
    let err = home.fails(&["mv", &d1, &d2, &dest], 2);
    assert!(
        err.contains(&format!("{d1} and {d2}")) && err.contains(&format!("{dest}f")),
        "{err}"
    );
    untouched();
    home.fails(
        &[
            "mv",
            "-r",
            &format!("{uri}/d1/"),
            &format!("{uri}/d2/"),
            &dest,
        ],
        2,
    );
    untouched();
    home.fails(&["cp", &d1, &d2, &dest], 2);
    home.fails(
        &[
            "cp",
            "-r",
            &format!("{uri}/d1/"),
            &format!("{uri}/d2/"),
            &dest,
        ],
        2,
    );
    untouched();

    // Local files of one name into one prefix.
    home.write("a/f", b"a");
    home.write("b/f", b"b");
    home.fails(&["put", "a/f", "b/f", &dest], 2);
    home.fails(&["put", "-r", "a/", "b/", &dest], 2);
    untouched();
    // Objects of one name into one directory.
    let err = home.fails(&["get", &d1, &d2, "got/"], 2);
    assert!(err.contains("got/f"), "{err}");
    home.fails(&["get", "-f", &d1, &d2], 2);
    assert!(!home.path().join("got").exists() && !home.path().join("f").exists());
    // `x` and `x/y` cannot both be files: refused before the first download.
    judge.put(&bucket, "g/x", b"x");
    judge.put(&bucket, "g/x/y", b"y");
    let err = home.fails(&["get", "-r", &format!("{uri}/g/"), "g1/"], 2);
    assert!(err.contains("g1/x/y"), "{err}");
    home.fails(&["sync", &format!("{uri}/g/"), "g2/"], 2);
    assert!(!home.path().join("g1").exists() && !home.path().join("g2").exists());
    home.ok(&["get", "-r", "--exclude", "x/y", &format!("{uri}/g/"), "g3/"]);
    assert_eq!(std::fs::read(home.path().join("g3/x")).unwrap(), b"x");

    // A copy whose source another copy replaces runs first: each copy gets the data its
    // source had.
    judge.put(&bucket, "c/f", b"c/f");
    judge.put(&bucket, "c/sub/f", b"c/sub/f");
    home.ok(&["cp", "-r", &format!("{uri}/c/"), &format!("{uri}/c/sub/")]);
    assert_eq!(judge.read(&bucket, "c/sub/f").as_deref(), Some(&b"c/f"[..]));
    assert_eq!(
        judge.read(&bucket, "c/sub/sub/f").as_deref(),
        Some(&b"c/sub/f"[..])
    );
    home.ok(&["mv", "-r", &format!("{uri}/c/"), &format!("{uri}/c/sub/")]);
    assert_eq!(
        judge.keys(&bucket, "c/"),
        ["c/sub/f", "c/sub/sub/f", "c/sub/sub/sub/f"]
    );
    assert_eq!(judge.read(&bucket, "c/sub/f").as_deref(), Some(&b"c/f"[..]));
    assert_eq!(
        judge.read(&bucket, "c/sub/sub/sub/f").as_deref(),
        Some(&b"c/sub/f"[..])
    );
    // One object moved twice (the sources overlap), a sync into its own source: refused.
    // (`c/sub/sub` takes c/sub/sub/f and c/sub/sub/sub/f as m/sub/..., `c/sub/sub/sub/`
    // c/sub/sub/sub/f again, as m/f.)
    let err = home.fails(
        &[
            "mv",
            "-r",
            &format!("{uri}/c/sub/sub"),
            &format!("{uri}/c/sub/sub/sub/"),
            &format!("{uri}/m/"),
        ],
        2,
    );
    assert!(
        err.contains(&format!("{uri}/c/sub/sub/sub/f would be moved twice")),
        "{err}"
    );
    let err = home.fails(&["sync", &format!("{uri}/c/"), &format!("{uri}/c/sub/")], 2);
    assert!(err.contains("inside"), "{err}");
    home.fails(
        &[
            "sync",
            "--delete-removed",
            &format!("{uri}/c/sub/"),
            &format!("{uri}/c/"),
        ],
        2,
    );
    assert_eq!(judge.keys(&bucket, "c/").len(), 3);
    assert!(judge.keys(&bucket, "m/").is_empty());

    // Distinct names still go together; options before a `--` stay options.
    home.ok(&["mv", &d1, &format!("{uri}/g/x"), &dest]);
    assert_eq!(judge.keys(&bucket, "dest/"), ["dest/f", "dest/x"]);
    assert_eq!(judge.read(&bucket, "dest/f").as_deref(), Some(&b"one"[..]));
    assert!(judge.read(&bucket, "d1/f").is_none());
    home.ok(&["--recursive", "--force", "--", "del", &uri]);
    assert!(judge.keys(&bucket, "").is_empty());
    home.ok(&["rb", &uri]);
}

/// `s3://b/dir` is a key prefix, as the help says: a recursive command takes `dir2/...` and
/// `directory.txt` too, keeps their names, and warns (unless -q); `s3://b/dir/` takes what
/// is under `dir/`, without a warning. An `--exclude` with many `*` on a long key is
/// decided at once.
#[test]
fn a_source_without_slash_is_a_key_prefix() {
    let Some(home) = gateway_home() else { return };
    let gw = sos_testing::rados_gateway().unwrap();
    let judge = Judge::new(&gw);
    let bucket = unique("sos-cli-prefix");
    let uri = format!("s3://{bucket}");
    home.ok(&["mb", &uri]);
    for key in ["p/dir/a", "p/dir2/b", "p/directory.txt"] {
        judge.put(&bucket, key, key.as_bytes());
    }
    let stderr = |args: &[&str]| {
        let out = home.sos(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "sos {args:?}: {err}");
        err
    };
    let err = stderr(&["cp", "-r", &format!("{uri}/p/dir"), &format!("{uri}/c1/")]);
    assert!(
        err.starts_with("warning: ")
            && err.contains("key prefix")
            && err.contains(&format!("{uri}/p/dir2/b"))
            && err.trim_end().lines().count() == 1,
        "{err}"
    );
    assert_eq!(
        judge.keys(&bucket, "c1/"),
        ["c1/dir/a", "c1/dir2/b", "c1/directory.txt"]
    );
    let err = stderr(&[
        "-q",
        "cp",
        "-r",
        &format!("{uri}/p/dir"),
        &format!("{uri}/c2/"),
    ]);
    assert!(err.is_empty(), "{err}");
    assert_eq!(judge.keys(&bucket, "c2/").len(), 3);
    let err = stderr(&["cp", "-r", &format!("{uri}/p/dir/"), &format!("{uri}/c3/")]);
    assert!(err.is_empty(), "{err}");
    assert_eq!(judge.keys(&bucket, "c3/"), ["c3/a"]);
    let err = stderr(&["cp", "-r", &format!("{uri}/p/dir2"), &format!("{uri}/c4/")]);
    assert!(err.is_empty(), "only dir2/...: {err}");
    for args in [
        vec!["del", "-r", "-n"],
        vec!["sync", "-n"],
        vec!["setacl", "--acl-private", "-r"],
        vec!["mv", "-r"],
    ] {
        let mut args = args.clone();
        let from = format!("{uri}/c1/dir");
        let to = format!("{uri}/moved/");
        args.push(&from);
        if args[0] == "mv" || args[0] == "sync" {
            args.push(&to);
        }
        let err = stderr(&args);
        assert!(err.contains("key prefix"), "{args:?}: {err}");
    }
    assert!(judge.keys(&bucket, "c1/").is_empty());
    assert_eq!(judge.keys(&bucket, "moved/").len(), 3);

    // 200 `a`s against `*a*a*a*a*a*b`: a backtracking matcher ran for minutes.
    let long = "a".repeat(200);
    judge.put(&bucket, &format!("p/{long}"), b"a");
    judge.put(&bucket, &format!("p/{long}b"), b"b");
    let out = home.ok(&[
        "del",
        "-r",
        "-n",
        "--exclude",
        "*a*a*a*a*a*b",
        &format!("{uri}/p/"),
    ]);
    assert!(out.contains(&format!("/p/{long}'")), "{out}");
    assert!(!out.contains(&format!("{long}b")), "{out}");
    home.ok(&["rb", "--recursive", &uri]);
}

/// Input errors exit 2 whichever finds them: an ACL of more than 100 grants (sos-acl's
/// check, through sos-client), metadata above 2 KB, a key above 1024 bytes; nothing sent.
#[test]
fn input_errors_found_by_the_client_exit_2() {
    let Some(home) = gateway_home() else { return };
    let gw = sos_testing::rados_gateway().unwrap();
    let judge = Judge::new(&gw);
    let bucket = unique("sos-cli-input");
    let uri = format!("s3://{bucket}");
    home.ok(&["mb", &uri]);
    judge.put(&bucket, "k", b"k");
    let grants: Vec<String> = (0..101)
        .map(|i| format!("--acl-grant=read:user{i}"))
        .collect();
    let mut args: Vec<&str> = vec!["setacl"];
    args.extend(grants.iter().map(String::as_str));
    let target = format!("{uri}/k");
    args.push(&target);
    let err = home.fails(&args, 2);
    assert!(err.contains("at most 100 grants"), "{err}");
    home.write("f", b"f");
    let meta = format!("big={}", "x".repeat(3000));
    home.fails(&["put", "--meta", &meta, "f", &format!("{uri}/m")], 2);
    home.fails(&["put", "f", &format!("{uri}/{}", "k".repeat(1100))], 2);
    assert_eq!(judge.keys(&bucket, ""), ["k"]);
    home.ok(&["rb", "--recursive", &uri]);
}

/// sync both ways and between prefixes: unchanged files stay, --delete-removed and
/// --exclude as s3cmd, --dry-run does nothing, a multipart object made with another part
/// size counts as unchanged, a missing source prefix deletes nothing.
#[test]
fn sync_both_ways() {
    let Some(home) = gateway_home() else { return };
    let gw = sos_testing::rados_gateway().unwrap();
    let judge = Judge::new(&gw);
    let bucket = unique("sos-cli-sync2");
    let uri = format!("s3://{bucket}");
    let dest = format!("{uri}/site/");
    home.ok(&["mb", &uri]);
    home.write("site/index.html", b"<html>index</html>");
    home.write("site/a.log", b"log");
    home.write("site/img/big.bin", &vec![3u8; 11 * 1024 * 1024]);
    home.write("site/empty", b"");
    // Up with 5 MiB parts: the big file in 3 parts.
    let out = home.ok(&["sync", "--part-size-mib", "5", "site/", &dest]);
    assert!(out.contains("4 uploaded"), "{out}");
    let out = home.ok(&["sync", "site/", &dest]);
    assert!(
        out.contains("0 uploaded, 4 unchanged"),
        "other part size: {out}"
    );

    // Down, then changed on both sides.
    let out = home.ok(&["sync", &dest, "down/"]);
    assert!(out.contains("4 downloaded"), "{out}");
    assert_eq!(
        std::fs::read(home.path().join("down/img/big.bin")).unwrap(),
        vec![3u8; 11 * 1024 * 1024]
    );
    assert!(
        home.ok(&["sync", &dest, "down/"])
            .contains("0 downloaded, 4 unchanged")
    );
    home.write("down/extra.txt", b"only here");
    home.write("down/index.html", b"<html>changed here</html>");
    let out = home.ok(&["sync", "--dry-run", "--delete-removed", &dest, "down/"]);
    assert!(
        out.contains("(dry run) delete:") && out.contains("extra.txt"),
        "{out}"
    );
    assert!(home.path().join("down/extra.txt").exists());
    let out = home.ok(&["sync", "--delete-removed", &dest, "down/"]);
    assert!(
        out.contains("1 downloaded, 3 unchanged, 1 deleted"),
        "{out}"
    );
    assert!(!home.path().join("down/extra.txt").exists());
    assert_eq!(
        std::fs::read(home.path().join("down/index.html")).unwrap(),
        b"<html>index</html>"
    );

    // Up with --delete-removed and --exclude: what is excluded is neither sent nor deleted.
    std::fs::remove_file(home.path().join("site/index.html")).unwrap();
    home.write("site/b.log", b"new log");
    let out = home.ok(&[
        "sync",
        "--delete-removed",
        "--exclude",
        "*.log",
        "site/",
        &dest,
    ]);
    assert!(out.contains("0 uploaded, 2 unchanged, 1 deleted"), "{out}");
    let keys = judge.keys(&bucket, "site/");
    assert!(keys.contains(&"site/a.log".to_owned()), "{keys:?}");
    assert!(
        !keys.contains(&"site/b.log".to_owned()) && !keys.contains(&"site/index.html".to_owned())
    );

    // Between prefixes.
    let out = home.ok(&["sync", &dest, &format!("{uri}/copy/")]);
    assert!(out.contains("3 copied"), "{out}");
    assert!(
        home.ok(&["sync", &dest, &format!("{uri}/copy/")])
            .contains("0 copied, 3 unchanged")
    );

    // A source prefix with nothing under it (a typo) is an error, and deletes nothing.
    home.fails(
        &[
            "sync",
            "--delete-removed",
            &format!("{uri}/sitee/"),
            "down/",
        ],
        3,
    );
    assert!(home.path().join("down/index.html").exists());

    // A source without its trailing `/` is a key prefix (`site` also takes `site2/`), but
    // only the folder it names is cleaned in the destination: `sitemap.xml` there stays.
    home.write("named/site/img/big.bin", &vec![3u8; 11 * 1024 * 1024]);
    home.write("named/sitemap.xml", b"<urlset/>");
    home.write("named/site/old.txt", b"gone from the source");
    let out = home.ok(&["sync", "--delete-removed", &format!("{uri}/site"), "named/"]);
    assert!(!home.path().join("named/site/old.txt").exists(), "{out}");
    assert!(home.path().join("named/sitemap.xml").exists(), "{out}");
    home.ok(&["rb", "--recursive", &uri]);
}

#[test]
fn la_lists_every_bucket() {
    let Some(home) = gateway_home() else { return };
    let bucket = unique("sos-cli-la");
    let uri = format!("s3://{bucket}");
    home.ok(&["mb", &uri]);
    home.write("f.txt", b"f");
    home.ok(&["put", "f.txt", &format!("{uri}/d/f.txt")]);
    // Other buckets of the server may not be listable (tests change their ACLs): `la` goes
    // on past them.
    let out = home.sos(&["la", "--recursive"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("{uri}/d/f.txt")), "{stdout}");
    home.ok(&["rb", "--recursive", &uri]);
}

/// `settagging`, `gettagging`, `deltagging` on an object and a bucket, next to s3cmd's: the
/// tags one sets the other reads, and `gettagging` prints what s3cmd prints.
#[test]
fn tagging_as_s3cmd() {
    let Some(home) = gateway_home() else { return };
    let gw = sos_testing::rados_gateway().unwrap();
    let s3cmd = sos_testing::cli::S3cmd::new(&gw.endpoint, &gw.access_key, &gw.secret_key, true);
    let bucket = unique("sos-cli-tags");
    let uri = format!("s3://{bucket}");
    let object = format!("{uri}/report.txt");
    home.ok(&["mb", &uri]);
    home.write("report.txt", b"q4");
    home.ok(&["put", "report.txt", &object]);

    for target in [object.as_str(), uri.as_str()] {
        let out = home.ok(&[
            "settagging",
            target,
            "project=blue&owner=ops@example.com&flag",
        ]);
        assert!(out.contains("Tagging updated"), "{out}");
        let ours = home.ok(&["gettagging", target]);
        let theirs = s3cmd.run(&["gettagging", target]);
        let sorted = |text: &str| {
            let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
            lines.sort();
            lines
        };
        assert_eq!(sorted(&ours), sorted(&theirs), "{target}");
        assert!(ours.contains("\tproject:\tblue\n"), "{ours}");
        assert!(ours.contains("\tflag:\t\n"), "{ours}");

        s3cmd.run(&["settagging", target, "set=by s3cmd"]);
        let ours = home.ok(&["gettagging", target]);
        assert!(
            ours.contains("\tset:\tby s3cmd\n") && !ours.contains("project"),
            "{ours}"
        );

        let out = home.ok(&["deltagging", target]);
        assert!(out.contains("Tagging deleted"), "{out}");
        let ours = home.ok(&["gettagging", target]);
        assert_eq!(ours.lines().count(), 1, "{ours}");
    }
    // `deltagging` of an object leaves its ETag in listings (the gateway blanks it after a
    // DeleteObjectTagging, and `sync` would then upload the file again).
    home.ok(&["settagging", &object, "a=1"]);
    home.ok(&["deltagging", &object]);
    let judge = Judge::new(&gw);
    let listed = judge
        .rt
        .block_on(async {
            use futures_util::TryStreamExt;
            judge
                .client
                .list_objects(bucket.clone())
                .objects()
                .try_collect::<Vec<_>>()
                .await
        })
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].etag.as_deref().is_some_and(|e| !e.is_empty()),
        "{listed:?}"
    );
    // Refused before sending: an empty key, a key given twice, a character S3 refuses.
    for bad in ["=v", "a=1&a=2", "a=b,c"] {
        let err = home.fails(&["settagging", &object, bad], 2);
        assert!(!err.is_empty());
    }
    home.ok(&["rb", "--recursive", "--force", &uri]);
}
