//! Pre-signed S3 URLs (Signature V4 and V2) and browser POST upload policies for
//! [Exoscale SOS](https://www.exoscale.com/object-storage/) and every S3-compatible store.
//!
//! Sans-IO: pre-signing needs no network and no runtime. Give a backend a [`Presigner`] and it
//! hands out temporary access to private objects: downloads, uploads, deletes, parts of a
//! multipart upload, and HTML forms that upload straight from the browser.
//!
//! # Quick start
//! ```
//! use std::time::Duration;
//! use sos_auth::Credentials;
//! use sos_presign::{Endpoint, Presigner, Zone};
//!
//! let presigner = Presigner::new(Credentials::new("EXOabc", "secret"), Endpoint::zone(Zone::ChDk2));
//! let download = presigner.get_object("mybucket", "backup.tgz").expires_in(Duration::from_secs(600)).sign()?;
//! let upload = presigner.put_object("mybucket", "cloud-init/user-data").content_type("text/plain").sign()?;
//! assert_eq!(upload.headers["content-type"], "text/plain"); // the uploader must send it
//! # let _ = download;
//! # Ok::<(), sos_presign::Error>(())
//! ```
//!
//! # Contents
//! - [`Zone`], [`Endpoint`], [`Addressing`]: where the URL points.
//! - [`Presigner`], [`PresignRequest`], [`PresignedRequest`], [`SignatureVersion`]: URLs.
//! - [`PostPolicy`], [`PostForm`], [`KeyCondition`], [`SuccessAction`]: browser uploads.
//! - [`encode_key`], [`attachment`]: the encodings they use. [`Error`]: the one error type.

// The README's example is compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod content_disposition;
mod endpoint;
mod error;
mod key;
mod percent;
mod post_policy;
mod presigner;

pub use content_disposition::attachment;
pub use endpoint::{Addressing, Endpoint, Zone};
pub use error::{Error, Result};
pub use key::{check_bucket_name, encode_key};
pub use post_policy::{KeyCondition, PostForm, PostPolicy, SuccessAction};
pub use presigner::{PresignRequest, PresignedRequest, Presigner, SignatureVersion};
