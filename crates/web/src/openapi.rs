//! The OpenAPI document of the JSON API, generated from the handlers' annotations so
//! that it cannot drift from the code.

use axum::Json;
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
        api::login, api::logout, api::me, api::change_password, api::my_household,
        api::list_accounts, api::create_account, api::disable_account, api::enable_account, api::reset_password,
        api::list_tokens, api::issue_token, api::revoke_token,
        api::search_audit, api::export_audit,
        api::list_areas, api::create_area, api::get_area, api::update_area, api::area_children, api::area_stats, api::grid_posts,
        api::list_buildings, api::create_building, api::get_building, api::update_building,
        api::list_households, api::create_household, api::get_household, api::update_household, api::bind_account,
        api::list_residents, api::create_resident, api::get_resident, api::update_resident, api::resident_history,
        api::move_out, api::move_in, api::move_house, api::reveal, api::request_access,
        api::list_organisations, api::create_organisation, api::get_organisation, api::update_organisation,
        api::list_tags, api::create_tag,
        api::create_demand, api::list_demands, api::my_demands, api::my_demand, api::get_demand, api::demand_rates,
        api::accept_demand, api::reject_demand, api::merge_demand, api::dispatch_demand, api::start_demand,
        api::progress_demand, api::report_demand_done, api::verify_demand, api::send_back_demand, api::close_demand,
        api::answer_demand, api::rate_demand, api::escalate_demand, api::hand_back_demand,
        api::attach_to_demand, api::demand_attachments, api::download_attachment, api::similar_demands,
        api::export_demands, api::demand_digest,
        api::list_categories, api::save_category, api::list_holidays, api::set_holiday,
        api::my_notifications, api::read_notifications,
        api::list_webhooks, api::create_webhook, api::deactivate_webhook, api::webhook_deliveries,
    ),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "areas", description = "The administrative hierarchy and grids"),
        (name = "buildings", description = "Buildings (楼栋)"),
        (name = "households", description = "Households (户)"),
        (name = "residents", description = "Residents (居民), their moves and history"),
        (name = "organisations", description = "Organisations in the area"),
        (name = "tags", description = "The catalogue of care tags"),
        (name = "demands", description = "Residents' demands and events (民情诉求), worked to closure"),
        (name = "session", description = "Logging in and out"),
        (name = "accounts", description = "Accounts and API tokens (administrators)"),
        (name = "audit", description = "The audit log"),
        (name = "system", description = "Health"),
    )
)]
struct ApiDoc;

/// Declares the two ways to authenticate: a bearer token, or the session cookie
/// set by `POST /api/v1/session` (with `X-CSRF-Token` on changes).
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components
            .add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("wangge_session"))));
    }
}

/// The document as JSON text (also written by `wangge openapi`).
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises")
}

pub async fn serve() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
