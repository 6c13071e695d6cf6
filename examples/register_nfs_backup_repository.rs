//! Register an NFS backup repository (XO 6.6+): the DADL example of the
//! same name in Rust.
//!
//! Creates a backup repository (an XO "remote") and reads it back. The
//! DADL's JavaScript also sends `enabled: true`: XO rejects that field
//! (422), so the corrected tool has no such parameter. A new repository is
//! enabled; `validate_backup_repository` checks that XO can use it.
//!
//! ```sh
//! cargo run --example register_nfs_backup_repository     # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example register_nfs_backup_repository -- nightly-nfs nfs://nas.example.com:/srv/backups
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::prelude::*;

/// Register the repository `name` at `url` (`nfs://host:/path`,
/// `smb://…`, `s3://…`, `file:///…`) and return it as XO shows it.
pub async fn run(client: &Client, name: &str, url: &str) -> Result<BackupRepository, BoxError> {
    let id: BackupRepositoryId = client
        .backup_repositories()
        .create(name, url)
        .send()
        .await?;
    let repo = client.backup_repositories().get(&id).send().await?;
    println!(
        "Backup repository {:?} ({id}): {}, {}",
        repo.name.as_deref().unwrap_or_default(),
        repo.url.as_deref().unwrap_or_default(),
        if repo.enabled == Some(true) {
            "enabled"
        } else {
            "disabled"
        }
    );
    Ok(repo)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = common::positional_args();
    let name = args.first().map_or("nightly-nfs", String::as_str);
    let url = args
        .get(1)
        .map_or("nfs://nas.example.com:/srv/backups", String::as_str);
    let target = common::connect().await?;
    run(&target.client, name, url).await?;
    Ok(())
}
