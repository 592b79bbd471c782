//! A community's handling units and its dispatch settings (issue 15): the
//! departments, the property company and the call-back desk (organisations in the
//! roles of `wangge_store::units`) with their people, kept on one page per
//! community (`/registry/areas/{id}/units`), and the JSON API `/api/v1/units…`.
//! The same page sets whether residents' reports are dispatched automatically and
//! the hotline printed on the grids' public face.
//!
//! Reading needs `view_areas` over the community; changing needs `manage_team`
//! and the community in the caller's own scope (as the team roster).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wangge_domain::{AreaLevel, AuditAction, OrganisationKind, UnitRole, Vocabulary};
use wangge_store::StoreError;
use wangge_store::Thing;
use wangge_store::demands::routing::{self, CommunitySettings};
use wangge_store::registry::areas::{self, Area};
use wangge_store::registry::organisations::{self, NewOrganisation, Organisation, OrganisationUpdate};
use wangge_store::units::{self, Held, Member, NewMember};

use crate::shared::api::{ApiResult, Id, JsonBody, Params};
use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::error::ErrorBody;
use crate::shared::render::{Lang, frame, label, render, say};
use crate::{ApiError, AppState};

/// The roles a community gives its units on this page.
const ROLES: [UnitRole; 3] = [UnitRole::HandlerDepartment, UnitRole::PropertyCompany, UnitRole::CallBack];

/// A unit with its roles and current people.
#[derive(Serialize, ToSchema)]
pub struct Unit {
    pub organisation: Organisation,
    pub roles: Vec<Held>,
    pub members: Vec<Member>,
}

async fn unit(s: &AppState, o: Organisation) -> Result<Unit, ApiError> {
    Ok(Unit { roles: units::roles(&s.db, &o.id).await?, members: units::members(&s.db, &o.id).await?, organisation: o })
}

/// The community `id` (a grid's community when a grid is named), in the caller's scope.
async fn community(s: &AppState, p: &Principal, id: &str) -> Result<Area, ApiError> {
    let area = p.refer(areas::get(&s.db, id).await, Thing::Area, id, |a| &a.path)?;
    match area.level {
        AreaLevel::Community => Ok(area),
        AreaLevel::Grid => Ok(areas::get(&s.db, area.parent_id.as_deref().unwrap_or_default()).await?),
        level => Err(ApiError::invalid(
            wangge_domain::msg!("registry.error.not_a_community", code = &area.code)
                .level("level", level)
                .field("area"),
        )),
    }
}

/// The unit, for one who keeps the community's team where it is.
async fn kept_unit(s: &AppState, p: &Principal, id: &str) -> Result<Organisation, ApiError> {
    let o = p.refer(organisations::get(&s.db, id).await, Thing::Organisation, id, |o| &o.path)?;
    if !super::manages(p, &o.path) {
        return Err(unknown(Thing::Organisation, id));
    }
    Ok(o)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UnitsQuery {
    /// The community (or one of its grids) whose units to list.
    pub area: String,
}

/// The units serving a community, with their roles and current people.
#[utoipa::path(get, path = "/api/v1/units", tag = "areas", params(UnitsQuery),
    responses((status = 200, body = Vec<Unit>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_units(
    State(s): State<AppState>,
    p: Principal,
    Params(q): Params<UnitsQuery>,
) -> ApiResult<Vec<Unit>> {
    let c = community(&s, &p, &q.area).await?;
    let mut out = Vec::new();
    for o in units::in_area(&s.db, &c.path).await? {
        out.push(unit(&s, o).await?);
    }
    Ok(Json(out))
}

/// A person joins a unit (with an account, they receive its items and notices).
#[utoipa::path(post, path = "/api/v1/units/{id}/members", tag = "areas", params(("id" = String, Path, description = "Unit (organisation) id")),
    request_body = NewMember, responses((status = 201, body = Member), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_unit_member(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    JsonBody(new): JsonBody<NewMember>,
) -> Result<(StatusCode, Json<Member>), ApiError> {
    let o = kept_unit(&s, &p, &id).await?;
    if let Some(account) = new.account_id.as_deref().filter(|a| !a.trim().is_empty()) {
        account_in_reach(&s, &p, account).await?;
    }
    let m = units::join(&s.db, &o.id, new).await?;
    audit::change(&s.db, (&p, &address), AuditAction::UnitJoin, Target("unit_member", &m.id, &o.path), None, &m)
        .await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// A person leaves a unit (dated; they receive nothing more from it).
#[utoipa::path(post, path = "/api/v1/unit-members/{id}/end", tag = "areas", params(("id" = String, Path, description = "Membership id")),
    responses((status = 200, body = Member), (status = 404, body = ErrorBody)))]
pub async fn end_unit_member(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
) -> ApiResult<Member> {
    let before = match units::member(&s.db, &id).await {
        Ok(m) => m,
        Err(StoreError::NotFound { .. }) => return Err(unknown(Thing::UnitMember, &id)),
        Err(e) => return Err(e.into()),
    };
    let o = kept_unit(&s, &p, &before.organisation_id).await.map_err(|_| unknown(Thing::UnitMember, &id))?;
    let after = units::leave(&s.db, &id).await?;
    let target = Target("unit_member", &id, &o.path);
    audit::change(&s.db, (&p, &address), AuditAction::UnitLeave, target, Some(&before), &after).await?;
    Ok(Json(after))
}

/// An account named as a unit's person must work where the caller may see.
async fn account_in_reach(s: &AppState, p: &Principal, account: &str) -> Result<(), ApiError> {
    match wangge_store::security::accounts::get(&s.db, account).await {
        Ok(a) if a.scopes.iter().any(|scope| p.can_see(&scope.path)) => Ok(()),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(unknown(Thing::Account, account)),
        Err(e) => Err(e.into()),
    }
}

// ---- pages ----

#[derive(Serialize)]
struct Choice {
    code: &'static str,
    label: &'static str,
}

#[derive(Serialize)]
struct UnitCard {
    unit: Unit,
    role_codes: Vec<&'static str>,
    role_labels: Vec<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct UnitsPageQuery {
    saved: Option<u8>,
}

async fn units_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    c: &Area,
    status: StatusCode,
    error: Option<String>,
    saved: bool,
) -> Result<Response, ApiError> {
    let manages = super::manages(p, &c.path);
    let mut cards = Vec::new();
    for o in units::in_area(&s.db, &c.path).await? {
        let u = unit(s, o).await?;
        let role_codes = u.roles.iter().map(|h| h.role.code()).collect();
        let role_labels = u.roles.iter().map(|h| label(h.role, lang)).collect();
        cards.push(UnitCard { unit: u, role_codes, role_labels });
    }
    let settings = routing::settings_at(&s.db, &c.path).await?;
    let grids: Vec<(String, String)> =
        areas::children(&s.db, &c.id).await?.into_iter().map(|g| (g.id, g.name)).collect();
    let roles: Vec<Choice> = ROLES.iter().map(|&r| Choice { code: r.code(), label: label(r, lang) }).collect();
    let ctx = context! {
        community => Value::from(Serde(c)), units => Value::from(Serde(&cards)), manages => manages,
        settings => Value::from(Serde(&settings)), grids => grids, roles => Value::from(Serde(&roles)),
        error => error, saved => saved,
        ..frame(p, lang, "/registry"),
    };
    Ok(render(lang, status, "team/units.html", ctx))
}

pub async fn units_page_get(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<UnitsPageQuery>,
) -> Result<Response, ApiError> {
    let c = community(&s, &p, &id).await?;
    units_page(&s, &p, lang, &c, StatusCode::OK, None, q.saved.is_some()).await
}

fn said(err: StoreError, lang: Lang) -> Result<String, ApiError> {
    match err {
        StoreError::Invalid(m) | StoreError::Conflict(m) => Ok(say(&m, lang.code)),
        StoreError::NotFound { .. } => Ok(say(&ApiError::from(err).message, lang.code)),
        e => Err(e.into()),
    }
}

type PostForm = Vec<(String, String)>;

fn field(form: &PostForm, name: &str) -> String {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

fn back(c: &Area) -> Response {
    Redirect::to(&format!("/registry/areas/{}/units?saved=1", c.id)).into_response()
}

/// A community's dispatch settings: automatic dispatch and the hotline.
pub async fn save_settings(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<PostForm>,
) -> Result<Response, ApiError> {
    let c = community(&s, &p, &id).await?;
    if !super::manages(&p, &c.path) {
        return Err(unknown(Thing::Area, &id));
    }
    let before = routing::settings_at(&s.db, &c.path).await?;
    let hotline = Some(field(&form, "hotline")).filter(|h| !h.is_empty());
    let after = CommunitySettings { auto_dispatch: field(&form, "auto_dispatch") == "1", hotline };
    if let Err(e) = routing::set_settings(&s.db, &c.id, &after).await {
        let message = said(e, lang)?;
        return units_page(&s, &p, lang, &c, StatusCode::UNPROCESSABLE_ENTITY, Some(message), false).await;
    }
    let target = Target("area", &c.id, &c.path);
    audit::change(&s.db, (&p, &address), AuditAction::CommunitySettings, target, Some(&before), &after).await?;
    Ok(back(&c))
}

/// Adds a unit to the community: an organisation in one of the roles.
pub async fn add_unit(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<PostForm>,
) -> Result<Response, ApiError> {
    let c = community(&s, &p, &id).await?;
    if !super::manages(&p, &c.path) {
        return Err(unknown(Thing::Area, &id));
    }
    let Some(role) = UnitRole::from_code(&field(&form, "role")).filter(|r| ROLES.contains(r)) else {
        let message = say(&wangge_domain::msg!("team.error.unit_role"), lang.code);
        return units_page(&s, &p, lang, &c, StatusCode::UNPROCESSABLE_ENTITY, Some(message), false).await;
    };
    let grid =
        p.refer(areas::get(&s.db, &field(&form, "grid_id")).await, Thing::Area, &field(&form, "grid_id"), |a| &a.path)?;
    if grid.parent_id.as_deref() != Some(c.id.as_str()) {
        return Err(unknown(Thing::Area, &grid.id));
    }
    let kind = if role == UnitRole::PropertyCompany {
        OrganisationKind::PropertyCompany
    } else {
        OrganisationKind::GovernmentUnit
    };
    let new = NewOrganisation {
        grid_id: grid.id,
        name: field(&form, "name"),
        kind,
        address: None,
        contact_name: None,
        phone: None,
    };
    let made = match organisations::create(&s.db, new).await {
        Ok(o) => o,
        Err(e) => {
            let message = said(e, lang)?;
            return units_page(&s, &p, lang, &c, StatusCode::UNPROCESSABLE_ENTITY, Some(message), false).await;
        }
    };
    units::hold(&s.db, &made.id, role, &c.id).await?;
    let u = unit(&s, made).await?;
    let target = Target("unit", &u.organisation.id, &u.organisation.path);
    audit::change(&s.db, (&p, &address), AuditAction::UnitSave, target, None, &u).await?;
    Ok(back(&c))
}

/// Edits a unit: its name and the roles it holds over the community.
pub async fn save_unit(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<PostForm>,
) -> Result<Response, ApiError> {
    let o = kept_unit(&s, &p, &id).await?;
    let c = community(&s, &p, &o.grid_id).await?;
    let before = unit(&s, o.clone()).await?;
    let update = OrganisationUpdate { name: Some(field(&form, "name")), ..Default::default() };
    if let Err(e) = organisations::update(&s.db, &o.id, update).await {
        let message = said(e, lang)?;
        return units_page(&s, &p, lang, &c, StatusCode::UNPROCESSABLE_ENTITY, Some(message), false).await;
    }
    let chosen: Vec<UnitRole> =
        form.iter().filter(|(k, _)| k == "roles").filter_map(|(_, v)| UnitRole::from_code(v)).collect();
    for role in ROLES {
        if chosen.contains(&role) {
            units::hold(&s.db, &o.id, role, &c.id).await?;
        } else {
            units::release(&s.db, &o.id, role).await?;
        }
    }
    let after = unit(&s, organisations::get(&s.db, &o.id).await?).await?;
    let target = Target("unit", &o.id, &o.path);
    audit::change(&s.db, (&p, &address), AuditAction::UnitSave, target, Some(&before), &after).await?;
    Ok(back(&c))
}

/// Adds a person to a unit, with their account when they have one (by user name).
pub async fn add_member(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<PostForm>,
) -> Result<Response, ApiError> {
    let o = kept_unit(&s, &p, &id).await?;
    let c = community(&s, &p, &o.grid_id).await?;
    let username = field(&form, "username");
    let account_id = if username.is_empty() {
        None
    } else {
        match wangge_store::security::accounts::get_by_username(&s.db, &username).await {
            Ok(a) if a.scopes.iter().any(|scope| p.can_see(&scope.path)) => Some(a.id),
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                let message = say(&wangge_domain::msg!("team.error.no_such_account", username = &username), lang.code);
                return units_page(&s, &p, lang, &c, StatusCode::UNPROCESSABLE_ENTITY, Some(message), false).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    let new = NewMember { account_id, name: field(&form, "name"), duty: field(&form, "duty") };
    match units::join(&s.db, &o.id, new).await {
        Ok(m) => {
            let target = Target("unit_member", &m.id, &o.path);
            audit::change(&s.db, (&p, &address), AuditAction::UnitJoin, target, None, &m).await?;
            Ok(back(&c))
        }
        Err(e) => {
            let message = said(e, lang)?;
            units_page(&s, &p, lang, &c, StatusCode::UNPROCESSABLE_ENTITY, Some(message), false).await
        }
    }
}

/// Ends a person's membership of a unit.
pub async fn end_member(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let before = match units::member(&s.db, &id).await {
        Ok(m) => m,
        Err(StoreError::NotFound { .. }) => return Err(unknown(Thing::UnitMember, &id)),
        Err(e) => return Err(e.into()),
    };
    let o = kept_unit(&s, &p, &before.organisation_id).await.map_err(|_| unknown(Thing::UnitMember, &id))?;
    let after = units::leave(&s.db, &id).await?;
    let target = Target("unit_member", &id, &o.path);
    audit::change(&s.db, (&p, &address), AuditAction::UnitLeave, target, Some(&before), &after).await?;
    let c = community(&s, &p, &o.grid_id).await?;
    Ok(back(&c))
}

/// This module's routes, each with who may call it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use utoipa_axum::routes;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .api(Role(ViewAreas), routes!(list_units))
        .api(Role(ManageTeam), routes!(add_unit_member))
        .api(Role(ManageTeam), routes!(end_unit_member))
        .get("/registry/areas/{id}/units", Role(ViewAreas), units_page_get)
        .post("/registry/areas/{id}/units", Role(ManageTeam), add_unit)
        .post("/registry/areas/{id}/dispatch-settings", Role(ManageTeam), save_settings)
        .post("/registry/units/{id}", Role(ManageTeam), save_unit)
        .post("/registry/units/{id}/members", Role(ManageTeam), add_member)
        .post("/registry/unit-members/{id}/end", Role(ManageTeam), end_member)
}
