//! `s3://bucket/key` arguments.

use crate::Failure;

/// A parsed `s3://BUCKET[/KEY]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Path {
    pub(crate) bucket: String,
    /// The key or prefix, possibly empty.
    pub(crate) key: String,
}

impl S3Path {
    pub(crate) fn parse(text: &str) -> Result<Self, Failure> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| Failure::Usage(format!("`{text}` is not an s3://BUCKET[/KEY] URI")))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Failure::Usage(format!("`{text}` names no bucket")));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }

    /// The key, which must not be empty.
    pub(crate) fn object_key(&self) -> Result<&str, Failure> {
        if self.key.is_empty() {
            Err(Failure::Usage(format!(
                "s3://{}/ needs a key: s3://{}/KEY",
                self.bucket, self.bucket
            )))
        } else {
            Ok(&self.key)
        }
    }

    /// No key given (`s3://bucket` or `s3://bucket/`).
    pub(crate) fn is_bucket(&self) -> bool {
        self.key.is_empty()
    }

    pub(crate) fn display(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let p = S3Path::parse("s3://b/dir/a b.txt").unwrap();
        assert_eq!((p.bucket.as_str(), p.key.as_str()), ("b", "dir/a b.txt"));
        assert!(S3Path::parse("s3://b").unwrap().is_bucket());
        assert!(S3Path::parse("b/k").is_err());
        assert!(S3Path::parse("s3:///k").is_err());
    }
}
