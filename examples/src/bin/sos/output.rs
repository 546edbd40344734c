//! Sizes, dates and progress bars.

use std::io::IsTerminal;
use std::time::SystemTime;

use indicatif::{ProgressBar, ProgressStyle};

/// `1234567` or, human, `1.2M`.
pub(crate) fn size(bytes: u64, human: bool) -> String {
    if !human {
        return bytes.to_string();
    }
    const UNITS: [&str; 6] = ["", "K", "M", "G", "T", "P"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}")
    } else if value < 10.0 {
        format!("{value:.1}{}", UNITS[unit])
    } else {
        format!("{value:.0}{}", UNITS[unit])
    }
}

/// `2026-12-01 18:15` (UTC), as s3cmd prints dates.
pub(crate) fn date(time: Option<SystemTime>) -> String {
    let Some(time) = time else {
        return " ".repeat(16);
    };
    let (day, h, m, _) = civil(time);
    format!("{day} {h:02}:{m:02}")
}

/// `2026-12-01T18:15:42Z` (UTC), as S3 writes dates; `-` when unknown.
pub(crate) fn iso_date(time: Option<SystemTime>) -> String {
    let Some(time) = time else {
        return "-".to_owned();
    };
    let (day, h, m, s) = civil(time);
    format!("{day}T{h:02}:{m:02}:{s:02}Z")
}

/// The day (`2026-12-01`), hour, minute and second of a time, UTC.
fn civil(time: SystemTime) -> (String, u64, u64, u64) {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let (h, m, s) = ((secs % 86_400) / 3600, (secs % 3600) / 60, secs % 60);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (format!("{year:04}-{month:02}-{day:02}"), h, m, s)
}

/// A progress bar on stderr when it is a terminal and not quiet; hidden otherwise.
pub(crate) fn progress(len: Option<u64>, label: &str, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(len) => ProgressBar::new(len),
        None => ProgressBar::no_length(),
    };
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(label.to_owned());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_dates() {
        assert_eq!(size(1023, true), "1023");
        assert_eq!(size(1536, true), "1.5K");
        assert_eq!(size(50 * 1024 * 1024, true), "50M");
        assert_eq!(size(50, false), "50");
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_767_323_045);
        assert_eq!(date(Some(t)), "2026-01-02 03:04");
        assert_eq!(iso_date(Some(t)), "2026-01-02T03:04:05Z");
    }
}
