//! What every module's JSON API shares: body, query and path extractors whose
//! errors come back as API errors, the `area` filter of lists, and `/healthz`.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, State};
use serde::Serialize;
use utoipa::ToSchema;
use wangge_store::Db;
use wangge_store::registry::areas::Area;

use crate::{ApiError, AppState};

/// The health check (each module declares its own operations).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    crate::shared::routes::Routes::new().api(crate::shared::auth::Access::Public, utoipa_axum::routes!(health))
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
        wangge_store::registry::areas::get_by_code(db, area).await?
    } else {
        wangge_store::registry::areas::get(db, area).await?
    };
    Ok(Some(found.path))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database answers and takes a write; `disk_full` (with status
    /// 503) when its disk is full: pages and lists still read, changes are refused.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}

/// Liveness, database reachability and room to write.
#[utoipa::path(get, path = "/healthz", tag = "system", responses(
    (status = 200, body = Health),
    (status = 503, description = "The database's disk is full", body = Health),
    (status = 500, body = crate::shared::error::ErrorBody)
))]
pub async fn health(State(state): State<AppState>) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let database = match state.db.backend {
        wangge_store::Backend::Sqlite => "sqlite",
        wangge_store::Backend::Postgres => "postgres",
    };
    match wangge_store::stats::write_probe(&state.db).await {
        Ok(()) => Ok(Json(Health { status: "ok".into(), database: database.into() }).into_response()),
        Err(e) if e.is_disk_full() => {
            tracing::error!("health check: {e}");
            let health = Health { status: crate::shared::error::DISK_FULL.into(), database: database.into() };
            Ok((axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(health)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// A stored file (a photo, an attachment) answered to someone who may see it: its
/// stored type, never sniffed by the browser, never kept in a cache (a photo may
/// show a person or their home). `disposition`: `inline` or `attachment`.
pub(crate) fn private_file(content_type: &str, disposition: &str, data: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition.to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        data,
    )
        .into_response()
}
