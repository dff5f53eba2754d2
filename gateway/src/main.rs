//! The gateway binary: settings from `GATEWAY_CONFIG` (or `./gateway.toml` if
//! present) and `GATEWAY__*` variables, then serve until SIGTERM/Ctrl-C.

use std::path::PathBuf;

use idp_common::shutdown::Shutdown;
use idp_gateway::Settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = match std::env::var_os("GATEWAY_CONFIG") {
        Some(p) => {
            let p = PathBuf::from(p);
            anyhow::ensure!(
                p.exists(),
                "GATEWAY_CONFIG names a missing file: {}",
                p.display()
            );
            Some(p)
        }
        None => Some(PathBuf::from("gateway.toml")).filter(|p| p.exists()),
    };
    let settings = Settings::load(path.as_deref())?;
    idp_common::telemetry::init(&settings.telemetry);
    if let Some(p) = &path {
        tracing::info!(config = %p.display(), "configuration file read");
    }
    let amqp_url = std::env::var("AMQP_URL").unwrap_or_else(|_| settings.amqp_url.expose().clone());
    let exchange = settings.exchange.clone();
    let gateway = idp_gateway::build(settings).await?;
    let mut bus = None;
    if !amqp_url.is_empty() {
        let b = idp_bus::connect(&amqp_url, &exchange, 16).await?;
        gateway.listen_for_revocations(b.clone()).await?;
        bus = Some(b);
    }
    let shutdown = Shutdown::new();
    shutdown.trigger_on_signals();
    let ran = gateway.run(shutdown).await;
    // Closed while the runtime still runs (a clean stop logs no error).
    if let Some(b) = bus {
        b.shutdown().await;
    }
    ran
}
