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
        }
    }
}
