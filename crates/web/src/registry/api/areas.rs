use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use wangge_domain::AreaLevel;
use wangge_domain::AuditAction;
use wangge_store::Thing;
use wangge_store::registry::areas as store_areas;
use wangge_store::registry::areas::{self, Area, AreaFilter, AreaUpdate, NewArea};
use wangge_store::stats::{self, AreaCounts};
use wangge_store::team::{self, GridPost};
use wangge_store::{Page, PageRequest};

use crate::shared::api::{ApiResult, Id, JsonBody, Params};
use crate::shared::audit;
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
pub struct AreaQuery {
    /// Only areas of this level.
    pub level: Option<AreaLevel>,
    /// Only the children of this area (id).
    pub parent: Option<String>,
    /// Only areas at or under this area (id or code).
    pub area: Option<String>,
    /// Part of the name, or the start of the code.
    pub q: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 500 (default 50).
    pub per_page: Option<u32>,
}

/// List areas of the hierarchy (city, district, street, community, grid).
#[utoipa::path(get, path = "/api/v1/areas", tag = "areas", params(AreaQuery), responses(
    (status = 200, body = Page<Area>), (status = 400, body = ErrorBody)))]
pub async fn list_areas(
    State(s): State<AppState>,
    p: Principal,
    Params(q): Params<AreaQuery>,
) -> ApiResult<Page<Area>> {
    let filter = AreaFilter {
        level: q.level,
        parent_id: q.parent,
        under_path: p.list_path(&s.db, q.area.as_deref()).await?,
        q: q.q,
    };
    Ok(Json(areas::list(&s.db, &filter, PageRequest::new(q.page, q.per_page)).await?))
}

/// Create an area under its parent. Its code must nest under the parent's code.
#[utoipa::path(post, path = "/api/v1/areas", tag = "areas", request_body = NewArea, responses(
    (status = 201, body = Area), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_area(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(new): JsonBody<NewArea>,
) -> Result<(StatusCode, Json<Area>), ApiError> {
    let area = areas::create(&s.db, new).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::AreaCreate,
        audit::Target("area", &area.id, &area.path),
        None,
        &area,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(area)))
}

/// An area the caller may look at: in scope, or above it (their own street's name).
async fn visible_area(s: &AppState, p: &Principal, id: &str) -> Result<Area, ApiError> {
    let area = areas::get(&s.db, id).await?;
    if !p.is_above_scope(&area.path) {
        p.refer_path(Thing::Area, id, &area.path)?;
    }
    Ok(area)
}

/// One area.
#[utoipa::path(get, path = "/api/v1/areas/{id}", tag = "areas", params(("id" = String, Path, description = "Area id")),
    responses((status = 200, body = Area), (status = 404, body = ErrorBody)))]
pub async fn get_area(State(s): State<AppState>, p: Principal, Id(id): Id<String>) -> ApiResult<Area> {
    Ok(Json(visible_area(&s, &p, &id).await?))
}

/// Rename an area or set its boundary. Codes never change: every record beneath
/// carries them in its path.
#[utoipa::path(patch, path = "/api/v1/areas/{id}", tag = "areas", params(("id" = String, Path, description = "Area id")),
    request_body = AreaUpdate, responses((status = 200, body = Area), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_area(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    JsonBody(u): JsonBody<AreaUpdate>,
) -> ApiResult<Area> {
    let before = p.refer(areas::get(&s.db, &id).await, Thing::Area, &id, |r| &r.path)?;
    let after = areas::update(&s.db, &id, u).await?;
    let target = audit::Target("area", &id, &after.path);
    audit::change(&s.db, (&p, &address), AuditAction::AreaUpdate, target, Some(&before), &after).await?;
    Ok(Json(after))
}

/// The direct children of an area.
#[utoipa::path(get, path = "/api/v1/areas/{id}/children", tag = "areas", params(("id" = String, Path, description = "Area id")),
    responses((status = 200, body = Vec<Area>), (status = 404, body = ErrorBody)))]
pub async fn area_children(State(s): State<AppState>, p: Principal, Id(id): Id<String>) -> ApiResult<Vec<Area>> {
    visible_area(&s, &p, &id).await?;
    let children = areas::children(&s.db, &id).await?;
    Ok(Json(children.into_iter().filter(|c| p.can_see(&c.path) || p.is_above_scope(&c.path)).collect()))
}

/// How many grids, buildings, households, residents and organisations lie under an area.
#[utoipa::path(get, path = "/api/v1/areas/{id}/stats", tag = "areas", params(("id" = String, Path, description = "Area id")),
    responses((status = 200, body = AreaCounts), (status = 404, body = ErrorBody)))]
pub async fn area_stats(State(s): State<AppState>, p: Principal, Id(id): Id<String>) -> ApiResult<AreaCounts> {
    let area = p.refer(areas::get(&s.db, &id).await, Thing::Area, &id, |r| &r.path)?;
    Ok(Json(stats::counts_under(&s.db, &area.path).await?))
}

/// The "1 + X + N" team of a grid (current posts): names, posts and duties for
/// everyone who may see areas; private phones, resident records and duty phones
/// without consent only for those who manage the team there (`manage_team`).
#[utoipa::path(get, path = "/api/v1/areas/{id}/posts", tag = "areas", params(("id" = String, Path, description = "Grid id")),
    responses((status = 200, body = Vec<GridPost>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn grid_posts(State(s): State<AppState>, p: Principal, Id(id): Id<String>) -> ApiResult<Vec<GridPost>> {
    let grid = p.refer(store_areas::get(&s.db, &id).await, Thing::Area, &id, |r| &r.path)?;
    if grid.level != AreaLevel::Grid {
        return Err(ApiError::invalid(wangge_domain::msg!("registry.error.not_a_grid", code = &grid.code)));
    }
    let manages = crate::team::manages(&p, &grid.path);
    let phones = if manages { team::Phones::Full } else { team::Phones::Hidden };
    let roster = team::roster(&s.db, &id, phones, false).await?;
    Ok(Json(if manages { roster } else { roster.into_iter().map(team::GridPost::public).collect() }))
}

/// This module's routes, each with who may call it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use utoipa_axum::routes;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .api(Role(ViewAreas), routes!(list_areas))
        .api(Role(ManageAreas), routes!(create_area))
        .api(Role(ViewAreas), routes!(get_area))
        .api(Role(ManageAreas), routes!(update_area))
        .api(Role(ViewAreas), routes!(area_children))
        .api(Role(ViewFigures), routes!(area_stats))
        .api(Role(ViewAreas), routes!(grid_posts))
}
