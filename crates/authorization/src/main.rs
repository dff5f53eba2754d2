//! The authorization service as its own process (deployment mode).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = idp_authorization::settings::load()?;
    let common = settings.common.clone();
    idp_runtime::service::run_standalone("authorization", &common, |deps| {
        idp_authorization::build(settings, deps)
    })
    .await
}
