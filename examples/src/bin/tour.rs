//! The guided tour: `cargo run --release -p sos-examples --bin tour`.
//!
//! Starts an S3 server inside this process on 127.0.0.1 (s3s-fs over a temporary directory,
//! with real signature checks), then walks through what the crates do, printing each step.
//! No account, no credentials, no network beyond loopback.

use std::process::ExitCode;
use std::time::Duration;

use http::{Method, Request};
use sos_acl::{CannedAcl, CorsConfiguration, CorsRequest, CorsRule, Owner};
use sos_auth::{
    Credentials, CredentialsChain, PayloadHash, SigV2Signer, SigV4Signer, StaticEnvironment,
    Verifier,
};
use sos_presign::{Endpoint, KeyCondition, PostPolicy, Presigner};
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::TryStreamExt;
use sos_client::{ClientBuilder, ListEntry};
use sos_testing::{EmbeddedS3, VIRTUAL_HOST_DOMAIN, raw};
use sos_vfs::{ROOT_INO, SosStorage, Vfs, VfsOptions};

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

    say(
        "6. sos-presign: a link valid 10 minutes that anyone can use (curl, a browser), saved under a",
    );
    say("   file name of our choosing:");
    let presigner = Presigner::new(
        credentials.clone(),
        Endpoint::parse(&server.endpoint())?.with_region("ch-gva-2"),
    );
    let link = presigner
        .get_object(bucket, "hello world.txt")
        .expires_in(Duration::from_secs(600))
        .attachment("Grüße.txt")
        .sign()?;
    say(&format!("   {}", link.url));
    let r = raw::send(&Request::get(link.url.as_str()).body(Vec::new())?)?;
    check("GET through the pre-signed URL", r.status, 200, &r.text())?;
    say(&format!(
        "   Content-Disposition: {}",
        r.header("content-disposition").unwrap_or("(none)")
    ));
    let form = presigner.post_form(
        &PostPolicy::new(bucket, KeyCondition::StartsWith("uploads/".into()))
            .content_length_range(1, 1 << 20)
            .success_action_status(201),
    )?;
    say(&format!(
        "   and a browser upload form with {} signed fields, posting to {}",
        form.fields.len(),
        form.url
    ));
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

    say("\n8. sos-acl: what a canned ACL means, and browser preflights judged as S3 judges them:");
    let owner = Owner::new("tour-owner");
    let acl = CannedAcl::PublicRead.expand_for_object(&owner, &owner);
    say(&format!(
        "   public-read: readable by everyone: {}, writable by everyone: {}",
        acl.readable_by_everyone(),
        acl.writable_by_everyone()
    ));
    let cors = CorsConfiguration::new()
        .with_rule(
            CorsRule::new()
                .with_allowed_origin("https://*.example.com")
                .with_allowed_methods([Method::GET, Method::PUT])
                .with_allowed_header("content-type")
                .with_max_age_seconds(3600),
        )
        .build()?;
    for (origin, method) in [
        ("https://app.example.com", "PUT"),
        ("https://evil.example.net", "GET"),
    ] {
        let decision = cors.evaluate(&CorsRequest::preflight(origin, method));
        say(&format!(
            "   {method} from {origin}: HTTP {}",
            decision.status().as_u16()
        ));
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(client_tour(&server, &env))?;

    say(
        "\nThat was every crate. Next: `sos --help` (the command line), `sos-mount --help` (FUSE).",
    );
    Ok(())
}

/// sos-client: the same server through the async client, configured from the same ~/.s3cfg.
async fn client_tour(server: &EmbeddedS3, env: &StaticEnvironment) -> Result<()> {
    say("\n9. sos-client, configured from that ~/.s3cfg: V2 signatures, virtual-host names");
    let client = ClientBuilder::from_environment_in(env, None)?
        // `*.s3.localhost` is this process's server; no DNS needed.
        .resolve(format!("*.{VIRTUAL_HOST_DOMAIN}"), server.addr())
        .build()?;
    say(&format!(
        "   endpoint {} ({:?}, {:?})",
        client.endpoint().host(),
        client.signature_version(),
        client.endpoint().addressing_for("tour-client")
    ));
    let bucket = "tour-client";
    client.create_bucket(bucket).send().await?;
    client
        .put_object(bucket, "notes/hello.txt")
        .body("Hello from sos-client!\n")
        .content_type("text/plain; charset=utf-8")
        .user_metadata("author", "the tour")
        .send()
        .await?;
    let info = client.head_object(bucket, "notes/hello.txt").await?;
    say(&format!(
        "   uploaded notes/hello.txt: {} bytes, {:?}, x-amz-meta-author = {:?}",
        info.content_length,
        info.metadata.content_type.as_deref().unwrap_or(""),
        info.metadata
            .user
            .get("author")
            .map(String::as_str)
            .unwrap_or("")
    ));

    say("\n10. A 24 MiB upload in parallel 5 MiB parts, with progress, back, and a copy:");
    let data: Vec<u8> = (0..24u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let quarter = AtomicU64::new(0);
    let total = data.len() as u64;
    client
        .upload(bucket, "big/data.bin")
        .part_size(5 << 20)
        .concurrency(4)
        .on_progress(move |p| {
            let q = p.transferred * 4 / total;
            if quarter.fetch_max(q, Ordering::Relaxed) < q {
                say(&format!("   {:>3}% sent", q * 25));
            }
        })
        .bytes(data.clone())
        .await?;
    let mut back = Vec::new();
    client
        .download(bucket, "big/data.bin")
        .part_size(4 << 20)
        .to_writer(&mut back)
        .await?;
    say(&format!(
        "   downloaded in 4 MiB ranges: {} bytes, identical: {}",
        back.len(),
        back == data
    ));
    if back != data {
        return Err("the download differs".into());
    }
    let copy = client
        .copy(bucket, "big/data.bin", bucket, "big/copy.bin")
        .part_size(8 << 20)
        .send()
        .await?;
    say(&format!(
        "   copied on the server in 8 MiB parts, no byte through the client: ETag {}",
        copy.etag.as_deref().unwrap_or("?")
    ));

    say("\n11. A listing, one directory level at a time:");
    let mut entries = client.list_objects(bucket).delimiter("/").entries();
    while let Some(entry) = entries.try_next().await? {
        match entry {
            ListEntry::Prefix(p) => say(&format!("   DIR  {p}")),
            ListEntry::Object(o) => say(&format!("   {:>8}  {}", o.size, o.key)),
        }
    }

    say("\n12. An ACL made public-read, and read back:");
    client
        .set_object_acl(bucket, "notes/hello.txt", CannedAcl::PublicRead)
        .await?;
    let acl = client.get_object_acl(bucket, "notes/hello.txt").await?;
    for grant in &acl.grants {
        say(&format!(
            "   {}: {}",
            grant.grantee,
            grant.permission.as_str()
        ));
    }
    say(&format!(
        "   readable by everyone: {}",
        acl.readable_by_everyone()
    ));

    say("\n13. A CORS rule stored on the bucket, read back, and a browser's request judged by it:");
    let cors = CorsConfiguration::new()
        .with_rule(
            CorsRule::new()
                .with_allowed_origin("https://app.example.com")
                .with_allowed_methods([Method::GET])
                .with_max_age_seconds(600),
        )
        .build()?;
    client.put_bucket_cors(bucket, &cors).await?;
    if let Some(stored) = client.get_bucket_cors(bucket).await? {
        let decision = stored.evaluate(&CorsRequest::actual("https://app.example.com", "GET"));
        say(&format!(
            "   GET from https://app.example.com: HTTP {}, Access-Control-Allow-Origin: {:?}",
            decision.status().as_u16(),
            decision
                .headers()
                .get("access-control-allow-origin")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        ));
    }

    say("\n14. A pre-signed URL from the client's own credentials, fetched without them:");
    let link = client
        .presigner()
        .get_object(bucket, "notes/hello.txt")
        .expires_in(Duration::from_secs(60))
        .sign()?;
    let request = Request::get(link.url.as_str()).body(Vec::new())?;
    let r = tokio::task::spawn_blocking(move || raw::send(&request).map_err(|e| e.to_string()))
        .await?
        .map_err(|e| -> Box<dyn std::error::Error> { e.into() })?;
    check("GET through the pre-signed URL", r.status, 200, &r.text())?;
    say(&format!("   body: {:?}", r.text().trim_end()));

    say(
        "\n15. sos-vfs: the bucket as a file system, with Mountpoint's rules (what sos-mount serves):",
    );
    let vfs = Vfs::new(
        SosStorage::new(client.clone(), bucket),
        VfsOptions::default(),
    )?;
    let notes = vfs.lookup(ROOT_INO, "notes").await?;
    let (file, fh) = vfs.create(notes.ino, "from-the-vfs.txt").await?;
    vfs.write(file.ino, fh, 0, b"written as a file\n").await?;
    say(&format!(
        "   while open, visible in the bucket: {}",
        client
            .object_exists(bucket, "notes/from-the-vfs.txt")
            .await?
    ));
    vfs.release(file.ino, fh).await?;
    say(&format!(
        "   after close, visible in the bucket: {}",
        client
            .object_exists(bucket, "notes/from-the-vfs.txt")
            .await?
    ));
    for entry in vfs.readdir_all(notes.ino).await? {
        say(&format!(
            "   {:o} {:>6}  notes/{}",
            entry.attr.mode(),
            entry.attr.size,
            entry.name
        ));
    }
    let hello = vfs.lookup(notes.ino, "hello.txt").await?;
    let fh = vfs.open(hello.ino, 0).await?;
    let text = vfs.read(hello.ino, fh, 0, 4096).await?;
    vfs.release(hello.ino, fh).await?;
    say(&format!(
        "   cat notes/hello.txt: {:?}",
        String::from_utf8_lossy(&text).trim_end()
    ));
    match vfs.unlink(notes.ino, "hello.txt").await {
        Ok(()) => return Err("rm should be refused without allow_delete".into()),
        Err(e) => say(&format!("   rm notes/hello.txt: {e} (errno {})", e.errno())),
    }
    vfs.shutdown().await;
    Ok(())
}
