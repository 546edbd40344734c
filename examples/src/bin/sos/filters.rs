//! `--exclude` and `--include`, as s3cmd reads them.
//!
//! s3cmd turns each GLOB into a regular expression with Python's `fnmatch.translate` and
//! searches the relative path with it: the pattern must match a tail of the path, `*` and
//! `?` match `/` too. So `*.log` leaves out `a.log` and `sub/b.log`, `sub/*` everything
//! under any `sub/`, `x.css` both `x.css` and `sub/x.css` (and `ax.css`, as in s3cmd). A
//! path is left out when an `--exclude` matches and no `--include` does.

use std::path::Path;

use crate::Failure;
use crate::args::Filters;

/// The compiled filters of one command.
#[derive(Debug, Default)]
pub(crate) struct PathFilter {
    exclude: Vec<Vec<Token>>,
    include: Vec<Vec<Token>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `?`
    Any,
    /// `*`
    Star,
    /// `[...]` / `[!...]`: ranges and whether the set is negated.
    Set(Vec<(char, char)>, bool),
}

impl PathFilter {
    pub(crate) fn new(filters: &Filters) -> Result<Self, Failure> {
        let mut exclude: Vec<String> = filters.exclude.clone();
        for file in &filters.exclude_from {
            exclude.extend(read_patterns(file)?);
        }
        let mut include: Vec<String> = filters.include.clone();
        for file in &filters.include_from {
            include.extend(read_patterns(file)?);
        }
        Ok(Self {
            exclude: exclude.iter().map(|p| compile(p)).collect(),
            include: include.iter().map(|p| compile(p)).collect(),
        })
    }

    /// Whether `path` (relative, `/`-separated) is taken.
    pub(crate) fn accepts(&self, path: &str) -> bool {
        let excluded = self.exclude.iter().any(|p| matches_tail(p, path));
        !excluded || self.include.iter().any(|p| matches_tail(p, path))
    }
}

/// The patterns of a file: one a line, blank lines and `#` comments skipped (as s3cmd).
fn read_patterns(file: &Path) -> Result<Vec<String>, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

fn compile(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => {
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
            }
            '?' => tokens.push(Token::Any),
            '[' => {
                // As fnmatch: `[` without a closing `]` is a plain `[`; `!` negates; a `]`
                // right after `[` or `[!` is a member.
                let mut j = i + 1;
                let negated = chars.get(j) == Some(&'!');
                if negated {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    tokens.push(Token::Char('['));
                } else {
                    let start = i + 1 + usize::from(negated);
                    let body = &chars[start..j];
                    let mut ranges = Vec::new();
                    let mut k = 0;
                    while k < body.len() {
                        if k + 2 < body.len() && body[k + 1] == '-' {
                            ranges.push((body[k], body[k + 2]));
                            k += 3;
                        } else {
                            ranges.push((body[k], body[k]));
                            k += 1;
                        }
                    }
                    tokens.push(Token::Set(ranges, negated));
                    i = j;
                }
            }
            c => tokens.push(Token::Char(c)),
        }
        i += 1;
    }
    tokens
}

/// Whether the pattern matches some tail of `text` (Python's `re.search` of
/// `fnmatch.translate(pattern)`, which ends in `\Z`): whether `*PATTERN` matches all of it.
///
/// The two-pointer matcher of wildcards: every token but `*` takes one character, so when
/// the rest fails, only the last `*` seen needs to take one character more (an earlier `*`
/// taking more could only give the tokens after it less room). At most `pattern.len()`
/// steps per character of `text`, whatever the pattern: no backtracking blow-up on keys
/// chosen by whoever can write to the bucket.
fn matches_tail(pattern: &[Token], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // The last `*`: the token after it, and where its match ends. The leading `*` of
    // `*PATTERN`, before the first token, takes the part of the text before the tail.
    let mut star = (0, 0);
    while t < text.len() {
        match pattern.get(p) {
            Some(Token::Star) => {
                p += 1;
                star = (p, t);
            }
            Some(token) if one(token, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => {
                star.1 += 1;
                (p, t) = star;
            }
        }
    }
    pattern[p..].iter().all(|token| *token == Token::Star)
}

/// Whether a token other than `*` matches the character `c`.
fn one(token: &Token, c: char) -> bool {
    match token {
        Token::Char(p) => *p == c,
        Token::Any => true,
        Token::Set(ranges, negated) => {
            ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
        }
        Token::Star => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(exclude: &[&str], include: &[&str]) -> PathFilter {
        PathFilter::new(&Filters {
            exclude: exclude.iter().map(|s| (*s).to_owned()).collect(),
            include: include.iter().map(|s| (*s).to_owned()).collect(),
            ..Filters::default()
        })
        .unwrap()
    }

    #[test]
    fn globs_match_a_tail_as_s3cmd_does() {
        let f = filter(&["*.log"], &[]);
        assert!(!f.accepts("a.log") && !f.accepts("sub/deep/b.log"));
        assert!(f.accepts("a.log.txt") && f.accepts("log"));
        let f = filter(&["sub/*"], &[]);
        assert!(!f.accepts("sub/x") && !f.accepts("a/sub/x/y"));
        assert!(f.accepts("subx/y") && f.accepts("sub"));
        // A bare name matches at the end of any path (fnmatch + re.search).
        let f = filter(&["x.css"], &[]);
        assert!(!f.accepts("x.css") && !f.accepts("d/x.css"));
        assert!(f.accepts("x.cssy"));
        let f = filter(&["file?.[ch]", "[!a]z"], &[]);
        assert!(!f.accepts("file1.c") && !f.accepts("d/fileZ.h") && !f.accepts("bz"));
        assert!(f.accepts("file.c") && f.accepts("file1.o") && f.accepts("az"));
        let f = filter(&["[oops"], &[]);
        assert!(!f.accepts("a[oops") && f.accepts("oops"));
    }

    #[test]
    fn include_takes_back_what_exclude_left_out() {
        let f = filter(&["*"], &["*.html"]);
        assert!(f.accepts("index.html") && f.accepts("d/e.html"));
        assert!(!f.accepts("style.css"));
        assert!(filter(&[], &["*.html"]).accepts("style.css"));
    }

    /// The matcher before: every way of splitting the text between the `*`s, tried.
    fn backtracking(pattern: &[Token], text: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some((Token::Star, rest)) => (0..=text.len()).any(|n| backtracking(rest, &text[n..])),
            Some((token, rest)) => text
                .split_first()
                .is_some_and(|(c, tail)| one(token, *c) && backtracking(rest, tail)),
        }
    }

    #[test]
    fn the_same_answers_as_trying_every_split() {
        // Every pattern of up to 4 tokens over `a`, `b`, `/`, `*`, `?`, `[!a]`, against every
        // text of up to 5 characters over `a`, `b`, `/`.
        let tokens = ["a", "b", "/", "*", "?", "[!a]"];
        let mut patterns = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = patterns
                .iter()
                .flat_map(|p| tokens.iter().map(move |t| format!("{p}{t}")))
                .collect();
            patterns.extend(longer);
        }
        patterns.sort();
        patterns.dedup();
        let mut texts = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|s| ['a', 'b', '/'].map(|c| format!("{s}{c}")))
                .collect();
            texts.extend(longer);
        }
        texts.sort();
        texts.dedup();
        for pattern in &patterns {
            let compiled = compile(pattern);
            for text in &texts {
                let chars: Vec<char> = text.chars().collect();
                let expected = (0..=chars.len()).any(|s| backtracking(&compiled, &chars[s..]));
                assert_eq!(
                    matches_tail(&compiled, text),
                    expected,
                    "{pattern:?} on {text:?}"
                );
            }
        }
    }

    #[test]
    fn many_stars_on_a_long_key_are_decided() {
        // With backtracking, this took minutes (each `*` tried at every position).
        let key = "a".repeat(200);
        let f = filter(&["*a*a*a*a*a*b"], &[]);
        assert!(f.accepts(&key));
        assert!(!f.accepts(&format!("{key}b")));
        assert!(!f.accepts(&format!("dir/{key}/{key}b")));
        let f = filter(&["*a*a*a*a*a*a*a*a*a*a*a*a*?b"], &[]);
        assert!(f.accepts(&format!("{key}/{key}")));
    }

    #[test]
    fn unicode_and_spaces() {
        let f = filter(&["ünï *"], &[]);
        assert!(!f.accepts("dir/ünï cödé.txt") && f.accepts("uni code"));
    }
}
