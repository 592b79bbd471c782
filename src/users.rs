//! `wangge user …` and `wangge token …`: accounts and API tokens from the command
//! line, for the first administrator and for scripts. Every change is audited with
//! the operating-system user as the actor.

use anyhow::Context;
use clap::Subcommand;
use wangge_domain::{AuditAction, Role, Vocabulary};
use wangge_store::Db;
use wangge_store::audit::{self, Entry};
use wangge_store::security::accounts::{self, NewAccount, NewApiToken};
use wangge_store::security::sessions;

use crate::DatabaseArg;
use crate::commands::open;

#[derive(Subcommand)]
pub enum UserWhat {
    /// Create a staff account. The person must change the password at first login.
    Add {
        /// Login name: 3–40 lower-case letters, digits, '.', '_' or '-'.
        username: String,
        /// One of: platform_admin, city_official, district_official, street_official,
        /// community_secretary, community_staff, grid_leader, grid_member, auxiliary,
        /// party_secretary, resident.
        #[arg(long)]
        role: String,
        /// Area code (or id) whose subtree the account sees; repeat for several.
        /// Not needed for platform_admin.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// The name shown to others (default: the login name).
        #[arg(long)]
        name: Option<String>,
        /// The first password (at least 10 characters); read from WANGGE_PASSWORD if omitted.
        #[arg(long, env = "WANGGE_PASSWORD", hide_env_values = true)]
        password: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Stop an account from logging in and end its sessions.
    Disable {
        username: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Set a temporary password; the person must change it at the next login.
    ResetPassword {
        username: String,
        #[arg(long, env = "WANGGE_PASSWORD", hide_env_values = true)]
        password: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// List the accounts with their roles and scopes.
    List {
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Subcommand)]
pub enum TokenWhat {
    /// Issue a bearer token for the API with a role and one scope; prints it once.
    Issue {
        /// What the token is for, e.g. the system that will use it.
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
        /// Area code (or id).
        #[arg(long)]
        scope: String,
        /// Days until it stops working (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Revoke a token by its id: it stops working at once.
    Revoke {
        id: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

fn parse_role(role: &str) -> anyhow::Result<Role> {
    Role::parse(role).map_err(|e| anyhow::anyhow!("--role {e}"))
}

/// The person at the keyboard, as the audit log names them.
fn operator() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}

async fn audited(db: &Db, action: AuditAction, kind: &str, id: &str, after: Option<String>) -> anyhow::Result<()> {
    let entry = Entry {
        actor_name: operator(),
        address: Some("command line".into()),
        action: action.code().into(),
        target_kind: Some(kind.into()),
        target_id: Some(id.into()),
        after,
        ..Default::default()
    };
    audit::record(db, entry).await.context("writing the audit log")
}

pub async fn user(what: UserWhat) -> anyhow::Result<()> {
    match what {
        UserWhat::Add { username, role, scopes, name, password, database } => {
            let db = open(&database).await?;
            let role = parse_role(&role)?;
            let new =
                NewAccount { display_name: name.unwrap_or_else(|| username.clone()), username, role, scopes, password };
            let account = accounts::create(&db, new).await?;
            audited(&db, AuditAction::AccountCreate, "account", &account.id, serde_json::to_string(&account).ok())
                .await?;
            let scopes: Vec<&str> = account.scopes.iter().map(|s| s.code.as_str()).collect();
            println!(
                "Created {} ({}) with scope {}; the password must be changed at first login.",
                account.username,
                role.label_en(),
                scopes.join(", ")
            );
        }
        UserWhat::Disable { username, database } => {
            let db = open(&database).await?;
            let account = accounts::get_by_username(&db, &username).await?;
            accounts::set_disabled(&db, &account.id, true).await?;
            audited(&db, AuditAction::AccountDisable, "account", &account.id, None).await?;
            println!("Disabled {username}; their sessions have ended.");
        }
        UserWhat::ResetPassword { username, password, database } => {
            let db = open(&database).await?;
            let account = accounts::get_by_username(&db, &username).await?;
            accounts::set_password(&db, &account.id, &password, true).await?;
            sessions::revoke_all(&db, &account.id).await?;
            audited(&db, AuditAction::AccountResetPassword, "account", &account.id, None).await?;
            println!("Set a temporary password for {username}; it must be changed at the next login.");
        }
        UserWhat::List { database } => {
            let db = open(&database).await?;
            for a in accounts::list(&db).await? {
                let scopes: Vec<&str> = a.scopes.iter().map(|s| s.code.as_str()).collect();
                let state = if a.disabled { " (disabled)" } else { "" };
                println!("{:<20} {:<22} {}{state}", a.username, a.role.code(), scopes.join(","));
            }
        }
    }
    Ok(())
}

pub async fn token(what: TokenWhat) -> anyhow::Result<()> {
    match what {
        TokenWhat::Issue { name, role, scope, expires_in_days, database } => {
            let db = open(&database).await?;
            let new = NewApiToken { name, role: parse_role(&role)?, scope, expires_in_days };
            let (token, secret) = accounts::issue_token(&db, new, None).await?;
            audited(&db, AuditAction::TokenIssue, "api_token", &token.id, serde_json::to_string(&token).ok()).await?;
            eprintln!("Token {} ({} in {}); it is shown only now:", token.id, token.role.code(), token.scope.code);
            println!("{secret}");
        }
        TokenWhat::Revoke { id, database } => {
            let db = open(&database).await?;
            accounts::revoke_token(&db, &id).await?;
            audited(&db, AuditAction::TokenRevoke, "api_token", &id, None).await?;
            println!("Revoked token {id}.");
        }
    }
    Ok(())
}
