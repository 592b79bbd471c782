//! `/api/v1`: the hierarchy and the ledgers as JSON.

pub(crate) mod accounts;
mod areas;
mod audit_log;
mod buildings;
pub(crate) mod demands;
pub(crate) mod grants;
mod households;
mod organisations;
mod portal;
mod residents;
mod session;
mod tags;

use axum::extract::{FromRequest, FromRequestParts, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;
use wangge_store::Db;
use wangge_store::areas::Area;

use crate::{ApiError, AppState};

pub(crate) use accounts::*;
pub(crate) use areas::*;
pub(crate) use audit_log::*;
pub(crate) use buildings::*;
pub(crate) use demands::*;
pub(crate) use grants::*;
pub(crate) use households::*;
pub(crate) use organisations::*;
pub(crate) use portal::*;
pub(crate) use residents::*;
pub(crate) use session::*;
pub(crate) use tags::*;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/session", post(login).delete(logout))
        .route("/me", get(me))
        .route("/me/password", post(change_password))
        .route("/me/household", get(my_household))
        .route("/accounts", get(list_accounts).post(create_account))
        .route("/accounts/{id}/disable", post(disable_account))
        .route("/accounts/{id}/enable", post(enable_account))
        .route("/accounts/{id}/reset-password", post(reset_password))
        .route("/tokens", get(list_tokens).post(issue_token))
        .route("/tokens/{id}", delete(revoke_token))
        .route("/audit", get(search_audit))
        .route("/audit/export", get(export_audit))
        .route("/access-grants", post(request_access))
        .route("/areas", get(list_areas).post(create_area))
        .route("/areas/{id}", get(get_area).patch(update_area))
        .route("/areas/{id}/children", get(area_children))
        .route("/areas/{id}/stats", get(area_stats))
        .route("/areas/{id}/posts", get(grid_posts))
        .route("/buildings", get(list_buildings).post(create_building))
        .route("/buildings/{id}", get(get_building).patch(update_building))
        .route("/households", get(list_households).post(create_household))
        .route("/households/{id}", get(get_household).patch(update_household))
        .route("/households/{id}/bind-account", post(bind_account))
        .route("/residents", get(list_residents).post(create_resident))
        .route("/residents/{id}", get(get_resident).patch(update_resident))
        .route("/residents/{id}/history", get(resident_history))
        .route("/residents/{id}/move-out", post(move_out))
        .route("/residents/{id}/move-in", post(move_in))
        .route("/residents/{id}/move-house", post(move_house))
        .route("/residents/{id}/reveal", post(reveal))
        .route("/organisations", get(list_organisations).post(create_organisation))
        .route("/organisations/{id}", get(get_organisation).patch(update_organisation))
        .route("/tags", get(list_tags).post(create_tag))
        .route("/me/demands", get(my_demands))
        .route("/me/demands/{id}", get(my_demand))
        .route("/me/notifications", get(my_notifications))
        .route("/me/notifications/read", post(read_notifications))
        .route("/demands", get(list_demands).post(create_demand))
        .route("/demands/rates", get(demand_rates))
        .route("/demands/similar", get(similar_demands))
        .route("/demands/export", get(export_demands))
        .route("/demands/digest", get(demand_digest))
        .route("/demands/{id}", get(get_demand))
        .route("/demands/{id}/accept", post(accept_demand))
        .route("/demands/{id}/reject", post(reject_demand))
        .route("/demands/{id}/merge", post(merge_demand))
        .route("/demands/{id}/dispatch", post(dispatch_demand))
        .route("/demands/{id}/start", post(start_demand))
        .route("/demands/{id}/progress", post(progress_demand))
        .route("/demands/{id}/report-done", post(report_demand_done))
        .route("/demands/{id}/verify", post(verify_demand))
        .route("/demands/{id}/send-back", post(send_back_demand))
        .route("/demands/{id}/close", post(close_demand))
        .route("/demands/{id}/answer", post(answer_demand))
        .route("/demands/{id}/rate", post(rate_demand))
        .route("/demands/{id}/escalate", post(escalate_demand))
        .route("/demands/{id}/hand-back", post(hand_back_demand))
        .route("/demand-categories", get(list_categories).post(save_category))
        .route("/holidays", get(list_holidays).post(set_holiday))
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route("/webhooks/{id}/deactivate", post(deactivate_webhook))
        .route("/webhooks/{id}/deliveries", get(webhook_deliveries))
        .route("/demand-attachments/{id}", get(download_attachment))
}

/// Routes that accept a body larger than JSON needs: a demand's photo or file.
pub fn attachment_routes() -> Router<AppState> {
    let limit = axum::extract::DefaultBodyLimit::max(ATTACHMENT_BODY_LIMIT);
    Router::new().route("/demands/{id}/attachments", get(demand_attachments).post(attach_to_demand).layer(limit))
}

/// A JSON body whose parse errors come back as API errors.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct JsonBody<T>(pub T);

/// Query parameters whose parse errors come back as API errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Params<T>(pub T);

/// A path parameter whose parse errors come back as API errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Id<T>(pub T);

pub type ApiResult<T> = Result<Json<T>, ApiError>;

/// Resolves the `area` filter of a list, given as an area id or an area code, to the
/// path whose subtree the list is limited to.
pub async fn area_path(db: &Db, area: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(area) = area.map(str::trim).filter(|a| !a.is_empty()) else { return Ok(None) };
    let found: Area = if area.bytes().all(|b| b.is_ascii_digit()) {
        wangge_store::areas::get_by_code(db, area).await?
    } else {
        wangge_store::areas::get(db, area).await?
    };
    Ok(Some(found.path))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "system", responses(
    (status = 200, body = Health),
    (status = 500, body = crate::error::ErrorBody)
))]
pub async fn health(State(state): State<AppState>) -> ApiResult<Health> {
    sqlx_ping(&state.db).await?;
    let database = match state.db.backend {
        wangge_store::Backend::Sqlite => "sqlite",
        wangge_store::Backend::Postgres => "postgres",
    };
    Ok(Json(Health { status: "ok".into(), database: database.into() }))
}

async fn sqlx_ping(db: &Db) -> Result<(), ApiError> {
    wangge_store::stats::ping(db).await.map_err(ApiError::from)
}
