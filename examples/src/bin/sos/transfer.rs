//! What uploads and downloads share: the part size and parts in flight of the flags, and a
//! progress bar while one runs.

use sos_client::{Download, Progress, Upload};

use crate::args::Transfer;
use crate::commands::MIB;
use crate::output::progress;

/// An upload or download job of the client.
pub(crate) trait Job: Sized {
    fn part_size(self, bytes: u64) -> Self;
    fn concurrency(self, parts: usize) -> Self;
    fn on_progress(self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self;

    /// The part size and parts in flight of the flags.
    fn tuned(self, transfer: Transfer) -> Self {
        self.part_size(transfer.part_size_mib * MIB)
            .concurrency(transfer.concurrency)
    }
}

impl Job for Upload<'_> {
    fn part_size(self, bytes: u64) -> Self {
        Upload::part_size(self, bytes)
    }
    fn concurrency(self, parts: usize) -> Self {
        Upload::concurrency(self, parts)
    }
    fn on_progress(self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        Upload::on_progress(self, f)
    }
}

impl Job for Download<'_> {
    fn part_size(self, bytes: u64) -> Self {
        Download::part_size(self, bytes)
    }
    fn concurrency(self, parts: usize) -> Self {
        Download::concurrency(self, parts)
    }
    fn on_progress(self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        Download::on_progress(self, f)
    }
}

/// Runs `job`, tuned by the flags, with a progress bar of `len` bytes labelled `label`
/// (hidden when quiet or not on a terminal), cleared when it ends.
pub(crate) async fn with_progress<J: Job, T>(
    job: J,
    transfer: Transfer,
    len: u64,
    label: &str,
    quiet: bool,
    run: impl AsyncFnOnce(J) -> T,
) -> T {
    let bar = progress(Some(len), label, quiet);
    let shown = bar.clone();
    let job = job
        .tuned(transfer)
        .on_progress(move |p| shown.set_position(p.transferred));
    let out = run(job).await;
    bar.finish_and_clear();
    out
}
