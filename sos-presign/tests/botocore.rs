//! Our pre-signed URLs equal botocore's for the same inputs (`vectors/gen_botocore.py` wrote
//! `vectors/botocore.json`): same scheme, host and path, and the same query parameters with
//! the same values, signature included. (botocore orders the parameters its own way.)

use std::time::Duration;

use serde::Deserialize;
use sos_auth::{AmzDate, Credentials};
use sos_presign::{Addressing, Endpoint, Presigner};

#[derive(Deserialize)]
struct File {
    access_key: String,
    secret_key: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    endpoint: String,
    region: String,
    addressing: String,
    method: String,
    bucket: String,
    key: String,
    expires_in: u64,
    overrides: Vec<(String, String)>,
    time: String,
    url: String,
}

/// (scheme://authority/path, sorted query pairs)
fn split(url: &str) -> (String, Vec<(String, String)>) {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    pairs.sort();
    (base.to_owned(), pairs)
}

#[test]
fn urls_equal_botocore() {
    let file: File = serde_json::from_str(include_str!("vectors/botocore.json")).unwrap();
    assert!(file.cases.len() >= 100, "{} cases", file.cases.len());
    let creds = Credentials::new(file.access_key.clone(), file.secret_key.clone());
    for c in &file.cases {
        let addressing = if c.addressing == "virtual" {
            Addressing::VirtualHost
        } else {
            Addressing::Path
        };
        let endpoint = Endpoint::parse(&c.endpoint)
            .unwrap()
            .with_region(c.region.clone())
            .with_addressing(addressing);
        let presigner = Presigner::new(creds.clone(), endpoint);
        let method = http::Method::from_bytes(c.method.as_bytes()).unwrap();
        let mut req = presigner
            .request(method, &c.bucket, &c.key)
            .expires_in(Duration::from_secs(c.expires_in));
        for (name, value) in &c.overrides {
            req = match name.as_str() {
                "response-content-type" => req.response_content_type(value),
                "response-content-disposition" => req.response_content_disposition(value),
                "response-cache-control" => req.response_cache_control(value),
                "response-content-language" => req.response_content_language(value),
                "response-expires" => req.response_expires(value),
                "response-content-encoding" => req.response_content_encoding(value),
                other => panic!("{}: unknown override {other}", c.name),
            };
        }
        let time = AmzDate::parse(&c.time).unwrap().system_time();
        let ours = req.sign_at(time).unwrap();
        assert_eq!(
            split(&ours.url),
            split(&c.url),
            "{}\nours     {}\nbotocore {}",
            c.name,
            ours.url,
            c.url
        );
    }
}
