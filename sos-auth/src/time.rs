//! Time stamps in the forms the signatures use, without a calendar dependency.
//!
//! Signing takes the time as a parameter (`*_at` functions); only the convenience wrappers
//! read the system clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A signing time in SigV4's ISO 8601 basic form, `YYYYMMDDTHHMMSSZ`, kept as bytes so that
/// formatting never allocates.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AmzDate {
    text: [u8; 16],
    unix: u64,
}

impl AmzDate {
    /// The time stamp of `time` (whole seconds, UTC). Times before 1970 are clamped to 1970.
    pub fn new(time: SystemTime) -> Self {
        // The last one made on this thread: requests signed within one second share it.
        thread_local! {
            static LAST: std::cell::Cell<Option<AmzDate>> = const { std::cell::Cell::new(None) };
        }
        let unix = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if let Some(last) = LAST.get()
            && last.unix == unix
        {
            return last;
        }
        let date = Self::format(unix);
        LAST.set(Some(date));
        date
    }

    fn format(unix: u64) -> Self {
        let (year, month, day) = civil_from_unix_days(unix / 86_400);
        let secs = unix % 86_400;
        let mut text = *b"00000000T000000Z";
        let year = year.min(9999);
        put_two_digits(&mut text[0..2], year / 100);
        put_two_digits(&mut text[2..4], year % 100);
        put_two_digits(&mut text[4..6], month);
        put_two_digits(&mut text[6..8], day);
        put_two_digits(&mut text[9..11], secs / 3600);
        put_two_digits(&mut text[11..13], secs / 60 % 60);
        put_two_digits(&mut text[13..15], secs % 60);
        Self { text, unix }
    }

    /// Parses `YYYYMMDDTHHMMSSZ`.
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u64> {
            b[r].iter().try_fold(0u64, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
            })
        };
        let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
        let (h, m, s) = (num(9..11)?, num(11..13)?, num(13..15)?);
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || h > 23
            || m > 59
            || s > 60
        {
            return None;
        }
        let days = days_from_civil(year as i64, month as u32, day as u32);
        let unix = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + s;
        let parsed = Self::new(UNIX_EPOCH + Duration::from_secs(unix));
        // Reject what does not round-trip (a leap second `60`, for instance).
        (parsed.as_str() == text).then_some(parsed)
    }

    /// `YYYYMMDDTHHMMSSZ`
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and letters are ever written.
        std::str::from_utf8(&self.text).unwrap_or("19700101T000000Z")
    }

    /// `YYYYMMDDTHHMMSSZ` as bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.text
    }

    /// `YYYYMMDD`, the date of the credential scope.
    pub fn date(&self) -> &str {
        &self.as_str()[..8]
    }

    /// The time as a `SystemTime`.
    pub fn system_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.unix)
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> u64 {
        self.unix
    }
}

impl std::fmt::Display for AmzDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for AmzDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AmzDate({})", self.as_str())
    }
}

/// Writes `value` (below 100) as two digits.
fn put_two_digits(out: &mut [u8], value: u64) {
    const PAIRS: [u8; 200] = {
        let mut table = [0u8; 200];
        let mut i = 0;
        while i < 100 {
            table[2 * i] = b'0' + (i / 10) as u8;
            table[2 * i + 1] = b'0' + (i % 10) as u8;
            i += 1;
        }
        table
    };
    let i = (value % 100) as usize * 2;
    out[..2].copy_from_slice(&PAIRS[i..i + 2]);
}

/// Days since 1970-01-01 to (year, month, day): Neri and Schneider's algorithm ("Euclidean
/// affine functions and their application to calendar algorithms", 2022), a short chain of
/// multiplications and shifts instead of a long one of divisions; signing calls it on every
/// request. Valid far beyond the years an `AmzDate` can show.
fn civil_from_unix_days(days: u64) -> (u64, u64, u64) {
    const SHIFT: u64 = 82;
    const K: u64 = 719_468 + 146_097 * SHIFT;
    const L: u64 = 400 * SHIFT;
    let n = days + K;
    let n1 = 4 * n + 3;
    let century = n1 / 146_097;
    let n2 = (n1 % 146_097) | 3;
    let p2 = 2_939_745 * n2;
    let z = p2 >> 32;
    let day_of_year = (p2 & 0xffff_ffff) / 2_939_745 / 4;
    let n3 = 2141 * day_of_year + 197_913;
    let (month, day) = (n3 >> 16, (n3 & 0xffff) / 2141);
    let january_or_february = u64::from(day_of_year >= 306);
    let year = 100 * century + z + january_or_february - L;
    (year, month - 12 * january_or_february, day + 1)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The inverse of [`civil_from_unix_days`].
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The RFC 7231 HTTP date (`Fri, 24 May 2013 00:00:00 GMT`) used by SigV2.
pub(crate) fn http_date(time: SystemTime) -> String {
    httpdate::fmt_http_date(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        let t = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
        let d = AmzDate::new(t);
        assert_eq!(d.as_str(), "20130524T000000Z");
        assert_eq!(d.date(), "20130524");
        assert_eq!(AmzDate::parse("20130524T000000Z"), Some(d));
        let leap = AmzDate::parse("20240229T235959Z").map(|d| d.unix_seconds());
        assert_eq!(leap, Some(1_709_251_199));
        for bad in [
            "20130230T000000Z",
            "20131324T000000Z",
            "2013052T000000Z",
            "20130524T240000Z",
            "20130524 000000Z",
            "2013052400:00:00",
        ] {
            assert_eq!(AmzDate::parse(bad), None, "{bad}");
        }
        assert_eq!(http_date(t), "Fri, 24 May 2013 00:00:00 GMT");
    }

    /// The calendar agrees with `httpdate`'s, an independent implementation.
    #[test]
    fn dates_agree_with_httpdate() {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        // Every third day of four centuries, then a sample up to the last day of 9999.
        for day in (0..146_097 + 31)
            .step_by(3)
            .chain((146_097..2_932_897).step_by(97))
        {
            let t = UNIX_EPOCH + Duration::from_secs(day * 86_400 + 86_399);
            let theirs = http_date(t);
            let parts: Vec<&str> = theirs.split(' ').collect();
            let month = MONTHS.iter().position(|m| *m == parts[2]).unwrap() + 1;
            let expected = format!("{}{month:02}{}T235959Z", parts[3], parts[1]);
            assert_eq!(AmzDate::new(t).as_str(), expected, "day {day}");
        }
    }

    #[test]
    fn round_trips_every_day_of_four_centuries() {
        for day in (0..146_097).step_by(7) {
            let t = UNIX_EPOCH + Duration::from_secs(day * 86_400 + 3_723);
            let d = AmzDate::new(t);
            assert_eq!(AmzDate::parse(d.as_str()).map(|p| p.system_time()), Some(t));
            assert_eq!(httpdate::parse_http_date(&http_date(t)).ok(), Some(t));
        }
    }

    #[test]
    fn the_date_kept_for_a_second_is_never_stale() {
        let at = |s| AmzDate::new(UNIX_EPOCH + Duration::from_secs(s));
        for (secs, text) in [
            (1_369_353_600, "20130524T000000Z"),
            (1_369_353_600, "20130524T000000Z"),
            (1_369_353_601, "20130524T000001Z"),
            (1_369_353_600, "20130524T000000Z"),
            (0, "19700101T000000Z"),
            (1_369_353_600, "20130524T000000Z"),
        ] {
            let d = at(secs);
            assert_eq!((d.as_str(), d.unix_seconds()), (text, secs));
        }
        // Sub-second parts of one second share the date; other threads have their own.
        let t = UNIX_EPOCH + Duration::from_millis(1_369_353_600_999);
        assert_eq!(AmzDate::new(t).as_str(), "20130524T000000Z");
        let other = std::thread::spawn(move || AmzDate::new(t + Duration::from_millis(1)))
            .join()
            .map(|d| d.as_str().to_owned());
        assert_eq!(other.ok().as_deref(), Some("20130524T000001Z"));
    }

    proptest::proptest! {
        /// Any text: a date only when it is one, written back as it came; never a panic.
        #[test]
        fn parses_only_dates(
            text in proptest::prop_oneof![
                "[0-9]{8}T[0-9]{6}Z",
                "[0-9+ -]{8}T[0-9+ ]{6}Z",
                "[0-9TZ+ -]{14,18}",
                "\\PC{0,20}",
            ]
        ) {
            if let Some(date) = AmzDate::parse(&text) {
                proptest::prop_assert_eq!(date.as_str(), text.as_str());
                let (year, month, day) = civil_from_unix_days(date.unix_seconds() / 86_400);
                proptest::prop_assert!((1970..=9999).contains(&year));
                proptest::prop_assert!((1..=days_in_month(year, month)).contains(&day));
                proptest::prop_assert_eq!(
                    httpdate::parse_http_date(&http_date(date.system_time())).ok(),
                    Some(date.system_time())
                );
            }
        }
    }
}
