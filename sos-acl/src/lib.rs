//! Typed S3 access control lists and CORS configurations for
//! [Exoscale SOS](https://www.exoscale.com/object-storage/) and every S3-compatible store:
//! XML in and out as S3 sends and accepts it, the ACL request headers, canned ACLs, CORS
//! validation against the S3 rules, and CORS evaluation as S3 does it.
//!
//! Sans-IO: no HTTP client, no async runtime; built on the [`http`] types.
//!
//! # Quick start
//! ```
//! use http::Method;
//! use sos_acl::{AccessControlPolicy, CannedAcl, CorsConfiguration, CorsRequest, CorsRule, Owner};
//!
//! // What does `x-amz-acl: public-read` give, and who may read?
//! let me = Owner::new("75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a");
//! let acl = CannedAcl::PublicRead.expand_for_object(&me, &me);
//! assert!(acl.readable_by_everyone() && !acl.writable_by_everyone());
//! let body = acl.to_xml(); // for PUT ?acl
//! assert_eq!(AccessControlPolicy::from_xml(&body)?, acl);
//!
//! // A CORS configuration, checked against the S3 limits, and a browser's preflight.
//! let cors = CorsConfiguration::new()
//!     .with_rule(
//!         CorsRule::new()
//!             .with_allowed_origin("https://*.example.com")
//!             .with_allowed_methods([Method::GET, Method::PUT])
//!             .with_allowed_header("*")
//!             .with_max_age_seconds(3600),
//!     )
//!     .build()?;
//! let decision = cors.evaluate(&CorsRequest::preflight("https://app.example.com", "PUT"));
//! assert_eq!(decision.status(), http::StatusCode::OK);
//! assert_eq!(decision.headers()["access-control-max-age"], "3600");
//! # Ok::<(), sos_acl::Error>(())
//! ```
//!
//! # Contents
//! - ACLs: [`AccessControlPolicy`] (an [`Owner`] and [`Grant`]s of a [`Permission`] to a
//!   [`Grantee`], maybe a [`Group`]), with XML in and out and the questions users ask
//!   ([`readable_by_everyone`](AccessControlPolicy::readable_by_everyone),
//!   [`grantees_with`](AccessControlPolicy::grantees_with),
//!   [`allows`](AccessControlPolicy::allows) for a [`Requester`]); [`CannedAcl`] and what it
//!   expands to; [`AclHeaders`], the `x-amz-acl` / `x-amz-grant-*` header form.
//! - CORS: [`CorsConfiguration`] of [`CorsRule`]s, with XML in and out, a builder,
//!   validation ([`CorsViolation`]) and evaluation of a [`CorsRequest`] into a
//!   [`CorsDecision`]: [`CorsAllowed`] with the response headers, or [`CorsDenied`] saying
//!   why.
//! - [`Error`], the one error type.
//!
//! The ACL and CORS configuration types also implement serde, in the JSON shape of the AWS
//! CLI and SDKs
//! (`{"CORSRules": [{"AllowedOrigins": …}]}`, `{"Owner": …, "Grants": […]}`), so
//! configurations written for `aws s3api put-bucket-cors` can be read as they are.

// The README's example is compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod acl;
mod cors;
mod error;
mod xml;

pub use acl::{
    AccessControlPolicy, AclHeaders, CannedAcl, Grant, Grantee, Group, Owner, Permission,
    Requester, X_AMZ_ACL,
};
pub use cors::{
    CorsAllowed, CorsConfiguration, CorsDecision, CorsDenied, CorsRequest, CorsRule, CorsViolation,
    CorsViolationKind, MAX_AGE_SECONDS, MAX_CONFIGURATION_BYTES, MAX_RULE_ID_LEN, MAX_RULES,
};
pub use error::{Error, Result};

/// The most grants an S3 access control list may hold.
pub const MAX_GRANTS: usize = 100;
pub use xml::{S3_NAMESPACE, XSI_NAMESPACE};
