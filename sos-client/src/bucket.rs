//! Buckets: create, delete, head, list, location, ACL, CORS.

use std::time::SystemTime;

use http::Method;
use sos_acl::{AccessControlPolicy, CannedAcl, CorsConfiguration, X_AMZ_ACL};

use crate::client::{Client, Operation};
use crate::object::parse_iso8601;
use crate::xml::Element;
use crate::{ErrorCode, Result};

/// A bucket in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BucketSummary {
    /// The name.
    pub name: String,
    /// When it was created.
    pub creation_date: Option<SystemTime>,
}

/// A bucket creation. Made by [`Client::create_bucket`].
#[derive(Debug)]
#[must_use = "nothing is sent until `send` is awaited"]
pub struct CreateBucket<'a> {
    client: &'a Client,
    bucket: &'a str,
    location: Option<String>,
    acl: Option<CannedAcl>,
}

impl CreateBucket<'_> {
    /// The location constraint (default: the endpoint's region, left out for `us-east-1`
    /// as S3 wants).
    pub fn location(mut self, region: impl Into<String>) -> Self {
        self.location = Some(region.into());
        self
    }

    /// A canned ACL for the bucket.
    pub fn acl(mut self, acl: CannedAcl) -> Self {
        self.acl = Some(acl);
        self
    }

    /// Sends it.
    ///
    /// # Errors
    /// [`Error::InvalidBucketName`](crate::Error::InvalidBucketName) before sending; `BucketAlreadyExists`,
    /// `BucketAlreadyOwnedByYou`, transport.
    pub async fn send(self) -> Result<()> {
        // A new bucket's name follows today's rules; requests to existing buckets, the
        // older ones (see `sos_presign::Endpoint::object_url`).
        sos_presign::check_bucket_name(self.bucket)?;
        let region = self
            .location
            .unwrap_or_else(|| self.client.endpoint().region().to_owned());
        let mut op = Operation::new("CreateBucket", Method::PUT).bucket(self.bucket);
        if region != "us-east-1" && !region.is_empty() {
            let mut xml = String::from(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
            );
            crate::xml::element(&mut xml, "LocationConstraint", &region);
            xml.push_str("</CreateBucketConfiguration>");
            op = op.xml_body(xml);
        }
        if let Some(acl) = self.acl {
            op.headers.insert(X_AMZ_ACL, acl.header_value());
        }
        self.client.send(op).await?;
        Ok(())
    }
}

impl Client {
    /// Creates a bucket. The name is checked against the S3 rules before any request.
    pub fn create_bucket<'a>(&'a self, bucket: &'a str) -> CreateBucket<'a> {
        CreateBucket {
            client: self,
            bucket,
            location: None,
            acl: None,
        }
    }

    /// Deletes an empty bucket.
    ///
    /// # Errors
    /// `BucketNotEmpty`, `NoSuchBucket`, transport.
    pub async fn delete_bucket(&self, bucket: &str) -> Result<()> {
        self.send(Operation::new("DeleteBucket", Method::DELETE).bucket(bucket))
            .await?;
        Ok(())
    }

    /// Checks that a bucket exists and is accessible; returns its region when the server
    /// says (`x-amz-bucket-region`).
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied` (from the status: HEAD answers have no body).
    pub async fn head_bucket(&self, bucket: &str) -> Result<Option<String>> {
        let response = self
            .send(Operation::new("HeadBucket", Method::HEAD).bucket(bucket))
            .await?;
        Ok(response
            .headers()
            .get("x-amz-bucket-region")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned))
    }

    /// Whether a bucket exists (and is yours or readable).
    ///
    /// # Errors
    /// Errors other than `NoSuchBucket`.
    pub async fn bucket_exists(&self, bucket: &str) -> Result<bool> {
        match self.head_bucket(bucket).await {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some(&ErrorCode::NoSuchBucket) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The buckets of the account.
    ///
    /// # Errors
    /// `AccessDenied`, `SignatureDoesNotMatch`, transport.
    pub async fn list_buckets(&self) -> Result<Vec<BucketSummary>> {
        let doc = self
            .send_xml(Operation::new("ListBuckets", Method::GET))
            .await?;
        parse_buckets(&doc)
    }

    /// The bucket's location constraint (`None` for the default region).
    ///
    /// # Errors
    /// `NoSuchBucket`, transport.
    pub async fn bucket_location(&self, bucket: &str) -> Result<Option<String>> {
        let doc = self
            .send_xml(
                Operation::new("GetBucketLocation", Method::GET)
                    .bucket(bucket)
                    .sub_resource("location"),
            )
            .await?;
        Ok(parse_location(&doc))
    }

    /// The ACL of a bucket.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, transport.
    pub async fn get_bucket_acl(&self, bucket: &str) -> Result<AccessControlPolicy> {
        let op = Operation::new("GetBucketAcl", Method::GET)
            .bucket(bucket)
            .sub_resource("acl");
        let body = crate::client::read_xml_body(self.send(op).await?).await?;
        Ok(AccessControlPolicy::from_xml(&body)?)
    }

    /// Sets a full ACL on a bucket.
    ///
    /// # Errors
    /// More grants than S3 allows before sending ([`sos_acl::Error::TooManyGrants`]);
    /// `MalformedACLError`, `AccessDenied`, transport.
    pub async fn put_bucket_acl(&self, bucket: &str, acl: &AccessControlPolicy) -> Result<()> {
        acl.validate()?;
        let op = Operation::new("PutBucketAcl", Method::PUT)
            .bucket(bucket)
            .sub_resource("acl")
            .xml_body(acl.to_xml());
        self.send(op).await?;
        Ok(())
    }

    /// Sets a canned ACL on a bucket.
    ///
    /// # Errors
    /// `AccessDenied`, `NoSuchBucket`, transport.
    pub async fn set_bucket_acl(&self, bucket: &str, acl: CannedAcl) -> Result<()> {
        let op = Operation::new("PutBucketAcl", Method::PUT)
            .bucket(bucket)
            .sub_resource("acl")
            .header(X_AMZ_ACL, acl.header_value());
        self.send(op).await?;
        Ok(())
    }

    /// The CORS configuration of a bucket, `None` when it has none.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, a document that cannot be read, transport.
    pub async fn get_bucket_cors(&self, bucket: &str) -> Result<Option<CorsConfiguration>> {
        let op = Operation::new("GetBucketCors", Method::GET)
            .bucket(bucket)
            .sub_resource("cors");
        match self.send(op).await {
            Ok(response) => {
                let body = crate::client::read_xml_body(response).await?;
                Ok(Some(CorsConfiguration::from_xml(&body)?))
            }
            Err(e) if e.code() == Some(&ErrorCode::NoSuchCORSConfiguration) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sets the CORS configuration of a bucket (validated against the S3 rules first).
    ///
    /// # Errors
    /// An invalid configuration before sending; `MalformedXML`, `AccessDenied`, transport.
    pub async fn put_bucket_cors(&self, bucket: &str, cors: &CorsConfiguration) -> Result<()> {
        cors.validate()?;
        let op = Operation::new("PutBucketCors", Method::PUT)
            .bucket(bucket)
            .sub_resource("cors")
            .xml_body(cors.to_xml());
        self.send(op).await?;
        Ok(())
    }

    /// Removes the CORS configuration of a bucket.
    ///
    /// # Errors
    /// `NoSuchBucket`, `AccessDenied`, transport.
    pub async fn delete_bucket_cors(&self, bucket: &str) -> Result<()> {
        let op = Operation::new("DeleteBucketCors", Method::DELETE)
            .bucket(bucket)
            .sub_resource("cors");
        self.send(op).await?;
        Ok(())
    }
}

/// The buckets of a `ListAllMyBucketsResult`.
pub(crate) fn parse_buckets(doc: &Element) -> Result<Vec<BucketSummary>> {
    let Some(buckets) = doc.child("Buckets") else {
        return Ok(Vec::new());
    };
    buckets
        .children("Bucket")
        .map(|b| {
            Ok(BucketSummary {
                name: b.required("Name")?.to_owned(),
                creation_date: b.text_of("CreationDate").and_then(parse_iso8601),
            })
        })
        .collect()
}

/// The region of a `LocationConstraint` answer (`None`: the default region, an empty
/// element).
pub(crate) fn parse_location(doc: &Element) -> Option<String> {
    let text = doc.text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}
