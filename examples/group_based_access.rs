//! Group-based access control: the DADL example of the same name in Rust.
//!
//! Creates a team group, adds users to it, and attaches an existing ACL
//! role to the group: every member gets the role's privileges.
//!
//! xo-sim has no `alice` or `bob`: against it, `main` creates them first.
//!
//! ```sh
//! cargo run --example group_based_access                  # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example group_based_access -- devops-team "VM operator" alice@example.com bob@example.com
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::prelude::*;

/// The team as set up.
#[derive(Debug)]
pub struct Team {
    /// The new group.
    pub group: GroupId,
    /// Its members.
    pub users: Vec<UserId>,
    /// The role attached to it.
    pub role: AclRoleId,
}

/// Create the group `group_name` with `members` (ids or user names) and
/// attach the role `role` (an id or a name) to it.
pub async fn run(
    client: &Client,
    group_name: &str,
    members: &[&str],
    role: &str,
) -> Result<Team, BoxError> {
    // Resolve every name first: a typo should not leave a half-made group.
    let mut users = Vec::new();
    for member in members {
        let user = common::user(client, member).await?;
        users.push(user.id.ok_or("XO sent a user without id")?);
    }
    let role_name = role;
    let role = common::acl_role(client, role)
        .await?
        .id
        .ok_or("XO sent a role without id")?;

    let group: GroupId = client.groups().create(group_name).send().await?;
    println!("Created group {group_name:?}: {group}");
    for (user, name) in users.iter().zip(members) {
        client.groups().add_user_to(&group, user).send().await?;
        println!("  added {name}");
    }
    client
        .acl_roles()
        .attach_to_group(&role, &group)
        .send()
        .await?;
    println!("Attached role {role_name:?} to the group");
    Ok(Team { group, users, role })
}

/// Create the users `names` that do not exist yet (for xo-sim), with
/// throw-away passwords.
pub async fn create_missing_users(client: &Client, names: &[&str]) -> Result<(), BoxError> {
    for name in names {
        if common::user(client, name).await.is_err() {
            let id: UserId = client.users().create(*name, "change-me-123").send().await?;
            println!("Created user {name}: {id}");
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = common::connect().await?;
    let args = common::positional_args();
    let (group, role, members): (&str, &str, Vec<&str>) = match args.as_slice() {
        [group, role, members @ ..] if !members.is_empty() => {
            (group, role, members.iter().map(String::as_str).collect())
        }
        [] if target.is_simulated() => {
            let members = vec!["alice@example.com", "bob@example.com"];
            create_missing_users(&target.client, &members).await?;
            // "VM operator" is one of xo-sim's roles.
            ("devops-team", "VM operator", members)
        }
        _ => return Err("usage: group_based_access GROUP ROLE USER…".into()),
    };
    run(&target.client, group, &members, role).await?;
    Ok(())
}
