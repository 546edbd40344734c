//! ACLs and CORS configurations for the embedded server, which s3s-fs does not have.
//!
//! [`AclStore`] wraps an S3 service and keeps bucket and object ACLs (canned, from
//! `x-amz-acl`, or full documents) and bucket CORS configurations in memory, answering
//! `?acl` and `?cors` requests as S3 does; every other operation goes to the wrapped
//! service. It stores, it does not enforce: anonymous requests are still refused by
//! signature checking. Enough for the tour and for round trips; the RADOS Gateway is the
//! judge of enforcement.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};

/// The owner every resource of the embedded server has.
pub const OWNER_ID: &str = "sos-local-owner";

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// An S3 service with in-memory ACLs and CORS configurations.
pub(crate) struct AclStore<T> {
    inner: T,
    /// (bucket, key) → ACL; key `None` for the bucket's own.
    acls: Mutex<HashMap<(String, Option<String>), AccessControlPolicy>>,
    cors: Mutex<HashMap<String, CORSConfiguration>>,
}

impl<T> AclStore<T> {
    pub(crate) fn new(inner: T) -> Self {
        Self {
            inner,
            acls: Mutex::new(HashMap::new()),
            cors: Mutex::new(HashMap::new()),
        }
    }

    fn set_acl(&self, bucket: &str, key: Option<&str>, acl: AccessControlPolicy) {
        self.acls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((bucket.to_owned(), key.map(str::to_owned)), acl);
    }

    fn acl(&self, bucket: &str, key: Option<&str>) -> AccessControlPolicy {
        self.acls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(bucket.to_owned(), key.map(str::to_owned)))
            .cloned()
            .unwrap_or_else(|| canned("private"))
    }

    fn forget(&self, bucket: &str, key: Option<&str>) {
        self.acls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(bucket.to_owned(), key.map(str::to_owned)));
    }
}

fn owner() -> Owner {
    Owner {
        display_name: Some("sos".to_owned()),
        id: Some(OWNER_ID.to_owned()),
    }
}

fn grant(grantee: Grantee, permission: &'static str) -> Grant {
    Grant {
        grantee: Some(grantee),
        permission: Some(Permission::from_static(permission)),
    }
}

fn group(uri: &str) -> Grantee {
    Grantee {
        display_name: None,
        email_address: None,
        id: None,
        type_: Type::from_static(Type::GROUP),
        uri: Some(uri.to_owned()),
    }
}

/// What a canned ACL expands to, as S3 documents it.
fn canned(name: &str) -> AccessControlPolicy {
    let me = Grantee {
        display_name: Some("sos".to_owned()),
        email_address: None,
        id: Some(OWNER_ID.to_owned()),
        type_: Type::from_static(Type::CANONICAL_USER),
        uri: None,
    };
    let mut grants = vec![grant(me, Permission::FULL_CONTROL)];
    match name {
        "public-read" => grants.push(grant(group(ALL_USERS), Permission::READ)),
        "public-read-write" => {
            grants.push(grant(group(ALL_USERS), Permission::READ));
            grants.push(grant(group(ALL_USERS), Permission::WRITE));
        }
        "authenticated-read" => grants.push(grant(group(AUTHENTICATED_USERS), Permission::READ)),
        _ => {}
    }
    AccessControlPolicy {
        grants: Some(grants),
        owner: Some(owner()),
    }
}

/// The ACL a PUT ?acl asks for: the canned header, or the document.
fn requested(
    canned_acl: Option<&str>,
    policy: Option<AccessControlPolicy>,
) -> S3Result<AccessControlPolicy> {
    match (canned_acl, policy) {
        (Some(name), _) => Ok(canned(name)),
        (None, Some(mut policy)) => {
            policy.owner = Some(owner());
            Ok(policy)
        }
        (None, None) => Err(s3_error!(MalformedACLError, "no ACL given")),
    }
}

macro_rules! delegate {
    ($($name:ident($input:ident) -> $output:ident;)* { $($extra:tt)* }) => {
        #[async_trait::async_trait]
        impl<T: S3> S3 for AclStore<T> {
            $(
                async fn $name(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                    self.inner.$name(req).await
                }
            )*
            $($extra)*
        }
    };
}

delegate! {
    copy_object(CopyObjectInput) -> CopyObjectOutput;
    delete_objects(DeleteObjectsInput) -> DeleteObjectsOutput;
    get_bucket_location(GetBucketLocationInput) -> GetBucketLocationOutput;
    get_object(GetObjectInput) -> GetObjectOutput;
    head_bucket(HeadBucketInput) -> HeadBucketOutput;
    head_object(HeadObjectInput) -> HeadObjectOutput;
    list_buckets(ListBucketsInput) -> ListBucketsOutput;
    list_objects(ListObjectsInput) -> ListObjectsOutput;
    list_objects_v2(ListObjectsV2Input) -> ListObjectsV2Output;
    create_multipart_upload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput;
    upload_part(UploadPartInput) -> UploadPartOutput;
    upload_part_copy(UploadPartCopyInput) -> UploadPartCopyOutput;
    list_parts(ListPartsInput) -> ListPartsOutput;
    complete_multipart_upload(CompleteMultipartUploadInput) -> CompleteMultipartUploadOutput;
    abort_multipart_upload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput;
    {
        async fn create_bucket(
            &self,
            req: S3Request<CreateBucketInput>,
        ) -> S3Result<S3Response<CreateBucketOutput>> {
            let bucket = req.input.bucket.clone();
            let acl = req.input.acl.as_ref().map(|a| a.as_str().to_owned());
            let out = self.inner.create_bucket(req).await?;
            if let Some(acl) = acl {
                self.set_acl(&bucket, None, canned(&acl));
            }
            Ok(out)
        }

        async fn delete_bucket(
            &self,
            req: S3Request<DeleteBucketInput>,
        ) -> S3Result<S3Response<DeleteBucketOutput>> {
            let bucket = req.input.bucket.clone();
            let out = self.inner.delete_bucket(req).await?;
            self.acls
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|(b, _), _| *b != bucket);
            self.cors.lock().unwrap_or_else(PoisonError::into_inner).remove(&bucket);
            Ok(out)
        }

        async fn put_object(
            &self,
            req: S3Request<PutObjectInput>,
        ) -> S3Result<S3Response<PutObjectOutput>> {
            let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
            let acl = req.input.acl.as_ref().map(|a| a.as_str().to_owned());
            let out = self.inner.put_object(req).await?;
            match acl {
                Some(acl) => self.set_acl(&bucket, Some(&key), canned(&acl)),
                None => self.forget(&bucket, Some(&key)),
            }
            Ok(out)
        }

        async fn delete_object(
            &self,
            req: S3Request<DeleteObjectInput>,
        ) -> S3Result<S3Response<DeleteObjectOutput>> {
            let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
            let out = self.inner.delete_object(req).await?;
            self.forget(&bucket, Some(&key));
            Ok(out)
        }

        async fn get_object_acl(
            &self,
            req: S3Request<GetObjectAclInput>,
        ) -> S3Result<S3Response<GetObjectAclOutput>> {
            let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
            // The object must exist.
            let head = HeadObjectInput::builder()
                .bucket(bucket.clone())
                .key(key.clone())
                .build()
                .map_err(|_| s3_error!(InternalError))?;
            self.inner.head_object(req.map_input(|_| head)).await?;
            let acl = self.acl(&bucket, Some(&key));
            Ok(S3Response::new(GetObjectAclOutput {
                grants: acl.grants,
                owner: acl.owner,
                ..Default::default()
            }))
        }

        async fn put_object_acl(
            &self,
            req: S3Request<PutObjectAclInput>,
        ) -> S3Result<S3Response<PutObjectAclOutput>> {
            let input = req.input;
            let acl = requested(
                input.acl.as_ref().map(ObjectCannedACL::as_str),
                input.access_control_policy,
            )?;
            self.set_acl(&input.bucket, Some(&input.key), acl);
            Ok(S3Response::new(PutObjectAclOutput::default()))
        }

        async fn get_bucket_acl(
            &self,
            req: S3Request<GetBucketAclInput>,
        ) -> S3Result<S3Response<GetBucketAclOutput>> {
            let acl = self.acl(&req.input.bucket, None);
            Ok(S3Response::new(GetBucketAclOutput {
                grants: acl.grants,
                owner: acl.owner,
            }))
        }

        async fn put_bucket_acl(
            &self,
            req: S3Request<PutBucketAclInput>,
        ) -> S3Result<S3Response<PutBucketAclOutput>> {
            let input = req.input;
            let acl = requested(
                input.acl.as_ref().map(BucketCannedACL::as_str),
                input.access_control_policy,
            )?;
            self.set_acl(&input.bucket, None, acl);
            Ok(S3Response::new(PutBucketAclOutput::default()))
        }

        async fn get_bucket_cors(
            &self,
            req: S3Request<GetBucketCorsInput>,
        ) -> S3Result<S3Response<GetBucketCorsOutput>> {
            let cors = self
                .cors
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&req.input.bucket)
                .cloned()
                .ok_or_else(|| s3_error!(NoSuchCORSConfiguration))?;
            Ok(S3Response::new(GetBucketCorsOutput {
                cors_rules: Some(cors.cors_rules),
            }))
        }

        async fn put_bucket_cors(
            &self,
            req: S3Request<PutBucketCorsInput>,
        ) -> S3Result<S3Response<PutBucketCorsOutput>> {
            let input = req.input;
            self.cors
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(input.bucket, input.cors_configuration);
            Ok(S3Response::new(PutBucketCorsOutput::default()))
        }

        async fn delete_bucket_cors(
            &self,
            req: S3Request<DeleteBucketCorsInput>,
        ) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
            self.cors
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&req.input.bucket);
            Ok(S3Response::new(DeleteBucketCorsOutput::default()))
        }
    }
}
