//! Secrets never appear in `Debug`, `Display` or error text.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use sos_auth::{
    AwsProfiles, Credentials, CredentialsChain, PayloadHash, S3cfg, Secret, SigV2Signer,
    SigV4Signer, SigningKey, StaticEnvironment, Verifier,
};

const SECRET: &str = "TopSecretValue/1234+abcd";
const TOKEN: &str = "SessionTokenSecretValue99";

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
    assert!(
        !text.contains(TOKEN),
        "{what} shows the session token: {text}"
    );
    assert!(
        !text.contains("TopSecret"),
        "{what} shows part of the secret: {text}"
    );
}

#[test]
fn secret_holders_are_redacted() {
    let creds = Credentials::new("AKID", SECRET).with_session_token(TOKEN);
    assert_clean("Credentials", &format!("{creds:?} {creds:#?}"));
    assert_clean(
        "Secret",
        &format!("{:?} {}", Secret::from(SECRET), Secret::from(SECRET)),
    );
    let v4 = SigV4Signer::new(creds.clone(), "ch-gva-2");
    let _ = v4.presign_at(
        &http::Method::GET,
        &"http://127.0.0.1/b/k".parse().unwrap(),
        &http::HeaderMap::new(),
        Duration::from_secs(60),
        UNIX_EPOCH,
    );
    assert_clean("SigV4Signer", &format!("{v4:?} {:?}", v4.key_cache()));
    assert_clean(
        "SigV2Signer",
        &format!("{:?}", SigV2Signer::new(creds.clone())),
    );
    assert_clean(
        "SigningKey",
        &format!(
            "{:?}",
            SigningKey::derive(&Secret::from(SECRET), "20260101", "r", "s3")
        ),
    );
    let mut req = http::Request::put("http://127.0.0.1/b/k").body(()).unwrap();
    let chunks = v4.sign_streaming_at(&mut req, 10, 5, UNIX_EPOCH).unwrap();
    assert_clean("ChunkSigner", &format!("{chunks:?}"));
    assert_clean(
        "signed request headers",
        &format!("{:?}", req.headers().get("authorization")),
    );
    assert_clean(
        "Verifier",
        &format!("{:?}", Verifier::from_credentials([creds])),
    );
}

#[test]
fn sources_and_errors_are_redacted() {
    let s3cfg =
        format!("[default]\naccess_key = AKID\nsecret_key = {SECRET}\naccess_token = {TOKEN}\n");
    let aws = format!(
        "[p]\naws_access_key_id = AKID\naws_secret_access_key = {SECRET}\naws_session_token = {TOKEN}\n"
    );
    let env = StaticEnvironment::new()
        .with_home("/h")
        .with_var("SOME_SECRET", SECRET)
        .with_file("/h/.s3cfg", s3cfg.clone())
        .with_file("/h/.aws/credentials", aws);
    assert_clean("StaticEnvironment", &format!("{env:?}"));
    let resolved = CredentialsChain::new()
        .with_profile("p")
        .resolve(&env)
        .unwrap();
    assert_clean(
        "ResolvedCredentials",
        &format!("{resolved:?} {}", resolved.source),
    );
    let profile = AwsProfiles::load(&env).unwrap().profile("p").unwrap();
    assert_clean("AwsProfile", &format!("{profile:?}"));
    assert_clean("S3cfg", &format!("{:?}", S3cfg::load(&env).unwrap()));

    // Error paths, with the secret sitting on the offending line.
    for bad in [
        format!("[default]\n{SECRET}\n"),
        format!("{SECRET}\n"),
        format!("[default]\nsecret_key = {SECRET}\n"),
        format!("[default]\naccess_key = A\nsecret_key = {SECRET}\nsignature_v2 = {SECRET}\n"),
        format!("[{SECRET}\n"),
    ] {
        let env = StaticEnvironment::new()
            .with_home("/h")
            .with_file("/h/.s3cfg", bad.clone());
        let err = CredentialsChain::new().resolve(&env).unwrap_err();
        assert_clean("error", &format!("{err} {err:?}"));
        let err = S3cfg::parse(PathBuf::from("/h/.s3cfg"), &bad).unwrap_err();
        assert_clean("error", &format!("{err} {err:?}"));
    }

    // `$NAME` values of an s3cfg whose variable holds the secret, where reading them fails:
    // a boolean that is not one, a loop, a half key pair.
    for bad in [
        "[default]\naccess_key = A\nsecret_key = S\nsignature_v2 = $SOME_SECRET\n",
        "[default]\naccess_key = A\nsecret_key = S\nuse_https = $SOME_SECRET\n",
        "[default]\naccess_key = $LOOP\nsecret_key = $SOME_SECRET\n",
        "[default]\nsecret_key = $SOME_SECRET\n",
    ] {
        let env = StaticEnvironment::new()
            .with_home("/h")
            .with_var("SOME_SECRET", SECRET)
            .with_var("LOOP", "$LOOP")
            .with_file("/h/.s3cfg", bad);
        let err = CredentialsChain::new().resolve(&env).unwrap_err();
        assert_clean("error", &format!("{err} {err:?}"));
        let err = S3cfg::load(&env).unwrap_err();
        assert_clean("error", &format!("{err} {err:?}"));
    }

    let verifier = Verifier::from_credentials([Credentials::new("AKID", SECRET)]);
    let mut req = http::Request::get("http://127.0.0.1/b/k").body(()).unwrap();
    SigV4Signer::new(Credentials::new("AKID", "wrong"), "r")
        .sign_at(&mut req, PayloadHash::EMPTY, UNIX_EPOCH)
        .unwrap();
    let err = verifier.verify_at(&req, UNIX_EPOCH).unwrap_err();
    assert_clean("verify error", &format!("{err} {err:?}"));
}
