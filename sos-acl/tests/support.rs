//! Requests to the RADOS Gateway: signed by one of its two test users (sos-auth, SigV4) or
//! anonymous, sent byte for byte by `sos_testing::raw`.

use base64::Engine as _;
use http::{HeaderMap, Method, Request};
use md5::Digest as _;
use sos_acl::{AclHeaders, CorsConfiguration};
use sos_auth::{Credentials, PayloadHash, SigV4Signer};
use sos_testing::raw::{self, RawResponse};

/// Who sends a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Who {
    /// The main test user, canonical id `test`: owns the buckets.
    Owner,
    /// The second test user, canonical id `test2`.
    Other,
    /// No signature.
    Anonymous,
}

/// Canonical user ids the gateway script creates.
pub(crate) const OWNER_ID: &str = "test";
pub(crate) const OTHER_ID: &str = "test2";
pub(crate) const OTHER_EMAIL: &str = "test2@example.com";

pub(crate) struct Rgw {
    authority: String,
    owner: SigV4Signer,
    other: SigV4Signer,
}

impl Rgw {
    /// The gateway, or `None` (after a loud message) when it is not running and
    /// `SOS_TEST_ALLOW_MISSING_SERVERS=1`; panics with instructions otherwise.
    pub(crate) fn connect() -> Option<Self> {
        let server = sos_testing::rados_gateway()?;
        let (ak2, sk2) = server
            .second_user
            .clone()
            .expect("the gateway env has a second user (SOS_TEST_RGW_ACCESS_KEY2)");
        Some(Self {
            authority: server.authority().to_owned(),
            owner: SigV4Signer::new(
                Credentials::new(server.access_key.clone(), server.secret_key.clone()),
                server.region.clone(),
            ),
            other: SigV4Signer::new(Credentials::new(ak2, sk2), server.region.clone()),
        })
    }

    /// Garage, driven like the gateway. It has one user, so `Who::Other` signs as the owner.
    pub(crate) fn garage() -> Option<Self> {
        let server = sos_testing::garage()?;
        let owner = SigV4Signer::new(
            Credentials::new(server.access_key.clone(), server.secret_key.clone()),
            server.region.clone(),
        );
        Some(Self {
            authority: server.authority().to_owned(),
            other: owner.clone(),
            owner,
        })
    }

    /// Sends `method path_and_query` with `headers` and `body`.
    pub(crate) fn send(
        &self,
        who: Who,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Vec<u8>,
    ) -> RawResponse {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("http://{}{path_and_query}", self.authority))
            .body(body)
            .unwrap();
        req.headers_mut().extend(headers.clone());
        let payload = PayloadHash::of(req.body());
        match who {
            Who::Owner => self.owner.sign(&mut req, payload).unwrap(),
            Who::Other => self.other.sign(&mut req, payload).unwrap(),
            Who::Anonymous => {}
        }
        raw::send(&req).unwrap_or_else(|e| panic!("request to the gateway failed: {e}"))
    }

    /// `send` with no headers and no body.
    pub(crate) fn simple(&self, who: Who, method: Method, path_and_query: &str) -> RawResponse {
        self.send(who, method, path_and_query, &HeaderMap::new(), Vec::new())
    }

    /// Creates a bucket owned by [`Who::Owner`], with ACL headers if given.
    pub(crate) fn create_bucket(&self, name: &str, acl: Option<&AclHeaders>) {
        let headers = acl.map(|a| a.to_headers().unwrap()).unwrap_or_default();
        let r = self.send(
            Who::Owner,
            Method::PUT,
            &format!("/{name}"),
            &headers,
            Vec::new(),
        );
        assert_eq!(r.status, 200, "create bucket {name}: {}", r.text());
    }

    /// Writes an object as `who`, with ACL headers if given; returns the response.
    pub(crate) fn put_object(
        &self,
        who: Who,
        bucket: &str,
        key: &str,
        acl: Option<&AclHeaders>,
    ) -> RawResponse {
        let headers = acl.map(|a| a.to_headers().unwrap()).unwrap_or_default();
        self.send(
            who,
            Method::PUT,
            &format!("/{bucket}/{key}"),
            &headers,
            b"sos-acl".to_vec(),
        )
    }

    /// `PUT ?cors` with our XML and its `Content-MD5`.
    pub(crate) fn put_cors(&self, bucket: &str, config: &CorsConfiguration) -> RawResponse {
        let body = config.to_xml().into_bytes();
        let mut headers = HeaderMap::new();
        headers.insert("content-md5", content_md5(&body).parse().unwrap());
        headers.insert("content-type", "application/xml".parse().unwrap());
        self.send(
            Who::Owner,
            Method::PUT,
            &format!("/{bucket}?cors"),
            &headers,
            body,
        )
    }

    /// `PUT ?acl` with an XML body (`target` is `bucket` or `bucket/key`).
    pub(crate) fn put_acl_xml(&self, who: Who, target: &str, xml: &str) -> RawResponse {
        let body = xml.as_bytes().to_vec();
        let mut headers = HeaderMap::new();
        headers.insert("content-md5", content_md5(&body).parse().unwrap());
        self.send(who, Method::PUT, &format!("/{target}?acl"), &headers, body)
    }

    /// `GET ?acl` as the owner, parsed.
    pub(crate) fn get_acl(&self, who: Who, target: &str) -> sos_acl::AccessControlPolicy {
        let r = self.simple(who, Method::GET, &format!("/{target}?acl"));
        assert_eq!(r.status, 200, "GET {target}?acl: {}", r.text());
        sos_acl::AccessControlPolicy::from_xml(&r.body).unwrap_or_else(|e| {
            panic!(
                "GET {target}?acl answered something we cannot read: {e}\n{}",
                r.text()
            )
        })
    }
}

impl Rgw {
    /// Deletes `bucket` and every object in it (as the owner), so that test runs against the
    /// long-lived gateway leave nothing behind. Failures are reported, not fatal.
    pub(crate) fn remove_bucket(&self, bucket: &str) {
        // Explicit grants may have left the owner without READ or WRITE on its bucket (it
        // keeps WRITE_ACP): make it private again first.
        let mut private = HeaderMap::new();
        private.insert(
            sos_acl::X_AMZ_ACL,
            sos_acl::CannedAcl::Private.header_value(),
        );
        self.send(
            Who::Owner,
            Method::PUT,
            &format!("/{bucket}?acl"),
            &private,
            Vec::new(),
        );
        loop {
            let listing = self.simple(Who::Owner, Method::GET, &format!("/{bucket}"));
            let text = listing.text();
            let keys: Vec<&str> = text
                .split("<Key>")
                .skip(1)
                .filter_map(|s| s.split("</Key>").next())
                .collect();
            if keys.is_empty() {
                break;
            }
            for key in keys {
                let r = self.simple(Who::Owner, Method::DELETE, &format!("/{bucket}/{key}"));
                if r.status != 204 {
                    eprintln!("cleanup: DELETE /{bucket}/{key}: {} {}", r.status, r.text());
                    return;
                }
            }
        }
        let r = self.simple(Who::Owner, Method::DELETE, &format!("/{bucket}"));
        if r.status != 204 {
            eprintln!("cleanup: DELETE /{bucket}: {} {}", r.status, r.text());
        }
    }
}

/// Base64 of the MD5 of `body`.
pub(crate) fn content_md5(body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(body))
}
