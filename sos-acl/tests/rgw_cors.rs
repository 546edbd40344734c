//! CORS evaluation judged by a server that enforces CORS: the RADOS Gateway.
//!
//! A table of (configuration, request) pairs. For each, three things are asserted:
//! 1. our evaluation gives the answer the S3 documentation gives (written in the table:
//!    which rule matches, or the status of the refusal);
//! 2. the gateway's status is ours, or, where the table says the gateway differs, the
//!    status the documented difference predicts;
//! 3. the gateway's `Access-Control-*` and `Vary` headers are exactly ours transformed by the
//!    documented header differences ([`rgw_view`]).
//!
//! Every documented difference must show up at least once, so the list in the README stays
//! true.

use std::collections::{BTreeMap, BTreeSet};

use http::{HeaderMap, Method};
use sos_acl::{AclHeaders, CannedAcl, CorsConfiguration, CorsDecision, CorsRequest, CorsRule};

use crate::support::{Rgw, Who};

/// How the RADOS Gateway (16.2) answers differently from S3. Each is listed in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Diff {
    /// It only tries the first rule whose origin matches: if that rule refuses the method or
    /// a header, the preflight is refused even when a later rule would allow it.
    FirstOriginRuleOnly,
    /// In `ab*ba`, the prefix and the suffix may overlap: `aba` matches.
    WildcardPrefixSuffixOverlap,
    /// A preflight matched by an `*` origin gets the request's origin back, not `*`.
    PreflightEchoesOriginForWildcard,
    /// `Access-Control-Allow-Methods` is the method asked for, not the rule's methods.
    AllowMethodsIsRequestedMethod,
    /// `Access-Control-Allow-Headers` is the request's list as sent (case kept, items
    /// joined by `,`), not lowercased and joined by `, `.
    AllowHeadersAsSent,
    /// `Access-Control-Expose-Headers` items are joined by `,`, not `, `.
    ExposeHeadersJoinedWithComma,
    /// `Vary: Origin` only, and none when the answer is `*`; S3 sends
    /// `Vary: Origin, Access-Control-Request-Headers, Access-Control-Request-Method`.
    VaryOriginOnly,
    /// No `Access-Control-Allow-Credentials: true` when the origin is echoed.
    NoAllowCredentials,
}

const ALL_DIFFS: [Diff; 8] = [
    Diff::FirstOriginRuleOnly,
    Diff::WildcardPrefixSuffixOverlap,
    Diff::PreflightEchoesOriginForWildcard,
    Diff::AllowMethodsIsRequestedMethod,
    Diff::AllowHeadersAsSent,
    Diff::ExposeHeadersJoinedWithComma,
    Diff::VaryOriginOnly,
    Diff::NoAllowCredentials,
];

#[derive(Clone, Copy, Debug)]
enum Req {
    Preflight {
        origin: Option<&'static str>,
        method: Option<&'static str>,
        headers: Option<&'static str>,
    },
    /// An anonymous GET of a public-read object with an `Origin`.
    ActualGet { origin: &'static str },
}

const fn pf(origin: &'static str, method: &'static str) -> Req {
    Req::Preflight {
        origin: Some(origin),
        method: Some(method),
        headers: None,
    }
}

const fn pfh(origin: &'static str, method: &'static str, headers: &'static str) -> Req {
    Req::Preflight {
        origin: Some(origin),
        method: Some(method),
        headers: Some(headers),
    }
}

/// What the S3 documentation says: this rule (0-based) matches, or a refusal with this status.
#[derive(Clone, Copy, Debug)]
enum S3 {
    Allow(usize),
    Deny(u16),
}

/// How the gateway's status relates to ours.
#[derive(Clone, Copy, Debug)]
enum Gw {
    Same,
    /// It refuses (with this status) where S3 allows or refuses differently.
    Refuses(Diff, u16),
    /// It allows, with this rule, where S3 refuses.
    Allows(Diff, usize),
}

struct Case {
    config: usize,
    what: &'static str,
    req: Req,
    s3: S3,
    gw: Gw,
}

pub(crate) fn configurations() -> Vec<CorsConfiguration> {
    use Method as M;
    vec![
        // 0: one origin with a port, header list, expose headers, max age.
        CorsConfiguration::new().with_rule(
            CorsRule::new()
                .with_allowed_origin("http://localhost:8080")
                .with_allowed_methods([M::GET, M::PUT])
                .with_allowed_headers(["Content-Type", "x-amz-*"])
                .with_expose_headers(["ETag", "x-amz-request-id"])
                .with_max_age_seconds(600),
        ),
        // 1: wildcard origins.
        CorsConfiguration::new()
            .with_rule(
                CorsRule::new()
                    .with_id("subdomains")
                    .with_allowed_origin("https://*.example.com")
                    .with_allowed_method(M::GET),
            )
            .with_rule(
                CorsRule::new()
                    .with_id("any-port")
                    .with_allowed_origin("http://localhost:*")
                    .with_allowed_methods([M::PUT, M::POST])
                    .with_allowed_header("*")
                    .with_max_age_seconds(0),
            ),
        // 2: several rules for one origin; the first that matches wins.
        CorsConfiguration::new()
            .with_rule(
                CorsRule::new()
                    .with_allowed_origin("https://app.example.com")
                    .with_allowed_method(M::GET)
                    .with_max_age_seconds(100),
            )
            .with_rule(
                CorsRule::new()
                    .with_allowed_origin("https://app.example.com")
                    .with_allowed_methods([M::PUT, M::DELETE])
                    .with_allowed_headers(["x-amz-date", "Content-MD5"])
                    .with_expose_header("ETag")
                    .with_max_age_seconds(200),
            )
            .with_rule(
                CorsRule::new()
                    .with_allowed_origin("*")
                    .with_allowed_methods([M::GET, M::HEAD])
                    .with_allowed_header("*")
                    .with_max_age_seconds(300),
            ),
        // 3: everyone, every method.
        CorsConfiguration::new().with_rule(
            CorsRule::new()
                .with_allowed_origin("*")
                .with_allowed_methods([M::GET, M::PUT, M::POST, M::DELETE, M::HEAD])
                .with_allowed_header("*")
                .with_expose_headers(["ETag", "x-amz-version-id", "Content-Length"]),
        ),
        // 4: header patterns.
        CorsConfiguration::new().with_rule(
            CorsRule::new()
                .with_allowed_origin("http://h.test")
                .with_allowed_method(M::PUT)
                .with_allowed_headers(["x-amz-meta-*", "Content-*", "Authorization"]),
        ),
        // 5: a wildcard between a prefix and a suffix that could overlap.
        CorsConfiguration::new().with_rule(
            CorsRule::new()
                .with_allowed_origin("http://ab*ba")
                .with_allowed_method(M::GET),
        ),
    ]
}

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Diff as D;
    use Gw::{Allows, Refuses, Same};
    use S3::{Allow, Deny};
    let c = |config, what, req, s3, gw| Case { config, what, req, s3, gw };
    vec![
        // 0: exact origin with a port.
        c(0, "exact origin, GET", pf("http://localhost:8080", "GET"), Allow(0), Same),
        c(0, "exact origin, PUT with an allowed header", pfh("http://localhost:8080", "PUT", "Content-Type"), Allow(0), Same),
        c(0, "header list, cases mixed, wildcard header", pfh("http://localhost:8080", "PUT", "content-type, X-Amz-Date,x-amz-meta-foo"), Allow(0), Same),
        c(0, "other port", pf("http://localhost:8081", "GET"), Deny(403), Same),
        c(0, "no port", pf("http://localhost", "GET"), Deny(403), Same),
        c(0, "other scheme", pf("https://localhost:8080", "GET"), Deny(403), Same),
        c(0, "trailing slash", pf("http://localhost:8080/", "GET"), Deny(403), Same),
        c(0, "method not allowed", pf("http://localhost:8080", "DELETE"), Deny(403), Same),
        c(0, "header not allowed", pfh("http://localhost:8080", "PUT", "x-custom"), Deny(403), Same),
        c(0, "one header of two not allowed", pfh("http://localhost:8080", "PUT", "content-type, range"), Deny(403), Same),
        c(0, "method in lower case", pf("http://localhost:8080", "get"), Deny(403), Same),
        c(0, "method S3 does not know", pf("http://localhost:8080", "PATCH"), Deny(403), Same),
        c(0, "no Origin", Req::Preflight { origin: None, method: Some("GET"), headers: None }, Deny(400), Same),
        c(0, "no Access-Control-Request-Method", Req::Preflight { origin: Some("http://localhost:8080"), method: None, headers: None }, Deny(400), Same),
        c(0, "actual GET from the allowed origin", Req::ActualGet { origin: "http://localhost:8080" }, Allow(0), Same),
        c(0, "actual GET from another origin", Req::ActualGet { origin: "http://localhost:9999" }, Deny(403), Same),
        // 1: wildcard origins.
        c(1, "subdomain wildcard", pf("https://www.example.com", "GET"), Allow(0), Same),
        c(1, "subdomain wildcard, two levels", pf("https://a.b.example.com", "GET"), Allow(0), Same),
        c(1, "bare domain does not match *.", pf("https://example.com", "GET"), Deny(403), Same),
        c(1, "wildcard with another scheme", pf("http://www.example.com", "GET"), Deny(403), Same),
        c(1, "suffix must end the origin", pf("https://www.example.com.evil.org", "GET"), Deny(403), Same),
        c(1, "origin matches, method does not", pf("https://www.example.com", "PUT"), Deny(403), Same),
        c(1, "port wildcard, any header", pfh("http://localhost:3000", "PUT", "X-Anything, x-amz-date"), Allow(1), Same),
        c(1, "port wildcard, POST", pf("http://localhost:3000", "POST"), Allow(1), Same),
        c(1, "port wildcard needs the colon", pf("http://localhost", "PUT"), Deny(403), Same),
        c(1, "port wildcard, method of another rule", pf("http://localhost:3000", "GET"), Deny(403), Same),
        c(1, "actual GET, subdomain wildcard", Req::ActualGet { origin: "https://cdn.example.com" }, Allow(0), Same),
        // 2: several rules.
        c(2, "first rule", pf("https://app.example.com", "GET"), Allow(0), Same),
        c(2, "second rule, method and header", pfh("https://app.example.com", "PUT", "x-amz-date"), Allow(1), Refuses(D::FirstOriginRuleOnly, 403)),
        c(2, "second rule, DELETE", pfh("https://app.example.com", "DELETE", "Content-MD5"), Allow(1), Refuses(D::FirstOriginRuleOnly, 403)),
        c(2, "third rule (*) for HEAD", pf("https://app.example.com", "HEAD"), Allow(2), Refuses(D::FirstOriginRuleOnly, 403)),
        c(2, "third rule (*) for a header", pfh("https://app.example.com", "GET", "x-custom"), Allow(2), Refuses(D::FirstOriginRuleOnly, 403)),
        c(2, "other origin, * rule", pf("https://other.example.org", "GET"), Allow(2), Same),
        c(2, "other origin, * rule with headers", pfh("https://other.example.org", "HEAD", "x-whatever, X-Other"), Allow(2), Same),
        c(2, "other origin, method of no rule", pf("https://other.example.org", "PUT"), Deny(403), Same),
        c(2, "second rule, header of no rule", pfh("https://app.example.com", "PUT", "x-custom"), Deny(403), Same),
        c(2, "actual GET, first rule", Req::ActualGet { origin: "https://app.example.com" }, Allow(0), Same),
        c(2, "actual GET, * rule", Req::ActualGet { origin: "https://other.example.org" }, Allow(2), Same),
        // 3: everyone.
        c(3, "* with a port and headers", pfh("http://anything.test:1234", "DELETE", "authorization, x-amz-content-sha256"), Allow(0), Same),
        c(3, "* and the null origin", pf("null", "GET"), Allow(0), Same),
        c(3, "* and POST", pf("http://x", "POST"), Allow(0), Same),
        c(3, "OPTIONS is not an allowed method", pf("http://x", "OPTIONS"), Deny(403), Same),
        c(3, "actual GET, *", Req::ActualGet { origin: "http://x" }, Allow(0), Same),
        // 4: header patterns.
        c(4, "prefix patterns", pfh("http://h.test", "PUT", "x-amz-meta-color, content-type, Content-Length"), Allow(0), Same),
        c(4, "header name case", pfh("http://h.test", "PUT", "AUTHORIZATION"), Allow(0), Same),
        c(4, "header outside the patterns", pfh("http://h.test", "PUT", "x-amz-date"), Deny(403), Same),
        c(4, "shorter than the pattern prefix", pfh("http://h.test", "PUT", "content"), Deny(403), Same),
        c(4, "wildcard matching nothing", pfh("http://h.test", "PUT", "x-amz-meta-"), Allow(0), Same),
        // 5: overlapping prefix and suffix.
        c(5, "prefix and suffix overlap", pf("http://aba", "GET"), Deny(403), Allows(D::WildcardPrefixSuffixOverlap, 0)),
        c(5, "empty wildcard", pf("http://abba", "GET"), Allow(0), Same),
        c(5, "wildcard in the middle", pf("http://ab.x.ba", "GET"), Allow(0), Same),
    ]
}

/// The headers the gateway sends when `rule` of `config` allows `req`: ours, transformed by
/// the documented differences.
fn rgw_view(rule: &CorsRule, req: &Req) -> BTreeMap<String, String> {
    let mut h = BTreeMap::new();
    let (origin, method, headers, preflight) = match *req {
        Req::Preflight {
            origin,
            method,
            headers,
        } => (origin.unwrap_or(""), method.unwrap_or(""), headers, true),
        Req::ActualGet { origin } => (origin, "GET", None, false),
    };
    // PreflightEchoesOriginForWildcard (an actual anonymous request gets `*`, as in S3).
    let allow_origin = if !preflight && rule.allows_any_origin() {
        "*"
    } else {
        origin
    };
    h.insert("access-control-allow-origin".into(), allow_origin.into());
    // VaryOriginOnly.
    if allow_origin != "*" {
        h.insert("vary".into(), "Origin".into());
    }
    // AllowMethodsIsRequestedMethod.
    h.insert("access-control-allow-methods".into(), method.into());
    // AllowHeadersAsSent.
    if let Some(list) = headers {
        let items: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        h.insert("access-control-allow-headers".into(), items.join(","));
    }
    // ExposeHeadersJoinedWithComma.
    if !rule.expose_headers.is_empty() {
        h.insert(
            "access-control-expose-headers".into(),
            rule.expose_headers.join(","),
        );
    }
    if let Some(age) = rule.max_age_seconds {
        h.insert("access-control-max-age".into(), age.to_string());
    }
    // NoAllowCredentials: nothing to add.
    h
}

/// Which documented differences explain `ours` ≠ `theirs`, header by header.
fn header_diffs(ours: &BTreeMap<String, String>, theirs: &BTreeMap<String, String>) -> Vec<Diff> {
    let names: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    let mut out = Vec::new();
    for name in names {
        if ours.get(name) == theirs.get(name) {
            continue;
        }
        out.push(match name.as_str() {
            "access-control-allow-origin" => Diff::PreflightEchoesOriginForWildcard,
            "access-control-allow-methods" => Diff::AllowMethodsIsRequestedMethod,
            "access-control-allow-headers" => Diff::AllowHeadersAsSent,
            "access-control-expose-headers" => Diff::ExposeHeadersJoinedWithComma,
            "vary" => Diff::VaryOriginOnly,
            "access-control-allow-credentials" => Diff::NoAllowCredentials,
            other => panic!(
                "undocumented difference in {other}: ours {:?}, the gateway's {:?}",
                ours.get(other),
                theirs.get(other)
            ),
        });
    }
    out
}

fn cors_headers(map: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    map.into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .filter(|(k, _)| k.starts_with("access-control-") || k == "vary")
        .collect()
}

/// The method and headers a browser sends for `req`, and whether it is a preflight.
fn request_parts(req: &Req) -> (Method, HeaderMap, bool) {
    match *req {
        Req::Preflight {
            origin,
            method,
            headers,
        } => {
            let mut h = HeaderMap::new();
            if let Some(o) = origin {
                h.insert("origin", o.parse().unwrap());
            }
            if let Some(m) = method {
                h.insert("access-control-request-method", m.parse().unwrap());
            }
            if let Some(l) = headers {
                h.insert("access-control-request-headers", l.parse().unwrap());
            }
            (Method::OPTIONS, h, true)
        }
        Req::ActualGet { origin } => {
            let mut h = HeaderMap::new();
            h.insert("origin", origin.parse().unwrap());
            (Method::GET, h, false)
        }
    }
}

#[test]
fn preflights_agree_with_the_gateway() {
    let Some(rgw) = Rgw::connect() else { return };
    let configs = configurations();
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());

    // One bucket per configuration, with a public object for the actual requests.
    let buckets: Vec<String> = configs
        .iter()
        .map(|config| {
            config.validate().unwrap();
            let bucket = sos_testing::unique_name("acl-cors");
            rgw.create_bucket(&bucket, None);
            let r = rgw.put_cors(&bucket, config);
            assert_eq!(r.status, 200, "PUT ?cors: {}", r.text());
            let r = rgw.put_object(
                Who::Owner,
                &bucket,
                "obj",
                Some(&AclHeaders::Canned(CannedAcl::PublicRead)),
            );
            assert_eq!(r.status, 200, "{}", r.text());
            bucket
        })
        .collect();

    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let config = &configs[case.config];
        let label = format!(
            "case {n} (configuration {}, {}): {:?}",
            case.config, case.what, case.req
        );

        // 1. Our evaluation is what the S3 documentation says.
        let (method_value, ours_req, preflight) = request_parts(&case.req);
        let request = CorsRequest::from_parts(&method_value, &ours_req).unwrap();
        let ours = config.evaluate(&request);
        match (case.s3, &ours) {
            (S3::Allow(i), CorsDecision::Allowed(a)) if a.rule_index() == i => {}
            (S3::Deny(status), CorsDecision::Denied(_)) if ours.status().as_u16() == status => {}
            _ => failures.push(format!(
                "{label}: S3 documents {:?}, we said {ours:?}",
                case.s3
            )),
        }

        // 2. The gateway's answer.
        let response = rgw.send(
            Who::Anonymous,
            method_value.clone(),
            &format!("/{}/obj", buckets[case.config]),
            &ours_req,
            Vec::new(),
        );
        let theirs = cors_headers(response.headers.clone());
        let (gateway_allows, expected_rule) = match case.gw {
            Gw::Same => (ours.is_allowed(), ours.allowed().map(|a| a.rule_index())),
            Gw::Refuses(d, status) => {
                if preflight && response.status != status {
                    failures.push(format!("{label}: documented difference {d:?} predicts {status}, the gateway answered {}", response.status));
                }
                if preflight && ours.status().as_u16() == status {
                    failures.push(format!(
                        "{label}: {d:?} is listed but we answer {status} too"
                    ));
                }
                seen.insert(d);
                (false, None)
            }
            Gw::Allows(d, rule) => {
                assert!(
                    !ours.is_allowed(),
                    "{label}: {d:?} is listed but we allow too"
                );
                seen.insert(d);
                (true, Some(rule))
            }
        };
        if preflight {
            let expected_status = if gateway_allows {
                200
            } else {
                match case.gw {
                    Gw::Refuses(_, s) => s,
                    _ => ours.status().as_u16(),
                }
            };
            if response.status != expected_status {
                failures.push(format!(
                    "{label}: the gateway answered {} (expected {expected_status}): {}",
                    response.status,
                    response.text()
                ));
                continue;
            }
        }

        // 3. Its headers are ours, transformed by the documented differences.
        let expected = match expected_rule {
            Some(i) => rgw_view(&config.rules[i], &case.req),
            None => BTreeMap::new(),
        };
        if theirs != expected {
            failures.push(format!(
                "{label}: the gateway's CORS headers {theirs:?}, expected {expected:?}"
            ));
            continue;
        }
        if let (Some(a), true) = (ours.allowed(), gateway_allows) {
            let our_headers = cors_headers(
                a.headers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned())),
            );
            seen.extend(header_diffs(&our_headers, &theirs));
        }
    }
    for bucket in &buckets {
        rgw.remove_bucket(bucket);
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    let missing: Vec<_> = ALL_DIFFS.iter().filter(|d| !seen.contains(d)).collect();
    assert!(
        missing.is_empty(),
        "documented differences never observed: {missing:?}"
    );
}

#[test]
fn stored_configuration_is_reordered_but_equivalent() {
    let Some(rgw) = Rgw::connect() else { return };
    let bucket = sos_testing::unique_name("acl-cors-store");
    rgw.create_bucket(&bucket, None);
    let sent = CorsConfiguration::new().with_rule(
        CorsRule::new()
            .with_id("r")
            .with_allowed_origins([
                "https://b.example",
                "https://a.example",
                "https://b.example",
            ])
            .with_allowed_methods([
                Method::HEAD,
                Method::POST,
                Method::DELETE,
                Method::PUT,
                Method::GET,
                Method::POST,
            ])
            .with_allowed_headers(["x-b", "x-a"])
            .with_expose_headers(["x-z", "x-y"])
            .with_max_age_seconds(42),
    );
    assert_eq!(rgw.put_cors(&bucket, &sent).status, 200);
    let r = rgw.simple(Who::Owner, Method::GET, &format!("/{bucket}?cors"));
    assert_eq!(r.status, 200, "{}", r.text());
    let got = CorsConfiguration::from_xml(&r.body).unwrap();
    let rule = &got.rules[0];
    // Sets: sorted, repetitions gone; methods in the gateway's order. Expose headers keep
    // their order.
    assert_eq!(
        rule.allowed_origins,
        ["https://a.example", "https://b.example"]
    );
    assert_eq!(
        rule.allowed_methods,
        [
            Method::GET,
            Method::PUT,
            Method::DELETE,
            Method::HEAD,
            Method::POST
        ]
    );
    assert_eq!(rule.allowed_headers, ["x-a", "x-b"]);
    assert_eq!(rule.expose_headers, ["x-z", "x-y"]);
    assert_eq!(
        (rule.id.as_deref(), rule.max_age_seconds),
        (Some("r"), Some(42))
    );
    assert_ne!(got, sent);
    rgw.remove_bucket(&bucket);
}

#[test]
fn the_gateway_refuses_what_validation_refuses() {
    let Some(rgw) = Rgw::connect() else { return };
    let bucket = sos_testing::unique_name("acl-cors-bad");
    rgw.create_bucket(&bucket, None);
    let bad_method = CorsConfiguration::new().with_rule(
        CorsRule::new()
            .with_allowed_origin("*")
            .with_allowed_method(Method::PATCH),
    );
    assert!(bad_method.validate().is_err());
    let r = rgw.put_cors(&bucket, &bad_method);
    assert_eq!(r.status, 400, "PATCH: {}", r.text());
    let too_many = CorsConfiguration::new().with_rules(vec![
        CorsRule::new()
            .with_allowed_origin("*")
            .with_allowed_method(Method::GET);
        101
    ]);
    assert!(too_many.validate().is_err());
    let r = rgw.put_cors(&bucket, &too_many);
    assert_eq!(r.status, 400, "101 rules: {}", r.text());
    let hundred = CorsConfiguration::new().with_rules(vec![
        CorsRule::new()
            .with_allowed_origin("*")
            .with_allowed_method(Method::GET);
        100
    ]);
    assert!(hundred.validate().is_ok());
    assert_eq!(rgw.put_cors(&bucket, &hundred).status, 200);
    rgw.remove_bucket(&bucket);
}

/// Where Garage 2.5 answers a preflight differently from documented S3 (our evaluation), by
/// the case's description. Each must be seen at least once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum GarageDiff {
    /// Requested header names match `AllowedHeader` entries (patterns such as `x-amz-*`
    /// included) case-sensitively: `X-Amz-Date` does not match `x-amz-*`, `content-type`
    /// does not match `Content-Type` (a lone `*` still matches everything).
    HeaderNamesCaseSensitive,
    /// In `ab*ba`, the prefix and suffix may overlap, so `aba` matches.
    WildcardPrefixSuffixOverlap,
}

fn garage_difference(what: &str) -> Option<(GarageDiff, u16)> {
    match what {
        "header list, cases mixed, wildcard header" | "prefix patterns" | "header name case" => {
            Some((GarageDiff::HeaderNamesCaseSensitive, 403))
        }
        "prefix and suffix overlap" => Some((GarageDiff::WildcardPrefixSuffixOverlap, 200)),
        _ => None,
    }
}

/// The same table against Garage, the second real server that enforces CORS. Preflights
/// only: Garage serves no anonymous GET, so the actual-request cases are the gateway's.
/// Statuses must agree with our evaluation except for the listed differences; where both
/// allow, `Access-Control-Allow-Origin` and `-Allow-Methods` must be ours. (Garage's other
/// headers differ in form: it sends the rule's AllowedHeader list as configured, an empty
/// Expose-Headers, no Max-Age and no Allow-Credentials; see the README.)
#[test]
fn preflights_agree_with_garage() {
    let Some(g) = Rgw::garage() else { return };
    let configs = configurations();
    // Buckets with global aliases (garage.sh makes them): a preflight names its bucket
    // anonymously, which Garage resolves only for those.
    let names = std::env::var("SOS_TEST_GARAGE_CORS_BUCKETS")
        .expect("testing/servers/garage.sh up exports SOS_TEST_GARAGE_CORS_BUCKETS");
    let buckets: Vec<&str> = names.split(',').collect();
    assert!(
        buckets.len() >= configs.len(),
        "{} buckets for {} configurations",
        buckets.len(),
        configs.len()
    );
    for (config, bucket) in configs.iter().zip(&buckets) {
        let r = g.put_cors(bucket, config);
        assert_eq!(r.status, 200, "PUT ?cors: {}", r.text());
    }

    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let mut preflights = 0;
    for (n, case) in cases().iter().enumerate() {
        let (method, h, preflight) = request_parts(&case.req);
        if !preflight {
            continue;
        }
        preflights += 1;
        let label = format!(
            "case {n} (configuration {}, {}): {:?}",
            case.config, case.what, case.req
        );
        let ours = configs[case.config].evaluate(&CorsRequest::from_parts(&method, &h).unwrap());
        let r = g.send(
            Who::Anonymous,
            method.clone(),
            &format!("/{}/obj", buckets[case.config]),
            &h,
            Vec::new(),
        );
        let expected_status = match garage_difference(case.what) {
            Some((d, status)) => {
                if ours.status().as_u16() == status {
                    failures.push(format!(
                        "{label}: {d:?} is listed but we answer {status} too"
                    ));
                }
                seen.insert(d);
                status
            }
            None => ours.status().as_u16(),
        };
        if r.status != expected_status {
            failures.push(format!(
                "{label}: Garage answered {} (expected {expected_status}): {}",
                r.status,
                r.text()
            ));
            continue;
        }
        if let (Some(allowed), 200) = (ours.allowed(), r.status) {
            let theirs = cors_headers(r.headers.clone());
            let our_headers = allowed.headers();
            for name in [
                "access-control-allow-origin",
                "access-control-allow-methods",
            ] {
                let want = our_headers
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned());
                if theirs.get(name) != want.as_ref() {
                    failures.push(format!(
                        "{label}: Garage's {name} {:?}, ours {want:?}",
                        theirs.get(name)
                    ));
                }
            }
        }
    }
    assert!(preflights >= 40, "{preflights} preflight cases");
    assert!(
        failures.is_empty(),
        "{} of {preflights} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let all = [
        GarageDiff::HeaderNamesCaseSensitive,
        GarageDiff::WildcardPrefixSuffixOverlap,
    ];
    let missing: Vec<_> = all.iter().filter(|d| !seen.contains(d)).collect();
    assert!(
        missing.is_empty(),
        "documented Garage differences never observed: {missing:?}"
    );
}
