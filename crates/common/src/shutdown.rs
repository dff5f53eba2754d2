//! The shutdown signal: SIGTERM or Ctrl-C, or a programmatic trigger (tests, the
//! embedded platform stopping its parts).

use tokio_util::sync::CancellationToken;

/// A cloneable handle: `trigger()` starts the shutdown, `wait()` resolves once it
/// started (a `tokio_util` cancellation token).
#[derive(Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn trigger(&self) {
        self.token.cancel();
    }

    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    pub async fn wait(&self) {
        self.token.cancelled().await
    }

    /// The token itself, for code that takes a `CancellationToken`.
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Triggers on SIGTERM or Ctrl-C.
    pub fn trigger_on_signals(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown signal received");
            this.trigger();
        });
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A one-way gate: closed until `open()`, then open for good. The embedded platform
/// uses it to hold every outbox relay until all consumers have subscribed, so no
/// event is published to a queue that does not exist yet.
#[derive(Clone)]
pub struct Gate(Shutdown);

impl Gate {
    pub fn closed() -> Self {
        Gate(Shutdown::new())
    }

    pub fn opened() -> Self {
        let g = Self::closed();
        g.open();
        g
    }

    pub fn open(&self) {
        self.0.trigger();
    }

    pub async fn wait(&self) {
        self.0.wait().await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_trigger_reaches_every_clone_and_waiters_before_and_after() {
        let s = Shutdown::new();
        let early = {
            let c = s.clone();
            tokio::spawn(async move { c.wait().await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!early.is_finished() && !s.is_triggered());
        s.clone().trigger();
        tokio::time::timeout(Duration::from_secs(1), early)
            .await
            .unwrap_or_else(|_| panic!("a waiter was not woken"))
            .unwrap_or_else(|_| panic!("the waiter failed"));
        assert!(s.is_triggered() && s.token().is_cancelled());
        // A late waiter returns at once; triggering twice is harmless.
        s.trigger();
        tokio::time::timeout(Duration::from_secs(1), s.wait())
            .await
            .unwrap_or_else(|_| panic!("a late waiter waited"));
    }

    #[tokio::test]
    async fn a_gate_holds_until_opened_then_stays_open() {
        let g = Gate::closed();
        assert!(tokio::time::timeout(Duration::from_millis(20), g.wait())
            .await
            .is_err());
        g.clone().open();
        tokio::time::timeout(Duration::from_secs(1), g.wait())
            .await
            .unwrap_or_else(|_| panic!("an open gate held"));
        tokio::time::timeout(Duration::from_secs(1), Gate::opened().wait())
            .await
            .unwrap_or_else(|_| panic!("an opened gate held"));
    }
}
