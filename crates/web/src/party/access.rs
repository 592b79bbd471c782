//! Who reaches the Party roll and who signs in as a member (docs/party.md):
//!
//! - **an account for a member** who has none (`run_registration` in scope): from
//!   the member's page, or as a choice when confirming their registration
//!   (`pages::take_step`); its first password is shown once, on a page that prints
//!   as a slip with the sign-in address; enabling a disabled one again is a staff
//!   decision with a new first password;
//! - **grants of the roll** (`/party/access`, `manage_party`): the community's
//!   Party secretary or secretary names an account of the community and a reason;
//!   every grant and revocation is audited.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use wangge_domain::AuditAction;
use wangge_store::Thing;
use wangge_store::party::{self, Member, access};
use wangge_store::registry::areas::{self, Area};
use wangge_store::security::accounts::Account;

use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::render::{Lang, frame, local_time, render};
use crate::shared::site::Reached;
use crate::{ApiError, AppState};

// ---- an account for a member ----

/// Opens the member's account and audits it; the caller shows the first password.
pub(crate) async fn open_for(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    m: &Member,
    username: &str,
) -> Result<(Account, String), ApiError> {
    let password = access::first_password();
    let account = access::open_account(&s.db, &m.id, username, &password, &p.actor_name()).await?;
    let summary = serde_json::json!({ "member": m.id, "account": account.id, "username": account.username,
        "scope": account.scopes.first().map(|x| x.code.clone()) });
    audit::change(
        &s.db,
        (p, address),
        AuditAction::PartyAccountOpen,
        Target("party_member", &m.id, &m.path),
        None,
        &summary,
    )
    .await?;
    Ok((account, password))
}

/// The page showing a first password once, printable as a slip for the member.
pub(crate) fn account_page(
    p: &Principal,
    lang: Lang,
    reached: &Reached,
    m: &Member,
    account: &Account,
    password: &str,
    again: bool,
) -> Response {
    let ctx = context! {
        member => &m.name, member_href => format!("/party/members/{}", m.id), username => &account.username,
        password => password, sign_in => format!("{}/portal/login", reached.base.trim_end_matches('/')),
        phone => m.phone.is_some(), again => again, scope => account.scopes.first().map(|x| x.name.clone()),
        ..frame(p, lang, "/party")
    };
    render(lang, StatusCode::OK, "party/account.html", ctx)
}

#[derive(Deserialize)]
pub struct OpenForm {
    username: Option<String>,
}

async fn open_account(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    reached: Reached,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<OpenForm>,
) -> Result<Response, ApiError> {
    let m = super::member_in_sight(&s, &p, &id).await?;
    if !p.can_change(&m.path) {
        return Err(unknown(Thing::PartyMember, &id));
    }
    let username = match f.username.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => u.to_owned(),
        None => access::proposed_username(&s.db, &m.id).await?,
    };
    match open_for(&s, &p, &address, &m, &username).await {
        Ok((account, password)) => Ok(account_page(&p, lang, &reached, &m, &account, &password, false)),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
            refused_here(&s, &p, lang, &m, e).await
        }
        Err(e) => Err(e),
    }
}

/// A refusal about a member's account: on the member's page for those who read
/// the roll, else on the units page of the member's community.
async fn refused_here(s: &AppState, p: &Principal, lang: Lang, m: &Member, e: ApiError) -> Result<Response, ApiError> {
    let text = e.said(lang.code);
    if super::roll_open(s, p, &m.path).await? {
        return super::pages::member_page(s, p, lang, &m.id, None, Some(text)).await;
    }
    let community = areas::get(&s.db, &m.community_id).await?;
    super::pages::units_page(s, p, lang, Some(&community.code), e.status, Some(text)).await
}

async fn enable_account(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    reached: Reached,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let m = super::member_in_sight(&s, &p, &id).await?;
    if !p.can_change(&m.path) {
        return Err(unknown(Thing::PartyMember, &id));
    }
    let password = access::first_password();
    match access::enable_account(&s.db, &m.id, &password, &p.actor_name()).await {
        Ok((m, account)) => {
            let summary = serde_json::json!({ "member": m.id, "account": account.id, "username": account.username });
            audit::change(
                &s.db,
                (&p, &address),
                AuditAction::PartyAccountEnable,
                Target("party_member", &m.id, &m.path),
                None,
                &summary,
            )
            .await?;
            Ok(account_page(&p, lang, &reached, &m, &account, &password, true))
        }
        Err(e) => {
            let e = ApiError::from(e);
            if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT {
                refused_here(&s, &p, lang, &m, e).await
            } else {
                Err(e)
            }
        }
    }
}

// ---- grants of the roll ----

#[derive(Deserialize, Default)]
pub struct AreaQuery {
    area: Option<String>,
}

/// The community whose grants a page is about: the `?area=` (or the caller's one
/// scope), which must be a community or lie in one, wholly inside the caller's
/// scope (a grid's secretary grants nothing of the community).
async fn community_here(s: &AppState, p: &Principal, area: Option<&str>) -> Result<Area, ApiError> {
    let path = p
        .list_path(&s.db, area)
        .await?
        .ok_or_else(|| ApiError::bad_request(wangge_domain::msg!("error.several_scopes").field("area")))?;
    let area = areas::get_by_path(&s.db, &path).await?;
    let Ok(community) = party::community_of(&s.db, &area).await else {
        return Err(ApiError::invalid(
            wangge_domain::msg!("party.error.not_community", area = &area.name).field("area"),
        ));
    };
    if !p.can_change(&community.path) {
        return Err(super::not_here());
    }
    Ok(community)
}

#[derive(Serialize)]
struct GrantRow {
    id: String,
    username: String,
    name: String,
    reason: String,
    by: String,
    when: String,
    live: bool,
    revoked: String,
}

async fn grants(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> Result<Response, ApiError> {
    let community = community_here(&s, &p, q.area.as_deref()).await?;
    grants_page(&s, &p, lang, &community, StatusCode::OK, None, None).await
}

async fn grants_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    community: &Area,
    status: StatusCode,
    error: Option<String>,
    username: Option<&str>,
) -> Result<Response, ApiError> {
    let rows: Vec<GrantRow> = access::grants_of(&s.db, &community.id)
        .await?
        .into_iter()
        .map(|g| GrantRow {
            live: g.revoked_at.is_none(),
            revoked: g
                .revoked_at
                .map(|at| format!("{} · {}", local_time(at), g.revoked_by_name.clone().unwrap_or_default()))
                .unwrap_or_default(),
            id: g.id,
            username: g.username,
            name: g.display_name,
            reason: g.reason,
            by: g.granted_by_name,
            when: local_time(g.granted_at),
        })
        .collect();
    let ctx = context! {
        area => &community.code, area_name => &community.name,
        grants => minijinja::Value::from(minijinja::value::Serde(&rows)), error => error, username => username,
        ..frame(p, lang, "/party")
    };
    Ok(render(lang, status, "party/access.html", ctx))
}

#[derive(Deserialize)]
pub struct GrantForm {
    area: String,
    username: String,
    reason: Option<String>,
}

async fn grant(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    axum::Form(f): axum::Form<GrantForm>,
) -> Result<Response, ApiError> {
    let community = community_here(&s, &p, Some(&f.area)).await?;
    let reason = f.reason.clone().unwrap_or_default();
    match access::grant_roll(&s.db, &community, &f.username, &reason, &p.actor_name()).await {
        Ok(g) => {
            let event = audit::Event {
                target_kind: Some("party_roll_grant"),
                target_id: Some(&g.id),
                path: Some(&g.path),
                reason: Some(&g.reason),
                after: audit::json(&serde_json::json!({ "account": g.account_id, "username": g.username })),
                ..audit::Event::of(AuditAction::PartyRollGrant)
            };
            audit::log(&s.db, Some(&p), None, &address, event).await?;
            Ok(Redirect::to(&format!("/party/access?area={}", community.code)).into_response())
        }
        Err(e) => {
            let e = ApiError::from(e);
            if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT {
                let text = e.said(lang.code);
                grants_page(&s, &p, lang, &community, e.status, Some(text), Some(&f.username)).await
            } else {
                Err(e)
            }
        }
    }
}

async fn revoke(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let g = match access::grant(&s.db, &id).await {
        Ok(g) if p.can_change(&g.path) => g,
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => return Err(unknown(Thing::PartyGrant, &id)),
        Err(e) => return Err(e.into()),
    };
    let community = areas::get(&s.db, &g.community_id).await?;
    match access::revoke_roll(&s.db, &g.id, &p.actor_name()).await {
        Ok(g) => {
            let event = audit::Event {
                target_kind: Some("party_roll_grant"),
                target_id: Some(&g.id),
                path: Some(&g.path),
                after: audit::json(&serde_json::json!({ "account": g.account_id, "username": g.username })),
                ..audit::Event::of(AuditAction::PartyRollRevoke)
            };
            audit::log(&s.db, Some(&p), None, &address, event).await?;
            Ok(Redirect::to(&format!("/party/access?area={}", community.code)).into_response())
        }
        Err(e) => {
            let e = ApiError::from(e);
            if e.status == StatusCode::CONFLICT {
                let text = e.said(lang.code);
                grants_page(&s, &p, lang, &community, e.status, Some(text), None).await
            } else {
                Err(e)
            }
        }
    }
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use wangge_domain::Action::{ManageParty, RunRegistration};
    crate::shared::routes::Routes::new()
        .post("/party/members/{id}/account", Role(RunRegistration), open_account)
        .post("/party/members/{id}/account/enable", Role(RunRegistration), enable_account)
        .get("/party/access", Role(ManageParty), grants)
        .post("/party/access", Role(ManageParty), grant)
        .post("/party/access/{id}/revoke", Role(ManageParty), revoke)
}
