//! CORS configurations: the types and their builder, the XML document, validation against
//! the S3 rules, and evaluation of requests as S3 does it.

mod configuration;
mod evaluate;
mod pattern;
mod rule;
mod validate;
mod xml;

pub use configuration::CorsConfiguration;
pub use evaluate::{CorsAllowed, CorsDecision, CorsDenied, CorsRequest};
pub use rule::CorsRule;
pub use validate::{
    CorsViolation, CorsViolationKind, MAX_AGE_SECONDS, MAX_CONFIGURATION_BYTES, MAX_RULE_ID_LEN,
    MAX_RULES,
};
