//! The guided tour: `cargo run --release -p sos-examples --bin tour`.
//!
//! Starts an S3 server inside this process on 127.0.0.1 (s3s-fs over a temporary directory,
//! with real signature checks), then walks through what the crates do, printing each step.
//! No account, no credentials, no network beyond loopback.

use std::process::ExitCode;
use std::time::Duration;

use http::{HeaderMap, Method, Request};
use sos_auth::{
    Credentials, CredentialsChain, PayloadHash, SigV2Signer, SigV4Signer, StaticEnvironment,
    Verifier,
};
use sos_testing::{EmbeddedS3, raw};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tour failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn say(text: &str) {
    #[allow(clippy::print_stdout)]
    {
        println!("{text}");
    }
}

fn check(what: &str, status: u16, expected: u16, body: &str) -> Result<()> {
    if status == expected {
        say(&format!("   {what}: HTTP {status}"));
        Ok(())
    } else {
        Err(format!("{what}: expected HTTP {expected}, got {status}: {body}").into())
    }
}

fn run() -> Result<()> {
    say("== sos tour ==\n");
    let server = EmbeddedS3::start()?;
    say(&format!(
        "1. An S3 server (s3s-fs) is running in this process at {}.\n   It checks every signature, like SOS does.\n",
        server.endpoint()
    ));

    say(
        "2. sos-auth finds credentials where users keep them. Here, an s3cmd ~/.s3cfg like the SOS quick start's:",
    );
    let s3cfg = format!(
        "[default]\nhost_base = {}\nhost_bucket = %(bucket)s.{}\naccess_key = {}\nsecret_key = {}\nuse_https = False\nsignature_v2 = True\n",
        server.addr(),
        server.virtual_host_base(),
        server.access_key(),
        server.secret_key()
    );
    let env = StaticEnvironment::new()
        .with_home("/home/tour")
        .with_file("/home/tour/.s3cfg", s3cfg);
    let resolved = CredentialsChain::new().resolve(&env)?;
    say(&format!(
        "   found {} in {}",
        resolved.credentials.access_key(),
        resolved.source
    ));
    say(&format!(
        "   and the secret prints as {:?}\n",
        resolved.credentials.secret_key()
    ));
    let credentials: Credentials = resolved.credentials;

    say("3. Signature V4: create a bucket, upload and read back an object.");
    let signer = SigV4Signer::new(credentials.clone(), "ch-gva-2");
    let bucket = "tour-bucket";
    let mut create = Request::put(format!("{}/{bucket}", server.endpoint())).body(Vec::new())?;
    signer.sign(&mut create, PayloadHash::EMPTY)?;
    let r = raw::send(&create)?;
    check("PUT bucket (signed V4)", r.status, 200, &r.text())?;

    let body = b"Hello from the sos tour!\n".to_vec();
    let mut put = Request::put(format!("{}/{bucket}/hello%20world.txt", server.endpoint()))
        .header("content-type", "text/plain")
        .body(body.clone())?;
    let payload = PayloadHash::of(put.body());
    signer.sign(&mut put, payload)?;
    say(&format!(
        "   Authorization: {}",
        put.headers()["authorization"].to_str()?
    ));
    let r = raw::send(&put)?;
    check("PUT object", r.status, 200, &r.text())?;

    let mut get = Request::get(format!("{}/{bucket}/hello%20world.txt", server.endpoint()))
        .header("range", "bytes=0-4")
        .body(Vec::new())?;
    signer.sign(&mut get, PayloadHash::EMPTY)?;
    let r = raw::send(&get)?;
    check("GET object, bytes 0-4", r.status, 206, &r.text())?;
    say(&format!("   read back: {:?}\n", r.text()));

    say("4. A wrong secret is refused by the server:");
    let wrong = SigV4Signer::new(
        Credentials::new(credentials.access_key(), "not-the-secret"),
        "ch-gva-2",
    );
    let mut get = Request::get(format!("{}/{bucket}/hello%20world.txt", server.endpoint()))
        .body(Vec::new())?;
    wrong.sign(&mut get, PayloadHash::EMPTY)?;
    let r = raw::send(&get)?;
    check("GET with a wrong secret", r.status, 403, &r.text())?;
    say(&format!(
        "   error code: {}\n",
        r.s3_error_code().unwrap_or_default()
    ));

    say("5. Signature V2 (SOS's first S3 front end spoke only V2), virtual-host style:");
    let v2 = SigV2Signer::new(credentials.clone()).with_host_base(server.virtual_host_base());
    let mut get = Request::get(format!(
        "http://{bucket}.{}/hello%20world.txt",
        server.virtual_host_base()
    ))
    .body(Vec::new())?;
    v2.sign(&mut get)?;
    say(&format!(
        "   string to sign: {:?}",
        v2.string_to_sign_at(&get, std::time::SystemTime::now())?
    ));
    let r = raw::send(&get)?;
    check("GET object (signed V2)", r.status, 200, &r.text())?;
    say("");

    say("6. A pre-signed URL, valid 10 minutes, usable by anyone (curl, a browser):");
    let url = signer.presign(
        &Method::GET,
        &format!("{}/{bucket}/hello%20world.txt", server.endpoint()).parse()?,
        &HeaderMap::new(),
        Duration::from_secs(600),
    )?;
    say(&format!("   {url}"));
    let r = raw::send(&Request::get(url).body(Vec::new())?)?;
    check("GET through the pre-signed URL", r.status, 200, &r.text())?;
    say("");

    say("7. The Verifier checks signatures the way a server does:");
    let verifier = Verifier::from_credentials([credentials]);
    let mut req = Request::delete("http://127.0.0.1/b/k").body(())?;
    signer.sign(&mut req, PayloadHash::EMPTY)?;
    let ok = verifier.verify(&req)?;
    say(&format!(
        "   verified: {:?} by {}",
        ok.version, ok.access_key
    ));
    req.headers_mut()
        .insert("x-amz-date", "20000101T000000Z".parse()?);
    say(&format!(
        "   after tampering with x-amz-date: {}",
        verifier
            .verify(&req)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    ));

    say(
        "\nThe tour ends here for now: the client, ACL/CORS, pre-sign and VFS crates join it as they land.",
    );
    Ok(())
}
