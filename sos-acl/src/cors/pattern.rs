//! S3's wildcard patterns: `*` stands for any run of characters, possibly empty.

/// Whether `value` matches `pattern`. Origins compare exactly (`ignore_case` false), header
/// names without regard to ASCII case. A pattern with several `*` (which S3 refuses) matches
/// as a glob with each `*` free.
#[inline]
pub(crate) fn matches(pattern: &str, value: &str, ignore_case: bool) -> bool {
    if ignore_case {
        matches_with::<true>(pattern.as_bytes(), value.as_bytes())
    } else {
        matches_with::<false>(pattern.as_bytes(), value.as_bytes())
    }
}

#[inline(always)]
fn byte_eq<const CI: bool>(a: u8, b: u8) -> bool {
    if CI {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

fn matches_with<const CI: bool>(p: &[u8], v: &[u8]) -> bool {
    // Most patterns of a configuration fail on their last character: try it first.
    if let (Some(&a), Some(&b)) = (p.last(), v.last())
        && a != b'*'
        && !byte_eq::<CI>(a, b)
    {
        return false;
    }
    // The prefix, up to the first `*`, compared byte by byte: a pattern without `*` ends
    // here.
    let mut i = 0;
    loop {
        match (p.get(i), v.get(i)) {
            (None, None) => return true,
            (Some(b'*'), _) => break,
            (Some(&a), Some(&b)) if byte_eq::<CI>(a, b) => i += 1,
            _ => return false,
        }
    }
    // The suffix, after the last `*`, compared from the end within what the prefix left
    // (so the two never overlap): eight bytes at a time while there is no `*` in them, then
    // byte by byte.
    let (rest, tail) = (&p[i + 1..], &v[i..]);
    let mut j = 0;
    if tail.len() >= rest.len() {
        while j + 8 <= rest.len() {
            let (a, b) = (
                word(&rest[rest.len() - j - 8..]),
                word(&tail[tail.len() - j - 8..]),
            );
            if has_star(a) {
                break;
            }
            if CI {
                if !rest[rest.len() - j - 8..rest.len() - j]
                    .eq_ignore_ascii_case(&tail[tail.len() - j - 8..tail.len() - j])
                {
                    return false;
                }
            } else if a != b {
                return false;
            }
            j += 8;
        }
    }
    while j < rest.len() {
        let a = rest[rest.len() - 1 - j];
        if a == b'*' {
            // Several wildcards (which S3 refuses): a glob for the middle.
            return glob::<CI>(&rest[..rest.len() - j], &tail[..tail.len() - j]);
        }
        match tail.len().checked_sub(1 + j).map(|k| tail[k]) {
            Some(b) if byte_eq::<CI>(a, b) => j += 1,
            _ => return false,
        }
    }
    true
}

/// The first eight bytes of `bytes` (which has at least eight) as a word.
#[inline(always)]
fn word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[..8]);
    u64::from_ne_bytes(w)
}

/// Whether one of the eight bytes of `w` is `*` (the classic "has zero byte" test on
/// `w ^ "********"`).
#[inline(always)]
fn has_star(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let x = w ^ (ONES * u64::from(b'*'));
    x.wrapping_sub(ONES) & !x & HIGHS != 0
}

/// Iterative glob with backtracking to the last `*`; `pattern` is what follows a `*`.
fn glob<const CI: bool>(pattern: &[u8], value: &[u8]) -> bool {
    let (mut pi, mut vi) = (0, 0);
    // The pattern starts right after a `*`.
    let (mut star_pi, mut star_vi) = (Some(0), 0);
    while vi < value.len() {
        if pi < pattern.len() && pattern[pi] == b'*' {
            star_pi = Some(pi + 1);
            star_vi = vi;
            pi += 1;
        } else if pi < pattern.len() && byte_eq::<CI>(pattern[pi], value[vi]) {
            pi += 1;
            vi += 1;
        } else if let Some(sp) = star_pi {
            pi = sp;
            star_vi += 1;
            vi = star_vi;
        } else {
            return false;
        }
    }
    pattern[pi..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn exact_and_single_wildcard() {
        assert!(matches("http://a.com", "http://a.com", false));
        assert!(!matches("http://a.com", "http://A.com", false));
        assert!(matches("*", "anything", false));
        assert!(matches("*", "", false));
        assert!(matches(
            "http://*.example.com",
            "http://www.example.com",
            false
        ));
        assert!(matches(
            "http://*.example.com",
            "http://.example.com",
            false
        ));
        assert!(!matches(
            "http://*.example.com",
            "https://www.example.com",
            false
        ));
        assert!(!matches(
            "http://*.example.com",
            "http://www.example.com/",
            false
        ));
        assert!(matches(
            "http://localhost:*",
            "http://localhost:8080",
            false
        ));
        assert!(matches("*.example.com", "https://a.example.com", false));
        // Prefix and suffix may not overlap.
        assert!(!matches("http://ab*ba", "http://aba", false));
        assert!(matches("http://ab*ba", "http://abba", false));
    }

    #[test]
    fn headers_ignore_case() {
        assert!(matches("x-amz-*", "X-Amz-Date", true));
        assert!(matches("Content-Type", "content-type", true));
        assert!(!matches("x-amz-*", "x-am", true));
    }

    /// A plain recursive glob: the reference the fast matcher is checked against.
    fn reference(p: &[u8], v: &[u8], ci: bool) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some((b'*', rest)) => (0..=v.len()).any(|k| reference(rest, &v[k..], ci)),
            Some((&a, rest)) => v.split_first().is_some_and(|(&b, vrest)| {
                (if ci {
                    a.eq_ignore_ascii_case(&b)
                } else {
                    a == b
                }) && reference(rest, vrest, ci)
            }),
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_a_plain_glob(p in "[ab*.Xx]{0,24}", v in "[ab.Xx*]{0,24}", ci: bool) {
            proptest::prop_assert_eq!(matches(&p, &v, ci), reference(p.as_bytes(), v.as_bytes(), ci), "{:?} {:?}", p, v);
        }

        #[test]
        fn agrees_on_long_origins(
            pre in "https?://[a-z]{0,6}",
            star in proptest::bool::ANY,
            suf in "[a-z.]{0,20}(:[0-9]{1,4})?",
            v in "https?://[a-z.]{0,30}(:[0-9]{1,4})?",
        ) {
            let p = if star { format!("{pre}*{suf}") } else { format!("{pre}{suf}") };
            proptest::prop_assert_eq!(matches(&p, &v, false), reference(p.as_bytes(), v.as_bytes(), false));
            let v2 = format!("{pre}x{suf}");
            proptest::prop_assert_eq!(matches(&p, &v2, false), reference(p.as_bytes(), v2.as_bytes(), false));
        }
    }

    #[test]
    fn several_wildcards_glob() {
        assert!(matches("a*b*c", "axxbyyc", false));
        assert!(matches("a*b*c", "abc", false));
        assert!(!matches("a*b*c", "acb", false));
        assert!(matches("**", "x", false));
        assert!(matches("a*b*", "ab", false));
        assert!(!matches("a*b*c", "ab", false));
    }
}
