//! The S3 limits on a CORS configuration.

use std::fmt;

use http::Method;

use super::CorsConfiguration;

/// At most this many rules.
pub const MAX_RULES: usize = 100;
/// The configuration document is at most 64 KB.
pub const MAX_CONFIGURATION_BYTES: usize = 64 * 1024;
/// A rule's `<ID>` is at most this many characters.
pub const MAX_RULE_ID_LEN: usize = 255;
/// The largest `<MaxAgeSeconds>`: S3's field is a 32-bit signed integer.
pub const MAX_AGE_SECONDS: u32 = i32::MAX as u32;

/// One thing S3 would refuse in a configuration, and which rule it is in.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CorsViolation {
    /// The rule's position, 0-based (`None` for a problem of the whole configuration).
    pub rule: Option<usize>,
    /// The rule's `<ID>`, if it has one.
    pub rule_id: Option<String>,
    /// What is wrong.
    pub kind: CorsViolationKind,
}

/// What is wrong, for [`CorsViolation`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorsViolationKind {
    /// No `<CORSRule>` at all (S3 answers `MalformedXML`).
    NoRules,
    /// More than [`MAX_RULES`] rules.
    TooManyRules {
        /// How many there are.
        count: usize,
    },
    /// The document is larger than [`MAX_CONFIGURATION_BYTES`].
    TooLarge {
        /// Its size in bytes, as [`CorsConfiguration::to_xml`] writes it.
        bytes: usize,
    },
    /// A rule without `<AllowedOrigin>`.
    MissingAllowedOrigin,
    /// A rule without `<AllowedMethod>`.
    MissingAllowedMethod,
    /// An `<AllowedMethod>` other than `GET`, `PUT`, `POST`, `DELETE`, `HEAD`.
    UnsupportedMethod {
        /// The method.
        method: String,
    },
    /// An `<AllowedOrigin>` or `<AllowedHeader>` with more than one `*`.
    TooManyWildcards {
        /// `AllowedOrigin` or `AllowedHeader`.
        element: &'static str,
        /// The pattern.
        value: String,
    },
    /// An `<ExposeHeader>` with a `*`, which S3 does not support.
    WildcardExposeHeader {
        /// The header.
        value: String,
    },
    /// An `<ID>` longer than [`MAX_RULE_ID_LEN`] characters.
    IdTooLong {
        /// Its length in characters.
        length: usize,
    },
    /// A `<MaxAgeSeconds>` over [`MAX_AGE_SECONDS`] (S3 takes a 32-bit signed integer; the
    /// RADOS Gateway drops 4294967295 silently).
    MaxAgeTooLarge {
        /// The value.
        seconds: u32,
    },
    /// An empty `<AllowedOrigin/>`, `<AllowedHeader/>` or `<ExposeHeader/>` (the RADOS
    /// Gateway answers `MalformedXML`, Garage `InvalidRequest`).
    EmptyValue {
        /// `AllowedOrigin`, `AllowedHeader` or `ExposeHeader`.
        element: &'static str,
    },
}

impl fmt::Display for CorsViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.rule, &self.rule_id) {
            (Some(i), Some(id)) => write!(f, "rule {} (ID `{id}`): ", i + 1)?,
            (Some(i), None) => write!(f, "rule {}: ", i + 1)?,
            (None, _) => {}
        }
        match &self.kind {
            CorsViolationKind::NoRules => f.write_str("the configuration has no CORSRule"),
            CorsViolationKind::TooManyRules { count } => {
                write!(f, "{count} rules, more than the {MAX_RULES} allowed")
            }
            CorsViolationKind::TooLarge { bytes } => write!(
                f,
                "the document is {bytes} bytes, more than the {MAX_CONFIGURATION_BYTES} allowed"
            ),
            CorsViolationKind::MissingAllowedOrigin => f.write_str("no AllowedOrigin"),
            CorsViolationKind::MissingAllowedMethod => f.write_str("no AllowedMethod"),
            CorsViolationKind::UnsupportedMethod { method } => write!(
                f,
                "AllowedMethod `{method}` is not one of GET, PUT, POST, DELETE, HEAD"
            ),
            CorsViolationKind::TooManyWildcards { element, value } => {
                write!(f, "{element} `{value}` has more than one `*`")
            }
            CorsViolationKind::WildcardExposeHeader { value } => {
                write!(
                    f,
                    "ExposeHeader `{value}` contains `*`, which S3 does not support"
                )
            }
            CorsViolationKind::IdTooLong { length } => write!(
                f,
                "ID is {length} characters, more than the {MAX_RULE_ID_LEN} allowed"
            ),
            CorsViolationKind::MaxAgeTooLarge { seconds } => write!(
                f,
                "MaxAgeSeconds {seconds} is more than the {MAX_AGE_SECONDS} allowed"
            ),
            CorsViolationKind::EmptyValue { element } => write!(f, "an empty {element}"),
        }
    }
}

const S3_METHODS: [Method; 5] = [
    Method::GET,
    Method::PUT,
    Method::POST,
    Method::DELETE,
    Method::HEAD,
];

pub(super) fn violations(config: &CorsConfiguration) -> Vec<CorsViolation> {
    let mut out = Vec::new();
    let whole = |kind| CorsViolation {
        rule: None,
        rule_id: None,
        kind,
    };
    if config.rules.is_empty() {
        out.push(whole(CorsViolationKind::NoRules));
    }
    if config.rules.len() > MAX_RULES {
        out.push(whole(CorsViolationKind::TooManyRules {
            count: config.rules.len(),
        }));
    }
    let bytes = config.to_xml().len();
    if bytes > MAX_CONFIGURATION_BYTES {
        out.push(whole(CorsViolationKind::TooLarge { bytes }));
    }
    for (i, rule) in config.rules.iter().enumerate() {
        let mut push = |kind| {
            out.push(CorsViolation {
                rule: Some(i),
                rule_id: rule.id.clone(),
                kind,
            });
        };
        if let Some(id) = &rule.id {
            let length = id.chars().count();
            if length > MAX_RULE_ID_LEN {
                push(CorsViolationKind::IdTooLong { length });
            }
        }
        if rule.allowed_origins.is_empty() {
            push(CorsViolationKind::MissingAllowedOrigin);
        }
        if rule.allowed_methods.is_empty() {
            push(CorsViolationKind::MissingAllowedMethod);
        }
        for m in &rule.allowed_methods {
            if !S3_METHODS.contains(m) {
                push(CorsViolationKind::UnsupportedMethod {
                    method: m.to_string(),
                });
            }
        }
        for (element, patterns) in [
            ("AllowedOrigin", &rule.allowed_origins),
            ("AllowedHeader", &rule.allowed_headers),
        ] {
            for p in patterns {
                if p.matches('*').count() > 1 {
                    push(CorsViolationKind::TooManyWildcards {
                        element,
                        value: p.clone(),
                    });
                }
            }
        }
        for h in &rule.expose_headers {
            if h.contains('*') {
                push(CorsViolationKind::WildcardExposeHeader { value: h.clone() });
            }
        }
        if let Some(seconds) = rule.max_age_seconds
            && seconds > MAX_AGE_SECONDS
        {
            push(CorsViolationKind::MaxAgeTooLarge { seconds });
        }
        for (element, values) in [
            ("AllowedOrigin", &rule.allowed_origins),
            ("AllowedHeader", &rule.allowed_headers),
            ("ExposeHeader", &rule.expose_headers),
        ] {
            if values.iter().any(|v| v.trim().is_empty()) {
                push(CorsViolationKind::EmptyValue { element });
            }
        }
    }
    out
}
