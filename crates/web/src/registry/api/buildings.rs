use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use wangge_domain::AuditAction;
use wangge_domain::BuildingKind;
use wangge_store::Thing;
use wangge_store::registry::buildings::{self, Building, BuildingFilter, BuildingUpdate, NewBuilding};
use wangge_store::{Page, PageRequest};

use crate::shared::api::{ApiResult, Id, JsonBody, Params};
use crate::shared::audit;
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
pub struct BuildingQuery {
    /// Only buildings under this area (id or code).
    pub area: Option<String>,
    pub kind: Option<BuildingKind>,
    /// The start of the number, or part of the address.
    pub q: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 500 (default 50).
    pub per_page: Option<u32>,
}

/// List buildings.
#[utoipa::path(get, path = "/api/v1/buildings", tag = "buildings", params(BuildingQuery),
    responses((status = 200, body = Page<Building>), (status = 400, body = ErrorBody)))]
pub async fn list_buildings(
    State(s): State<AppState>,
    p: Principal,
    Params(q): Params<BuildingQuery>,
) -> ApiResult<Page<Building>> {
    let under_path = p.list_path(&s.db, q.area.as_deref()).await?;
    let filter = BuildingFilter { under_path, grid_id: None, kind: q.kind, q: q.q };
    Ok(Json(buildings::list(&s.db, &filter, PageRequest::new(q.page, q.per_page)).await?))
}

/// Create a building in a grid.
#[utoipa::path(post, path = "/api/v1/buildings", tag = "buildings", request_body = NewBuilding,
    responses((status = 201, body = Building), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_building(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(new): JsonBody<NewBuilding>,
) -> Result<(StatusCode, Json<Building>), ApiError> {
    p.refer(wangge_store::registry::areas::get(&s.db, &new.grid_id).await, Thing::Area, &new.grid_id, |r| &r.path)?;
    let b = buildings::create(&s.db, new).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::BuildingCreate,
        audit::Target("building", &b.id, &b.path),
        None,
        &b,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(b)))
}

/// One building.
#[utoipa::path(get, path = "/api/v1/buildings/{id}", tag = "buildings", params(("id" = String, Path, description = "Building id")),
    responses((status = 200, body = Building), (status = 404, body = ErrorBody)))]
pub async fn get_building(State(s): State<AppState>, p: Principal, Id(id): Id<String>) -> ApiResult<Building> {
    let b = p.refer(buildings::get(&s.db, &id).await, Thing::Building, &id, |r| &r.path)?;
    Ok(Json(b))
}

/// Change a building's number, address, kind, size or position.
#[utoipa::path(patch, path = "/api/v1/buildings/{id}", tag = "buildings", params(("id" = String, Path, description = "Building id")),
    request_body = BuildingUpdate, responses((status = 200, body = Building), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_building(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    JsonBody(u): JsonBody<BuildingUpdate>,
) -> ApiResult<Building> {
    let before = p.refer(buildings::get(&s.db, &id).await, Thing::Building, &id, |r| &r.path)?;
    let after = buildings::update(&s.db, &id, u).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::BuildingUpdate,
        audit::Target("building", &id, &after.path),
        Some(&before),
        &after,
    )
    .await?;
    Ok(Json(after))
}

/// This module's routes, each with who may call it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use utoipa_axum::routes;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .api(Role(ViewBuildings), routes!(list_buildings))
        .api(Role(EditBuildings), routes!(create_building))
        .api(Role(ViewBuildings), routes!(get_building))
        .api(Role(EditBuildings), routes!(update_building))
}
