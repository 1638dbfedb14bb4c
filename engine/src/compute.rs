//! CPU-bound work run from async code on the rayon pool.
//!
//! Async tasks must not run long computations on a runtime thread, and the
//! blocking pool is meant for blocking I/O. Work goes to rayon; the caller
//! awaits a oneshot channel. If the caller is dropped, the result is dropped too.

use crate::error::EngineError;

/// Runs `work` on the rayon pool and returns its result.
pub(crate) async fn run_on_rayon<T, F>(work: F) -> Result<T, EngineError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let span = tracing::Span::current();
    rayon::spawn(move || {
        let _entered = span.enter();
        // The receiver is gone when the caller was dropped, so the result is not needed.
        let _ = sender.send(work());
    });
    receiver
        .await
        .map_err(|_| EngineError::Internal("a computation on the rayon pool panicked".to_string()))
}

/// Runs blocking store work on tokio's blocking pool and returns its result.
pub(crate) async fn run_blocking<T, F>(work: F) -> Result<T, EngineError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, EngineError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| EngineError::Internal(format!("a store task failed: {error}")))?
}
