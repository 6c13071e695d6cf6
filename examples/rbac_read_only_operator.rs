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
use xo_sdk::prelude::*;
use xo_sdk::types::{AclEffect, AclPrivilegeId};

/// The resources the role may read.
pub const READABLE: [&str; 3] = ["vm", "host", "pool"];

/// What was set up.
#[derive(Debug)]
pub struct ReadOnlyRole {
    /// The new role.
    pub role: AclRoleId,
    /// Its privileges, one per resource of [`READABLE`].
    pub privileges: Vec<AclPrivilegeId>,
    /// The user it is attached to.
    pub user: UserId,
}

/// Create the role `role_name` and attach it to `user` (an id or a user
/// name).
pub async fn run(client: &Client, user: &str, role_name: &str) -> Result<ReadOnlyRole, BoxError> {
    // Resolve the user first: a typo should not leave a role behind.
    let user_name = user;
    let user = common::user(client, user)
        .await?
        .id
        .ok_or("XO sent a user without id")?;

    let role: AclRoleId = client
        .acl_roles()
        .create(role_name)
        .description("Read-only access to all VMs and hosts")
        .send()
        .await?;
    println!("Created role {role_name:?}: {role}");

    let mut privileges = Vec::new();
    for resource in READABLE {
        let privilege: AclPrivilegeId = client
            .acl_privileges()
            .create(&role, resource, "read", AclEffect::Allow)
            .send()
            .await?;
        println!("  allow read on {resource}: {privilege}");
        privileges.push(privilege);
    }

    client
        .acl_roles()
        .attach_to_user(&role, &user)
        .send()
        .await?;
    println!("Attached to user {user_name}");
    Ok(ReadOnlyRole {
        role,
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
