//! Evaluation of a request against a configuration, and the answer S3 gives.

use std::fmt;

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::pattern::matches;
use super::{CorsConfiguration, CorsRule};

/// The `Vary` value S3 sends with every CORS answer.
const S3_VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/// What the browser asks: a preflight (`OPTIONS` with `Origin`,
/// `Access-Control-Request-Method` and maybe `Access-Control-Request-Headers`) or an actual
/// cross-origin request (its `Origin` and method).
///
/// ```
/// use http::{HeaderMap, Method};
/// use sos_acl::CorsRequest;
///
/// let preflight = CorsRequest::preflight("https://app.example.com", "PUT")
///     .with_request_headers("content-type");
/// assert!(preflight.is_preflight());
///
/// let mut headers = HeaderMap::new();
/// headers.insert("origin", "https://app.example.com".parse()?);
/// let actual = CorsRequest::from_parts(&Method::GET, &headers).expect("has an Origin");
/// assert_eq!(actual.origin(), Some("https://app.example.com"));
/// // Without Origin, a GET is not a CORS request at all.
/// assert!(CorsRequest::from_parts(&Method::GET, &HeaderMap::new()).is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CorsRequest<'a> {
    preflight: bool,
    origin: Option<&'a str>,
    method: Option<&'a str>,
    request_headers: Option<&'a str>,
}

impl<'a> CorsRequest<'a> {
    /// A preflight from `origin` for an actual request with `method`.
    pub fn preflight(origin: &'a str, method: &'a str) -> Self {
        Self {
            preflight: true,
            origin: Some(origin),
            method: Some(method),
            request_headers: None,
        }
    }

    /// An actual cross-origin request.
    pub fn actual(origin: &'a str, method: &'a str) -> Self {
        Self {
            preflight: false,
            origin: Some(origin),
            method: Some(method),
            request_headers: None,
        }
    }

    /// Sets the `Access-Control-Request-Headers` list (comma-separated, as sent) of a
    /// preflight; an actual request's headers are not checked.
    #[must_use]
    pub fn with_request_headers(mut self, headers: &'a str) -> Self {
        self.request_headers = Some(headers);
        self
    }

    /// Reads a request's method and headers. `OPTIONS` is a preflight (a missing `Origin` or
    /// `Access-Control-Request-Method` is then kept missing, and evaluation says so); any
    /// other method is an actual request, or `None` without `Origin`. Of repeated headers,
    /// the first is read; values that are not text count as missing.
    pub fn from_parts(method: &'a Method, headers: &'a HeaderMap) -> Option<Self> {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        let origin = text(ORIGIN);
        let request_headers = text(ACCESS_CONTROL_REQUEST_HEADERS);
        if method == Method::OPTIONS {
            Some(Self {
                preflight: true,
                origin,
                method: text(ACCESS_CONTROL_REQUEST_METHOD),
                request_headers,
            })
        } else {
            Some(Self {
                preflight: false,
                origin: Some(origin?),
                method: Some(method.as_str()),
                // Only a preflight's requested headers are checked (browsers send the header
                // only there; the gateway and S3 emulators ignore it on actual requests).
                request_headers: None,
            })
        }
    }

    /// Whether this is a preflight.
    pub fn is_preflight(&self) -> bool {
        self.preflight
    }

    /// The `Origin`.
    pub fn origin(&self) -> Option<&'a str> {
        self.origin
    }

    /// The method asked for (preflight) or used (actual request).
    pub fn method(&self) -> Option<&'a str> {
        self.method
    }

    /// The requested headers, trimmed, empty items skipped.
    pub fn request_headers(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.request_headers
            .unwrap_or("")
            .split(',')
            .map(|h| h.trim_matches([' ', '\t']))
            .filter(|h| !h.is_empty())
    }
}

/// The outcome of [`CorsConfiguration::evaluate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsDecision<'a> {
    /// A rule matched.
    Allowed(CorsAllowed<'a>),
    /// No rule matched, and why.
    Denied(CorsDenied),
}

impl<'a> CorsDecision<'a> {
    /// Whether a rule matched.
    pub fn is_allowed(&self) -> bool {
        matches!(self, CorsDecision::Allowed(_))
    }

    /// The match, if any.
    pub fn allowed(&self) -> Option<&CorsAllowed<'a>> {
        match self {
            CorsDecision::Allowed(a) => Some(a),
            CorsDecision::Denied(_) => None,
        }
    }

    /// The status of a preflight's answer: `200 OK` when allowed, `400 Bad Request` without
    /// `Origin` or `Access-Control-Request-Method` (as the RADOS Gateway, Garage and S3
    /// emulators answer: "Invalid Access-Control-Request-Method"), `403 Forbidden` otherwise.
    /// (An actual request is served whatever the decision; only the CORS headers depend on
    /// it.)
    pub fn status(&self) -> StatusCode {
        match self {
            CorsDecision::Allowed(_) => StatusCode::OK,
            CorsDecision::Denied(CorsDenied::MissingOrigin | CorsDenied::MissingRequestMethod) => {
                StatusCode::BAD_REQUEST
            }
            CorsDecision::Denied(_) => StatusCode::FORBIDDEN,
        }
    }

    /// The CORS response headers (none when denied).
    pub fn headers(&self) -> HeaderMap {
        self.allowed().map(CorsAllowed::headers).unwrap_or_default()
    }
}

/// Why no rule matched.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorsDenied {
    /// The request has no `Origin` (a preflight without one is a `400` in S3).
    MissingOrigin,
    /// A preflight without `Access-Control-Request-Method` (a `400`: what the RADOS Gateway,
    /// Garage and S3 emulators answer; AWS does not document it).
    MissingRequestMethod,
    /// The configuration has no rules.
    NoRules,
    /// No rule allows the origin.
    OriginNotAllowed,
    /// Rules allow the origin, none of them the method; `rule` is the first of them.
    MethodNotAllowed {
        /// 0-based index of the first rule that allows the origin.
        rule: usize,
    },
    /// Rules allow the origin and method, none of them every requested header; `rule` is the
    /// first of them and `header` the first header it does not allow.
    HeaderNotAllowed {
        /// 0-based index of the first rule that allows the origin and the method.
        rule: usize,
        /// The requested header that rule does not allow.
        header: String,
    },
}

impl fmt::Display for CorsDenied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorsDenied::MissingOrigin => f.write_str("the request has no Origin header"),
            CorsDenied::MissingRequestMethod => {
                f.write_str("the preflight has no Access-Control-Request-Method header")
            }
            CorsDenied::NoRules => f.write_str("the CORS configuration has no rules"),
            CorsDenied::OriginNotAllowed => f.write_str("no rule allows the origin"),
            CorsDenied::MethodNotAllowed { rule } => write!(
                f,
                "rule {} allows the origin but not the method (nor does any later rule)",
                rule + 1
            ),
            CorsDenied::HeaderNotAllowed { rule, header } => write!(
                f,
                "rule {} allows the origin and method but not the header `{header}` (nor does any later rule)",
                rule + 1
            ),
        }
    }
}

/// A rule matched: the rule, and the response headers S3 sends.
///
/// S3's answer: `Access-Control-Allow-Origin` is `*` when the rule allows the origin `*`
/// (no credentials then), else the request's origin with
/// `Access-Control-Allow-Credentials: true`; `Access-Control-Allow-Methods` lists the rule's
/// methods; a preflight's requested headers come back lowercased in
/// `Access-Control-Allow-Headers`; then the rule's expose headers and max age, and
/// `Vary: Origin, Access-Control-Request-Headers, Access-Control-Request-Method`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsAllowed<'a> {
    rule_index: usize,
    rule: &'a CorsRule,
    request: CorsRequest<'a>,
    origin: &'a str,
}

impl<'a> CorsAllowed<'a> {
    /// 0-based index of the matching rule.
    pub fn rule_index(&self) -> usize {
        self.rule_index
    }

    /// The matching rule.
    pub fn rule(&self) -> &'a CorsRule {
        self.rule
    }

    /// `Access-Control-Allow-Origin`: `*` or the request's origin.
    pub fn allow_origin(&self) -> &'a str {
        if self.rule.allows_any_origin() {
            "*"
        } else {
            self.origin
        }
    }

    /// Whether `Access-Control-Allow-Credentials: true` is sent (when the origin is echoed).
    pub fn allow_credentials(&self) -> bool {
        !self.rule.allows_any_origin()
    }

    /// `Access-Control-Allow-Methods`: the rule's methods, `, `-separated.
    pub fn allow_methods(&self) -> String {
        join(self.rule.allowed_methods.iter().map(Method::as_str))
    }

    /// `Access-Control-Allow-Headers` of a preflight that asked for headers: them,
    /// lowercased, `, `-separated.
    pub fn allow_headers(&self) -> Option<String> {
        if !self.request.preflight {
            return None;
        }
        let mut list = join(self.request.request_headers());
        list.make_ascii_lowercase();
        (!list.is_empty()).then_some(list)
    }

    /// `Access-Control-Expose-Headers`: the rule's, `, `-separated, if it has any.
    pub fn expose_headers(&self) -> Option<String> {
        (!self.rule.expose_headers.is_empty())
            .then(|| join(self.rule.expose_headers.iter().map(String::as_str)))
    }

    /// `Access-Control-Max-Age`, if the rule sets it.
    pub fn max_age(&self) -> Option<u32> {
        self.rule.max_age_seconds
    }

    /// `Vary`.
    pub fn vary(&self) -> &'static str {
        S3_VARY
    }

    /// The response headers, as a map. Values that cannot be header values (a control
    /// character in an origin pattern) are left out.
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(8);
        self.apply_to(&mut headers);
        headers
    }

    /// Sets the response headers in `headers`, replacing those of the same names.
    pub fn apply_to(&self, headers: &mut HeaderMap) {
        // Owned strings become header values without a copy; values that cannot be header
        // values (a control character) are left out.
        let value = |s: String| HeaderValue::try_from(s).ok();
        let origin = if self.rule.allows_any_origin() {
            Some(HeaderValue::from_static("*"))
        } else {
            HeaderValue::from_str(self.origin).ok()
        };
        if let Some(v) = origin {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        if self.allow_credentials() {
            headers.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(v) = value(self.allow_methods()) {
            headers.insert(ACCESS_CONTROL_ALLOW_METHODS, v);
        }
        if let Some(v) = self.allow_headers().and_then(value) {
            headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, v);
        }
        if let Some(v) = self.expose_headers().and_then(value) {
            headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, v);
        }
        if let Some(age) = self.max_age() {
            headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from(age));
        }
        headers.insert(VARY, HeaderValue::from_static(S3_VARY));
    }
}

fn join<'s>(items: impl Iterator<Item = &'s str>) -> String {
    let mut out = String::with_capacity(64);
    for item in items {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(item);
    }
    out
}

pub(super) fn evaluate<'a>(
    config: &'a CorsConfiguration,
    request: &CorsRequest<'a>,
) -> CorsDecision<'a> {
    let Some(origin) = request.origin else {
        return CorsDecision::Denied(CorsDenied::MissingOrigin);
    };
    let Some(method) = request.method else {
        return CorsDecision::Denied(CorsDenied::MissingRequestMethod);
    };
    if config.rules.is_empty() {
        return CorsDecision::Denied(CorsDenied::NoRules);
    }
    // Compared as `Method`s: the standard ones compare without touching their text. A
    // method that is not a token matches no rule.
    let method = Method::from_bytes(method.as_bytes()).ok();
    let mut method_miss = None;
    let mut header_miss: Option<(usize, &str)> = None;
    for (i, rule) in config.rules.iter().enumerate() {
        let origin_matches = || {
            rule.allowed_origins
                .iter()
                .any(|p| matches(p, origin, false))
        };
        // The method first, the cheapest test; the origin of a rule that refuses the method
        // only matters for the reason of a refusal.
        if !method
            .as_ref()
            .is_some_and(|method| rule.allowed_methods.contains(method))
        {
            if method_miss.is_none() && origin_matches() {
                method_miss = Some(i);
            }
            continue;
        }
        if !origin_matches() {
            continue;
        }
        let refused = request
            .request_headers()
            .filter(|_| request.preflight)
            .find(|h| !rule.allowed_headers.iter().any(|p| matches(p, h, true)));
        if let Some(header) = refused {
            header_miss.get_or_insert((i, header));
            continue;
        }
        return CorsDecision::Allowed(CorsAllowed {
            rule_index: i,
            rule,
            request: *request,
            origin,
        });
    }
    CorsDecision::Denied(match (header_miss, method_miss) {
        (Some((rule, header)), _) => CorsDenied::HeaderNotAllowed {
            rule,
            header: header.to_owned(),
        },
        (None, Some(rule)) => CorsDenied::MethodNotAllowed { rule },
        (None, None) => CorsDenied::OriginNotAllowed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CorsConfiguration {
        CorsConfiguration::new()
            .with_rule(
                CorsRule::new()
                    .with_allowed_origin("http://www.example.com")
                    .with_allowed_methods([Method::PUT, Method::POST, Method::DELETE])
                    .with_allowed_header("*")
                    .with_expose_headers(["x-amz-request-id", "ETag"])
                    .with_max_age_seconds(3000),
            )
            .with_rule(
                CorsRule::new()
                    .with_allowed_origin("http://*.example.com")
                    .with_allowed_method(Method::GET)
                    .with_allowed_headers(["x-amz-*", "Content-Type"]),
            )
            .with_rule(
                CorsRule::new()
                    .with_allowed_origin("*")
                    .with_allowed_method(Method::GET),
            )
    }

    #[test]
    fn first_matching_rule_wins_and_headers_are_s3s() {
        let c = config();
        let d = c.evaluate(
            &CorsRequest::preflight("http://www.example.com", "PUT")
                .with_request_headers("X-Amz-Date , Content-MD5"),
        );
        assert_eq!(d.status(), StatusCode::OK);
        let h = d.headers();
        assert_eq!(h[ACCESS_CONTROL_ALLOW_ORIGIN], "http://www.example.com");
        assert_eq!(h[ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert_eq!(h[ACCESS_CONTROL_ALLOW_METHODS], "PUT, POST, DELETE");
        assert_eq!(h[ACCESS_CONTROL_ALLOW_HEADERS], "x-amz-date, content-md5");
        assert_eq!(h[ACCESS_CONTROL_EXPOSE_HEADERS], "x-amz-request-id, ETag");
        assert_eq!(h[ACCESS_CONTROL_MAX_AGE], "3000");
        assert_eq!(h[VARY], S3_VARY);

        // GET from www.example.com: rule 1 does not allow GET, rule 2 does.
        let d = c.evaluate(&CorsRequest::preflight("http://www.example.com", "GET"));
        assert_eq!(d.allowed().unwrap().rule_index(), 1);

        // Anyone may GET, answered with `*` and no credentials.
        let d = c.evaluate(&CorsRequest::preflight("https://other.org", "GET"));
        let a = d.allowed().unwrap();
        assert_eq!((a.rule_index(), a.allow_origin()), (2, "*"));
        assert!(!d.headers().contains_key(ACCESS_CONTROL_ALLOW_CREDENTIALS));
        assert!(!d.headers().contains_key(ACCESS_CONTROL_MAX_AGE));
    }

    #[test]
    fn denials_say_why() {
        let c = config();
        let deny = |r: CorsRequest<'static>| match config().evaluate(&r) {
            CorsDecision::Denied(d) => d,
            CorsDecision::Allowed(a) => panic!("allowed by rule {}", a.rule_index()),
        };
        assert_eq!(
            deny(CorsRequest::preflight("https://other.org", "PUT")),
            CorsDenied::MethodNotAllowed { rule: 2 }
        );
        assert_eq!(
            deny(
                CorsRequest::preflight("http://a.example.com", "GET")
                    .with_request_headers("x-amz-date, range")
            ),
            CorsDenied::HeaderNotAllowed {
                rule: 1,
                header: "range".into()
            }
        );
        let only = CorsConfiguration::new().with_rule(c.rules[0].clone());
        assert_eq!(
            only.evaluate(&CorsRequest::preflight("http://evil.com", "PUT")),
            CorsDecision::Denied(CorsDenied::OriginNotAllowed)
        );
        assert_eq!(
            CorsConfiguration::new().evaluate(&CorsRequest::preflight("http://a", "GET")),
            CorsDecision::Denied(CorsDenied::NoRules)
        );
        let headers = HeaderMap::new();
        let no_origin = CorsRequest::from_parts(&Method::OPTIONS, &headers).unwrap();
        let d = c.evaluate(&no_origin);
        assert_eq!(d, CorsDecision::Denied(CorsDenied::MissingOrigin));
        assert_eq!(d.status(), StatusCode::BAD_REQUEST);
        assert!(d.headers().is_empty());
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN, HeaderValue::from_static("http://a"));
        let no_method = CorsRequest::from_parts(&Method::OPTIONS, &headers).unwrap();
        assert_eq!(c.evaluate(&no_method).status(), StatusCode::BAD_REQUEST);
        // Methods compare exactly.
        assert!(
            !c.evaluate(&CorsRequest::preflight("https://x", "get"))
                .is_allowed()
        );
    }

    #[test]
    fn actual_requests_do_not_echo_headers() {
        let c = config();
        let d = c.evaluate(&CorsRequest::actual("http://www.example.com", "DELETE"));
        let h = d.headers();
        assert_eq!(h[ACCESS_CONTROL_ALLOW_METHODS], "PUT, POST, DELETE");
        assert!(!h.contains_key(ACCESS_CONTROL_ALLOW_HEADERS));
        let mut req = HeaderMap::new();
        req.insert(ORIGIN, HeaderValue::from_static("http://a.example.com"));
        req.insert(
            ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("x-amz-meta-a"),
        );
        let r = CorsRequest::from_parts(&Method::GET, &req).unwrap();
        assert!(!r.is_preflight());
        assert_eq!(
            c.evaluate(&r).allowed().map(CorsAllowed::rule_index),
            Some(1)
        );
        // Requested headers are a preflight's: on an actual request they are not checked
        // (the gateway answers this one with its CORS headers).
        req.insert(
            ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("x-custom"),
        );
        let r = CorsRequest::from_parts(&Method::GET, &req).unwrap();
        assert_eq!(
            c.evaluate(&r).allowed().map(CorsAllowed::rule_index),
            Some(1)
        );
        let r = CorsRequest::actual("http://a.example.com", "GET").with_request_headers("x-custom");
        assert!(c.evaluate(&r).is_allowed());
    }
}
