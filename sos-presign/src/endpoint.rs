//! Where requests go: an SOS zone or any S3-compatible endpoint, path-style or virtual-host.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// An Exoscale SOS zone. Its endpoint is `https://sos-{zone}.exo.io`, its region the zone name.
///
/// ```
/// use sos_presign::Zone;
/// let zone: Zone = "ch-dk-2".parse()?;
/// assert_eq!(zone.endpoint_host(), "sos-ch-dk-2.exo.io");
/// assert_eq!(zone.region(), "ch-dk-2");
/// # Ok::<(), sos_presign::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Zone {
    /// Geneva, Switzerland.
    ChGva2,
    /// Zurich, Switzerland.
    ChDk2,
    /// Frankfurt, Germany.
    DeFra1,
    /// Munich, Germany.
    DeMuc1,
    /// Vienna, Austria.
    AtVie1,
    /// Vienna, Austria (second zone).
    AtVie2,
    /// Sofia, Bulgaria.
    BgSof1,
}

impl Zone {
    /// Every zone.
    pub const ALL: [Zone; 7] = [
        Zone::ChGva2,
        Zone::ChDk2,
        Zone::DeFra1,
        Zone::DeMuc1,
        Zone::AtVie1,
        Zone::AtVie2,
        Zone::BgSof1,
    ];

    /// The zone name, which is also the region: `ch-gva-2`.
    pub fn region(self) -> &'static str {
        match self {
            Zone::ChGva2 => "ch-gva-2",
            Zone::ChDk2 => "ch-dk-2",
            Zone::DeFra1 => "de-fra-1",
            Zone::DeMuc1 => "de-muc-1",
            Zone::AtVie1 => "at-vie-1",
            Zone::AtVie2 => "at-vie-2",
            Zone::BgSof1 => "bg-sof-1",
        }
    }

    /// `sos-{zone}.exo.io`
    pub fn endpoint_host(self) -> String {
        format!("sos-{}.exo.io", self.region())
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.region())
    }
}

impl FromStr for Zone {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Zone::ALL
            .into_iter()
            .find(|z| z.region().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::InvalidEndpoint {
                endpoint: s.to_owned(),
                reason: "not an SOS zone (ch-gva-2, ch-dk-2, de-fra-1, de-muc-1, at-vie-1, at-vie-2, bg-sof-1)",
            })
    }
}

/// How the bucket appears in a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Addressing {
    /// `https://host/bucket/key`: works with every bucket name and every server.
    #[default]
    Path,
    /// `https://bucket.host/key`.
    VirtualHost,
}

/// An S3 endpoint: scheme, host (with port), region and addressing style.
///
/// ```
/// use sos_presign::{Addressing, Endpoint, Zone};
/// let sos = Endpoint::zone(Zone::DeFra1).with_addressing(Addressing::VirtualHost);
/// assert_eq!(sos.object_url("photos", "2026/me.jpg")?, "https://photos.sos-de-fra-1.exo.io/2026/me.jpg");
///
/// let local = Endpoint::parse("http://127.0.0.1:7480")?.with_region("default");
/// assert_eq!(local.object_url("bkt", "a key")?, "http://127.0.0.1:7480/bkt/a%20key");
/// # Ok::<(), sos_presign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    https: bool,
    host: String,
    region: String,
    addressing: Addressing,
}

impl Endpoint {
    /// The endpoint of an SOS zone (https, region = zone, path-style).
    pub fn zone(zone: Zone) -> Self {
        Self {
            https: true,
            host: zone.endpoint_host(),
            region: zone.region().to_owned(),
            addressing: Addressing::Path,
        }
    }

    /// A custom endpoint from a URL (`http://127.0.0.1:7480`, `https://s3.example.com`);
    /// region `us-east-1` until [`with_region`](Self::with_region). An SOS zone URL gets its
    /// zone as region.
    ///
    /// # Errors
    /// [`Error::InvalidEndpoint`] for a URL that is not `http(s)://host[:port][/]`.
    pub fn parse(url: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidEndpoint {
            endpoint: url.to_owned(),
            reason,
        };
        let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(invalid("must start with http:// or https://"));
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
            return Err(invalid(
                "must be scheme://host[:port] with no path, query or user",
            ));
        }
        let authority = host
            .parse::<http::uri::Authority>()
            .map_err(|_| invalid("host is not a valid authority"))?;
        // RFC 9110: an http(s) URI with an empty host is invalid (`http://:9000`); between
        // brackets is an IPv6 address (`http://[]` is none).
        let name = authority.host();
        let bracketed = name.strip_prefix('[').and_then(|n| n.strip_suffix(']'));
        if name.is_empty() || bracketed.is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_err())
        {
            return Err(invalid("has no host name"));
        }
        // The scheme's default port is what clients leave out (and sign without).
        let host = host
            .strip_suffix(if https { ":443" } else { ":80" })
            .unwrap_or(host);
        let region = Zone::ALL
            .into_iter()
            .find(|z| host.eq_ignore_ascii_case(&z.endpoint_host()))
            .map_or("us-east-1", Zone::region);
        Ok(Self {
            https,
            host: host.to_ascii_lowercase(),
            region: region.to_owned(),
            addressing: Addressing::Path,
        })
    }

    /// Sets the region (the V4 credential scope).
    #[must_use]
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// Sets the addressing style.
    #[must_use]
    pub fn with_addressing(mut self, addressing: Addressing) -> Self {
        self.addressing = addressing;
        self
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// `host[:port]`
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    /// The addressing style.
    pub fn addressing(&self) -> Addressing {
        self.addressing
    }

    /// The URL of an object (`key` encoded once, see [`encode_key`](crate::encode_key)); an
    /// empty key gives the bucket's URL.
    ///
    /// The bucket is held to S3's older naming rules (1 to 255 letters of either case,
    /// digits, `.`, `-` and `_`), under which stores still hold buckets; a new bucket's name
    /// is checked with [`check_bucket_name`](crate::check_bucket_name).
    ///
    /// # Errors
    /// [`Error::InvalidBucket`] for a name outside those rules.
    ///
    /// Virtual-host addressing falls back to path-style where a host name cannot work: an
    /// endpoint that is an IP address (`bucket.127.0.0.1` does not resolve), a bucket name
    /// that cannot be a host label (capitals, `_`, `.-`, ..., as botocore does), and, over
    /// https, a bucket name with dots (the endpoint's wildcard certificate covers one label
    /// only).
    pub fn object_url(&self, bucket: &str, key: &str) -> Result<String> {
        self.object_url_with_room(bucket, key, 0)
    }

    /// [`object_url`](Self::object_url) in a buffer with `room` more bytes reserved, for
    /// what the caller appends (a query, a signature) without growing it.
    pub(crate) fn object_url_with_room(
        &self,
        bucket: &str,
        key: &str,
        room: usize,
    ) -> Result<String> {
        // One pass over the name in the common cases: a valid host label is a valid name.
        let host_label =
            self.addressing == Addressing::VirtualHost && crate::key::is_host_label(bucket);
        if !host_label {
            crate::key::check_existing_bucket(bucket)?;
        }
        let addressing = self.addressing_with(bucket, host_label);
        // One buffer, sized for a key that needs a few escapes.
        let mut url = String::with_capacity(
            self.host.len() + bucket.len() + key.len() + key.len() / 2 + 16 + room,
        );
        url.push_str(self.scheme());
        url.push_str("://");
        match addressing {
            Addressing::Path => {
                url.push_str(&self.host);
                url.push('/');
                url.push_str(bucket);
                if !key.is_empty() {
                    url.push('/');
                }
            }
            Addressing::VirtualHost => {
                url.push_str(bucket);
                url.push('.');
                url.push_str(&self.host);
                url.push('/');
            }
        }
        crate::key::encode_key_into(key, &mut url);
        Ok(url)
    }
}

impl Endpoint {
    /// The addressing actually used for `bucket` (see [`object_url`](Self::object_url)).
    pub fn addressing_for(&self, bucket: &str) -> Addressing {
        self.addressing_with(
            bucket,
            self.addressing == Addressing::VirtualHost && crate::key::is_host_label(bucket),
        )
    }

    /// [`addressing_for`](Self::addressing_for), told whether `bucket` can be a host label.
    fn addressing_with(&self, bucket: &str, host_label: bool) -> Addressing {
        if self.addressing == Addressing::Path {
            return Addressing::Path;
        }
        let host = self.host.trim_start_matches('[');
        let host = host
            .rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()) && !host.ends_with(']'))
            .map_or(host, |(h, _)| h)
            .trim_end_matches(']');
        let is_ip = host.parse::<std::net::IpAddr>().is_ok();
        if self.addressing == Addressing::VirtualHost
            && (is_ip || (self.https && bucket.contains('.')) || !host_label)
        {
            Addressing::Path
        } else {
            self.addressing
        }
    }
}

impl FromStr for Endpoint {
    type Err = Error;
    /// A zone name (`ch-gva-2`) or a URL.
    fn from_str(s: &str) -> Result<Self> {
        match s.parse::<Zone>() {
            Ok(zone) => Ok(Endpoint::zone(zone)),
            Err(_) => Endpoint::parse(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What an endpoint URL is put together from, valid and not.
    fn url() -> impl Strategy<Value = String> {
        let scheme =
            prop::sample::select(&["https://", "http://", "HTTP://", "ftp://", "//", ""][..]);
        let host = prop_oneof![
            prop::sample::select(
                &[
                    "sos-ch-gva-2.exo.io",
                    "SOS-CH-GVA-2.EXO.IO",
                    "127.0.0.1",
                    "[::1]",
                    "[::1",
                    "::1",
                    "localhost",
                    "",
                    "a b",
                    "é.example",
                    "user@host",
                    "h%41st",
                    "-",
                    ".",
                ][..]
            )
            .prop_map(str::to_owned),
            "[a-z0-9.-]{1,20}",
            "\\PC{0,10}",
        ];
        let port = prop::sample::select(
            &[
                "",
                ":",
                ":80",
                ":443",
                ":9000",
                ":0",
                ":65535",
                ":65536",
                ":99999999999999999999",
                ":+80",
                ":-1",
                ":8o",
            ][..],
        );
        let tail = prop::sample::select(&["", "/", "//", "/b", "?q", "#f", " "][..]);
        (scheme, host, port, tail).prop_map(|(s, h, p, t)| format!("{s}{h}{p}{t}"))
    }

    proptest! {
        /// Any text is an endpoint or an error, never a panic; an endpoint is a host that
        /// reads back as itself, and makes object URLs that parse.
        #[test]
        fn any_url_is_an_endpoint_or_an_error(
            url in url(),
            bucket in prop::sample::select(&["b-1", "B_1", "a.b", "..", "", "a/b", "x"][..]),
            key in "\\PC{0,12}",
            virtual_host in any::<bool>(),
        ) {
            let Ok(endpoint) = Endpoint::parse(&url) else { return Ok(()) };
            let host = endpoint.host();
            prop_assert!(!host.is_empty() && !host.starts_with(':'), "{}", host);
            prop_assert!(!host.contains(['/', '?', '#', '@', ' ']), "{}", host);
            prop_assert_eq!(host.to_ascii_lowercase(), host);
            let again = Endpoint::parse(&format!("{}://{host}", endpoint.scheme()));
            prop_assert_eq!(again.as_ref().ok(), Some(&endpoint));
            let addressing = if virtual_host { Addressing::VirtualHost } else { Addressing::Path };
            let endpoint = endpoint.with_addressing(addressing);
            if let Ok(object) = endpoint.object_url(bucket, &key) {
                prop_assert!(object.parse::<http::Uri>().is_ok(), "{}", object);
            }
        }
    }

    #[test]
    fn an_endpoint_has_a_host() {
        // `http://:80` is an authority (an empty host and a port): no host once the default
        // port is taken off.
        for url in [
            "http://:80",
            "https://:443",
            "http://:9000",
            "http://[]",
            "https:///",
        ] {
            assert!(Endpoint::parse(url).is_err(), "{url}");
        }
        for url in ["http://[::1]:9000", "http://h:80", "https://[2001:db8::1]"] {
            assert!(Endpoint::parse(url).is_ok(), "{url}");
        }
        assert_eq!(Endpoint::parse("http://[::1]:80").unwrap().host(), "[::1]");
    }
}
