//! Vectors from the test suites of other S3 signers (`vectors/others/*.json`, each file naming
//! its source, commit or version and licence): s3s (the embedded server's verifier), rusty-s3,
//! minio-go, minio-py, mhart/aws4, aws-sdk-go, aws-sdk-js-v3 (smithy-typescript), aws-c-auth, boto,
//! object_store, aws-sdk-rust, aws-sigv4, rust-s3, goamz and aws-sdk-php.
//!
//! For every case: our canonical request, string to sign, signature, `Authorization` header or
//! pre-signed URL equal the expected ones, and our [`Verifier`] accepts the request the other
//! signer signed and refuses it with one character of the signature changed. Chunk and trailer
//! signatures are checked along the chain of the request that starts them.
//!
//! A case that is not S3's (or that S3-compatible servers refuse) carries a `skip` reason and
//! is only counted; `not_sign` says why our signer cannot reproduce a case whose signature our
//! verifier must still accept.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use serde::Deserialize;
use sos_auth::{
    AmzDate, Credentials, Error, PayloadHash, SigV2Signer, SigV4Signer, SigningKey, Verifier,
};

/// `(file name, contents)` of each file of `vectors/others/`.
macro_rules! vector_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("vectors/others/", $name)))),*]
    };
}

const FILES: &[(&str, &str)] = vector_files![
    "aws4.json",
    "aws_c_auth.json",
    "aws_sdk_go.json",
    "aws_sdk_java_v2.json",
    "aws_sdk_js_v3.json",
    "aws_sdk_php.json",
    "aws_sdk_ruby.json",
    "aws_sdk_rust.json",
    "boto.json",
    "goamz.json",
    "minio_go.json",
    "minio_py.json",
    "object_store.json",
    "rust_fragments.json",
    "rusty_s3.json",
    "s3s.json",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    source: serde_json::Value,
    cases: Vec<Case>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[allow(dead_code)]
    origin: String,
    kind: String,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    access_key: String,
    secret_key: String,
    session_token: Option<String>,
    region: Option<String>,
    service: Option<String>,
    /// `YYYYMMDDTHHMMSSZ` (V4).
    time: Option<String>,
    expires_in: Option<u64>,
    /// Unix seconds (V2 query).
    expires: Option<u64>,
    host_base: Option<String>,
    /// A chain of chunk signatures that starts from this signature rather than a request's.
    previous_signature: Option<String>,
    /// The signing key itself (hex), for a chain whose test gives no secret.
    signing_key: Option<String>,
    /// What a `v4-string` case signs (a POST policy).
    message: Option<String>,
    chunks: Option<Vec<Chunk>>,
    trailer: Option<Trailer>,
    skip: Option<String>,
    not_sign: Option<String>,
    #[allow(dead_code)]
    note: Option<String>,
    #[serde(default)]
    expected: Expected,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct Expected {
    canonical_request: Option<String>,
    /// One line the canonical request must hold (the vector gives no more).
    canonical_header: Option<String>,
    canonical_uri: Option<String>,
    canonical_query: Option<String>,
    string_to_sign: Option<String>,
    signature: Option<String>,
    signed_headers: Option<String>,
    authorization: Option<String>,
    signed_url: Option<String>,
    url_contains: Option<String>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Chunk {
    data: Data,
    signature: String,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Data {
    repeat: Option<String>,
    count: Option<usize>,
    text: Option<String>,
}

impl Chunk {
    fn bytes(&self) -> Vec<u8> {
        match (&self.data.repeat, self.data.count, &self.data.text) {
            (Some(r), Some(n), None) => r.as_bytes().repeat(n),
            (None, None, Some(t)) => t.as_bytes().to_vec(),
            _ => panic!("chunk data is `repeat` and `count`, or `text`"),
        }
    }
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Trailer {
    name: String,
    value: String,
    signature: String,
}

fn all_cases() -> Vec<Case> {
    FILES
        .iter()
        .flat_map(|(name, text)| {
            serde_json::from_str::<File>(text)
                .unwrap_or_else(|e| panic!("vectors/others/{name}: {e}"))
                .cases
        })
        .collect()
}

/// Runs `check` on every case, and fails with the names of all the cases that failed (each
/// one's message is printed as it fails).
fn each(cases: &[Case], check: impl Fn(&Case)) {
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(c))).is_err())
        .map(|c| c.name.as_str())
        .collect();
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
}

/// The cases of `kinds` that apply (not skipped).
fn cases(kinds: &[&str]) -> Vec<Case> {
    all_cases()
        .into_iter()
        .filter(|c| kinds.contains(&c.kind.as_str()) && c.skip.is_none())
        .collect()
}

fn credentials(c: &Case) -> Credentials {
    let creds = Credentials::new(c.access_key.clone(), c.secret_key.clone());
    match &c.session_token {
        Some(t) => creds.with_session_token(t.clone()),
        None => creds,
    }
}

fn time(c: &Case) -> SystemTime {
    let text = c
        .time
        .as_deref()
        .unwrap_or_else(|| panic!("{}: no time", c.name));
    AmzDate::parse(text)
        .unwrap_or_else(|| panic!("{}: time {text}", c.name))
        .system_time()
}

fn service(c: &Case) -> &str {
    c.service.as_deref().unwrap_or("s3")
}

fn v4_signer(c: &Case) -> SigV4Signer {
    let region = c
        .region
        .clone()
        .unwrap_or_else(|| panic!("{}: no region", c.name));
    SigV4Signer::new(credentials(c), region).with_service(service(c))
}

fn request(c: &Case, url: &str) -> Request<()> {
    let mut req = Request::builder()
        .method(Method::from_bytes(c.method.as_bytes()).unwrap())
        .uri(
            url.parse::<Uri>()
                .unwrap_or_else(|e| panic!("{}: url {url}: {e}", c.name)),
        )
        .body(())
        .unwrap();
    for (k, v) in &c.headers {
        let name = HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap();
        req.headers_mut()
            .append(name, HeaderValue::from_str(v).unwrap());
    }
    req
}

fn header_map(c: &Case) -> HeaderMap {
    request(c, &c.url).headers().clone()
}

/// `AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..` with the separators
/// written `, ` (minio-go writes `,`).
fn normalized_authorization(auth: &str) -> String {
    let (algorithm, rest) = auth.split_once(' ').unwrap();
    let parts: Vec<&str> = rest.split(',').map(str::trim).collect();
    format!("{algorithm} {}", parts.join(", "))
}

fn authorization_field<'a>(auth: &'a str, field: &str) -> &'a str {
    auth.split([' ', ','])
        .find_map(|p| p.strip_prefix(field).and_then(|p| p.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {field} in {auth}"))
}

/// The signature a canonical request gives, computed here from the vector's canonical request
/// (not with our canonicalisation), for vectors that give no signature.
fn signature_of_canonical(c: &Case, canonical: &str) -> String {
    let date = AmzDate::parse(c.time.as_deref().unwrap()).unwrap();
    let region = c.region.as_deref().unwrap();
    let hash: String = {
        use sha2::Digest;
        sha2::Sha256::digest(canonical.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let sts = format!(
        "AWS4-HMAC-SHA256\n{}\n{}/{region}/{}/aws4_request\n{hash}",
        date.as_str(),
        date.date(),
        service(c)
    );
    if let Some(expected) = &c.expected.string_to_sign {
        assert_eq!(
            &sts, expected,
            "{}: the vector's own canonical request",
            c.name
        );
    }
    let secret = sos_auth::Secret::from(c.secret_key.clone());
    SigningKey::derive(&secret, date.date(), region, service(c)).sign(sts.as_bytes())
}

/// `signature` with one character changed (still a valid character of its alphabet).
fn flipped(signature: &str) -> String {
    let mut bytes = signature.as_bytes().to_vec();
    let at = bytes.len() / 2;
    bytes[at] = match bytes[at] {
        b'0' => b'1',
        b'A' => b'B',
        b'a' => b'b',
        _ => b'0',
    };
    String::from_utf8(bytes).unwrap()
}

fn assert_refused(c: &Case, result: Result<sos_auth::VerifiedRequest, Error>) {
    assert!(
        matches!(result, Err(Error::SignatureMismatch)),
        "{}: a changed signature must be refused, got {:?}",
        c.name,
        result.map(|v| v.access_key)
    );
}

#[test]
fn every_file_parses_and_every_left_out_case_says_why() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/others");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            !name.ends_with(".json") || FILES.iter().any(|(f, _)| *f == name),
            "vectors/others/{name} is not read: list it in FILES"
        );
    }
    let all = all_cases();
    assert!(all.len() >= 150, "only {} vectors", all.len());
    let mut names = std::collections::HashSet::new();
    for c in &all {
        assert!(
            names.insert(c.name.clone()),
            "{}: two cases of that name",
            c.name
        );
        assert!(
            c.skip.as_ref().is_none_or(|r| r.len() > 20),
            "{}: a left-out case says why",
            c.name
        );
        assert!(
            [
                "v4-header",
                "v4-query",
                "v4-canonical",
                "v4-chunks",
                "v4-string",
                "v2-header",
                "v2-query"
            ]
            .contains(&c.kind.as_str()),
            "{}: kind {}",
            c.name,
            c.kind
        );
    }
    let skipped = all.iter().filter(|c| c.skip.is_some()).count();
    assert!(
        skipped * 10 <= all.len(),
        "{skipped} of {} cases left out",
        all.len()
    );
}

/// Signs a header-signed case with our signer and compares every piece the vector gives.
fn check_v4_signing(c: &Case, req: &Request<()>, payload: PayloadHash) {
    let signer = v4_signer(c);
    let at = time(c);
    let e = &c.expected;
    let canonical = signer.canonical_request_at(req, payload, at).unwrap();
    if let Some(expected) = &e.canonical_request {
        assert_eq!(&canonical, expected, "{}: canonical request", c.name);
    }
    if let Some(line) = &e.canonical_header {
        assert!(
            canonical.lines().any(|l| l == line),
            "{}: `{line}` not in\n{canonical}",
            c.name
        );
    }
    if let Some(expected) = &e.string_to_sign {
        assert_eq!(
            &signer.string_to_sign_at(req, payload, at).unwrap(),
            expected,
            "{}: string to sign",
            c.name
        );
    }
    let mut signed = req.clone();
    signer.sign_at(&mut signed, payload, at).unwrap();
    let ours = signed.headers()["authorization"].to_str().unwrap();
    if let Some(expected) = &e.authorization {
        assert_eq!(
            ours,
            normalized_authorization(expected),
            "{}: authorization",
            c.name
        );
    }
    if let Some(expected) = &e.signature {
        assert_eq!(
            authorization_field(ours, "Signature"),
            expected,
            "{}: signature",
            c.name
        );
    }
    if let Some(expected) = &e.canonical_request {
        assert_eq!(
            authorization_field(ours, "Signature"),
            signature_of_canonical(c, expected),
            "{}: signature of the canonical request",
            c.name
        );
    }
}

/// The `Authorization` header the other signer sent (`None` for a vector that gives neither
/// a signature nor a whole canonical request).
fn their_v4_authorization(c: &Case) -> Option<String> {
    let e = &c.expected;
    if let Some(auth) = &e.authorization {
        return Some(auth.clone());
    }
    let (signed_headers, signature) = match (&e.canonical_request, &e.signature) {
        (Some(canonical), sig) => {
            let lines: Vec<&str> = canonical.lines().collect();
            let computed = signature_of_canonical(c, canonical);
            if let Some(sig) = sig {
                assert_eq!(sig, &computed, "{}: the vector's signature", c.name);
            }
            (lines[lines.len() - 2].to_owned(), computed)
        }
        (None, Some(sig)) => {
            // The headers the vector signed: those it lists (x-amz-date etc. among them).
            let mut names: Vec<String> = c
                .headers
                .iter()
                .map(|(k, _)| k.to_ascii_lowercase())
                .chain(["host".to_owned()])
                .collect();
            names.sort();
            names.dedup();
            (names.join(";"), sig.clone())
        }
        (None, None) => return None,
    };
    let date = AmzDate::parse(c.time.as_deref().unwrap()).unwrap();
    Some(format!(
        "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/aws4_request, SignedHeaders={signed_headers}, Signature={signature}",
        c.access_key,
        date.date(),
        c.region.as_deref().unwrap(),
        service(c)
    ))
}

/// Whether a vector without a signature still checks something of our signer's.
fn checks_a_canonical_line(c: &Case) -> bool {
    c.not_sign.is_none() && c.expected.canonical_header.is_some()
}

fn payload_of(c: &Case, req: &Request<()>) -> PayloadHash {
    req.headers()
        .get("x-amz-content-sha256")
        .and_then(|v| PayloadHash::parse(v.to_str().unwrap()))
        .unwrap_or_else(|| panic!("{}: no x-amz-content-sha256", c.name))
}

fn verifier(c: &Case) -> Verifier {
    let v = Verifier::from_credentials([credentials(c)]).with_service(service(c));
    match &c.host_base {
        Some(base) => v.with_host_base(base.clone()),
        None => v,
    }
}

#[test]
fn v4_header_vectors() {
    // A chain of chunks alone (no URL): see `chunk_chains_from_a_given_signature`.
    let list: Vec<Case> = cases(&["v4-header", "v4-chunks"])
        .into_iter()
        .filter(|c| !c.url.is_empty())
        .collect();
    each(&list, |c| {
        let req = request(c, &c.url);
        let payload = payload_of(c, &req);
        if c.not_sign.is_none() {
            check_v4_signing(c, &req, payload);
        }
        // Our verifier accepts what the other signer sent...
        let Some(auth) = their_v4_authorization(c) else {
            assert!(
                checks_a_canonical_line(c),
                "{}: the vector checks nothing of ours",
                c.name
            );
            return;
        };
        let mut theirs = req.clone();
        theirs
            .headers_mut()
            .insert("authorization", auth.parse().unwrap());
        let verified = verifier(c)
            .verify_at(&theirs, time(c))
            .unwrap_or_else(|e| panic!("{}: {e}\n{auth}", c.name));
        assert_eq!(verified.payload, Some(payload), "{}", c.name);
        // ... and the chain of chunk signatures that starts from it.
        if let Some(chunks) = &c.chunks {
            let mut chain = verified
                .chunk_verifier()
                .unwrap_or_else(|| panic!("{}: no chunk verifier", c.name));
            let mut wrong = chain.clone();
            for chunk in chunks {
                chain
                    .verify_chunk(&chunk.bytes(), &chunk.signature)
                    .unwrap_or_else(|e| panic!("{}: chunk {}: {e}", c.name, chunk.signature));
            }
            if let Some(t) = &c.trailer {
                chain
                    .verify_trailer(&t.name, &t.value, &t.signature)
                    .unwrap_or_else(|e| panic!("{}: trailer: {e}", c.name));
            }
            let first = &chunks[0];
            assert!(
                wrong
                    .verify_chunk(&first.bytes(), &flipped(&first.signature))
                    .is_err(),
                "{}",
                c.name
            );
        }
        // ... and refuses it with its signature changed.
        let sig = authorization_field(&auth, "Signature").to_owned();
        let mut tampered = theirs.clone();
        tampered.headers_mut().insert(
            "authorization",
            auth.replace(&sig, &flipped(&sig)).parse().unwrap(),
        );
        assert_refused(c, verifier(c).verify_at(&tampered, time(c)));
    });
    assert!(list.len() >= 20, "only {} header vectors", list.len());
}

/// Where the vector's request is one our streaming signer would make (it signs
/// `content-length`, `content-encoding` and `x-amz-decoded-content-length`), that signer
/// gives the same seed and chunk signatures.
#[test]
fn streaming_vectors_sign_alike() {
    let list: Vec<Case> = cases(&["v4-chunks"])
        .into_iter()
        .filter(|c| {
            let has = |n: &str| c.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
            !c.url.is_empty() && has("content-length") && has("x-amz-decoded-content-length")
        })
        .collect();
    each(&list, |c| {
        let decoded: u64 = c
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-decoded-content-length"))
            .unwrap()
            .1
            .parse()
            .unwrap();
        let chunks = c.chunks.as_ref().unwrap();
        let mut req = request(c, &c.url);
        // `content-encoding` stays as the vector sends it (the signer adds none).
        for name in [
            "content-length",
            "x-amz-decoded-content-length",
            "x-amz-content-sha256",
            "x-amz-date",
        ] {
            req.headers_mut().remove(name);
        }
        let mut signer = v4_signer(c)
            .sign_streaming_at(&mut req, decoded, chunks[0].bytes().len(), time(c))
            .unwrap();
        let auth = req.headers()["authorization"].to_str().unwrap();
        let expected = their_v4_authorization(c).unwrap();
        assert_eq!(
            authorization_field(auth, "Signature"),
            authorization_field(&expected, "Signature"),
            "{}: seed signature",
            c.name
        );
        for chunk in chunks {
            assert_eq!(
                signer.sign_chunk(&chunk.bytes()),
                chunk.signature,
                "{}",
                c.name
            );
        }
    });
    assert!(
        list.len() >= 2,
        "only {} streaming vectors signed",
        list.len()
    );
}

/// The query parameters of a URL, decoded, with their order left out.
fn params(url: &str) -> BTreeMap<String, Vec<String>> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            let bytes = s.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' && i + 3 <= bytes.len() {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        };
        out.entry(decode(k)).or_default().push(decode(v));
    }
    for values in out.values_mut() {
        values.sort();
    }
    out
}

fn base(url: &str) -> &str {
    url.split_once('?').map_or(url, |(b, _)| b)
}

#[test]
fn v4_query_vectors() {
    let list = cases(&["v4-query"]);
    each(&list, |c| {
        let signer = v4_signer(c);
        let headers = header_map(c);
        let uri: Uri = c.url.parse().unwrap();
        let method = Method::from_bytes(c.method.as_bytes()).unwrap();
        let expires = Duration::from_secs(c.expires_in.unwrap());
        let ours = signer
            .presign_at(&method, &uri, &headers, expires, time(c))
            .unwrap();
        let from_text = signer
            .presign_url_at(&method, c.url.clone(), &headers, expires, time(c))
            .unwrap();
        assert_eq!(from_text, ours, "{}: signed from text", c.name);
        let our_params = params(&ours);
        let our_sig = our_params["X-Amz-Signature"][0].clone();
        let e = &c.expected;
        if let Some(sig) = &e.signature {
            assert_eq!(&our_sig, sig, "{}: signature\n{ours}", c.name);
        }
        if let Some(signed_headers) = &e.signed_headers {
            assert_eq!(
                &our_params["X-Amz-SignedHeaders"][0], signed_headers,
                "{}",
                c.name
            );
        }
        if let Some(part) = &e.url_contains {
            assert!(ours.contains(part.as_str()), "{}: {ours}", c.name);
        }
        if let Some(theirs) = &e.signed_url {
            assert_eq!(base(&ours), base(theirs), "{}: URL", c.name);
            assert_eq!(our_params, params(theirs), "{}: URL parameters", c.name);
        }
        // Our verifier accepts the URL the other signer made, and refuses it changed.
        let their_url = match (&e.signed_url, &e.signature) {
            (Some(url), _) => url.clone(),
            (None, Some(sig)) => ours.replace(&our_sig, sig),
            (None, None) => return, // the vector gives a piece of the URL only
        };
        let their_sig = params(&their_url)["X-Amz-Signature"][0].clone();
        let mut req = request(c, &their_url);
        verifier(c)
            .verify_at(&req, time(c))
            .unwrap_or_else(|e| panic!("{}: {e}\n{their_url}", c.name));
        *req.uri_mut() = their_url
            .replace(&their_sig, &flipped(&their_sig))
            .parse()
            .unwrap();
        assert_refused(c, verifier(c).verify_at(&req, time(c)));
    });
    assert!(list.len() >= 40, "only {} query vectors", list.len());
}

#[test]
fn v4_canonical_pieces() {
    let list = cases(&["v4-canonical"]);
    each(&list, |c| {
        let req = request(c, &c.url);
        let canonical = v4_signer(c)
            .canonical_request_at(&req, PayloadHash::EMPTY, time(c))
            .unwrap();
        let lines: Vec<&str> = canonical.lines().collect();
        if let Some(uri) = &c.expected.canonical_uri {
            assert_eq!(lines[1], uri, "{}: canonical URI", c.name);
        }
        if let Some(query) = &c.expected.canonical_query {
            assert_eq!(lines[2], query, "{}: canonical query", c.name);
        }
    });
    assert!(list.len() >= 20, "only {} canonical pieces", list.len());
}

/// Strings signed with the day's key (browser POST policies).
#[test]
fn v4_string_signatures() {
    let list = cases(&["v4-string"]);
    each(&list, |c| {
        let message = c.message.as_deref().unwrap();
        assert_eq!(
            v4_signer(c).sign_string_at(message.as_bytes(), time(c)),
            c.expected.signature.as_deref().unwrap(),
            "{}",
            c.name
        );
    });
    assert!(!list.is_empty());
}

/// A V2 request's date: `x-amz-date` if sent, else `Date`.
fn v2_time(c: &Case) -> SystemTime {
    let find = |name: &str| {
        c.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.replace("+0000", "GMT"))
    };
    let text = find("x-amz-date")
        .or_else(|| find("date"))
        .unwrap_or_else(|| panic!("{}: no date", c.name));
    httpdate::parse_http_date(&text).unwrap()
}

fn v2_expected_signature(c: &Case) -> String {
    let signer = SigV2Signer::new(credentials(c));
    let from_sts = c
        .expected
        .string_to_sign
        .as_ref()
        .map(|s| signer.sign_string(s));
    match (&c.expected.signature, from_sts) {
        (Some(sig), Some(computed)) => {
            assert_eq!(sig, &computed, "{}: the vector's own signature", c.name);
            computed
        }
        (Some(sig), None) => sig.clone(),
        (None, Some(computed)) => computed,
        (None, None) => {
            let url = c.expected.signed_url.as_ref().unwrap();
            params(url)["Signature"][0].clone()
        }
    }
}

#[test]
fn v2_header_vectors() {
    let list = cases(&["v2-header"]);
    each(&list, |c| {
        let sig = v2_expected_signature(c);
        let mut req = request(c, &c.url);
        req.headers_mut().insert(
            "authorization",
            format!("AWS {}:{sig}", c.access_key).parse().unwrap(),
        );
        verifier(c).verify_at(&req, v2_time(c)).unwrap_or_else(|e| {
            panic!(
                "{}: {e}\ntheir string to sign: {:?}",
                c.name, c.expected.string_to_sign
            )
        });
        req.headers_mut().insert(
            "authorization",
            format!("AWS {}:{}", c.access_key, flipped(&sig))
                .parse()
                .unwrap(),
        );
        assert_refused(c, verifier(c).verify_at(&req, v2_time(c)));
    });
    assert!(list.len() >= 30, "only {} V2 header vectors", list.len());
}

#[test]
fn v2_query_vectors() {
    let list = cases(&["v2-query"]);
    each(&list, |c| {
        let mut signer = SigV2Signer::new(credentials(c));
        if let Some(base) = &c.host_base {
            signer = signer.with_host_base(base.clone());
        }
        let method = Method::from_bytes(c.method.as_bytes()).unwrap();
        let expires = UNIX_EPOCH + Duration::from_secs(c.expires.unwrap());
        let ours = signer
            .presign_at(&method, &c.url.parse().unwrap(), &header_map(c), expires)
            .unwrap();
        let from_text = signer
            .presign_url_at(&method, &c.url, &header_map(c), expires)
            .unwrap();
        assert_eq!(from_text, ours, "{}: signed from text", c.name);
        let sig = v2_expected_signature(c);
        assert_eq!(params(&ours)["Signature"][0], sig, "{}: {ours}", c.name);
        if let Some(theirs) = &c.expected.signed_url {
            assert_eq!(base(&ours), base(theirs), "{}: URL", c.name);
            assert_eq!(params(&ours), params(theirs), "{}: URL parameters", c.name);
        }
        let their_url = c.expected.signed_url.clone().unwrap_or(ours);
        let before = UNIX_EPOCH + Duration::from_secs(c.expires.unwrap() - 1);
        let mut req = request(c, &their_url);
        verifier(c)
            .verify_at(&req, before)
            .unwrap_or_else(|e| panic!("{}: {e}\n{their_url}", c.name));
        let encoded: String = sig
            .bytes()
            .map(|b| match b {
                b'+' => "%2B".to_owned(),
                b'/' => "%2F".to_owned(),
                b'=' => "%3D".to_owned(),
                b => char::from(b).to_string(),
            })
            .collect();
        let changed: String = flipped(&sig)
            .bytes()
            .map(|b| match b {
                b'+' => "%2B".to_owned(),
                b'/' => "%2F".to_owned(),
                b'=' => "%3D".to_owned(),
                b => char::from(b).to_string(),
            })
            .collect();
        assert!(their_url.contains(&encoded), "{}: {their_url}", c.name);
        *req.uri_mut() = their_url.replace(&encoded, &changed).parse().unwrap();
        assert_refused(c, verifier(c).verify_at(&req, before));
    });
    assert!(list.len() >= 6, "only {} V2 query vectors", list.len());
}

/// The chains of chunk signatures that start from a given signature: checked with
/// [`SigningKey::sign`] over the chunk's string to sign as the S3 API reference writes it, and
/// with our chunk signer in the crate's own tests (`v4::streaming`).
#[test]
fn chunk_chains_from_a_given_signature() {
    let list: Vec<Case> = cases(&["v4-chunks"])
        .into_iter()
        .filter(|c| c.previous_signature.is_some())
        .collect();
    each(&list, |c| {
        let previous = c.previous_signature.as_ref().unwrap();
        let date = AmzDate::parse(c.time.as_deref().unwrap()).unwrap();
        let region = c.region.as_deref().unwrap();
        let key = match &c.signing_key {
            Some(hex) => {
                let mut bytes = [0u8; 32];
                for (i, b) in bytes.iter_mut().enumerate() {
                    *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
                }
                SigningKey::from_bytes(bytes)
            }
            None => SigningKey::derive(
                &sos_auth::Secret::from(c.secret_key.clone()),
                date.date(),
                region,
                service(c),
            ),
        };
        let scope = format!("{}/{region}/{}/aws4_request", date.date(), service(c));
        let hex = |data: &[u8]| -> String {
            use sha2::Digest;
            sha2::Sha256::digest(data)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        let mut prev = previous.clone();
        for chunk in c.chunks.as_deref().unwrap_or_default() {
            let sts = format!(
                "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{scope}\n{prev}\n{}\n{}",
                date.as_str(),
                hex(b""),
                hex(&chunk.bytes())
            );
            assert_eq!(key.sign(sts.as_bytes()), chunk.signature, "{}", c.name);
            prev = chunk.signature.clone();
        }
        if let Some(t) = &c.trailer {
            let sts = format!(
                "AWS4-HMAC-SHA256-TRAILER\n{}\n{scope}\n{prev}\n{}",
                date.as_str(),
                hex(format!("{}:{}\n", t.name, t.value).as_bytes())
            );
            assert_eq!(key.sign(sts.as_bytes()), t.signature, "{}", c.name);
        }
    });
    assert!(list.len() >= 3, "only {} chains", list.len());
}
