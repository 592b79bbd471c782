//! The OpenAPI document of the JSON API, generated from the handlers' annotations so
//! that it cannot drift from the code.

use axum::Json;
use axum::response::IntoResponse;
use utoipa::OpenApi;

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Wangge API",
        description = "Community grid governance: the hierarchy (city › district › street › community › grid) and the \
            ledgers of buildings, households, residents and organisations. Errors are JSON \
            `{\"error\": {\"code\", \"message\"}}` with a stable code.",
    ),
    paths(
        api::health,
        api::list_areas, api::create_area, api::get_area, api::update_area, api::area_children, api::area_stats, api::grid_posts,
        api::list_buildings, api::create_building, api::get_building, api::update_building,
        api::list_households, api::create_household, api::get_household, api::update_household,
        api::list_residents, api::create_resident, api::get_resident, api::update_resident, api::resident_history,
        api::move_out, api::move_in, api::move_house,
        api::list_organisations, api::create_organisation, api::get_organisation, api::update_organisation,
        api::list_tags, api::create_tag,
    ),
    tags(
        (name = "areas", description = "The administrative hierarchy and grids"),
        (name = "buildings", description = "Buildings (楼栋)"),
        (name = "households", description = "Households (户)"),
        (name = "residents", description = "Residents (居民), their moves and history"),
        (name = "organisations", description = "Organisations in the area"),
        (name = "tags", description = "The catalogue of care tags"),
        (name = "system", description = "Health"),
    )
)]
struct ApiDoc;

/// The document as JSON text (also written by `wangge openapi`).
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises")
}

pub async fn serve() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
