//! The JSON API of visits: the due list, recording a visit, a household's visits
//! and coverage. Every household named is checked against the caller's scope.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wangge_domain::AuditAction;
use wangge_store::Thing;
use wangge_store::demands::Demand;
use wangge_store::registry::households;
use wangge_store::registry::residents;
use wangge_store::visits::corrections::{Changes, Correction};
use wangge_store::visits::{self, Coverage, DueEntry, NewVisit, Visit, VisitEdit};

use crate::shared::api::ApiResult;
use crate::shared::api::JsonBody;
use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
pub struct AreaQuery {
    /// An area's id or code inside the caller's scope (default: the caller's scope).
    pub area: Option<String>,
    /// For coverage: the window in days ending today (default 90).
    pub days: Option<u16>,
}

/// The due list: every person and household due today or overdue under the
/// community's cadences, in walking order (building, unit, room).
#[utoipa::path(get, path = "/api/v1/visits/due", tag = "visits", params(AreaQuery),
    responses((status = 200, body = Vec<DueEntry>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn due_list(State(s): State<AppState>, p: Principal, Query(q): Query<AreaQuery>) -> ApiResult<Vec<DueEntry>> {
    let path = super::scope_path(&s.db, &p, q.area.as_deref()).await?;
    let community = super::community_of(&s.db, &path).await?;
    Ok(Json(visits::due(&s.db, &path, &community.id, super::today()).await?))
}

/// Coverage over a window: occupied households, met through any channel, met at
/// the door, not met at all (the seed's "rarely visited").
#[utoipa::path(get, path = "/api/v1/visits/coverage", tag = "visits", params(AreaQuery),
    responses((status = 200, body = Coverage), (status = 403, body = ErrorBody)))]
pub async fn coverage(State(s): State<AppState>, p: Principal, Query(q): Query<AreaQuery>) -> ApiResult<Coverage> {
    let path = super::scope_path(&s.db, &p, q.area.as_deref()).await?;
    let days = q.days.unwrap_or(90).clamp(1, 366);
    Ok(Json(visits::coverage(&s.db, &path, super::today(), days).await?))
}

/// Records a visit to a household in scope (audited, without what was found).
#[utoipa::path(post, path = "/api/v1/visits", tag = "visits", request_body = NewVisit,
    responses((status = 201, body = Visit), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(new): JsonBody<NewVisit>,
) -> Result<(StatusCode, Json<Visit>), ApiError> {
    let visit = record_visit(&s, &p, &address, new).await?;
    Ok((StatusCode::CREATED, Json(visit)))
}

/// The one way a visit is recorded, for the API and the form: the household must
/// lie in the caller's scope, and the audit entry leaves out what was found.
pub(crate) async fn record_visit(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    new: NewVisit,
) -> Result<Visit, ApiError> {
    p.refer(households::get(&s.db, &new.household_id).await, Thing::Household, &new.household_id, |h| &h.path)?;
    let visit = visits::record(&s.db, new, super::visitor_id(p), &p.actor_name()).await?;
    let summary = serde_json::json!({
        "household_id": visit.household_id, "resident_id": visit.resident_id, "channel": visit.channel,
        "outcome": visit.outcome, "visited_on": visit.visited_on, "findings": visit.findings.is_some(),
    });
    audit::change(
        &s.db,
        (p, address),
        AuditAction::VisitRecord,
        Target("visit", &visit.id, &visit.path),
        None,
        &summary,
    )
    .await?;
    Ok(visit)
}

/// A household's visits, newest first, with what was found.
#[utoipa::path(get, path = "/api/v1/households/{id}/visits", tag = "visits",
    params(("id" = String, Path, description = "The household")),
    responses((status = 200, body = Vec<Visit>), (status = 404, body = ErrorBody)))]
pub async fn of_household(State(s): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Vec<Visit>> {
    p.refer(households::get(&s.db, &id).await, Thing::Household, &id, |h| &h.path)?;
    Ok(Json(visits::of_household(&s.db, &id).await?))
}

/// One visit; what was found stays sealed (`findings_recorded` says whether there
/// is any: reveal it with `POST …/reveal`).
#[utoipa::path(get, path = "/api/v1/visits/{id}", tag = "visits",
    params(("id" = String, Path, description = "The visit")),
    responses((status = 200, body = Visit), (status = 404, body = ErrorBody)))]
pub async fn get_visit(State(s): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Visit> {
    Ok(Json(super::record::visible(&s, &p, &id).await?))
}

/// What was found, in full.
#[derive(Serialize, ToSchema)]
pub struct Findings {
    #[schema(format = Uuid)]
    pub visit_id: String,
    /// Null when nothing was written.
    pub findings: Option<String>,
}

/// What a visit found, for the visiting staff of its grid and community; every
/// reveal audited (`reveal.findings`).
#[utoipa::path(post, path = "/api/v1/visits/{id}/reveal", tag = "visits",
    params(("id" = String, Path, description = "The visit")),
    responses((status = 200, body = Findings), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reveal_findings(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> ApiResult<Findings> {
    let (v, findings) = super::record::reveal(&s, &p, &address, &id).await?;
    Ok(Json(Findings { visit_id: v.id, findings }))
}

/// Edits a visit within its community's window (7 days after it was recorded
/// unless the community says otherwise); 409 after, with the day it locked.
#[utoipa::path(patch, path = "/api/v1/visits/{id}", tag = "visits", request_body = VisitEdit,
    params(("id" = String, Path, description = "The visit")),
    responses((status = 200, body = Visit), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_visit(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    JsonBody(e): JsonBody<VisitEdit>,
) -> ApiResult<Visit> {
    Ok(Json(super::record::edit(&s, &p, &address, &id, e).await?))
}

/// Turns what a visit found into a demand (channel 走访, linked both ways) or an
/// answered consultation, in one step.
#[utoipa::path(post, path = "/api/v1/visits/{id}/demand", tag = "visits", request_body = super::record::Becomes,
    params(("id" = String, Path, description = "The visit")),
    responses((status = 201, body = Demand), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn visit_demand(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<super::record::Becomes>,
) -> Result<(StatusCode, Json<Demand>), ApiError> {
    let v = super::record::visible(&s, &p, &id).await?;
    if !p.can_change(&v.path) {
        return Err(crate::shared::auth::unknown(Thing::Visit, &id));
    }
    let d = super::record::make_demand(&s, &p, &address, &v, b).await?;
    Ok((StatusCode::CREATED, Json(crate::demands::api::demand_as_seen_by(&p, d))))
}

/// A correction proposed at a visit.
#[derive(Deserialize, ToSchema)]
pub struct NewCorrection {
    #[schema(format = Uuid)]
    pub resident_id: String,
    pub changes: Changes,
    #[serde(default)]
    pub note: String,
}

/// Proposes a correction of a person of the visited household; it applies once
/// someone who may edit the registry there confirms it.
#[utoipa::path(post, path = "/api/v1/visits/{id}/corrections", tag = "visits", request_body = NewCorrection,
    params(("id" = String, Path, description = "The visit")),
    responses((status = 201, body = Correction), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn propose_correction(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    JsonBody(c): JsonBody<NewCorrection>,
) -> Result<(StatusCode, Json<Correction>), ApiError> {
    let v = super::record::visible(&s, &p, &id).await?;
    p.refer(residents::get(&s.db, &c.resident_id).await, Thing::Resident, &c.resident_id, |r| &r.path)?;
    let made = super::record::propose(&s, &p, &address, &v, &c.resident_id, c.changes, &c.note).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Confirms a proposed correction: the changes are applied to the registry, audited
/// before/after as `resident.update`.
#[utoipa::path(post, path = "/api/v1/corrections/{id}/confirm", tag = "visits",
    params(("id" = String, Path, description = "The proposed correction")),
    responses((status = 200, body = Correction), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn confirm_correction(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> ApiResult<Correction> {
    Ok(Json(super::record::decide(&s, &p, &address, &id, true).await?))
}

/// Declines a proposed correction: the registry stays as it is.
#[utoipa::path(post, path = "/api/v1/corrections/{id}/decline", tag = "visits",
    params(("id" = String, Path, description = "The proposed correction")),
    responses((status = 200, body = Correction), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decline_correction(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> ApiResult<Correction> {
    Ok(Json(super::record::decide(&s, &p, &address, &id, false).await?))
}

/// A community's visiting settings: its active cadences, its spells ending today
/// or later, and for how many days a visit stays editable.
#[derive(Serialize, ToSchema)]
pub struct CadenceSettings {
    #[schema(format = Uuid)]
    pub community_id: String,
    pub cadences: Vec<visits::CadenceRule>,
    pub spells: Vec<visits::Spell>,
    pub lock_days: u16,
}

async fn settings_of(s: &AppState, community_id: &str) -> Result<CadenceSettings, ApiError> {
    Ok(CadenceSettings {
        community_id: community_id.to_owned(),
        cadences: visits::cadences(&s.db, community_id).await?,
        spells: visits::spells(&s.db, community_id, super::today()).await?,
        lock_days: visits::lock_days(&s.db, community_id).await?,
    })
}

/// The community in scope that `area` (or the caller's scope) lies in.
async fn community_in_scope(
    s: &AppState,
    p: &Principal,
    area: Option<&str>,
) -> Result<wangge_store::registry::areas::Area, ApiError> {
    let path = super::scope_path(&s.db, p, area).await?;
    let community = super::community_of(&s.db, &path).await?;
    p.check(&community.path)?;
    Ok(community)
}

/// The community's cadences (the defaults on first read), spells and edit window.
#[utoipa::path(get, path = "/api/v1/visits/cadences", tag = "visits", params(AreaQuery),
    responses((status = 200, body = CadenceSettings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_cadences(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> ApiResult<CadenceSettings> {
    let community = community_in_scope(&s, &p, q.area.as_deref()).await?;
    Ok(Json(settings_of(&s, &community.id).await?))
}

/// A cadence as set: its interval, its interval during a spell, the channels that
/// count (a door visit always does), and whether it is kept at all.
#[derive(Deserialize, ToSchema)]
pub struct CadenceChange {
    pub every_days: u16,
    pub spell_every_days: Option<u16>,
    #[serde(default)]
    pub channels: Vec<wangge_domain::VisitChannel>,
    #[serde(default = "kept")]
    pub active: bool,
}

fn kept() -> bool {
    true
}

/// Changes one of the community's cadences (audited as `visit.settings`); answers
/// the community's settings as they now are.
#[utoipa::path(put, path = "/api/v1/visits/cadences/{id}", tag = "visits", request_body = CadenceChange,
    params(("id" = String, Path, description = "The cadence")),
    responses((status = 200, body = CadenceSettings), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_cadence(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    JsonBody(c): JsonBody<CadenceChange>,
) -> ApiResult<CadenceSettings> {
    // The cadence named first: one of another community answers as an unknown id.
    let community_id = visits::cadence_community(&s.db, &id).await?;
    let community =
        p.refer(wangge_store::registry::areas::get(&s.db, &community_id).await, Thing::Cadence, &id, |a| &a.path)?;
    if !p.can_change(&community.path) {
        return Err(crate::shared::auth::unknown(Thing::Cadence, &id));
    }
    let cadence = wangge_domain::visits::Cadence::new(c.every_days, c.spell_every_days, &c.channels)
        .map_err(ApiError::invalid)?;
    visits::save_cadence(&s.db, &community.id, &id, &cadence, c.active).await?;
    let after = serde_json::json!({"cadence": cadence, "active": c.active});
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::VisitSettings,
        Target("visit_cadence", &id, &community.path),
        None,
        &after,
    )
    .await?;
    Ok(Json(settings_of(&s, &community.id).await?))
}

/// A cold or heat spell to declare over a community, both days included.
#[derive(Deserialize, ToSchema)]
pub struct NewSpell {
    /// The community (id or code; default: the caller's scope).
    pub area: Option<String>,
    /// `cold` or `heat`.
    pub kind: String,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
}

/// The community's spells ending today or later, soonest first.
#[utoipa::path(get, path = "/api/v1/visits/spells", tag = "visits", params(AreaQuery),
    responses((status = 200, body = Vec<visits::Spell>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_spells(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> ApiResult<Vec<visits::Spell>> {
    let community = community_in_scope(&s, &p, q.area.as_deref()).await?;
    Ok(Json(visits::spells(&s.db, &community.id, super::today()).await?))
}

/// Declares a cold or heat spell: while it lasts, cadences with a spell interval
/// (独居老人: daily) shorten. Audited as `visit.settings`.
#[utoipa::path(post, path = "/api/v1/visits/spells", tag = "visits", request_body = NewSpell,
    responses((status = 201, body = visits::Spell), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn declare_spell(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(n): JsonBody<NewSpell>,
) -> Result<(StatusCode, Json<visits::Spell>), ApiError> {
    let community = community_in_scope(&s, &p, n.area.as_deref().filter(|a| !a.is_empty())).await?;
    if !["cold", "heat"].contains(&n.kind.as_str()) {
        return Err(ApiError::invalid(wangge_domain::msg!("visits.error.spell_kind", value = &n.kind).field("kind")));
    }
    let id = visits::declare_spell(&s.db, &community.id, &n.kind, &n.from, &n.to, super::visitor_id(&p)).await?;
    let after = serde_json::json!({"kind": n.kind, "from": n.from, "to": n.to});
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::VisitSettings,
        Target("care_spell", &id, &community.path),
        None,
        &after,
    )
    .await?;
    let spell = visits::Spell { id, kind: n.kind, from: n.from, to: n.to };
    Ok((StatusCode::CREATED, Json(spell)))
}

/// The suspended, ended and shortened cadences under the area still in force or
/// to come, in walking order.
#[utoipa::path(get, path = "/api/v1/visits/adjustments", tag = "visits", params(AreaQuery),
    responses((status = 200, body = Vec<visits::AdjustmentLine>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_adjustments(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> ApiResult<Vec<visits::AdjustmentLine>> {
    let path = super::scope_path(&s.db, &p, q.area.as_deref()).await?;
    Ok(Json(visits::adjustments(&s.db, &path, super::today()).await?))
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use utoipa_axum::routes;
    use wangge_domain::Action::{EditRegistry, ManageVisits, VisitHouseholds};
    crate::shared::routes::Routes::new()
        .api(Role(VisitHouseholds), routes!(due_list))
        .api(Role(VisitHouseholds), routes!(coverage))
        .api(Role(VisitHouseholds), routes!(record))
        .api(Role(VisitHouseholds), routes!(of_household))
        .api(Role(VisitHouseholds), routes!(get_visit))
        .api(Role(VisitHouseholds), routes!(edit_visit))
        .api(Role(VisitHouseholds), routes!(reveal_findings))
        .api(Role(VisitHouseholds), routes!(visit_demand))
        .api(Role(VisitHouseholds), routes!(propose_correction))
        .api(Role(EditRegistry), routes!(confirm_correction))
        .api(Role(EditRegistry), routes!(decline_correction))
        .api(Role(ManageVisits), routes!(get_cadences))
        .api(Role(ManageVisits), routes!(set_cadence))
        .api(Role(ManageVisits), routes!(get_spells))
        .api(Role(ManageVisits), routes!(declare_spell))
        .api(Role(ManageVisits), routes!(get_adjustments))
}
