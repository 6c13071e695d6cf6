//! Provision an RBAC v2 read-only operator role (XO 6.4+): the DADL
//! example of the same name in Rust.
//!
//! Creates a role, grants it `read` on VMs, hosts and pools, and attaches
//! it to a user. A privilege needs an `effect` (`allow` or `deny`): the
//! DADL's JavaScript omits it, and XO rejects that (422), so the generated
//! method takes it as an argument (see `dadl/ERRATA.md`).
//!
//! ```sh
//! cargo run --example rbac_read_only_operator             # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example rbac_read_only_operator -- operator@example.com
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::types::AclEffect;
use xo_sdk::xo::CreatedId;

/// The resources the role may read.
pub const READABLE: [&str; 3] = ["vm", "host", "pool"];

/// What was set up.
#[derive(Debug)]
pub struct ReadOnlyRole {
    /// The new role.
    pub role: String,
    /// Its privileges, one per resource of [`READABLE`].
    pub privileges: Vec<String>,
    /// The user it is attached to.
    pub user: String,
}

/// Create the role `role_name` and attach it to `user` (an id or a user
/// name).
pub async fn run(
    client: &xo_sdk::Client,
    user: &str,
    role_name: &str,
) -> Result<ReadOnlyRole, BoxError> {
    // Resolve the user first: a typo should not leave a role behind.
    let user_name = user;
    let user = common::resolve(client.users().list(), "name", user, "user").await?;

    let role: CreatedId = client
        .acl_roles()
        .create(role_name)
        .description("Read-only access to all VMs and hosts")
        .send_as()
        .await?;
    println!("Created role {role_name:?}: {}", role.id);

    let mut privileges = Vec::new();
    for resource in READABLE {
        let privilege: CreatedId = client
            .acl_privileges()
            .create(&role.id, resource, "read", AclEffect::Allow)
            .send_as()
            .await?;
        println!("  allow read on {resource}: {}", privilege.id);
        privileges.push(privilege.id);
    }

    client
        .acl_roles()
        .attach_to_user(&role.id, &user)
        .send()
        .await?;
    println!("Attached to user {user_name}");
    Ok(ReadOnlyRole {
        role: role.id,
        privileges,
        user,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    let args = common::positional_args();
    let user = match args.first() {
        Some(user) => user.as_str(),
        // xo-sim's non-admin user.
        None if target.is_simulated() => "operator@example.com",
        None => return Err("name the user (id or name)".into()),
    };
    run(&target.client, user, "operator-readonly").await?;
    Ok(())
}
