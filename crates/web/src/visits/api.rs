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

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use utoipa_axum::routes;
    use wangge_domain::Action::{EditRegistry, VisitHouseholds};
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
}
