//! `s3://bucket/key` arguments.

use crate::Failure;

/// A parsed `s3://BUCKET[/KEY]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

    /// The key of one object: not empty, not ending with `/` (a folder), as s3cmd asks.
    pub(crate) fn file_key(&self, command: &str) -> Result<&str, Failure> {
        if self.key.is_empty() {
            Err(Failure::Usage(format!(
                "{command} {}: give an object, s3://{}/KEY (or a prefix with --recursive)",
                self.uri(),
                self.bucket
            )))
        } else if self.key.ends_with('/') {
            Err(Failure::Usage(format!(
                "{command} {}: this names a folder; use --recursive for what is under it",
                self.uri()
            )))
        } else {
            Ok(&self.key)
        }
    }

    /// Checks that no key is given (commands on buckets).
    pub(crate) fn bucket_only(&self, command: &str) -> Result<(), Failure> {
        if self.key.is_empty() {
            Ok(())
        } else {
            Err(Failure::Usage(format!(
                "{command} takes a bucket, s3://{}, not {}",
                self.bucket,
                self.uri()
            )))
        }
    }

    /// No key given (`s3://bucket` or `s3://bucket/`).
    pub(crate) fn is_bucket(&self) -> bool {
        self.key.is_empty()
    }

    /// `s3://bucket/key` of another key of the same bucket.
    pub(crate) fn display(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// `s3://bucket/key` (`s3://bucket/` for the bucket).
    pub(crate) fn uri(&self) -> String {
        self.display(&self.key)
    }

    /// The same bucket, another key.
    pub(crate) fn with_key(&self, key: impl Into<String>) -> Self {
        Self {
            bucket: self.bucket.clone(),
            key: key.into(),
        }
    }
}

/// Whether a command-line argument is an `s3://` URI (else a local path).
pub(crate) fn is_s3(text: &str) -> bool {
    text.starts_with("s3://")
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
        assert_eq!(S3Path::parse("s3://b").unwrap().uri(), "s3://b/");
        assert!(S3Path::parse("s3://b/d/").unwrap().file_key("get").is_err());
        assert!(S3Path::parse("s3://b").unwrap().file_key("get").is_err());
        assert!(
            S3Path::parse("s3://b/k")
                .unwrap()
                .bucket_only("mb")
                .is_err()
        );
    }
}
