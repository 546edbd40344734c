//! Browser POST uploads: a policy document, its signature, and the form fields.
//!
//! The browser posts a `multipart/form-data` form straight to the bucket. The form carries a
//! base64 policy (what may be uploaded, until when) signed with the secret; the server checks
//! the signature and every condition. See
//! [the S3 documentation](https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use sos_auth::AmzDate;

use crate::key::check_new_key;
use crate::{Error, Presigner, Result, SignatureVersion};

/// What the server replaces with the browser's file name in the `key` field.
const FILENAME: &str = "${filename}";

/// User metadata fields start with this.
const META_PREFIX: &str = "x-amz-meta-";

/// 9999-12-31T23:59:59Z: the last expiration a four-digit year can state.
const LAST_EXPIRATION: u64 = 253_402_300_799;

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
    success: Option<SuccessAction>,
    /// The other fields (`acl`, `Content-Type`, `x-amz-meta-*`, ...), one per name (names
    /// compare case-insensitively, as the servers compare them), in the order first set.
    fields: Vec<(String, KeyCondition)>,
}

/// The largest `content-length-range` bound written, 2^63 − 2: the RADOS Gateway refuses the
/// policy (400 `InvalidArgument`, "Bad content-length-range param") from 2^63 − 1 on, and no
/// S3 object comes near (5 TiB at most).
const MAX_CONTENT_LENGTH_BOUND: u64 = i64::MAX as u64 - 1;

/// Form fields the pre-signer writes itself (compared case-insensitively).
const RESERVED_FIELDS: [&str; 13] = [
    "key",
    "bucket",
    "file",
    "policy",
    "success_action_status",
    "success_action_redirect",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-signature",
    "x-amz-security-token",
    "awsaccesskeyid",
    "signature",
];

impl PostPolicy {
    /// A policy for uploads to `bucket` under `key`, valid one hour.
    ///
    /// `key` is matched after the server has put the browser's file name in place of
    /// `${filename}`, so only [`KeyCondition::StartsWith`] can use it (it adds it itself):
    /// an exact key or a prefix containing `${filename}` is refused when the form is made.
    pub fn new(bucket: impl Into<String>, key: KeyCondition) -> Self {
        Self {
            bucket: bucket.into(),
            key,
            expires_in: Duration::from_secs(3600),
            content_length: None,
            success: None,
            fields: Vec::new(),
        }
    }

    /// How long the form may be used, in whole seconds (at least one). Garage also refuses
    /// a V4 form whose `x-amz-date` (the signing time) is more than a day old.
    #[must_use]
    pub fn expires_in(mut self, duration: Duration) -> Self {
        self.expires_in = duration;
        self
    }

    /// The file must be `min ..= max` bytes. Bounds above 2^63 − 2 are written as 2^63 − 2
    /// (no object is that big; the RADOS Gateway refuses larger numbers).
    #[must_use]
    pub fn content_length_range(mut self, min: u64, max: u64) -> Self {
        self.content_length = Some((min, max));
        self
    }

    /// The object gets this canned ACL.
    #[must_use]
    pub fn acl(self, acl: impl Into<String>) -> Self {
        self.set("acl".to_owned(), KeyCondition::Exact(acl.into()))
    }

    /// Answer a successful upload with this status (200, 201 or 204).
    #[must_use]
    pub fn success_action_status(mut self, status: u16) -> Self {
        self.success = Some(SuccessAction::Status(status));
        self
    }

    /// Redirect the browser here after a successful upload: an absolute `http` or `https`
    /// URL (S3 ignores one it cannot read; the RADOS Gateway redirects to it anyway). The
    /// server appends `bucket`, `key` and `etag` as query parameters; the RADOS Gateway
    /// appends them after a `?` even when the URL already has a query.
    #[must_use]
    pub fn success_action_redirect(mut self, url: impl Into<String>) -> Self {
        self.success = Some(SuccessAction::Redirect(url.into()));
        self
    }

    /// The `Content-Type` field must be exactly this.
    #[must_use]
    pub fn content_type(self, content_type: impl Into<String>) -> Self {
        self.set(
            "Content-Type".to_owned(),
            KeyCondition::Exact(content_type.into()),
        )
    }

    /// The `Content-Type` field must start with this (`image/`; empty: any type). The server
    /// stores that field as the object's type, so the page sets it from the file
    /// (`file.type` in JavaScript): the form lists it in [`PostForm::fill_in`], not in its
    /// fields, and [`PostForm::html`] sets it when a file is chosen.
    #[must_use]
    pub fn content_type_starts_with(self, prefix: impl Into<String>) -> Self {
        self.set(
            "Content-Type".to_owned(),
            KeyCondition::StartsWith(prefix.into()),
        )
    }

    /// The object gets this user metadata (`x-amz-meta-{name}`; any UTF-8 value). A name
    /// given again replaces the earlier value.
    #[must_use]
    pub fn metadata(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(
            format!("{META_PREFIX}{}", name.into()),
            KeyCondition::Exact(value.into()),
        )
    }

    /// Any other field the form sends with exactly this value, under an exact condition:
    /// `Cache-Control`, `Content-Disposition`, `Content-Encoding`, `Expires`,
    /// `x-amz-storage-class`, `x-ignore-*`, ... A name given again (in any case) replaces
    /// the earlier value, also one set by [`acl`](Self::acl), [`content_type`](Self::content_type)
    /// or [`metadata`](Self::metadata). An `x-amz-meta-` prefix is written in lower case (the
    /// RADOS Gateway drops metadata named otherwise). Names the pre-signer writes itself
    /// (`key`, `policy`, the signature's fields, `success_action_*`) are refused when the form
    /// is made.
    #[must_use]
    pub fn field(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(name.into(), KeyCondition::Exact(value.into()))
    }

    fn set(mut self, mut name: String, condition: KeyCondition) -> Self {
        // The RADOS Gateway (Ceph 16) stores a field as metadata only when its name starts
        // with `x-amz-meta-` in lower case (it drops `X-Amz-Meta-*` silently); S3 compares
        // names case-insensitively.
        if name
            .get(..META_PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(META_PREFIX))
        {
            name.replace_range(..META_PREFIX.len(), META_PREFIX);
        }
        match self
            .fields
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(entry) => *entry = (name, condition),
            None => self.fields.push((name, condition)),
        }
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
    /// When the form stops working: the policy's `expiration`, in whole seconds.
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

    /// An HTML `<form>` with the fields hidden, a file input and a submit button (without a
    /// name: the server refuses fields the policy does not mention). The browser sends the
    /// fields in UTF-8 (`accept-charset`), as the policy is written, whatever the page's own
    /// encoding.
    pub fn html(&self) -> String {
        let mut out = format!(
            "<form action=\"{}\" method=\"post\" enctype=\"multipart/form-data\" accept-charset=\"UTF-8\">\n",
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

/// Refuses conditions that no upload can meet or that a server reads otherwise.
fn check_condition(name: &str, condition: &KeyCondition) -> Result<()> {
    let refuse = |reason: &str| Err(Error::InvalidPolicy(format!("{name}: {reason}")));
    match condition {
        KeyCondition::Exact(v) | KeyCondition::StartsWith(v)
            if name == "key" && v.contains(FILENAME) =>
        {
            // The server puts the file name in place of `${filename}` before it checks.
            refuse(
                "`${filename}` in an exact key or a prefix never matches (use StartsWith with the part before it)",
            )
        }
        KeyCondition::StartsWith(p) if p.starts_with('$') => refuse(
            "a starts-with prefix beginning with `$` is read as a field reference by the RADOS Gateway, which then accepts any value",
        ),
        _ => Ok(()),
    }
}

/// A field name must be an HTTP token (it is a header name on the server's side, and a
/// quote or line break would break the form's part headers), not one the pre-signer writes,
/// and a metadata name must not be empty.
fn check_field_name(name: &str) -> Result<()> {
    let refuse = |reason: &str| Err(Error::InvalidPolicy(format!("field `{name}`: {reason}")));
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return refuse("a field name is letters, digits and !#$%&'*+-.^_`|~ only");
    }
    if RESERVED_FIELDS.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return refuse("the pre-signer writes this field itself");
    }
    if name.eq_ignore_ascii_case(META_PREFIX) {
        return refuse("a metadata name cannot be empty");
    }
    Ok(())
}

/// `http://host...` or `https://host...` (scheme in any case).
fn is_absolute_http_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return false;
    };
    rest.chars()
        .next()
        .is_some_and(|c| !matches!(c, '/' | '?' | '#') && !c.is_whitespace())
}

impl Presigner {
    /// [`post_form_at`](Self::post_form_at) with the system clock.
    ///
    /// # Errors
    /// As `post_form_at`.
    pub fn post_form(&self, policy: &PostPolicy) -> Result<PostForm> {
        self.post_form_at(policy, SystemTime::now())
    }

    /// Builds and signs the policy (V4 or V2, as this pre-signer signs) as of `time`. The
    /// policy expires `expires_in` whole seconds after the whole second of `time`, which is
    /// [`PostForm::expires_at`].
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`] for a policy no upload can satisfy or that a server would read
    /// otherwise: an empty range (`min > max`), an expiry under one second or past the year
    /// 9999, a success status other than 200, 201, 204, a redirect that is not an absolute
    /// `http(s)` URL, `${filename}` in an exact key or a key prefix, a `starts-with` prefix
    /// beginning with `$` (the RADOS Gateway reads it as a field reference and lets any value
    /// through), a field name that is not an HTTP token or that the pre-signer writes itself;
    /// [`Error::InvalidKey`] for an empty exact key, an exact key over 1024 bytes or a prefix
    /// of 1024 bytes or more;
    /// [`Error::InvalidBucket`].
    pub fn post_form_at(&self, policy: &PostPolicy, time: SystemTime) -> Result<PostForm> {
        let invalid = |reason: String| Err(Error::InvalidPolicy(reason));
        if policy.expires_in.as_secs() == 0 {
            return invalid("the expiry must be at least one second".to_owned());
        }
        // Whole seconds, as the policy's `expiration` and `x-amz-date` say.
        let signed_at = UNIX_EPOCH
            + Duration::from_secs(time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()));
        let expires_at = match signed_at
            .checked_add(Duration::from_secs(policy.expires_in.as_secs()))
            .filter(|t| *t <= UNIX_EPOCH + Duration::from_secs(LAST_EXPIRATION))
        {
            Some(t) => t,
            None => return invalid("the expiry must end before the year 10000".to_owned()),
        };
        if let Some((min, max)) = policy.content_length
            && min > max
        {
            return invalid(format!("content-length-range {min} > {max}"));
        }
        match &policy.success {
            Some(SuccessAction::Status(s)) if ![200, 201, 204].contains(s) => {
                return invalid(format!(
                    "success_action_status must be 200, 201 or 204, not {s}"
                ));
            }
            Some(SuccessAction::Redirect(u)) if !is_absolute_http_url(u) => {
                return invalid(format!(
                    "success_action_redirect must be an absolute http or https URL, not `{u}`"
                ));
            }
            _ => {}
        }
        match &policy.key {
            KeyCondition::Exact(k) => check_new_key(k)?,
            KeyCondition::StartsWith(p) if p.len() >= 1024 => {
                return Err(Error::InvalidKey(
                    "a prefix of 1024 bytes or more leaves no room for the file name",
                ));
            }
            KeyCondition::StartsWith(_) => {}
        }
        check_condition("key", &policy.key)?;
        for (name, condition) in &policy.fields {
            check_field_name(name)?;
            check_condition(name, condition)?;
        }
        let url = self.endpoint().object_url(&policy.bucket, "")?;
        // Virtual-host URLs end in `/`; the form posts to the bucket itself either way.
        let url = url.strip_suffix('/').unwrap_or(&url).to_owned();

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
                fields.push(("key".into(), format!("{p}{FILENAME}")));
                conditions.starts_with("$key", p);
            }
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
        for (name, condition) in &policy.fields {
            match condition {
                KeyCondition::Exact(v) => {
                    fields.push((name.clone(), v.clone()));
                    conditions.eq(name, v);
                }
                KeyCondition::StartsWith(p) => {
                    fill_in.push((name.clone(), p.clone()));
                    conditions.starts_with(&format!("${name}"), p);
                }
            }
        }
        if let Some((min, max)) = policy.content_length {
            conditions.range(
                "content-length-range",
                min.min(MAX_CONTENT_LENGTH_BOUND),
                max.min(MAX_CONTENT_LENGTH_BOUND),
            );
        }
        let token = self
            .v4_signer()
            .credentials()
            .session_token()
            .map(|t| t.expose_secret().to_owned());

        let b64 = base64::engine::general_purpose::STANDARD;
        match self.signature_version() {
            SignatureVersion::V4 => {
                let credential = self.v4_signer().credential_at(signed_at);
                let date = AmzDate::new(signed_at).to_string();
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
                let signature = self
                    .v4_signer()
                    .sign_string_at(encoded.as_bytes(), signed_at);
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
