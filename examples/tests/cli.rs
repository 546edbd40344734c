//! The `sos` binary: the s3cmd seed session against the embedded server, and ACL, CORS,
//! sync and the rest against the RADOS Gateway with the seed's `~/.s3cfg` (V2).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

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
        "site",
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
        "site",
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

    home.ok(&["del", "--recursive", &uri]);
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
