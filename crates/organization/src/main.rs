//! The organization service as its own process (deployment mode).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = idp_organization::settings::load()?;
    let common = settings.common.clone();
    idp_runtime::service::run_standalone("organization", &common, |deps| {
        idp_organization::build(settings, deps)
    })
    .await
}
