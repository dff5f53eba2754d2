//! The shutdown signal: SIGTERM or Ctrl-C, or a programmatic trigger (tests, the
//! embedded platform stopping its parts).

use tokio::sync::watch;

/// A cloneable handle: `trigger()` starts the shutdown, `wait()` resolves once it started.
#[derive(Clone)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
    rx: watch::Receiver<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    pub fn new() -> Self {
        let (tx, rx) = watch::channel(false);
        Shutdown { tx, rx }
    }

    pub fn trigger(&self) {
        let _ = self.tx.send(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|v| *v).await;
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
