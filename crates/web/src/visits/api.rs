//! The JSON API of visits: the due list, recording a visit, a household's visits
//! and coverage. Every household named is checked against the caller's scope.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use wangge_domain::AuditAction;
use wangge_store::Thing;
use wangge_store::registry::households;
use wangge_store::visits::{self, Coverage, DueEntry, NewVisit, Visit};

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

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use utoipa_axum::routes;
    use wangge_domain::Action::VisitHouseholds;
    crate::shared::routes::Routes::new()
        .api(Role(VisitHouseholds), routes!(due_list))
        .api(Role(VisitHouseholds), routes!(coverage))
        .api(Role(VisitHouseholds), routes!(record))
        .api(Role(VisitHouseholds), routes!(of_household))
}
