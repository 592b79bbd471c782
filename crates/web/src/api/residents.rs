use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use wangge_domain::ResidentStatus;
use wangge_store::residents::{self, Move, NewResident, Resident, ResidentEvent, ResidentFilter, ResidentUpdate};
use wangge_store::{Page, PageRequest};

use super::{ApiResult, Id, JsonBody, Params, area_path};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
pub struct ResidentQuery {
    /// Only residents under this area (id or code).
    pub area: Option<String>,
    /// Only the members of this household (id).
    pub household: Option<String>,
    /// `active` (default), `moved_out`, `deceased`, or `all`.
    pub status: Option<String>,
    /// Only residents with this tag (code or Chinese name).
    pub tag: Option<String>,
    /// A name or part of it, the last 4+ digits of a phone or ID card number, or a whole ID card number.
    pub q: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 500 (default 50).
    pub per_page: Option<u32>,
}

fn status_filter(status: Option<&str>) -> Result<Option<ResidentStatus>, ApiError> {
    use wangge_domain::Vocabulary;
    match status.map(str::trim) {
        None | Some("") => Ok(Some(ResidentStatus::Active)),
        Some("all") => Ok(None),
        Some(s) => ResidentStatus::parse(s).map(Some).map_err(|e| ApiError::bad_request(e.to_string())),
    }
}

/// List and search residents.
#[utoipa::path(get, path = "/api/v1/residents", tag = "residents", params(ResidentQuery),
    responses((status = 200, body = Page<Resident>), (status = 400, body = ErrorBody)))]
pub async fn list_residents(State(s): State<AppState>, Params(q): Params<ResidentQuery>) -> ApiResult<Page<Resident>> {
    let filter = ResidentFilter {
        under_path: area_path(&s.db, q.area.as_deref()).await?,
        household_id: q.household,
        status: status_filter(q.status.as_deref())?,
        tag: q.tag,
        q: q.q,
    };
    Ok(Json(residents::list(&s.db, &filter, PageRequest::new(q.page, q.per_page)).await?))
}

/// Register a person in a household (recorded as moving in).
#[utoipa::path(post, path = "/api/v1/residents", tag = "residents", request_body = NewResident,
    responses((status = 201, body = Resident), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_resident(
    State(s): State<AppState>,
    JsonBody(new): JsonBody<NewResident>,
) -> Result<(StatusCode, Json<Resident>), ApiError> {
    Ok((StatusCode::CREATED, Json(residents::create(&s.db, new).await?)))
}

/// One resident, whatever their status.
#[utoipa::path(get, path = "/api/v1/residents/{id}", tag = "residents", params(("id" = String, Path, description = "Resident id")),
    responses((status = 200, body = Resident), (status = 404, body = ErrorBody)))]
pub async fn get_resident(State(s): State<AppState>, Id(id): Id<String>) -> ApiResult<Resident> {
    Ok(Json(residents::get(&s.db, &id).await?))
}

/// Correct or complete a person's facts.
#[utoipa::path(patch, path = "/api/v1/residents/{id}", tag = "residents", params(("id" = String, Path, description = "Resident id")),
    request_body = ResidentUpdate,
    responses((status = 200, body = Resident), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_resident(
    State(s): State<AppState>,
    Id(id): Id<String>,
    JsonBody(u): JsonBody<ResidentUpdate>,
) -> ApiResult<Resident> {
    Ok(Json(residents::update(&s.db, &id, u).await?))
}

/// Moves in, moves out, moves of house and corrections, oldest first.
#[utoipa::path(get, path = "/api/v1/residents/{id}/history", tag = "residents", params(("id" = String, Path, description = "Resident id")),
    responses((status = 200, body = Vec<ResidentEvent>), (status = 404, body = ErrorBody)))]
pub async fn resident_history(State(s): State<AppState>, Id(id): Id<String>) -> ApiResult<Vec<ResidentEvent>> {
    Ok(Json(residents::history(&s.db, &id).await?))
}

/// Record that a person moved out. The record and its history stay.
#[utoipa::path(post, path = "/api/v1/residents/{id}/move-out", tag = "residents", params(("id" = String, Path, description = "Resident id")),
    request_body = Move, responses((status = 200, body = Resident), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn move_out(
    State(s): State<AppState>,
    Id(id): Id<String>,
    JsonBody(m): JsonBody<Move>,
) -> ApiResult<Resident> {
    Ok(Json(residents::move_out(&s.db, &id, m).await?))
}

/// Record that a person who had moved out moved back in, into `household_id`.
#[utoipa::path(post, path = "/api/v1/residents/{id}/move-in", tag = "residents", params(("id" = String, Path, description = "Resident id")),
    request_body = Move, responses((status = 200, body = Resident), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_in(
    State(s): State<AppState>,
    Id(id): Id<String>,
    JsonBody(m): JsonBody<Move>,
) -> ApiResult<Resident> {
    Ok(Json(residents::move_in(&s.db, &id, m).await?))
}

/// Record that a person moved to another household (`household_id`).
#[utoipa::path(post, path = "/api/v1/residents/{id}/move-house", tag = "residents", params(("id" = String, Path, description = "Resident id")),
    request_body = Move, responses((status = 200, body = Resident), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_house(
    State(s): State<AppState>,
    Id(id): Id<String>,
    JsonBody(m): JsonBody<Move>,
) -> ApiResult<Resident> {
    Ok(Json(residents::move_house(&s.db, &id, m).await?))
}
