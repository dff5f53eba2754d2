//! The invitation service as its own process (deployment mode).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = idp_invitation::settings::load()?;
    let common = settings.common.clone();
    idp_runtime::service::run_standalone("invitation", &common, |deps| {
        idp_invitation::build(settings, deps)
    })
    .await
}
