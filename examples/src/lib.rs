//! The example programs of the sos workspace live in `src/bin`: `tour`, `sos` and
//! `sos-mount`. This library only holds the workspace README's examples, compiled and run as
//! doctests.

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct WorkspaceReadme;
