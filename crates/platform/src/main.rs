//! `make run`: the whole platform in one process (the embedded default).

use idp_platform::{Platform, PlatformSettings};
use idp_runtime::Shutdown;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let settings = PlatformSettings::load()?;
    idp_common::telemetry::init(&settings.telemetry);
    let shutdown = Shutdown::new();
    shutdown.trigger_on_signals();
    let platform = Platform::start(settings, shutdown).await?;
    tracing::info!(
        gateway = %platform.gateway_addr,
        public_url = %platform.public_url,
        credentials_file = %platform.credentials_file.display(),
        startup_ms = started.elapsed().as_millis() as u64,
        "platform ready; the super-admin credentials are in credentials_file"
    );
    platform.wait().await
}
