//! The example programs, run as a user runs them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod tour;
