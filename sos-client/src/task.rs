//! Tasks the client spawns on behalf of a future (a download's parts, a body's reader):
//! dropping the future must stop them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::task::{JoinError, JoinHandle};

/// A spawned task that is aborted when this handle is dropped before it finished. Awaiting
/// the handle gives the task's output.
pub(crate) struct AbortingTask<T>(JoinHandle<T>);

impl<T: Send + 'static> AbortingTask<T> {
    /// Spawns `future` on the current runtime.
    pub(crate) fn spawn(future: impl Future<Output = T> + Send + 'static) -> Self {
        Self(tokio::spawn(future))
    }
}

impl<T> Future for AbortingTask<T> {
    type Output = Result<T, JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortingTask<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
