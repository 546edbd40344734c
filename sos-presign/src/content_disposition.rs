//! `Content-Disposition: attachment` with any file name (RFC 6266 and RFC 8187).

/// The `Content-Disposition` value that makes browsers save the download as `filename`.
///
/// ASCII names go in `filename="..."`. Other names get an ASCII fallback there (`_` for what
/// cannot be shown) and the exact UTF-8 name in `filename*=UTF-8''...`, which every current
/// browser prefers.
///
/// ```
/// use sos_presign::attachment;
/// assert_eq!(attachment("report.pdf"), r#"attachment; filename="report.pdf""#);
/// assert_eq!(
///     attachment("Résumé 2026.pdf"),
///     r#"attachment; filename="R_sum_ 2026.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%202026.pdf"#
/// );
/// assert_eq!(attachment(r#"a"b\c"#), r#"attachment; filename="a_b_c"; filename*=UTF-8''a%22b%5Cc"#);
/// ```
pub fn attachment(filename: &str) -> String {
    let plain = |c: char| (' '..='~').contains(&c) && c != '"' && c != '\\';
    if filename.chars().all(plain) {
        return format!("attachment; filename=\"{filename}\"");
    }
    let fallback: String = filename
        .chars()
        .map(|c| if plain(c) { c } else { '_' })
        .collect();
    let mut encoded = String::with_capacity(filename.len() * 3);
    for b in filename.bytes() {
        // RFC 8187 attr-char
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            crate::percent::push_escaped(b, &mut encoded);
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}
