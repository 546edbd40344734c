//! Credential sources, through a static environment (the process environment is never
//! mutated by tests).

use std::path::PathBuf;

use sos_auth::{AwsProfiles, CredentialSource, CredentialsChain, Error, S3cfg, StaticEnvironment};

const HOME: &str = "/home/exouser";

fn home() -> StaticEnvironment {
    StaticEnvironment::new().with_home(HOME)
}

/// The s3cmd quick start's `~/.s3cfg`, with keys filled in.
const SEED_S3CFG: &str = "[default]
host_base = sos.exo.io
host_bucket = %(bucket)s.sos.exo.io
access_key = EXOs3cfgKey
secret_key = s3cfgSecret
use_https = True
signature_v2 = True
";

/// The Mountpoint guide's `~/.aws/credentials`.
const SEED_AWS: &str = "[exomount]
aws_access_key_id = EXO1234567890
aws_secret_access_key = mountSecret
";

#[test]
fn explicit_wins() {
    let env = home()
        .with_var("AWS_ACCESS_KEY_ID", "envkey")
        .with_var("AWS_SECRET_ACCESS_KEY", "s");
    let r = CredentialsChain::new()
        .with_explicit(sos_auth::Credentials::new("explicit", "x"))
        .resolve(&env)
        .unwrap();
    assert_eq!(r.source, CredentialSource::Explicit);
    assert_eq!(r.credentials.access_key(), "explicit");
}

#[test]
fn aws_environment_with_session_token() {
    let env = home()
        .with_var("AWS_ACCESS_KEY_ID", "envkey")
        .with_var("AWS_SECRET_ACCESS_KEY", "envsecret")
        .with_var("AWS_SESSION_TOKEN", "tok")
        .with_var("EXOSCALE_API_KEY", "exo")
        .with_var("EXOSCALE_API_SECRET", "exosecret")
        .with_file(format!("{HOME}/.s3cfg"), SEED_S3CFG);
    let r = CredentialsChain::new().resolve(&env).unwrap();
    assert_eq!(r.source, CredentialSource::AwsEnvironment);
    assert_eq!(r.credentials.access_key(), "envkey");
    assert_eq!(r.credentials.secret_key().expose_secret(), "envsecret");
    assert_eq!(
        r.credentials.session_token().unwrap().expose_secret(),
        "tok"
    );
}

#[test]
fn exoscale_environment() {
    let env = home()
        .with_var("EXOSCALE_API_KEY", "EXOkey")
        .with_var("EXOSCALE_API_SECRET", "exosecret");
    let r = CredentialsChain::new().resolve(&env).unwrap();
    assert_eq!(r.source, CredentialSource::ExoscaleEnvironment);
    assert_eq!(r.credentials.access_key(), "EXOkey");
}

#[test]
fn half_set_environment_is_an_error() {
    let env = home().with_var("AWS_ACCESS_KEY_ID", "envkey");
    match CredentialsChain::new().resolve(&env) {
        Err(Error::IncompleteCredentials { missing, .. }) => {
            assert_eq!(missing, "AWS_SECRET_ACCESS_KEY")
        }
        other => panic!("{other:?}"),
    }
    // An AWS secret alone is ignored, as the AWS CLI does.
    let env = home().with_var("AWS_SECRET_ACCESS_KEY", "s");
    assert!(matches!(
        CredentialsChain::new().resolve(&env),
        Err(Error::CredentialsNotFound { .. })
    ));
    let env = home().with_var("EXOSCALE_API_SECRET", "s");
    match CredentialsChain::new().resolve(&env) {
        Err(Error::IncompleteCredentials { missing, .. }) => {
            assert_eq!(missing, "EXOSCALE_API_KEY")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn seed_profile_exomount() {
    let env = home().with_file(format!("{HOME}/.aws/credentials"), SEED_AWS);
    let r = CredentialsChain::new()
        .with_profile("exomount")
        .resolve(&env)
        .unwrap();
    assert_eq!(r.credentials.access_key(), "EXO1234567890");
    assert_eq!(
        r.source,
        CredentialSource::AwsProfile {
            name: "exomount".into(),
            file: PathBuf::from(format!("{HOME}/.aws/credentials"))
        }
    );
    // The same through AWS_PROFILE.
    let r = CredentialsChain::new()
        .resolve(&env.clone().with_var("AWS_PROFILE", "exomount"))
        .unwrap();
    assert_eq!(r.credentials.access_key(), "EXO1234567890");
}

#[test]
fn named_profile_must_exist() {
    let env = home()
        .with_file(format!("{HOME}/.aws/credentials"), SEED_AWS)
        .with_file(format!("{HOME}/.s3cfg"), SEED_S3CFG);
    match CredentialsChain::new().with_profile("nope").resolve(&env) {
        Err(Error::ProfileNotFound { profile, files }) => {
            assert_eq!(profile, "nope");
            assert_eq!(files.len(), 2);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn config_file_profile_and_settings() {
    let config = "[default]\nregion = ch-gva-2\n\n[profile exo]\naws_access_key_id = CFGKEY\naws_secret_access_key = cfgsecret\nregion = de-fra-1\nendpoint_url = https://sos-de-fra-1.exo.io\ns3 =\n    addressing_style = path\n";
    let env = home()
        .with_var("AWS_CONFIG_FILE", "/etc/aws.conf")
        .with_file("/etc/aws.conf", config);
    let r = CredentialsChain::new()
        .with_profile("exo")
        .resolve(&env)
        .unwrap();
    assert_eq!(r.credentials.access_key(), "CFGKEY");
    let profile = AwsProfiles::load(&env)
        .unwrap()
        .profile("exo")
        .unwrap()
        .unwrap();
    assert_eq!(profile.region.as_deref(), Some("de-fra-1"));
    assert_eq!(
        profile.endpoint_url.as_deref(),
        Some("https://sos-de-fra-1.exo.io")
    );
    assert_eq!(profile.addressing_style.as_deref(), Some("path"));
    let default = AwsProfiles::load(&env)
        .unwrap()
        .profile("default")
        .unwrap()
        .unwrap();
    assert!(default.credentials.is_none());
    assert_eq!(default.region.as_deref(), Some("ch-gva-2"));
}

#[test]
fn credentials_file_wins_over_config_file() {
    let env = home()
        .with_var("AWS_SHARED_CREDENTIALS_FILE", "/c")
        .with_var("AWS_CONFIG_FILE", "/k")
        .with_file(
            "/c",
            "[p]\naws_access_key_id = FROMCREDS\naws_secret_access_key = a\n",
        )
        .with_file(
            "/k",
            "[profile p]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = b\n",
        );
    let r = CredentialsChain::new()
        .with_profile("p")
        .resolve(&env)
        .unwrap();
    assert_eq!(r.credentials.access_key(), "FROMCREDS");
}

#[test]
fn seed_s3cfg() {
    let env = home().with_file(format!("{HOME}/.s3cfg"), SEED_S3CFG);
    let r = CredentialsChain::new().resolve(&env).unwrap();
    assert_eq!(r.credentials.access_key(), "EXOs3cfgKey");
    assert_eq!(
        r.source,
        CredentialSource::S3cfg {
            file: PathBuf::from(format!("{HOME}/.s3cfg"))
        }
    );
    let cfg = S3cfg::load(&env).unwrap().unwrap();
    assert_eq!(cfg.host_base.as_deref(), Some("sos.exo.io"));
    assert_eq!(cfg.host_bucket.as_deref(), Some("%(bucket)s.sos.exo.io"));
    assert!(cfg.signature_v2);
    assert!(cfg.use_https);
    assert!(cfg.virtual_host());
    assert_eq!(
        cfg.bucket_host("my-new-bucket").as_deref(),
        Some("my-new-bucket.sos.exo.io")
    );
}

#[test]
fn s3cfg_path_from_env_and_defaults() {
    let env = home()
        .with_var("S3CMD_CONFIG", "/x/cfg")
        .with_file("/x/cfg", "[default]\naccess_key = A\nsecret_key = B\n");
    let cfg = S3cfg::load(&env).unwrap().unwrap();
    assert!(!cfg.signature_v2);
    assert!(cfg.use_https);
    assert!(!cfg.virtual_host());
    assert!(S3cfg::load(&home()).unwrap().is_none());
}

#[test]
fn malformed_files_name_file_and_line() {
    let cases = [
        (
            format!("{HOME}/.aws/credentials"),
            "[exomount]\naws_access_key_id = A\nthis line is junk\n",
            3,
        ),
        (format!("{HOME}/.aws/config"), "aws_access_key_id = A\n", 1),
        (
            format!("{HOME}/.s3cfg"),
            "[default]\naccess_key = A\nsecret_key = B\nsignature_v2 = maybe\n",
            4,
        ),
        (format!("{HOME}/.s3cfg"), "[default\naccess_key = A\n", 1),
    ];
    for (path, text, line) in cases {
        let env = home().with_file(&path, text);
        match CredentialsChain::new().resolve(&env) {
            Err(e @ Error::ConfigFile { .. }) => {
                let Error::ConfigFile {
                    path: p, line: l, ..
                } = &e
                else {
                    unreachable!()
                };
                assert_eq!(p, &PathBuf::from(&path));
                assert_eq!(*l, line, "{e}");
                assert!(
                    e.to_string().starts_with(&format!("{path}:{line}: ")),
                    "{e}"
                );
            }
            other => panic!("{path}: {other:?}"),
        }
    }
}

#[test]
fn nothing_found_lists_sources() {
    match CredentialsChain::new().resolve(&home()) {
        Err(e @ Error::CredentialsNotFound { .. }) => {
            let text = e.to_string();
            for source in [
                "AWS_ACCESS_KEY_ID",
                "EXOSCALE_API_KEY",
                "~/.aws/credentials",
                "~/.s3cfg",
            ] {
                assert!(text.contains(source), "{text}");
            }
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn half_profile_is_an_error() {
    let env = home().with_file(
        format!("{HOME}/.aws/credentials"),
        "[default]\naws_access_key_id = A\n",
    );
    assert!(matches!(
        CredentialsChain::new().resolve(&env),
        Err(Error::IncompleteCredentials {
            missing: "aws_secret_access_key",
            ..
        })
    ));
}

/// What a differential run against botocore 1.43.11 found; each as botocore resolves it.
#[test]
fn resolution_follows_botocore() {
    let cred = format!("{HOME}/.aws/credentials");
    let conf = format!("{HOME}/.aws/config");
    let keys = |env: &StaticEnvironment, chain: CredentialsChain| {
        chain.resolve(env).map(|r| {
            (
                r.credentials.access_key().to_owned(),
                r.credentials
                    .session_token()
                    .map(|t| t.expose_secret().to_owned()),
            )
        })
    };
    let files = home().with_file(
        &cred,
        "[x]\naws_access_key_id = AK_x\naws_secret_access_key = SK_x\n",
    );
    let env_keys = files
        .clone()
        .with_var("AWS_ACCESS_KEY_ID", "AK_env")
        .with_var("AWS_SECRET_ACCESS_KEY", "SK_env");
    // `--profile x` switches the environment's keys off; AWS_PROFILE does not.
    assert_eq!(
        keys(&env_keys, CredentialsChain::new().with_profile("x"))
            .unwrap()
            .0,
        "AK_x"
    );
    let by_var = env_keys.clone().with_var("AWS_PROFILE", "x");
    assert_eq!(keys(&by_var, CredentialsChain::new()).unwrap().0, "AK_env");
    // ... but the profile it names must exist, keys in the environment or not.
    let missing = env_keys.clone().with_var("AWS_PROFILE", "nope");
    assert!(matches!(
        keys(&missing, CredentialsChain::new()),
        Err(Error::ProfileNotFound { .. })
    ));
    // AWS_DEFAULT_PROFILE names it too, before AWS_PROFILE.
    let default_var = files
        .clone()
        .with_var("AWS_DEFAULT_PROFILE", "x")
        .with_var("AWS_PROFILE", "nope");
    assert_eq!(
        keys(&default_var, CredentialsChain::new()).unwrap().0,
        "AK_x"
    );
    // The legacy token names, in the environment and in a file (they win, as in botocore).
    let legacy = env_keys
        .clone()
        .with_var("AWS_SECURITY_TOKEN", "T_sec")
        .with_var("AWS_SESSION_TOKEN", "T_ses");
    assert_eq!(
        keys(&legacy, CredentialsChain::new()).unwrap().1.as_deref(),
        Some("T_sec")
    );
    let legacy = home().with_file(
        &cred,
        "[default]\naws_access_key_id = A\naws_secret_access_key = S\naws_security_token = T\n",
    );
    assert_eq!(
        keys(&legacy, CredentialsChain::new()).unwrap().1.as_deref(),
        Some("T")
    );
    // Keys come from one file: a secret alone in the credentials file leaves the config
    // file's pair; a token of the config file does not join the credentials file's pair;
    // a key alone names its own file.
    let split = home()
        .with_file(&cred, "[default]\naws_secret_access_key = SK_c\n")
        .with_file(
            &conf,
            "[default]\naws_access_key_id = AK_f\naws_secret_access_key = SK_f\n",
        );
    let r = CredentialsChain::new().resolve(&split).unwrap();
    assert_eq!(
        (
            r.credentials.access_key(),
            r.credentials.secret_key().expose_secret()
        ),
        ("AK_f", "SK_f")
    );
    let token_elsewhere = home()
        .with_file(
            &cred,
            "[default]\naws_access_key_id = A\naws_secret_access_key = S\n",
        )
        .with_file(
            &conf,
            "[default]\naws_session_token = stale\nregion = ch-gva-2\n",
        );
    assert_eq!(
        keys(&token_elsewhere, CredentialsChain::new()).unwrap().1,
        None
    );
    let half = home()
        .with_file(&cred, "[default]\naws_access_key_id = AK_c\n")
        .with_file(
            &conf,
            "[default]\naws_secret_access_key = SK_f\nregion = de-fra-1\n",
        );
    match CredentialsChain::new().resolve(&half) {
        Err(Error::IncompleteCredentials {
            source_name,
            missing,
        }) => {
            assert_eq!(missing, "aws_secret_access_key");
            assert!(source_name.contains(".aws/credentials"), "{source_name}");
        }
        other => panic!("{other:?}"),
    }
    // The half pair does not hide the profile's other settings.
    let p = AwsProfiles::load(&half)
        .unwrap()
        .profile("default")
        .unwrap()
        .unwrap();
    assert_eq!(p.region.as_deref(), Some("de-fra-1"));
    assert!(p.credentials.is_none() && p.credentials_problem().is_some());
    // `~` in AWS_SHARED_CREDENTIALS_FILE.
    let tilde = home()
        .with_var("AWS_SHARED_CREDENTIALS_FILE", "~/alt/creds")
        .with_file(
            format!("{HOME}/alt/creds"),
            "[default]\naws_access_key_id = AK_alt\naws_secret_access_key = S\n",
        );
    assert_eq!(keys(&tilde, CredentialsChain::new()).unwrap().0, "AK_alt");
}

/// Files written by hand or by other tools, read as the AWS CLI (configparser) reads them.
#[test]
fn file_syntax_follows_configparser() {
    let cred = format!("{HOME}/.aws/credentials");
    let conf = format!("{HOME}/.aws/config");
    let access_key = |env: &StaticEnvironment, profile: &str| {
        CredentialsChain::new()
            .with_profile(profile)
            .resolve(env)
            .map(|r| r.credentials.access_key().to_owned())
    };
    for text in [
        // A byte-order mark; CRLF; lone CR; a comment after the header.
        "\u{feff}[default]\naws_access_key_id = AK\naws_secret_access_key = S\n",
        "[default]\r\naws_access_key_id = AK\r\naws_secret_access_key = S\r\n",
        "[default]\raws_access_key_id = AK\raws_secret_access_key = S\r",
        "[default] # main account\naws_access_key_id = AK\naws_secret_access_key = S\n",
        // Indented as a whole (a heredoc), with an empty value in the middle.
        "    [default]\n    aws_access_key_id = AK\n    aws_session_token =\n    aws_secret_access_key = S\n",
        // The same section twice: merged.
        "[default]\naws_access_key_id = AK\n[other]\nx = y\n[default]\naws_secret_access_key = S\n",
    ] {
        let env = home().with_file(&cred, text);
        assert_eq!(access_key(&env, "default").unwrap(), "AK", "{text:?}");
    }
    // `aws configure --profile "my name"` quotes the name in the config file.
    for header in [
        "[profile 'my name']",
        "[profile \"my name\"]",
        "[profile  'my name' ]",
    ] {
        let env = home().with_file(
            &conf,
            format!(
                "{header}\naws_access_key_id = AK\naws_secret_access_key = S\nregion = at-vie-1\n"
            ),
        );
        assert_eq!(access_key(&env, "my name").unwrap(), "AK", "{header}");
        let p = AwsProfiles::load(&env)
            .unwrap()
            .profile("my name")
            .unwrap()
            .unwrap();
        assert_eq!(p.region.as_deref(), Some("at-vie-1"), "{header}");
    }
    // Text after a header that is not a comment is still an error, with its line.
    let env = home().with_file(&cred, "[default] junk\n");
    assert!(matches!(
        access_key(&env, "default"),
        Err(Error::ConfigFile { line: 1, .. })
    ));
}

proptest::proptest! {
    /// The file parsers never panic, whatever the text.
    #[test]
    fn parsers_never_panic(text in "\\PC*", bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        let lossy = String::from_utf8_lossy(&bytes).into_owned();
        for t in [text, lossy] {
            let env = home()
                .with_file(format!("{HOME}/.aws/credentials"), t.clone())
                .with_file(format!("{HOME}/.aws/config"), t.clone())
                .with_file(format!("{HOME}/.s3cfg"), t.clone());
            let _ = CredentialsChain::new().resolve(&env);
            let _ = S3cfg::parse(PathBuf::from("x"), &t);
            // The text as file paths (`$NAME`, `${NAME}`, `~` expansion) and as a value of
            // the variables `$NAME` references in `.s3cfg`.
            let paths = home()
                .with_var("AWS_SHARED_CREDENTIALS_FILE", t.clone())
                .with_var("AWS_CONFIG_FILE", format!("~{t}"))
                .with_var("A", t.clone())
                .with_var("HOME", t.clone());
            let _ = AwsProfiles::load(&paths).map(|p| p.profile("default"));
            let _ = S3cfg::parse_in(PathBuf::from("x"), &format!("[default]\naccess_key = $A\nuse_https = ${t}\n"), &paths);
        }
    }
}

/// From a review: a `.s3cfg` whose `[default]` comes back after another section is read in
/// file order, and errors point at the line whose value counts, with lone-CR line ends too.
#[test]
fn s3cfg_values_in_file_order() {
    let cfg = S3cfg::parse(
        PathBuf::from("/h/.s3cfg"),
        "[default]\naccess_key = A\nsecret_key = B\nhost_base = a.example\n[x]\nhost_base = b.example\n[default]\nhost_base = c.example\n",
    )
    .unwrap();
    assert_eq!(cfg.host_base.as_deref(), Some("c.example"));
    for text in [
        "[default]\raccess_key = A\rsecret_key = B\ruse_https = maybe\r",
        "[default]\nuse_https = True\n[x]\ny = z\n[default]\nuse_https = maybe\n",
    ] {
        let expected = text
            .split(['\n', '\r'])
            .position(|l| l.contains("maybe"))
            .unwrap()
            + 1;
        match S3cfg::parse(PathBuf::from("/h/.s3cfg"), text) {
            Err(Error::ConfigFile { line, .. }) => assert_eq!(line, expected, "{text:?}"),
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

/// The cases of `vectors/credential_files.json` (written by `vectors/gen_credential_files.py`):
/// files, variables and a profile, each read by botocore or s3cmd, and what sos-auth must
/// yield — the reference's result, or where sos-auth follows another rule on purpose, the
/// result the case's `why` explains.
#[test]
fn credential_files_as_botocore_and_s3cmd_read_them() {
    use std::collections::BTreeMap;

    use serde_json::{Value, json};

    #[derive(serde::Deserialize)]
    struct Vectors {
        cases: Vec<Case>,
    }
    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        #[serde(default)]
        files: BTreeMap<String, String>,
        #[serde(default)]
        env: BTreeMap<String, String>,
        profile: Option<String>,
        expect: Value,
    }
    let error = |e: &Error| match e {
        Error::ConfigFile { path, line, .. } => json!({
            "error": "ConfigFile",
            "file": path.display().to_string().replacen(HOME, "~", 1),
            "line": line,
        }),
        Error::CredentialsNotFound { .. } => Value::Null,
        Error::IncompleteCredentials { .. } => json!({"error": "IncompleteCredentials"}),
        Error::ProfileNotFound { .. } => json!({"error": "ProfileNotFound"}),
        other => json!({ "error": format!("{other:?}") }),
    };
    let no_settings = json!({"region": null, "endpoint_url": null, "addressing_style": null});
    let vectors: Vectors =
        serde_json::from_str(include_str!("vectors/credential_files.json")).unwrap();
    assert!(vectors.cases.len() >= 200, "expected the full case set");
    let mut failures = Vec::new();
    for case in &vectors.cases {
        let mut env = home();
        for (path, text) in &case.files {
            env = env.with_file(path.replacen('~', HOME, 1), text.as_str());
        }
        for (name, value) in &case.env {
            env = env.with_var(name, value.replace("{HOME}", HOME));
        }
        let got = if case.expect.get("s3cfg").is_some() {
            let s3cfg = match S3cfg::load(&env) {
                Ok(Some(c)) => {
                    let creds = c.credentials.as_ref();
                    json!({
                        "access_key": creds.map(|c| c.access_key()),
                        "secret_key": creds.map(|c| c.secret_key().expose_secret()),
                        "access_token": creds.and_then(|c| c.session_token()).map(|t| t.expose_secret()),
                        "host_base": c.host_base,
                        "host_bucket": c.host_bucket,
                        "signature_v2": c.signature_v2,
                        "use_https": c.use_https,
                        "bucket_location": c.bucket_location,
                    })
                }
                Ok(None) => json!("no file"),
                Err(e) => error(&e),
            };
            json!({ "s3cfg": s3cfg })
        } else {
            let mut chain = CredentialsChain::new();
            if let Some(p) = &case.profile {
                chain = chain.with_profile(p);
            }
            let credentials = match chain.resolve(&env) {
                Ok(r) => {
                    let source = match &r.source {
                        CredentialSource::AwsEnvironment => "env",
                        CredentialSource::ExoscaleEnvironment => "exoscale",
                        CredentialSource::AwsProfile { file, .. }
                            if AwsProfiles::load(&env).unwrap().files().first() == Some(file) =>
                        {
                            "credentials"
                        }
                        CredentialSource::AwsProfile { .. } => "config",
                        other => panic!("{}: source {other:?}", case.name),
                    };
                    json!({
                        "access_key": r.credentials.access_key(),
                        "secret_key": r.credentials.secret_key().expose_secret(),
                        "session_token": r.credentials.session_token().map(|t| t.expose_secret()),
                        "source": source,
                    })
                }
                Err(e) => error(&e),
            };
            let name = case
                .profile
                .clone()
                .unwrap_or_else(|| AwsProfiles::default_name(&env));
            let settings = match AwsProfiles::load(&env).and_then(|p| p.profile(&name)) {
                Ok(Some(p)) if p.endpoint_problem().is_some() => {
                    error(&p.endpoint_problem().unwrap())
                }
                Ok(Some(p)) => json!({
                    "region": p.region,
                    "endpoint_url": p.endpoint_url,
                    "addressing_style": p.addressing_style,
                }),
                Ok(None) => no_settings.clone(),
                Err(e) => error(&e),
            };
            json!({ "credentials": credentials, "settings": settings })
        };
        if got != case.expect {
            failures.push(format!(
                "{}:\n  expected {}\n  got      {got}",
                case.name, case.expect
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// From the differential run: a `#` or `;` after a blank ends a value in the AWS files, as
/// in the AWS SDKs (botocore keeps it, and would sign with `SK # note` as the secret).
#[test]
fn aws_values_end_at_a_comment() {
    let env = home()
        .with_file(
            format!("{HOME}/.aws/credentials"),
            "[default]\naws_access_key_id = AK\t# key\naws_secret_access_key = S#K ; note\naws_session_token = # none\n",
        )
        .with_file(
            format!("{HOME}/.aws/config"),
            "[default]\nregion = ch-gva-2 # Geneva\ns3 = # nested below\n  addressing_style = path # not a comment here\n",
        );
    let r = CredentialsChain::new().resolve(&env).unwrap();
    assert_eq!(r.credentials.access_key(), "AK");
    assert_eq!(r.credentials.secret_key().expose_secret(), "S#K");
    assert!(r.credentials.session_token().is_none());
    let p = AwsProfiles::load(&env)
        .unwrap()
        .profile("default")
        .unwrap()
        .unwrap();
    assert_eq!(p.region.as_deref(), Some("ch-gva-2"));
    // Nested and continuation lines keep their text, as in both references.
    assert_eq!(
        p.addressing_style.as_deref(),
        Some("path # not a comment here")
    );
}

/// From the differential run: `[profile NAME]` in the config file is one shell word, as the
/// AWS CLI writes (`shlex.quote`) and reads (`shlex.split`) it.
#[test]
fn config_profile_names_are_shell_words() {
    let conf = format!("{HOME}/.aws/config");
    let access_key = |header: &str, profile: &str| {
        let env = home().with_file(
            &conf,
            format!("{header}\naws_access_key_id = AK\naws_secret_access_key = S\n"),
        );
        CredentialsChain::new()
            .with_profile(profile)
            .resolve(&env)
            .map(|r| r.credentials.access_key().to_owned())
    };
    for (header, profile) in [
        ("[profile 'it'\"'\"'s']", "it's"),
        ("[profile my\\ name]", "my name"),
        ("[profile a\"b\"c]", "abc"),
        ("[profile\tx]", "x"),
    ] {
        assert_eq!(access_key(header, profile).unwrap(), "AK", "{header}");
    }
    for (header, profile) in [
        ("[profile my name]", "my name"),
        ("[profile \"x]", "\"x"),
        ("[profilex y]", "y"),
        ("[profile x # comment]", "x"),
    ] {
        assert!(
            matches!(
                access_key(header, profile),
                Err(Error::ProfileNotFound { .. })
            ),
            "{header}"
        );
    }
}

/// From the differential run: a profile's `services = NAME` gives the S3 endpoint of its
/// `[services NAME]` section, before the profile's own `endpoint_url` (botocore's order).
#[test]
fn services_section_gives_the_endpoint() {
    let conf = format!("{HOME}/.aws/config");
    let endpoint = |text: &str| {
        let env = home().with_file(&conf, text);
        AwsProfiles::load(&env)
            .unwrap()
            .profile("default")
            .map(|p| p.unwrap().endpoint_url)
    };
    let text = "[default]\nendpoint_url = https://global.example\nservices = exo\n\n[services exo]\ns3 =\n  endpoint_url = https://sos-ch-gva-2.exo.io\n";
    assert_eq!(
        endpoint(text).unwrap().as_deref(),
        Some("https://sos-ch-gva-2.exo.io")
    );
    // Another service's endpoint is not S3's.
    let text = "[default]\nendpoint_url = https://global.example\nservices = exo\n[services exo]\nsqs =\n  endpoint_url = https://sqs.example\n";
    assert_eq!(
        endpoint(text).unwrap().as_deref(),
        Some("https://global.example")
    );
    // A section that does not exist spoils the endpoint only, reported at the `services =`
    // line when it is needed (as botocore, which fails when it builds a client): the keys
    // and the region are still read.
    let env = home().with_file(&conf, "[default]\nregion = r\nservices = nope\n");
    let profile = AwsProfiles::load(&env)
        .unwrap()
        .profile("default")
        .unwrap()
        .unwrap();
    assert_eq!(
        (profile.region.as_deref(), profile.endpoint_url.as_deref()),
        (Some("r"), None)
    );
    match profile.endpoint_problem() {
        Some(Error::ConfigFile { path, line, .. }) => {
            assert_eq!((path, line), (PathBuf::from(&conf), 3));
        }
        other => panic!("{other:?}"),
    }
}

/// From the differential run: `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE` expand any
/// `$NAME`/`${NAME}` and a leading `~`, as botocore does (`expandvars`, `expanduser`).
#[test]
fn file_paths_expand_variables() {
    let creds = "[default]\naws_access_key_id = AK_alt\naws_secret_access_key = S\n";
    for (value, vars) in [
        (
            "$XDG_CONFIG_HOME/aws/credentials",
            &[("XDG_CONFIG_HOME", "/cfg")][..],
        ),
        ("/${A}/aws/${B}", &[("A", "cfg"), ("B", "credentials")][..]),
    ] {
        let mut env = home()
            .with_var("AWS_SHARED_CREDENTIALS_FILE", value)
            .with_file("/cfg/aws/credentials", creds);
        for (k, v) in vars {
            env = env.with_var(*k, *v);
        }
        let r = CredentialsChain::new().resolve(&env).unwrap();
        assert_eq!(r.credentials.access_key(), "AK_alt", "{value}");
    }
    // An unset variable stays as written (no file there).
    let env = home().with_var("AWS_SHARED_CREDENTIALS_FILE", "$UNSET/credentials");
    assert_eq!(
        AwsProfiles::load(&env).unwrap().files()[0],
        PathBuf::from("$UNSET/credentials")
    );
}

/// From the differential run: `.s3cfg` read as s3cmd reads it — quotes, `$NAME` references,
/// every line on its own, settings before a header, an empty boolean refused.
#[test]
fn s3cfg_as_s3cmd_reads_it() {
    let env = StaticEnvironment::new()
        .with_var("EXO_KEY", "EXOenv")
        .with_var("EXO_SECRET", "$EXO_SECRET2")
        .with_var("EXO_SECRET2", "secret-from-env");
    let parse = |text: &str| S3cfg::parse_in(PathBuf::from("/h/.s3cfg"), text, &env);
    let cfg = parse(
        "access_key = $EXO_KEY\n[default]\nsecret_key = \"$EXO_SECRET\"\nhost_base = \" sos.exo.io \"\n    use_https = \"no\"\nhost_bucket = $UNSET\n",
    )
    .unwrap();
    let creds = cfg.credentials.unwrap();
    assert_eq!(creds.access_key(), "EXOenv");
    assert_eq!(creds.secret_key().expose_secret(), "secret-from-env");
    assert_eq!(cfg.host_base.as_deref(), Some("sos.exo.io"));
    assert!(!cfg.use_https);
    assert_eq!(cfg.host_bucket, None);
    // An indented line is a setting of its own, not a continuation.
    let cfg = parse("[default]\naccess_key = K\n    secret_key = S\n").unwrap();
    assert_eq!(cfg.credentials.unwrap().secret_key().expose_secret(), "S");
    // An empty boolean is refused (s3cmd: "must be Yes or No, not ''"), at its line.
    for text in [
        "[default]\nuse_https =\n",
        "[default]\nsignature_v2 = $EMPTY\n",
    ] {
        let env = env.clone().with_var("EMPTY", "");
        match S3cfg::parse_in(PathBuf::from("/h/.s3cfg"), text, &env) {
            Err(Error::ConfigFile { line: 2, .. }) => {}
            other => panic!("{text:?}: {other:?}"),
        }
    }
    // A reference loop is cut with an error, not followed forever.
    let looping = env.clone().with_var("LOOP", "$LOOP");
    assert!(matches!(
        S3cfg::parse_in(
            PathBuf::from("/h/.s3cfg"),
            "[default]\naccess_key = $LOOP\n",
            &looping
        ),
        Err(Error::ConfigFile { line: 2, .. })
    ));
}
