use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use wangge_domain::AuditAction;
use wangge_domain::Occupancy;
use wangge_store::Thing;
use wangge_store::registry::households::{self, Household, HouseholdFilter, HouseholdUpdate, NewHousehold};
use wangge_store::{Page, PageRequest};

use crate::shared::api::{ApiResult, Id, JsonBody, Params};
use crate::shared::audit;
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
pub struct HouseholdQuery {
    /// Only households under this area (id or code).
    pub area: Option<String>,
    /// Only households of this building (id).
    pub building: Option<String>,
    pub occupancy: Option<Occupancy>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 500 (default 50).
    pub per_page: Option<u32>,
}

/// Without access to names the room is hidden: with the building it names a family.
fn as_seen_by(p: &Principal, mut h: Household) -> Household {
    if !p.sees_names(&h.path) {
        h.room = "***".into();
    }
    h
}

/// List households.
#[utoipa::path(get, path = "/api/v1/households", tag = "households", params(HouseholdQuery),
    responses((status = 200, body = Page<Household>), (status = 400, body = ErrorBody)))]
pub async fn list_households(
    State(s): State<AppState>,
    p: Principal,
    Params(q): Params<HouseholdQuery>,
) -> ApiResult<Page<Household>> {
    let filter = HouseholdFilter {
        under_path: p.list_path(&s.db, q.area.as_deref()).await?,
        building_id: q.building,
        occupancy: q.occupancy,
    };
    let mut page = households::list(&s.db, &filter, PageRequest::new(q.page, q.per_page)).await?;
    page.items = page.items.into_iter().map(|h| as_seen_by(&p, h)).collect();
    Ok(Json(page))
}

/// Create a household (a unit and room) in a building.
#[utoipa::path(post, path = "/api/v1/households", tag = "households", request_body = NewHousehold,
    responses((status = 201, body = Household), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_household(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(new): JsonBody<NewHousehold>,
) -> Result<(StatusCode, Json<Household>), ApiError> {
    p.refer(
        wangge_store::registry::buildings::get(&s.db, &new.building_id).await,
        Thing::Building,
        &new.building_id,
        |r| &r.path,
    )?;
    let h = households::create(&s.db, new).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::HouseholdCreate,
        audit::Target("household", &h.id, &h.path),
        None,
        &h,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(h)))
}

/// One household.
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "households", params(("id" = String, Path, description = "Household id")),
    responses((status = 200, body = Household), (status = 404, body = ErrorBody)))]
pub async fn get_household(State(s): State<AppState>, p: Principal, Id(id): Id<String>) -> ApiResult<Household> {
    let h = p.refer(households::get(&s.db, &id).await, Thing::Household, &id, |r| &r.path)?;
    Ok(Json(as_seen_by(&p, h)))
}

/// Change a household's unit, room or occupancy.
#[utoipa::path(patch, path = "/api/v1/households/{id}", tag = "households", params(("id" = String, Path, description = "Household id")),
    request_body = HouseholdUpdate, responses((status = 200, body = Household), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_household(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    JsonBody(u): JsonBody<HouseholdUpdate>,
) -> ApiResult<Household> {
    let before = p.refer(households::get(&s.db, &id).await, Thing::Household, &id, |r| &r.path)?;
    let after = households::update(&s.db, &id, u).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::HouseholdUpdate,
        audit::Target("household", &id, &after.path),
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
        .api(Role(ViewPseudonymised), routes!(list_households))
        .api(Role(EditRegistry), routes!(create_household))
        .api(Role(ViewPseudonymised), routes!(get_household))
        .api(Role(EditRegistry), routes!(update_household))
}
