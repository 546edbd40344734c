//! Access control lists: the types, their XML body and header forms, canned ACLs and the
//! questions users ask of them.
//!
//! The SOS rules, which are also S3's: ACLs are not inherited. A bucket's ACL says who may
//! list the bucket and write objects into it; an object's own ACL alone says who may read
//! it, and an object is private unless its ACL says otherwise, whatever its bucket's ACL.

mod canned;
mod grantee;
mod headers;
mod permission;
mod policy;
mod xml;

pub use canned::{CannedAcl, X_AMZ_ACL};
pub use grantee::{Grantee, Group};
pub use headers::AclHeaders;
pub use permission::Permission;
pub use policy::{AccessControlPolicy, Grant, Owner, Requester};
