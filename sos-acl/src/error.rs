//! The crate's one error type.

use crate::cors::CorsViolation;

/// Everything that can go wrong in sos-acl.
///
/// Parse errors say what was wrong and where: the element path
/// (`AccessControlPolicy/AccessControlList/Grant[2]/Permission`, 1-based indices) and the byte
/// offset in the document, or the header and the position of the item in its list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The body is not well-formed XML (or not UTF-8).
    #[error("malformed XML at byte {offset}: {message}")]
    MalformedXml {
        /// Byte offset of the problem in the document.
        offset: u64,
        /// What the XML reader said.
        message: String,
    },
    /// The document's root element is not the one expected.
    #[error("expected a <{expected}> document, found <{found}>")]
    UnexpectedRoot {
        /// `AccessControlPolicy` or `CORSConfiguration`.
        expected: &'static str,
        /// The local name of the root element found.
        found: String,
    },
    /// A required element is missing.
    #[error("missing <{element}> in {path} (byte {offset})")]
    MissingElement {
        /// The element that should hold it.
        path: String,
        /// The missing element's name.
        element: &'static str,
        /// Byte offset of the holding element.
        offset: u64,
    },
    /// An element that may appear once appears more than once.
    #[error("<{element}> appears more than once in {path} (byte {offset})")]
    DuplicateElement {
        /// The element that holds the duplicates.
        path: String,
        /// The duplicated element's name.
        element: &'static str,
        /// Byte offset of the second occurrence.
        offset: u64,
    },
    /// A `<Permission>` (or a permission named by a header) that S3 does not define.
    #[error("unknown permission `{value}` at {path}")]
    UnknownPermission {
        /// The value found.
        value: String,
        /// Where: an element path with its byte offset, or a header name.
        path: String,
    },
    /// A `<Grantee>` whose `xsi:type` is not `CanonicalUser`, `AmazonCustomerByEmail` or
    /// `Group`.
    #[error("unknown grantee type `{value}` at {path}")]
    UnknownGranteeType {
        /// The type found.
        value: String,
        /// Where: the element path with its byte offset.
        path: String,
    },
    /// A `<Grantee>` that cannot be read: no type and no way to infer it, or the element
    /// its type needs (`ID`, `EmailAddress`, `URI`) is missing.
    #[error("malformed grantee at {path}: {reason}")]
    MalformedGrantee {
        /// Where: the element path with its byte offset.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// An element whose text is not a valid value (`MaxAgeSeconds` not a number, an
    /// `AllowedMethod` that is not an HTTP method token, ...).
    #[error("invalid value `{value}` at {path}: {reason}")]
    InvalidValue {
        /// The value found.
        value: String,
        /// Where: the element path with its byte offset.
        path: String,
        /// What was expected.
        reason: &'static str,
    },
    /// An `x-amz-acl` value that is not one of the canned ACLs.
    #[error("unknown canned ACL `{0}`")]
    UnknownCannedAcl(String),
    /// An `x-amz-grant-*` header that cannot be read.
    #[error("invalid {header} header: {reason}")]
    InvalidGrantHeader {
        /// The header name.
        header: String,
        /// What is wrong, and at which item of the list.
        reason: String,
    },
    /// A request carries both `x-amz-acl` and `x-amz-grant-*` headers, which S3 refuses.
    #[error("a request cannot carry both x-amz-acl and x-amz-grant-* headers")]
    ConflictingAclHeaders,
    /// A value that cannot be written in a header (a control character, a `"` inside an
    /// id, ...).
    #[error("cannot write {header}: {reason}")]
    InvalidHeaderValue {
        /// The header name.
        header: String,
        /// What is wrong.
        reason: String,
    },
    /// An ACL with more grants than S3 allows ([`MAX_GRANTS`](crate::MAX_GRANTS)).
    #[error("an ACL holds at most {max} grants; this one has {count}", max = crate::MAX_GRANTS)]
    TooManyGrants {
        /// How many grants the policy has.
        count: usize,
    },
    /// A CORS configuration that S3 would refuse; one [`CorsViolation`] per broken rule.
    #[error("invalid CORS configuration: {}", join_violations(.0))]
    InvalidCorsConfiguration(Vec<CorsViolation>),
}

fn join_violations(violations: &[CorsViolation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
