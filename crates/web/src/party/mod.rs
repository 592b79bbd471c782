//! Party building (党建引领, module 6): the organisations and members of one's area,
//! the units and registrations (双报到) with staff confirmation, the public
//! registration form, the printable 报到单, the needs list, members' claims and
//! service records with photos, their confirmation, the units' feedback reports
//! (HTML, .xlsx, JSON) and their schedule, the JSON API. The rules are
//! `wangge_domain::party`, the SQL `wangge_store::party`; the templates are
//! `templates/party/`, the strings `locales/party.yml`.
//!
//! Who does what, fail-closed:
//! - **sees** the registry (`view_party`): records under one's scope; a unit (and
//!   its registrations) belongs to its community, seen from the community and from
//!   its grids; the **roll** (member list, member pages) only by keeping the
//!   registry (`manage_party`) or through a grant by name (`access`, the route rule
//!   `Access::PartyRoll`);
//! - **opens an account** for a member who has none (`run_registration`, `access`);
//! - **keeps** it (`manage_party`): organisations, members, needs, settings; reveals
//!   a member's number, audited;
//! - **decides registrations** (`run_registration`) and **service** (`confirm_service`)
//!   inside one's scope;
//! - **serves** (`serve_party`): a resident whose account is a member's claims and
//!   records their own service only.

pub(crate) mod access;
pub(crate) mod api;
pub(crate) mod cards;
pub(crate) mod feedback;
pub(crate) mod joint;
pub(crate) mod life;
pub(crate) mod pages;
pub(crate) mod projects;

use wangge_domain::party::RegistrationStep;
use wangge_domain::{Action, AuditAction, Module, msg};
use wangge_store::Thing;
use wangge_store::notifications::{Audience, Notice};
use wangge_store::party::{self, Member, Registration, Unit, service};

use crate::shared::audit::{self, Target};
use crate::shared::auth::{Actor, ClientAddress, Principal, unknown};
use crate::{ApiError, AppState};

/// Whether the caller sees a record at `path` of the Party registry: in scope, or
/// the community above their grid (units and community-wide records).
pub(crate) fn sees(p: &Principal, path: &str) -> bool {
    p.can_see(path) || (!p.scopes.is_empty() && p.is_above_scope(path) && path.matches('/').count() >= 5)
}

/// A member the caller sees, else an unknown member.
pub(crate) async fn member_in_sight(s: &AppState, p: &Principal, id: &str) -> Result<Member, ApiError> {
    p.refer(party::member(&s.db, id).await, Thing::PartyMember, id, |m| &m.path)
}

/// Whether the caller reads the roll (the members by name) at `path`: in their
/// scope, and by role (`manage_party`) or through a live grant of the community
/// holding `path` (docs/party.md "Who sees the roll").
pub(crate) async fn roll_open(s: &AppState, p: &Principal, path: &str) -> Result<bool, ApiError> {
    if !p.can_see(path) {
        return Ok(false);
    }
    if p.role.may(Action::ManageParty) {
        return Ok(true);
    }
    if !p.role.may(Action::ViewParty) {
        return Ok(false);
    }
    Ok(match &p.actor {
        Actor::Account { id, .. } => {
            party::access::granted_paths(&s.db, id).await?.iter().any(|g| path.starts_with(g.as_str()))
        }
        Actor::Token { .. } => false,
    })
}

/// The refusal of the roll to a caller who works with the Party registry without
/// a grant: said in their language, naming who grants it.
pub(crate) fn roll_closed() -> ApiError {
    ApiError::forbidden(msg!("party.error.roll_closed"))
}

/// A member of the roll the caller reads: outside their scope an unknown member
/// (404), inside it without the roll open 403.
pub(crate) async fn member_on_roll(s: &AppState, p: &Principal, id: &str) -> Result<Member, ApiError> {
    let m = member_in_sight(s, p, id).await?;
    if !roll_open(s, p, &m.path).await? {
        return Err(roll_closed());
    }
    Ok(m)
}

/// A unit the caller sees, else an unknown unit.
pub(crate) async fn unit_in_sight(s: &AppState, p: &Principal, id: &str) -> Result<Unit, ApiError> {
    match party::unit(&s.db, id).await {
        Ok(u) if sees(p, &u.path) => Ok(u),
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => Err(unknown(Thing::PartyUnit, id)),
        Err(e) => Err(e.into()),
    }
}

/// A registration the caller sees, else an unknown one.
pub(crate) async fn registration_in_sight(s: &AppState, p: &Principal, id: &str) -> Result<Registration, ApiError> {
    match party::registration(&s.db, id).await {
        Ok(r) if sees(p, &r.path) => Ok(r),
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => Err(unknown(Thing::PartyRegistration, id)),
        Err(e) => Err(e.into()),
    }
}

/// A service record the caller sees (in scope, or their own), else an unknown one.
pub(crate) async fn service_in_sight(s: &AppState, p: &Principal, id: &str) -> Result<service::Service, ApiError> {
    let found = service::service(&s.db, id).await;
    match found {
        Ok(r) if sees(p, &r.path) || own_member_ids(s, p).await?.contains(&r.member_id) => Ok(r),
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => Err(unknown(Thing::PartyService, id)),
        Err(e) => Err(e.into()),
    }
}

/// The members the caller's account is (one per community at most).
pub(crate) async fn own_members(s: &AppState, p: &Principal) -> Result<Vec<Member>, ApiError> {
    match &p.actor {
        Actor::Account { id, .. } => Ok(party::members_of_account(&s.db, id).await?),
        Actor::Token { .. } => Ok(Vec::new()),
    }
}

async fn own_member_ids(s: &AppState, p: &Principal) -> Result<Vec<String>, ApiError> {
    Ok(own_members(s, p).await?.into_iter().map(|m| m.id).collect())
}

/// The one way a registration is decided, for the page and the API: inside the
/// caller's scope, audited, the registrant's community told.
pub(crate) async fn decide_registration(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    id: &str,
    step: RegistrationStep,
    reason: Option<&str>,
) -> Result<Registration, ApiError> {
    let r = registration_in_sight(s, p, id).await?;
    let after = party::step(&s.db, &r.id, step, reason, &p.actor_name()).await?;
    let summary = serde_json::json!({ "from": r.state, "to": after.state, "reason": reason, "period": r.period });
    audit::change(
        &s.db,
        (p, address),
        AuditAction::PartyRegistrationStep,
        Target("party_registration", &r.id, &r.path),
        None,
        &summary,
    )
    .await?;
    Ok(after)
}

/// Tells the Party organisation secretaries and the community's staff over `path`.
pub(crate) async fn tell_staff(
    s: &AppState,
    path: &str,
    subject: &str,
    link: &str,
    message: wangge_domain::Message,
) -> Result<(), ApiError> {
    use wangge_domain::Role;
    for role in [Role::PartySecretary, Role::CommunitySecretary, Role::CommunityStaff] {
        let notice = Notice {
            module: Module::Party,
            subject_id: Some(subject.to_owned()),
            path: path.to_owned(),
            link: Some(link.to_owned()),
            message: message.clone(),
        };
        crate::notify(&s.db, s.site.public_url(), &Audience::Role { role, path: path.to_owned() }, notice).await?;
    }
    Ok(())
}

/// The one way service is confirmed or rejected: inside the caller's scope, by
/// someone other than the member who recorded it, audited, the member told.
pub(crate) async fn decide_service(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    id: &str,
    confirm: bool,
    rating: Option<i64>,
    reason: Option<&str>,
) -> Result<service::Service, ApiError> {
    let r = service_in_sight(s, p, id).await?;
    if !p.can_see(&r.path) && !sees(p, &r.path) {
        return Err(unknown(Thing::PartyService, id));
    }
    let after = service::decide(&s.db, &r.id, confirm, rating, reason, &p.actor_name()).await?;
    let summary = serde_json::json!({ "to": after.state, "rating": rating, "reason": reason, "minutes": r.minutes });
    audit::change(
        &s.db,
        (p, address),
        AuditAction::PartyServiceDecide,
        Target("party_service", &r.id, &r.path),
        None,
        &summary,
    )
    .await?;
    let m = party::member(&s.db, &r.member_id).await?;
    if let Some(account) = &m.account_id {
        let notice = Notice {
            module: Module::Party,
            subject_id: Some(r.id.clone()),
            path: r.path.clone(),
            link: Some("/party/mine".into()),
            message: wangge_domain::Message::new("party.notice.decided")
                .arg("activity", &r.activity)
                .term("state", after.state),
        };
        crate::notify(&s.db, s.site.public_url(), &Audience::Account(account.clone()), notice).await?;
    }
    Ok(after)
}

/// Refuses a caller who may not act on the Party registry here.
pub(crate) fn not_here() -> ApiError {
    ApiError::forbidden(msg!("party.error.not_here"))
}

/// Every route of Party building.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    pages::routes()
        .merge(api::routes())
        .merge(access::routes())
        .merge(life::routes())
        .merge(joint::routes())
        .merge(projects::routes())
}
