//! The identity service as its own process (deployment mode).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = idp_identity::settings::load()?;
    let common = settings.common.clone();
    idp_runtime::service::run_standalone("identity", &common, |deps| {
        idp_identity::build(settings, deps)
    })
    .await
}
