//! Retries with jittered exponential back-off.

use std::time::Duration;

/// When and how often a failed request is tried again.
///
/// Only requests that can safely be repeated are retried (GET, HEAD, PUT, DELETE, parts of
/// multipart uploads, batch deletes; never the creation of a multipart upload), and only
/// for failures that may pass: broken connections, timeouts, 5xx, 429 and `SlowDown`.
/// The delay before attempt `n` is drawn uniformly from `0 ..= min(max_delay, base_delay ×
/// 2ⁿ)` ("full jitter"), which spreads out clients that failed together.
///
/// ```
/// use std::time::Duration;
/// use sos_client::RetryConfig;
/// let patient = RetryConfig::default().with_max_attempts(8).with_max_delay(Duration::from_secs(20));
/// let never = RetryConfig::disabled();
/// assert_eq!(never.max_attempts(), 1);
/// # let _ = patient;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryConfig {
    /// One attempt, no retry.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first back-off step.
    #[must_use]
    pub fn with_base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest wait between attempts.
    #[must_use]
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Attempts in all.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before attempt `attempt + 1` (attempts counted from 1).
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX));
        let cap = exp.min(self.max_delay);
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_bounded_and_grow() {
        let r = RetryConfig::default();
        for attempt in 1..40 {
            assert!(r.delay(attempt) <= Duration::from_secs(5));
        }
        let max_first = (0..200).map(|_| r.delay(1)).max().unwrap();
        assert!(max_first <= Duration::from_millis(200));
        let max_late = (0..200).map(|_| r.delay(6)).max().unwrap();
        assert!(max_late > Duration::from_millis(200), "{max_late:?}");
    }
}
