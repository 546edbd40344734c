//! `CorsRule` and its builder.

use http::Method;
use serde::{Deserialize, Serialize};

/// One `<CORSRule>`: which origins may send which methods with which headers, what the
/// browser may read of the response, and how long it may cache a preflight answer.
///
/// ```
/// use http::Method;
/// use sos_acl::CorsRule;
///
/// let rule = CorsRule::new()
///     .with_id("uploads")
///     .with_allowed_origin("https://*.example.com")
///     .with_allowed_methods([Method::PUT, Method::POST])
///     .with_allowed_header("*")
///     .with_expose_header("ETag")
///     .with_max_age_seconds(3000);
/// assert_eq!(rule.allowed_methods, [Method::PUT, Method::POST]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CorsRule {
    /// `<ID>`: a name for the rule, at most 255 characters.
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `<AllowedOrigin>`: origins (`scheme://host[:port]`) allowed to send requests; each may
    /// hold one `*` wildcard, and `*` alone allows every origin.
    #[serde(rename = "AllowedOrigins", default)]
    pub allowed_origins: Vec<String>,
    /// `<AllowedMethod>`: `GET`, `PUT`, `POST`, `DELETE` or `HEAD`.
    #[serde(rename = "AllowedMethods", default, with = "method_list")]
    pub allowed_methods: Vec<Method>,
    /// `<AllowedHeader>`: header names a preflight may ask for in
    /// `Access-Control-Request-Headers`, matched without regard to case; each may hold one
    /// `*`.
    #[serde(
        rename = "AllowedHeaders",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allowed_headers: Vec<String>,
    /// `<ExposeHeader>`: response headers the browser lets the page read.
    #[serde(
        rename = "ExposeHeaders",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub expose_headers: Vec<String>,
    /// `<MaxAgeSeconds>`: how long a browser may cache the preflight answer.
    #[serde(
        rename = "MaxAgeSeconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_age_seconds: Option<u32>,
}

impl CorsRule {
    /// An empty rule; add at least one origin and one method.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the `<ID>`.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Adds an `<AllowedOrigin>`.
    #[must_use]
    pub fn with_allowed_origin(mut self, origin: impl Into<String>) -> Self {
        self.allowed_origins.push(origin.into());
        self
    }

    /// Adds `<AllowedOrigin>`s.
    #[must_use]
    pub fn with_allowed_origins<S: Into<String>>(
        mut self,
        origins: impl IntoIterator<Item = S>,
    ) -> Self {
        self.allowed_origins
            .extend(origins.into_iter().map(Into::into));
        self
    }

    /// Adds an `<AllowedMethod>`.
    #[must_use]
    pub fn with_allowed_method(mut self, method: Method) -> Self {
        self.allowed_methods.push(method);
        self
    }

    /// Adds `<AllowedMethod>`s.
    #[must_use]
    pub fn with_allowed_methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.allowed_methods.extend(methods);
        self
    }

    /// Adds an `<AllowedHeader>`.
    #[must_use]
    pub fn with_allowed_header(mut self, header: impl Into<String>) -> Self {
        self.allowed_headers.push(header.into());
        self
    }

    /// Adds `<AllowedHeader>`s.
    #[must_use]
    pub fn with_allowed_headers<S: Into<String>>(
        mut self,
        headers: impl IntoIterator<Item = S>,
    ) -> Self {
        self.allowed_headers
            .extend(headers.into_iter().map(Into::into));
        self
    }

    /// Adds an `<ExposeHeader>`.
    #[must_use]
    pub fn with_expose_header(mut self, header: impl Into<String>) -> Self {
        self.expose_headers.push(header.into());
        self
    }

    /// Adds `<ExposeHeader>`s.
    #[must_use]
    pub fn with_expose_headers<S: Into<String>>(
        mut self,
        headers: impl IntoIterator<Item = S>,
    ) -> Self {
        self.expose_headers
            .extend(headers.into_iter().map(Into::into));
        self
    }

    /// Sets `<MaxAgeSeconds>`.
    #[must_use]
    pub fn with_max_age_seconds(mut self, seconds: u32) -> Self {
        self.max_age_seconds = Some(seconds);
        self
    }

    /// Whether the rule lists the origin `*`: S3 then answers
    /// `Access-Control-Allow-Origin: *` rather than the request's origin.
    pub fn allows_any_origin(&self) -> bool {
        self.allowed_origins.iter().any(|o| o == "*")
    }
}

/// Methods as the strings of the AWS JSON form.
mod method_list {
    use http::Method;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(methods: &[Method], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(methods.iter().map(Method::as_str))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Method>, D::Error> {
        Vec::<String>::deserialize(d)?
            .into_iter()
            .map(|m| {
                Method::from_bytes(m.as_bytes())
                    .map_err(|_| D::Error::custom(format!("`{m}` is not an HTTP method")))
            })
            .collect()
    }
}
