//! Browser POST uploads: a policy document, its signature, and the form fields.
//!
//! The browser posts a `multipart/form-data` form straight to the bucket. The form carries a
//! base64 policy (what may be uploaded, until when) signed with the secret; the server checks
//! the signature and every condition. See
//! [the S3 documentation](https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html).

use std::time::{Duration, SystemTime};

use base64::Engine;
use sos_auth::AmzDate;

use crate::{Error, Presigner, Result, SignatureVersion};

/// Which object keys the form may create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCondition {
    /// Exactly this key.
    Exact(String),
    /// Any key starting with this prefix; the form's `key` field is `prefix${filename}`, so the
    /// browser's file name completes it.
    StartsWith(String),
}

/// What the browser is sent after a successful upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuccessAction {
    /// This status: 200, 201 (with an XML body) or 204 (the default).
    Status(u16),
    /// A redirect to this URL.
    Redirect(String),
}

/// A POST policy being built.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use sos_auth::Credentials;
/// use sos_presign::{Endpoint, KeyCondition, PostPolicy, Presigner, Zone};
///
/// let presigner = Presigner::new(Credentials::new("EXOabc", "secret"), Endpoint::zone(Zone::ChGva2));
/// let policy = PostPolicy::new("uploads-bucket", KeyCondition::StartsWith("user-42/".into()))
///     .expires_in(Duration::from_secs(600))
///     .content_length_range(1, 10 * 1024 * 1024)
///     .content_type_starts_with("image/")
///     .acl("private")
///     .success_action_status(201);
/// let form = presigner.post_form_at(&policy, UNIX_EPOCH + Duration::from_secs(1_767_323_045))?;
/// assert_eq!(form.url, "https://sos-ch-gva-2.exo.io/uploads-bucket");
/// assert_eq!(form.field("key"), Some("user-42/${filename}"));
/// assert_eq!(form.field("x-amz-algorithm"), Some("AWS4-HMAC-SHA256"));
/// // The page sets the file's type (`image/png`, ...): the policy only knows its prefix.
/// assert_eq!(form.field("Content-Type"), None);
/// assert_eq!(form.fill_in, [("Content-Type".to_owned(), "image/".to_owned())]);
/// assert!(form.html().contains(r#"<input type="file" name="file" onchange="#));
/// # Ok::<(), sos_presign::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PostPolicy {
    bucket: String,
    key: KeyCondition,
    expires_in: Duration,
    content_length: Option<(u64, u64)>,
    acl: Option<String>,
    success: Option<SuccessAction>,
    content_type: Option<KeyCondition>,
    metadata: Vec<(String, String)>,
}

impl PostPolicy {
    /// A policy for uploads to `bucket` under `key`, valid one hour.
    pub fn new(bucket: impl Into<String>, key: KeyCondition) -> Self {
        Self {
            bucket: bucket.into(),
            key,
            expires_in: Duration::from_secs(3600),
            content_length: None,
            acl: None,
            success: None,
            content_type: None,
            metadata: Vec::new(),
        }
    }

    /// How long the form may be used.
    #[must_use]
    pub fn expires_in(mut self, duration: Duration) -> Self {
        self.expires_in = duration;
        self
    }

    /// The file must be `min ..= max` bytes.
    #[must_use]
    pub fn content_length_range(mut self, min: u64, max: u64) -> Self {
        self.content_length = Some((min, max));
        self
    }

    /// The object gets this canned ACL.
    #[must_use]
    pub fn acl(mut self, acl: impl Into<String>) -> Self {
        self.acl = Some(acl.into());
        self
    }

    /// Answer a successful upload with this status (200, 201 or 204).
    #[must_use]
    pub fn success_action_status(mut self, status: u16) -> Self {
        self.success = Some(SuccessAction::Status(status));
        self
    }

    /// Redirect the browser here after a successful upload.
    #[must_use]
    pub fn success_action_redirect(mut self, url: impl Into<String>) -> Self {
        self.success = Some(SuccessAction::Redirect(url.into()));
        self
    }

    /// The `Content-Type` field must be exactly this.
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(KeyCondition::Exact(content_type.into()));
        self
    }

    /// The `Content-Type` field must start with this (`image/`). The server stores that
    /// field as the object's type, so the page sets it from the file (`file.type` in
    /// JavaScript): the form lists it in [`PostForm::fill_in`], not in its fields, and
    /// [`PostForm::html`] sets it when a file is chosen.
    #[must_use]
    pub fn content_type_starts_with(mut self, prefix: impl Into<String>) -> Self {
        self.content_type = Some(KeyCondition::StartsWith(prefix.into()));
        self
    }

    /// The object gets this user metadata (`x-amz-meta-{name}`).
    #[must_use]
    pub fn metadata(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .push((format!("x-amz-meta-{}", name.into()), value.into()));
        self
    }
}

/// The signed form: where to post it and its fields, in order (the file goes last).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PostForm {
    /// The form's `action`: the bucket's URL.
    pub url: String,
    /// The fields, in the order they must be sent, before the `file` field.
    pub fields: Vec<(String, String)>,
    /// Fields the page fills in, each with the prefix its value must start with: the
    /// `Content-Type` of [`PostPolicy::content_type_starts_with`] (the file's own type, e.g.
    /// `image/png`). Sent after [`fields`](Self::fields), before the file.
    pub fill_in: Vec<(String, String)>,
    /// The policy document (JSON) that was signed.
    pub policy: String,
    /// When the form stops working.
    pub expires_at: SystemTime,
}

impl PostForm {
    /// The value of a field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// An HTML `<form>` with the fields hidden, a file input and a submit button.
    pub fn html(&self) -> String {
        let mut out = format!(
            "<form action=\"{}\" method=\"post\" enctype=\"multipart/form-data\">\n",
            escape_html(&self.url)
        );
        for (name, value) in self.fields.iter().chain(&self.fill_in) {
            out.push_str(&format!(
                "  <input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                escape_html(name),
                escape_html(value)
            ));
        }
        if self.fill_in.iter().any(|(name, _)| name == "Content-Type") {
            // The file's own type goes into the Content-Type field as it is chosen.
            out.push_str(
                "  <input type=\"file\" name=\"file\" onchange=\"this.form.elements['Content-Type'].value = this.files[0] ? this.files[0].type : ''\">\n",
            );
        } else {
            out.push_str("  <input type=\"file\" name=\"file\">\n");
        }
        out.push_str("  <input type=\"submit\" value=\"Upload\">\n</form>\n");
        out
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The policy document, written as JSON directly (one string, no value tree).
struct Conditions {
    json: String,
}

impl Conditions {
    fn new() -> Self {
        Self {
            json: String::with_capacity(512),
        }
    }

    fn separator(&mut self) {
        if !self.json.is_empty() {
            self.json.push(',');
        }
    }

    /// `{"name":"value"}`
    fn eq(&mut self, name: &str, value: &str) {
        self.separator();
        self.json.push('{');
        json_string(name, &mut self.json);
        self.json.push(':');
        json_string(value, &mut self.json);
        self.json.push('}');
    }

    /// `["starts-with","$field","prefix"]`
    fn starts_with(&mut self, field: &str, prefix: &str) {
        self.separator();
        self.json.push_str("[\"starts-with\",");
        json_string(field, &mut self.json);
        self.json.push(',');
        json_string(prefix, &mut self.json);
        self.json.push(']');
    }

    /// `["name",min,max]`
    fn range(&mut self, name: &str, min: u64, max: u64) {
        self.separator();
        self.json.push('[');
        json_string(name, &mut self.json);
        self.json.push_str(&format!(",{min},{max}]"));
    }

    /// `{"expiration":"...","conditions":[...]}`
    fn document(&self, expires_at: SystemTime) -> String {
        format!(
            "{{\"expiration\":\"{}\",\"conditions\":[{}]}}",
            iso8601(expires_at),
            self.json
        )
    }
}

/// A JSON string literal: quotes, backslashes and control characters escaped (RFC 8259).
fn json_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `2026-01-02T03:04:05.000Z`, the policy's expiration format.
fn iso8601(time: SystemTime) -> String {
    let d = AmzDate::new(time);
    let s = d.as_str();
    format!(
        "{}-{}-{}T{}:{}:{}.000Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    )
}

impl Presigner {
    /// [`post_form_at`](Self::post_form_at) with the system clock.
    ///
    /// # Errors
    /// As `post_form_at`.
    pub fn post_form(&self, policy: &PostPolicy) -> Result<PostForm> {
        self.post_form_at(policy, SystemTime::now())
    }

    /// Builds and signs the policy (V4 or V2, as this pre-signer signs) as of `time`.
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`] for an empty range (`min > max`), a zero expiry or a success
    /// status other than 200, 201, 204; [`Error::InvalidBucket`].
    pub fn post_form_at(&self, policy: &PostPolicy, time: SystemTime) -> Result<PostForm> {
        if policy.expires_in.is_zero() {
            return Err(Error::InvalidPolicy(
                "the expiry must be at least one second".to_owned(),
            ));
        }
        if let Some((min, max)) = policy.content_length
            && min > max
        {
            return Err(Error::InvalidPolicy(format!(
                "content-length-range {min} > {max}"
            )));
        }
        if let Some(SuccessAction::Status(s)) = policy.success
            && ![200, 201, 204].contains(&s)
        {
            return Err(Error::InvalidPolicy(format!(
                "success_action_status must be 200, 201 or 204, not {s}"
            )));
        }
        let url = self.endpoint().object_url(&policy.bucket, "")?;
        // Virtual-host URLs end in `/`; the form posts to the bucket itself either way.
        let url = url.strip_suffix('/').unwrap_or(&url).to_owned();
        let expires_at = time + policy.expires_in;

        let mut fields: Vec<(String, String)> = Vec::new();
        let mut fill_in: Vec<(String, String)> = Vec::new();
        let mut conditions = Conditions::new();
        conditions.eq("bucket", &policy.bucket);
        match &policy.key {
            KeyCondition::Exact(k) => {
                fields.push(("key".into(), k.clone()));
                conditions.eq("key", k);
            }
            KeyCondition::StartsWith(p) => {
                fields.push(("key".into(), format!("{p}${{filename}}")));
                conditions.starts_with("$key", p);
            }
        }
        if let Some(acl) = &policy.acl {
            fields.push(("acl".into(), acl.clone()));
            conditions.eq("acl", acl);
        }
        match &policy.success {
            Some(SuccessAction::Status(s)) => {
                fields.push(("success_action_status".into(), s.to_string()));
                conditions.eq("success_action_status", &s.to_string());
            }
            Some(SuccessAction::Redirect(u)) => {
                fields.push(("success_action_redirect".into(), u.clone()));
                conditions.eq("success_action_redirect", u);
            }
            None => {}
        }
        match &policy.content_type {
            Some(KeyCondition::Exact(t)) => {
                fields.push(("Content-Type".into(), t.clone()));
                conditions.eq("Content-Type", t);
            }
            Some(KeyCondition::StartsWith(p)) => {
                fill_in.push(("Content-Type".into(), p.clone()));
                conditions.starts_with("$Content-Type", p);
            }
            None => {}
        }
        for (name, value) in &policy.metadata {
            fields.push((name.clone(), value.clone()));
            conditions.eq(name, value);
        }
        if let Some((min, max)) = policy.content_length {
            conditions.range("content-length-range", min, max);
        }
        let token = self
            .v4_signer()
            .credentials()
            .session_token()
            .map(|t| t.expose_secret().to_owned());

        let b64 = base64::engine::general_purpose::STANDARD;
        match self.signature_version() {
            SignatureVersion::V4 => {
                let credential = self.v4_signer().credential_at(time);
                let date = AmzDate::new(time).to_string();
                let mut signing_fields = vec![
                    ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
                    ("x-amz-credential".to_owned(), credential),
                    ("x-amz-date".to_owned(), date),
                ];
                if let Some(t) = token {
                    signing_fields.push(("x-amz-security-token".to_owned(), t));
                }
                for (n, v) in &signing_fields {
                    conditions.eq(n, v);
                }
                let document = conditions.document(expires_at);
                let encoded = b64.encode(document.as_bytes());
                let signature = self.v4_signer().sign_string_at(encoded.as_bytes(), time);
                fields.extend(signing_fields);
                fields.push(("policy".into(), encoded));
                fields.push(("x-amz-signature".into(), signature));
                Ok(PostForm {
                    url,
                    fields,
                    fill_in,
                    policy: document,
                    expires_at,
                })
            }
            SignatureVersion::V2 => {
                if let Some(t) = &token {
                    conditions.eq("x-amz-security-token", t);
                }
                let document = conditions.document(expires_at);
                let encoded = b64.encode(document.as_bytes());
                let signature = self.v2_signer().sign_string(&encoded);
                fields.push((
                    "AWSAccessKeyId".into(),
                    self.v2_signer().credentials().access_key().to_owned(),
                ));
                if let Some(t) = token {
                    fields.push(("x-amz-security-token".into(), t));
                }
                fields.push(("policy".into(), encoded));
                fields.push(("signature".into(), signature));
                Ok(PostForm {
                    url,
                    fields,
                    fill_in,
                    policy: document,
                    expires_at,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn expiration_format() {
        assert_eq!(
            iso8601(UNIX_EPOCH + Duration::from_secs(1_767_323_045)),
            "2026-01-02T03:04:05.000Z"
        );
    }

    #[test]
    fn json_strings_are_escaped() {
        for text in [
            "plain",
            "a\"b\\c",
            "line\nbreak\ttab\r",
            "\u{1}\u{1f}",
            "日本 ☃",
            "",
        ] {
            let mut out = String::new();
            json_string(text, &mut out);
            let back: String = serde_json::from_str(&out).unwrap();
            assert_eq!(back, text, "{out}");
        }
        let mut c = Conditions::new();
        c.eq("bucket", "b");
        c.starts_with("$key", "up/\"x");
        c.range("content-length-range", 1, 10);
        let doc: serde_json::Value = serde_json::from_str(&c.document(UNIX_EPOCH)).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"expiration": "1970-01-01T00:00:00.000Z", "conditions": [
                {"bucket": "b"}, ["starts-with", "$key", "up/\"x"], ["content-length-range", 1, 10]
            ]})
        );
    }

    #[test]
    fn html_escapes() {
        let form = PostForm {
            url: "http://h/b".into(),
            fields: vec![("key".into(), "a\"<b>&'".into())],
            fill_in: vec![("Content-Type".into(), "x\"/".into())],
            policy: String::new(),
            expires_at: UNIX_EPOCH,
        };
        let html = form.html();
        assert!(html.contains("value=\"a&quot;&lt;b&gt;&amp;&#39;\""));
        assert!(
            html.contains("name=\"Content-Type\" value=\"x&quot;/\""),
            "{html}"
        );
    }
}
