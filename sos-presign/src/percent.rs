//! Percent-encoding pieces shared by keys, query components and file names.

/// RFC 3986 unreserved characters (`A-Z a-z 0-9 - _ . ~`): never escaped in a URL.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Appends `b` as `%XX`, in upper-case hex.
pub(crate) fn push_escaped(b: u8, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 15)]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_byte_as_format_does() {
        for b in 0..=255u8 {
            let mut out = String::new();
            push_escaped(b, &mut out);
            assert_eq!(out, format!("%{b:02X}"));
        }
        let unreserved: String = (0..=255u8)
            .filter(|&b| is_unreserved(b))
            .map(char::from)
            .collect();
        assert_eq!(
            unreserved,
            "-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~"
        );
    }
}
