//! The SigV2 string to sign.

use http::{HeaderMap, Method};

use crate::encoding::{Component, percent_decode};
use crate::uri_parts::UriParts;
use crate::v4::is_signable;
use crate::{Error, Result};

/// The query parameters that belong to the canonical resource: the S3 sub-resources of the
/// AWS developer guide ("Constructing the CanonicalizedResource Element"), plus `delete`,
/// `cors`, `restore` and `tagging` which came later, the `response-*` overrides, and
/// `policyStatus` and `publicAccessBlock`, which the RADOS Gateway (and MinIO) sign.
///
/// Newer sub-resources are left out as the gateway leaves them out (it refuses a signature
/// over `?accelerate`, `?analytics`, `?encryption`, `?intelligent-tiering`, `?inventory`,
/// `?legal-hold`, `?metrics`, `?object-lock`, `?ownershipControls`, `?replication`,
/// `?retention` or `?select`), although botocore signs some of them: V2 lives on in
/// S3-compatible stores, which follow the gateway's list, not in AWS's newer APIs.
const SUB_RESOURCES: &[&str] = &[
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// The bucket of a virtual-host request: `host` is `BUCKET.host_base` (case-insensitive).
/// Ports are compared only when both name one: a default port is left out of one side or
/// the other (URIs drop it, a configured `host_base` may keep it: `sos.exo.io:443`).
pub(crate) fn bucket_from_host<'h>(host: &'h str, host_base: &str) -> Option<&'h str> {
    let (host, host_port) = split_port(host);
    let (base, base_port) = split_port(host_base);
    if let (Some(a), Some(b)) = (host_port, base_port)
        && a != b
    {
        return None;
    }
    let cut = host.len().checked_sub(base.len() + 1)?;
    let (bucket, rest) = host.split_at(cut);
    (rest.as_bytes()[0] == b'.' && rest[1..].eq_ignore_ascii_case(base) && !bucket.is_empty())
        .then_some(bucket)
}

/// `name:port` as its name and port (`[::1]` has no port, `[::1]:9000` has).
fn split_port(host: &str) -> (&str, Option<&str>) {
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            (name, Some(port))
        }
        _ => (host, None),
    }
}

/// A built string to sign.
pub(crate) struct StringToSign {
    text: String,
}

impl StringToSign {
    /// Builds it. `overrides` are `x-amz-*` headers the signer adds (they replace the map's
    /// of the same name; empty values are left out). `date_line` replaces the `Date` line
    /// when not empty (the `Expires` of the query form).
    pub(crate) fn for_headers(
        method: &Method,
        uri: UriParts<'_>,
        headers: &HeaderMap,
        overrides: &[(&str, &[u8])],
        date_line: &str,
        host_base: Option<&str>,
    ) -> Result<Self> {
        let mut text = String::with_capacity(256);
        text.push_str(method.as_str());
        text.push('\n');
        let header = |name: &str| {
            headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()))
        };
        text.push_str(header("content-md5").as_deref().unwrap_or("").trim());
        text.push('\n');
        text.push_str(header("content-type").as_deref().unwrap_or("").trim());
        text.push('\n');
        let has_amz_date = overrides
            .iter()
            .any(|(n, v)| *n == "x-amz-date" && !v.is_empty())
            || headers.contains_key("x-amz-date");
        if !date_line.is_empty() {
            text.push_str(date_line);
        } else if !has_amz_date {
            text.push_str(header("date").as_deref().unwrap_or("").trim());
        }
        text.push('\n');

        let mut amz: Vec<(&str, String)> = Vec::new();
        for name in headers.keys() {
            let n = name.as_str();
            if !n.starts_with("x-amz-") || !is_signable(n) || overrides.iter().any(|(o, _)| *o == n)
            {
                continue;
            }
            let values: Vec<String> = headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
                .collect();
            amz.push((n, values.join(",")));
        }
        for (n, v) in overrides {
            if !v.is_empty() {
                amz.push((n, String::from_utf8_lossy(v).trim().to_owned()));
            }
        }
        amz.sort();
        for (n, v) in &amz {
            text.push_str(n);
            text.push(':');
            text.push_str(v);
            text.push('\n');
        }

        if let Some(base) = host_base {
            let host = headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .or_else(|| uri.host())
                .ok_or_else(|| {
                    Error::InvalidRequest(
                        "the URI has no host and there is no Host header".to_owned(),
                    )
                })?;
            if let Some(bucket) = bucket_from_host(host, base) {
                text.push('/');
                text.push_str(bucket);
            }
        }
        text.push_str(uri.path_or_root());

        let mut subs: Vec<(&str, Option<Vec<u8>>)> = uri
            .query()
            .split('&')
            .filter_map(|pair| {
                let (k, v) = match pair.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (pair, None),
                };
                // A sub-resource sent with an empty value (`?acl=`) is signed bare (`?acl`), as
                // the RADOS Gateway, s3s, goamz and the AWS SDK for PHP sign it (botocore keeps
                // the `=`, which the gateway refuses).
                SUB_RESOURCES.contains(&k).then(|| {
                    (
                        k,
                        v.map(|v| percent_decode(v, Component::Query))
                            .filter(|v| !v.is_empty()),
                    )
                })
            })
            .collect();
        subs.sort();
        for (i, (k, v)) in subs.iter().enumerate() {
            text.push(if i == 0 { '?' } else { '&' });
            text.push_str(k);
            if let Some(v) = v {
                text.push('=');
                text.push_str(&String::from_utf8_lossy(v));
            }
        }
        Ok(Self { text })
    }

    pub(crate) fn text(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_from_virtual_host() {
        assert_eq!(bucket_from_host("b.sos.exo.io", "sos.exo.io"), Some("b"));
        assert_eq!(
            bucket_from_host("my.dotted.b.SOS.exo.io", "sos.exo.io"),
            Some("my.dotted.b")
        );
        assert_eq!(
            bucket_from_host("b.s3.localhost:7480", "s3.localhost"),
            Some("b")
        );
        assert_eq!(
            bucket_from_host("b.s3.localhost:7480", "s3.localhost:7480"),
            Some("b")
        );
        // A default port on one side only (URIs leave it out): the names decide.
        assert_eq!(
            bucket_from_host("b.sos-ch-gva-2.exo.io", "sos-ch-gva-2.exo.io:443"),
            Some("b")
        );
        assert_eq!(
            bucket_from_host("b.s3.localhost:7480", "s3.localhost:7481"),
            None
        );
        assert_eq!(bucket_from_host("[::1]:9000", "[::1]"), None);
        assert_eq!(bucket_from_host("sos.exo.io", "sos.exo.io"), None);
        assert_eq!(bucket_from_host("xsos.exo.io", "sos.exo.io"), None);
        assert_eq!(bucket_from_host("io", "sos.exo.io"), None);
    }
}
