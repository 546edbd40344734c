//! `CorsConfiguration`: the rules of a bucket.

use serde::{Deserialize, Serialize};

use super::evaluate::{self, CorsDecision, CorsRequest};
use super::{CorsRule, CorsViolation, validate};
use crate::{Error, Result};

/// A bucket's CORS configuration: rules tried in order, the first that matches wins.
///
/// ```
/// use http::Method;
/// use sos_acl::{CorsConfiguration, CorsRequest, CorsRule};
///
/// let cors = CorsConfiguration::new()
///     .with_rule(
///         CorsRule::new()
///             .with_allowed_origin("https://app.example.com")
///             .with_allowed_methods([Method::GET, Method::PUT])
///             .with_allowed_header("*"),
///     )
///     .build()?; // checks the S3 limits
///
/// let xml = cors.to_xml();
/// assert_eq!(CorsConfiguration::from_xml(&xml)?, cors);
///
/// let preflight = CorsRequest::preflight("https://app.example.com", "PUT")
///     .with_request_headers("Content-Type, x-amz-date");
/// let decision = cors.evaluate(&preflight);
/// let headers = decision.headers();
/// assert_eq!(headers["access-control-allow-origin"], "https://app.example.com");
/// assert_eq!(headers["access-control-allow-methods"], "GET, PUT");
/// assert_eq!(headers["access-control-allow-headers"], "content-type, x-amz-date");
/// # Ok::<(), sos_acl::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CorsConfiguration {
    /// The rules, in order.
    #[serde(rename = "CORSRules", default)]
    pub rules: Vec<CorsRule>,
}

impl CorsConfiguration {
    /// A configuration without rules; add at least one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a rule at the end.
    #[must_use]
    pub fn with_rule(mut self, rule: CorsRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Adds rules at the end.
    #[must_use]
    pub fn with_rules(mut self, rules: impl IntoIterator<Item = CorsRule>) -> Self {
        self.rules.extend(rules);
        self
    }

    /// Checks the configuration against the S3 rules and returns it.
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    pub fn build(self) -> Result<Self> {
        self.validate()?;
        Ok(self)
    }

    /// Checks the configuration against the S3 rules: 1 to 100 rules, a document of at most
    /// 64 KB, and in each rule at least one origin and one method, only `GET`, `PUT`,
    /// `POST`, `DELETE`, `HEAD`, at most one `*` per origin or allowed-header pattern, no `*`
    /// in an expose header, an `<ID>` of at most 255 characters.
    ///
    /// # Errors
    /// [`Error::InvalidCorsConfiguration`] with one [`CorsViolation`] per problem, each
    /// naming its rule.
    pub fn validate(&self) -> Result<()> {
        let violations = self.violations();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidCorsConfiguration(violations))
        }
    }

    /// What [`validate`](Self::validate) finds wrong, as a list (empty when valid).
    pub fn violations(&self) -> Vec<CorsViolation> {
        validate::violations(self)
    }

    /// Parses a `CORSConfiguration` document (the body of `GET ?cors`). Only the structure
    /// is checked here; call [`validate`](Self::validate) for the S3 limits. Origins, methods
    /// and headers keep their order and repetitions.
    ///
    /// # Errors
    /// [`Error::MalformedXml`], [`Error::UnexpectedRoot`], [`Error::DuplicateElement`] (two
    /// `ID` or `MaxAgeSeconds` in a rule) and [`Error::InvalidValue`] (a `MaxAgeSeconds`
    /// that is not a number, an `AllowedMethod` that is not an HTTP method token), with the
    /// element's path and byte offset.
    pub fn from_xml(xml: impl AsRef<[u8]>) -> Result<Self> {
        super::xml::parse(xml.as_ref())
    }

    /// The XML document `PUT ?cors` takes (S3 also wants a `Content-MD5` header of it).
    pub fn to_xml(&self) -> String {
        super::xml::write(self)
    }

    /// Evaluates a request as S3 does: the first rule whose origins, methods and (for a
    /// preflight) allowed headers all match wins; see [`CorsDecision`] for the answer.
    pub fn evaluate<'a>(&'a self, request: &CorsRequest<'a>) -> CorsDecision<'a> {
        evaluate::evaluate(self, request)
    }
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;
    use crate::CorsViolationKind;

    #[test]
    fn validation_names_each_broken_rule() {
        let config = CorsConfiguration::new()
            .with_rule(
                CorsRule::new()
                    .with_allowed_origin("*")
                    .with_allowed_method(Method::GET),
            )
            .with_rule(
                CorsRule::new()
                    .with_id("bad")
                    .with_allowed_origin("http://*.*.example.com")
                    .with_allowed_method(Method::PATCH)
                    .with_allowed_header("x-*-*")
                    .with_expose_header("x-amz-*"),
            )
            .with_rule(CorsRule::new().with_id("x".repeat(256)));
        let v = config.violations();
        let kinds: Vec<_> = v.iter().map(|v| (v.rule, &v.kind)).collect();
        assert_eq!(
            kinds,
            [
                (
                    Some(1),
                    &CorsViolationKind::UnsupportedMethod {
                        method: "PATCH".into()
                    }
                ),
                (
                    Some(1),
                    &CorsViolationKind::TooManyWildcards {
                        element: "AllowedOrigin",
                        value: "http://*.*.example.com".into()
                    }
                ),
                (
                    Some(1),
                    &CorsViolationKind::TooManyWildcards {
                        element: "AllowedHeader",
                        value: "x-*-*".into()
                    }
                ),
                (
                    Some(1),
                    &CorsViolationKind::WildcardExposeHeader {
                        value: "x-amz-*".into()
                    }
                ),
                (Some(2), &CorsViolationKind::IdTooLong { length: 256 }),
                (Some(2), &CorsViolationKind::MissingAllowedOrigin),
                (Some(2), &CorsViolationKind::MissingAllowedMethod),
            ]
        );
        assert_eq!(
            v[0].to_string(),
            "rule 2 (ID `bad`): AllowedMethod `PATCH` is not one of GET, PUT, POST, DELETE, HEAD"
        );
        let err = config.clone().build().unwrap_err();
        assert!(matches!(&err, Error::InvalidCorsConfiguration(list) if list.len() == 7));
        assert!(err.to_string().contains("): no AllowedOrigin"), "{err}");
    }

    #[test]
    fn max_age_and_empty_values() {
        let config = CorsConfiguration::new()
            .with_rule(
                CorsRule::new()
                    .with_allowed_origin("*")
                    .with_allowed_method(Method::GET)
                    .with_max_age_seconds(i32::MAX as u32),
            )
            .with_rule(
                CorsRule::new()
                    .with_allowed_origin(" ")
                    .with_allowed_method(Method::GET)
                    .with_allowed_header("")
                    .with_max_age_seconds(u32::MAX),
            );
        let kinds: Vec<_> = config
            .violations()
            .into_iter()
            .map(|v| (v.rule, v.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (
                    Some(1),
                    CorsViolationKind::MaxAgeTooLarge { seconds: u32::MAX }
                ),
                (
                    Some(1),
                    CorsViolationKind::EmptyValue {
                        element: "AllowedOrigin"
                    }
                ),
                (
                    Some(1),
                    CorsViolationKind::EmptyValue {
                        element: "AllowedHeader"
                    }
                ),
            ]
        );
    }

    #[test]
    fn whole_configuration_limits() {
        assert_eq!(
            CorsConfiguration::new().violations()[0].kind,
            CorsViolationKind::NoRules
        );
        let rule = CorsRule::new()
            .with_allowed_origin("*")
            .with_allowed_method(Method::GET);
        let many = CorsConfiguration::new().with_rules(vec![rule.clone(); 101]);
        assert_eq!(
            many.violations()[0].kind,
            CorsViolationKind::TooManyRules { count: 101 }
        );
        assert!(
            CorsConfiguration::new()
                .with_rules(vec![rule.clone(); 100])
                .validate()
                .is_ok()
        );
        let big = CorsConfiguration::new()
            .with_rule(rule.with_allowed_headers((0..2000).map(|i| format!("x-header-{i:05}"))));
        let v = big.violations();
        assert!(
            matches!(v[0].kind, CorsViolationKind::TooLarge { bytes } if bytes > 65536),
            "{v:?}"
        );
        assert_eq!(v[0].rule, None);
    }
}
