//! The reference command-line S3 clients (the `aws` CLI v1 and `s3cmd`), pointed at a test
//! server.
//!
//! Each helper writes its own configuration into a temporary directory, so the user's
//! `~/.aws/config`, `~/.aws/credentials` and `~/.s3cfg` are never read, and removes inherited
//! `AWS_*` variables from the child's environment. Calls are blocking: from async code, run them
//! in `tokio::task::spawn_blocking`.
//!
//! The programs are found, in order, through `SOS_TEST_AWS_CLI` / `SOS_TEST_S3CMD` (exported
//! by `testing/run-tests.sh`, which installs them once into `target/test-tools/venv`), in that
//! venv, then as `aws` / `s3cmd` on `PATH`. When neither is there, the helper panics and says
//! how to install them.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The aws CLI version `testing/run-tests.sh` installs (`awscli` on PyPI, v1).
pub const AWSCLI_VERSION: &str = "1.45.11";
/// The s3cmd version `testing/run-tests.sh` installs.
pub const S3CMD_VERSION: &str = "2.4.0";

/// Environment variables that tell an HTTP client to use a proxy; removed for loopback servers.
const PROXY_VARS: [&str; 6] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
];

/// The `aws` CLI (v1) pointed at a server: path-style addressing, the given region and keys,
/// `--endpoint-url`, in an isolated configuration (`AWS_CONFIG_FILE` and
/// `AWS_SHARED_CREDENTIALS_FILE` in a temporary directory), with instance metadata lookups off
/// and no pager.
///
/// The configuration file holds:
///
/// ```text
/// [default]
/// region = REGION
/// output = json
/// s3 =
///     addressing_style = path
/// ```
///
/// plus whatever [`with_config`](Self::with_config), [`with_s3_config`](Self::with_s3_config)
/// and [`with_multipart_threshold_mb`](Self::with_multipart_threshold_mb) add.
#[derive(Debug)]
pub struct AwsCli {
    program: PathBuf,
    endpoint: String,
    region: String,
    secret_key: String,
    profile_settings: Vec<(String, String)>,
    s3_settings: Vec<(String, String)>,
    dir: tempfile::TempDir,
}

impl AwsCli {
    /// The CLI for `endpoint` (`http://127.0.0.1:PORT`) with these keys and region.
    ///
    /// # Panics
    /// When the `aws` CLI is not installed (the message says how to install it), or the
    /// temporary configuration cannot be written.
    pub fn new(endpoint: &str, access_key: &str, secret_key: &str, region: &str) -> AwsCli {
        let program = find_program(
            "SOS_TEST_AWS_CLI",
            "aws",
            &format!("awscli=={AWSCLI_VERSION}"),
        );
        let dir = tempfile::Builder::new()
            .prefix("sos-aws-cli-")
            .tempdir()
            .unwrap_or_else(|e| panic!("aws CLI: cannot create a temporary directory: {e}"));
        let credentials = format!(
            "[default]\naws_access_key_id = {access_key}\naws_secret_access_key = {secret_key}\n"
        );
        write_file(&dir.path().join("credentials"), &credentials);
        let cli = AwsCli {
            program,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            region: region.to_owned(),
            secret_key: secret_key.to_owned(),
            profile_settings: Vec::new(),
            s3_settings: vec![("addressing_style".to_owned(), "path".to_owned())],
            dir,
        };
        cli.write_config();
        cli
    }

    /// Sets `key = value` in the `[default]` profile (e.g. `max_attempts`, `retry_mode`,
    /// `request_checksum_calculation`), replacing an earlier value of the same key.
    #[must_use]
    pub fn with_config(mut self, key: &str, value: &str) -> AwsCli {
        set(&mut self.profile_settings, key, value);
        self.write_config();
        self
    }

    /// Sets `key = value` in the profile's nested `s3 =` section (e.g. `addressing_style`,
    /// `signature_version`, `payload_signing_enabled`), replacing an earlier value.
    #[must_use]
    pub fn with_s3_config(mut self, key: &str, value: &str) -> AwsCli {
        set(&mut self.s3_settings, key, value);
        self.write_config();
        self
    }

    /// `aws s3 cp`/`sync` upload in parts from `mb` MiB on, in parts of `mb` MiB
    /// (`multipart_threshold` and `multipart_chunksize`; S3's smallest part is 5 MiB).
    #[must_use]
    pub fn with_multipart_threshold_mb(self, mb: u32) -> AwsCli {
        let size = format!("{mb}MB");
        self.with_s3_config("multipart_threshold", &size)
            .with_s3_config("multipart_chunksize", &size)
    }

    /// The program that runs (from `SOS_TEST_AWS_CLI`, the test venv, or `PATH`).
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The directory that holds `config` and `credentials`.
    pub fn config_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The configuration file, as written.
    pub fn config_text(&self) -> String {
        let mut text = format!("[default]\nregion = {}\noutput = json\n", self.region);
        for (key, value) in &self.profile_settings {
            let _ = writeln!(text, "{key} = {value}");
        }
        text.push_str("s3 =\n");
        for (key, value) in &self.s3_settings {
            let _ = writeln!(text, "    {key} = {value}");
        }
        text
    }

    fn write_config(&self) {
        write_file(&self.dir.path().join("config"), &self.config_text());
    }

    /// `aws --endpoint-url ENDPOINT ARGS...`, configured but not started: for callers that
    /// need stdin, raw bytes or the exit status. `self` must outlive the command (it owns the
    /// configuration directory).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        isolate_env(&mut cmd, &self.endpoint);
        cmd.env("AWS_CONFIG_FILE", self.dir.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join("credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .arg("--endpoint-url")
            .arg(&self.endpoint)
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `aws --endpoint-url ENDPOINT ARGS...` and returns its stdout.
    ///
    /// # Panics
    /// When it exits with an error: the message has the command line, the exit code, stderr
    /// and stdout (the secret key redacted). Also when it cannot be started.
    pub fn run(&self, args: &[&str]) -> String {
        run_or_panic(self.command(args), &self.secret_key)
    }

    /// Like [`run`](Self::run), but an error exit gives `Err(stderr)` (the secret key
    /// redacted) instead of a panic.
    ///
    /// # Errors
    /// The command exited with a non-zero code.
    ///
    /// # Panics
    /// When the program cannot be started.
    pub fn try_run(&self, args: &[&str]) -> Result<String, String> {
        try_run(self.command(args), &self.secret_key).map_err(|failure| failure.stderr)
    }
}

/// `s3cmd` with a generated configuration file in a temporary directory (`s3cmd -c FILE`):
/// `host_base` and `host_bucket` both the server's `host:port` (so path-style), `use_https`
/// from the endpoint's scheme, V2 or V4 signatures, the keys, `bucket_location` (the V4
/// region, `us-east-1` unless [`with_region`](Self::with_region)), no progress meter.
#[derive(Debug)]
pub struct S3cmd {
    program: PathBuf,
    endpoint: String,
    secret_key: String,
    settings: Vec<(String, String)>,
    dir: tempfile::TempDir,
}

impl S3cmd {
    /// s3cmd for `endpoint` (`http://127.0.0.1:PORT`) with these keys, signing V2 when
    /// `signature_v2`, else V4.
    ///
    /// # Panics
    /// When s3cmd is not installed (the message says how to install it), or the temporary
    /// configuration cannot be written.
    pub fn new(endpoint: &str, access_key: &str, secret_key: &str, signature_v2: bool) -> S3cmd {
        let program = find_program(
            "SOS_TEST_S3CMD",
            "s3cmd",
            &format!("s3cmd=={S3CMD_VERSION}"),
        );
        let dir = tempfile::Builder::new()
            .prefix("sos-s3cmd-")
            .tempdir()
            .unwrap_or_else(|e| panic!("s3cmd: cannot create a temporary directory: {e}"));
        let endpoint = endpoint.trim_end_matches('/');
        let (https, host) = match endpoint.split_once("://") {
            Some((scheme, rest)) => (scheme.eq_ignore_ascii_case("https"), rest),
            None => (false, endpoint),
        };
        let bool_text = |b: bool| if b { "True" } else { "False" };
        let settings = [
            ("access_key", access_key),
            ("secret_key", secret_key),
            ("host_base", host),
            ("host_bucket", host),
            ("use_https", bool_text(https)),
            ("signature_v2", bool_text(signature_v2)),
            ("bucket_location", "us-east-1"),
            ("progress_meter", "False"),
            ("socket_timeout", "60"),
        ];
        let s3cmd = S3cmd {
            program,
            endpoint: endpoint.to_owned(),
            secret_key: secret_key.to_owned(),
            settings: settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            dir,
        };
        s3cmd.write_config();
        s3cmd
    }

    /// The region V4 signatures are scoped to (s3cmd's `bucket_location`).
    #[must_use]
    pub fn with_region(self, region: &str) -> S3cmd {
        self.with_config("bucket_location", region)
    }

    /// Sets `key = value` in the configuration file (e.g. `multipart_chunk_size_mb`,
    /// `max_retries`), replacing an earlier value of the same key.
    #[must_use]
    pub fn with_config(mut self, key: &str, value: &str) -> S3cmd {
        set(&mut self.settings, key, value);
        self.write_config();
        self
    }

    /// The program that runs (from `SOS_TEST_S3CMD`, the test venv, or `PATH`).
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The configuration file `s3cmd -c` reads.
    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("s3cfg")
    }

    /// The configuration file, as written.
    pub fn config_text(&self) -> String {
        let mut text = String::from("[default]\n");
        for (key, value) in &self.settings {
            let _ = writeln!(text, "{key} = {value}");
        }
        text
    }

    fn write_config(&self) {
        write_file(&self.config_file(), &self.config_text());
    }

    /// `s3cmd -c CONFIG ARGS...`, configured but not started (see [`AwsCli::command`]).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        isolate_env(&mut cmd, &self.endpoint);
        cmd.arg("-c")
            .arg(self.config_file())
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `s3cmd -c CONFIG ARGS...` and returns its stdout.
    ///
    /// # Panics
    /// When it exits with an error: the message has the command line, the exit code, stderr
    /// and stdout (the secret key redacted). Also when it cannot be started.
    pub fn run(&self, args: &[&str]) -> String {
        run_or_panic(self.command(args), &self.secret_key)
    }

    /// Like [`run`](Self::run), but an error exit gives `Err(stderr)` (the secret key
    /// redacted) instead of a panic.
    ///
    /// # Errors
    /// The command exited with a non-zero code.
    ///
    /// # Panics
    /// When the program cannot be started.
    pub fn try_run(&self, args: &[&str]) -> Result<String, String> {
        try_run(self.command(args), &self.secret_key).map_err(|failure| failure.stderr)
    }
}

fn set(settings: &mut Vec<(String, String)>, key: &str, value: &str) {
    match settings.iter_mut().find(|(k, _)| k == key) {
        Some((_, v)) => value.clone_into(v),
        None => settings.push((key.to_owned(), value.to_owned())),
    }
}

fn write_file(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// The program named by `env_var`, else `NAME` in the workspace's test venv, else on `PATH`.
fn find_program(env_var: &str, name: &str, package: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env_var).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        if is_executable(&path) {
            return path;
        }
        panic!(
            "{env_var}={} is not an executable file.\n{}",
            path.display(),
            install_hint(env_var, name, package)
        );
    }
    let venv = test_venv().join("bin").join(name);
    if is_executable(&venv) {
        return venv;
    }
    if let Some(path) = search_path(name) {
        return path;
    }
    panic!(
        "this test needs `{name}` ({package}), which is not installed: {env_var} is not set, \
         {} does not exist and `{name}` is not on PATH.\n{}",
        venv.display(),
        install_hint(env_var, name, package)
    );
}

fn install_hint(env_var: &str, name: &str, package: &str) -> String {
    let venv = test_venv();
    format!(
        "Install it with `bash testing/run-tests.sh` (its first step puts awscli=={AWSCLI_VERSION} \
         and s3cmd=={S3CMD_VERSION} into {venv} and exports SOS_TEST_AWS_CLI/SOS_TEST_S3CMD), \
         or by hand: python3 -m venv {venv} && {venv}/bin/pip install {package} \
         (then `export {env_var}={venv}/bin/{name}`, or just rerun: that venv is looked in)",
        venv = venv.display()
    )
}

/// `target/test-tools/venv` of this workspace, where `testing/run-tests.sh` installs the tools.
fn test_venv() -> PathBuf {
    let testing = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = testing.parent().unwrap_or(testing);
    root.join("target").join("test-tools").join("venv")
}

fn search_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Removes inherited `AWS_*` variables (profiles, keys, regions, endpoints), and the proxy
/// variables when the server is on loopback.
fn isolate_env(cmd: &mut Command, endpoint: &str) {
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(|k| k.starts_with("AWS_")) {
            cmd.env_remove(&key);
        }
    }
    if is_loopback(endpoint) {
        for var in PROXY_VARS {
            cmd.env_remove(var);
        }
    }
}

fn is_loopback(endpoint: &str) -> bool {
    let authority = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host == "localhost" || host.ends_with(".localhost") || host.starts_with("127.") || host == "::1"
}

struct Failure {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn try_run(mut cmd: Command, secret: &str) -> Result<String, Failure> {
    let output = cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot start `{}`: {e}",
            redact(&command_line(&cmd), secret)
        )
    });
    let stdout = redact(&String::from_utf8_lossy(&output.stdout), secret);
    if output.status.success() {
        return Ok(stdout);
    }
    Err(Failure {
        code: output.status.code(),
        stdout,
        stderr: redact(&String::from_utf8_lossy(&output.stderr), secret),
    })
}

fn run_or_panic(cmd: Command, secret: &str) -> String {
    let line = redact(&command_line(&cmd), secret);
    try_run(cmd, secret).unwrap_or_else(|failure| {
        let code = failure.code.map_or_else(
            || "killed by a signal".to_owned(),
            |c| format!("exit code {c}"),
        );
        panic!(
            "`{line}` failed ({code})\n--- stderr ---\n{}\n--- stdout ---\n{}",
            failure.stderr.trim_end(),
            failure.stdout.trim_end()
        )
    })
}

/// The command as a shell line (arguments with spaces or quotes single-quoted).
fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(shell_word)
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_word(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "<redacted secret key>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ACCESS_KEY, EmbeddedS3, SECRET_KEY, unique_name};

    /// Bytes that are not all alike, so a shifted or truncated copy never compares equal.
    fn pattern(len: usize) -> Vec<u8> {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect()
    }

    fn path_str(path: &Path) -> &str {
        path.to_str()
            .unwrap_or_else(|| panic!("non-UTF-8 temporary path {}", path.display()))
    }

    fn aws(server: &EmbeddedS3) -> AwsCli {
        AwsCli::new(&server.endpoint(), ACCESS_KEY, SECRET_KEY, "us-east-1")
    }

    /// Uploads `len` bytes with `aws s3 cp`, downloads them again and compares.
    /// Returns `head-object`'s answer.
    fn aws_round_trip(cli: &AwsCli, server: &EmbeddedS3, len: usize) -> String {
        let bucket = unique_name("aws-cli");
        cli.run(&["s3api", "create-bucket", "--bucket", &bucket]);
        cli.run(&["s3api", "head-bucket", "--bucket", &bucket]);

        let work = tempfile::tempdir().unwrap();
        let up = work.path().join("up.bin");
        let down = work.path().join("down.bin");
        let data = pattern(len);
        std::fs::write(&up, &data).unwrap();
        let url = format!("s3://{bucket}/dir/object.bin");
        cli.run(&["s3", "cp", path_str(&up), &url]);
        cli.run(&["s3", "cp", &url, path_str(&down)]);
        let back = std::fs::read(&down).unwrap();
        assert_eq!(back.len(), data.len());
        assert!(back == data, "the downloaded copy differs");

        // What the server stored is the same bytes (not, e.g., an aws-chunked body).
        let stored = std::fs::read(server.data_dir().join(&bucket).join("dir/object.bin")).unwrap();
        assert!(stored == data, "the server stored other bytes");

        let listing = cli.run(&["s3", "ls", &format!("s3://{bucket}/dir/")]);
        assert!(
            listing.contains(&format!("{len} object.bin")),
            "listing: {listing}"
        );
        let head = cli.run(&[
            "s3api",
            "head-object",
            "--bucket",
            &bucket,
            "--key",
            "dir/object.bin",
        ]);
        assert!(
            head.contains(&format!("\"ContentLength\": {len}")),
            "head-object: {head}"
        );
        head
    }

    #[test]
    fn aws_cli_create_bucket_and_cp_round_trip() {
        let server = EmbeddedS3::start().unwrap();
        let cli = aws(&server);
        aws_round_trip(&cli, &server, 300_001);
        let buckets = cli.run(&["s3api", "list-buckets", "--query", "Buckets[].Name"]);
        assert!(buckets.contains("aws-cli-"), "list-buckets: {buckets}");
    }

    #[test]
    fn aws_cli_multipart_cp_round_trip() {
        let server = EmbeddedS3::start().unwrap();
        let cli = aws(&server).with_multipart_threshold_mb(5);
        assert!(
            cli.config_text()
                .contains("    multipart_chunksize = 5MB\n")
        );
        // 11 MiB + 3: three parts, the last one short.
        let head = aws_round_trip(&cli, &server, 11 * 1024 * 1024 + 3);
        // A multipart ETag ends in -PARTS.
        assert!(head.contains(r#"-3\""#), "head-object: {head}");
    }

    #[test]
    fn aws_cli_errors_come_back_as_stderr() {
        let server = EmbeddedS3::start().unwrap();
        let cli = aws(&server);
        let missing = unique_name("missing");
        let err = cli
            .try_run(&["s3api", "head-bucket", "--bucket", &missing])
            .unwrap_err();
        assert!(err.contains("404"), "stderr: {err}");

        let wrong = AwsCli::new(
            &server.endpoint(),
            ACCESS_KEY,
            "not-the-secret",
            "us-east-1",
        );
        let err = wrong.try_run(&["s3api", "list-buckets"]).unwrap_err();
        assert!(err.contains("SignatureDoesNotMatch"), "stderr: {err}");
        assert!(!err.contains("not-the-secret"), "stderr: {err}");

        let panic = std::panic::catch_unwind(|| wrong.run(&["s3api", "list-buckets"]))
            .unwrap_err()
            .downcast::<String>()
            .unwrap();
        assert!(panic.contains("s3api list-buckets"), "{panic}");
        assert!(panic.contains("exit code"), "{panic}");
        assert!(panic.contains("SignatureDoesNotMatch"), "{panic}");
    }

    fn s3cmd_round_trip(signature_v2: bool) {
        let server = EmbeddedS3::start().unwrap();
        let s3cmd = S3cmd::new(&server.endpoint(), ACCESS_KEY, SECRET_KEY, signature_v2);
        let bucket = unique_name("s3cmd");
        s3cmd.run(&["mb", &format!("s3://{bucket}")]);
        let buckets = s3cmd.run(&["ls"]);
        assert!(buckets.contains(&format!("s3://{bucket}")), "ls: {buckets}");

        let work = tempfile::tempdir().unwrap();
        let up = work.path().join("up.bin");
        let down = work.path().join("down.bin");
        let data = pattern(100_003);
        std::fs::write(&up, &data).unwrap();
        let url = format!("s3://{bucket}/some key.bin");
        s3cmd.run(&["put", path_str(&up), &url]);
        let listing = s3cmd.run(&["ls", &format!("s3://{bucket}")]);
        assert!(listing.contains(&url), "ls: {listing}");
        s3cmd.run(&["get", &url, path_str(&down)]);
        let back = std::fs::read(&down).unwrap();
        assert!(back == data, "the downloaded copy differs");

        s3cmd.run(&["del", &url]);
        s3cmd.run(&["rb", &format!("s3://{bucket}")]);
        assert!(!s3cmd.run(&["ls"]).contains(&bucket));
    }

    #[test]
    fn s3cmd_signature_v2_ls_put_get() {
        s3cmd_round_trip(true);
    }

    #[test]
    fn s3cmd_signature_v4_ls_put_get() {
        s3cmd_round_trip(false);
    }

    #[test]
    fn s3cmd_wrong_secret_fails_with_redacted_stderr() {
        let server = EmbeddedS3::start().unwrap();
        let s3cmd = S3cmd::new(&server.endpoint(), ACCESS_KEY, "wrong/secret", true)
            .with_config("max_retries", "1");
        let err = s3cmd.try_run(&["ls"]).unwrap_err();
        assert!(
            err.contains("SignatureDoesNotMatch") || err.contains("403"),
            "stderr: {err}"
        );
        assert!(!err.contains("wrong/secret"), "stderr: {err}");
    }

    #[test]
    fn configuration_files() {
        let cli = AwsCli::new("http://127.0.0.1:9/", "AK", "S/K+=", "eu-1")
            .with_config("max_attempts", "1")
            .with_multipart_threshold_mb(8)
            .with_multipart_threshold_mb(6);
        assert_eq!(
            cli.config_text(),
            "[default]\nregion = eu-1\noutput = json\nmax_attempts = 1\ns3 =\n    \
             addressing_style = path\n    multipart_threshold = 6MB\n    \
             multipart_chunksize = 6MB\n"
        );
        let on_disk = std::fs::read_to_string(cli.config_dir().join("config")).unwrap();
        assert_eq!(on_disk, cli.config_text());
        let credentials = std::fs::read_to_string(cli.config_dir().join("credentials")).unwrap();
        assert!(credentials.contains("aws_secret_access_key = S/K+=\n"));
        let line = command_line(&cli.command(&["s3", "ls", "s3://b/a b"]));
        assert!(
            line.ends_with(" --endpoint-url http://127.0.0.1:9 s3 ls 's3://b/a b'"),
            "{line}"
        );

        let s3cmd =
            S3cmd::new("https://s3.localhost:8443", "AK", "SK", false).with_region("garage");
        let text = s3cmd.config_text();
        for line in [
            "host_base = s3.localhost:8443\n",
            "host_bucket = s3.localhost:8443\n",
            "use_https = True\n",
            "signature_v2 = False\n",
            "bucket_location = garage\n",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }

    #[test]
    fn helpers() {
        assert!(is_loopback("http://127.0.0.1:7480"));
        assert!(is_loopback("http://s3.localhost:1/x"));
        assert!(is_loopback("http://[::1]:80"));
        assert!(!is_loopback("https://sos-ch-gva-2.exo.io"));
        assert_eq!(
            redact("a SECRET b SECRET", "SECRET"),
            "a <redacted secret key> b <redacted secret key>"
        );
        assert_eq!(shell_word(OsStr::new("it's")), r"'it'\''s'");
        assert_eq!(shell_word(OsStr::new("")), "''");
        let hint = install_hint("SOS_TEST_S3CMD", "s3cmd", "s3cmd==2.4.0");
        assert!(hint.contains("bash testing/run-tests.sh"), "{hint}");
        assert!(
            hint.contains("target/test-tools/venv/bin/pip install s3cmd==2.4.0"),
            "{hint}"
        );
    }
}
