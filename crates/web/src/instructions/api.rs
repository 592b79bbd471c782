//! The JSON API of instructions: what an area received and sent, sending one, an
//! instruction with the receipts the caller may see, and the steps on a receipt.
//! The rules of who may do what are the pages' (`super`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wangge_domain::instructions::Figures;
use wangge_store::PageRequest;
use wangge_store::instructions::{self, Instruction, NewInstruction, Receipt, Step, Summary};

use crate::shared::api::{ApiResult, JsonBody};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// An area's id or code inside the caller's scope (default: the caller's scope).
    pub area: Option<String>,
    /// Words the title holds, every one.
    pub q: Option<String>,
    /// Page number of both lists, from 1.
    pub page: Option<u32>,
    /// Items per page of each list, 1 to 500 (default 100).
    pub per_page: Option<u32>,
}

/// What an area received (its own receipts) and sent (from it and below): one page
/// of each, and how many each holds.
#[derive(Serialize, ToSchema)]
pub struct Lists {
    pub received: Vec<Received>,
    pub received_total: i64,
    pub sent: Vec<Summary>,
    pub sent_total: i64,
}

/// A receipt with the instruction it is of.
#[derive(Serialize, ToSchema)]
pub struct Received {
    pub instruction: Instruction,
    pub receipt: Receipt,
}

/// The instructions received at the caller's own areas and sent from the area and
/// below, newest first, a page of each.
#[utoipa::path(get, path = "/api/v1/instructions", tag = "instructions", params(ListQuery),
    responses((status = 200, body = Lists), (status = 403, body = ErrorBody)))]
pub async fn list(State(s): State<AppState>, p: Principal, Query(q): Query<ListQuery>) -> ApiResult<Lists> {
    let path = p.list_path(&s.db, q.area.as_deref()).await?.unwrap_or_else(|| "/".into());
    let page = PageRequest::new(q.page, q.per_page.or(Some(100)));
    let search = q.q.as_deref().unwrap_or_default();
    let own = super::own_paths(&p, &path);
    let received = instructions::received_page(&s.db, &own, search, page).await?;
    let sent = instructions::sent_page(&s.db, &path, search, page).await?;
    Ok(Json(Lists {
        received: received.items.into_iter().map(|(instruction, receipt)| Received { instruction, receipt }).collect(),
        received_total: received.total,
        sent: sent.items,
        sent_total: sent.total,
    }))
}

/// Sends an instruction from one of the caller's own areas to areas below it; each
/// receiver's people are told. 422 names what is wrong (a receiver outside, a due
/// day past, a table's labels).
#[utoipa::path(post, path = "/api/v1/instructions", tag = "instructions", request_body = NewInstruction,
    responses((status = 201, body = Instruction), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(b): JsonBody<NewInstruction>,
) -> Result<(StatusCode, Json<Instruction>), ApiError> {
    let i = super::send(&s, &p, &address, b, &[]).await?;
    Ok((StatusCode::CREATED, Json(i)))
}

/// An instruction with the receipts the caller may see.
#[derive(Serialize, ToSchema)]
pub struct Detail {
    pub instruction: Instruction,
    pub receipts: Vec<Receipt>,
}

/// One instruction and the receipts in the caller's sight, in the order of the
/// hierarchy.
#[utoipa::path(get, path = "/api/v1/instructions/{id}", tag = "instructions",
    params(("id" = String, Path, description = "The instruction")),
    responses((status = 200, body = Detail), (status = 404, body = ErrorBody)))]
pub async fn detail(State(s): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Detail> {
    let (instruction, receipts) = super::reachable(&s, &p, &id).await?;
    Ok(Json(Detail { instruction, receipts }))
}

/// Confirms receipt, for one's own area (the first reader and time are kept).
#[utoipa::path(post, path = "/api/v1/instruction-receipts/{id}/read", tag = "instructions",
    params(("id" = String, Path, description = "The receipt")),
    responses((status = 200, body = Receipt), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn read(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> ApiResult<Receipt> {
    Ok(Json(super::take(&s, &p, &address, &id, Step::Read).await?))
}

/// A report.
#[derive(Deserialize, ToSchema)]
pub struct ReportBody {
    #[serde(default)]
    pub text: String,
    /// The figures of the instruction's table, row by row (required when it has one).
    pub figures: Option<Figures>,
}

/// Reports back for one's own area (again after a return, or to correct it before
/// it is accepted). 409 once accepted.
#[utoipa::path(post, path = "/api/v1/instruction-receipts/{id}/report", tag = "instructions", request_body = ReportBody,
    params(("id" = String, Path, description = "The receipt")),
    responses((status = 200, body = Receipt), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ReportBody>,
) -> ApiResult<Receipt> {
    let step = Step::Report { text: b.text, figures: b.figures, files: Vec::new() };
    Ok(Json(super::take(&s, &p, &address, &id, step).await?))
}

/// Why a report goes back.
#[derive(Deserialize, ToSchema)]
pub struct ReturnBody {
    pub reason: String,
}

/// Returns a report to its receiver with a reason (by whoever addressed it).
#[utoipa::path(post, path = "/api/v1/instruction-receipts/{id}/return", tag = "instructions", request_body = ReturnBody,
    params(("id" = String, Path, description = "The receipt")),
    responses((status = 200, body = Receipt), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_back(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ReturnBody>,
) -> ApiResult<Receipt> {
    Ok(Json(super::take(&s, &p, &address, &id, Step::Return { reason: b.reason }).await?))
}

/// Accepts a report, which locks it (by whoever addressed it).
#[utoipa::path(post, path = "/api/v1/instruction-receipts/{id}/accept", tag = "instructions",
    params(("id" = String, Path, description = "The receipt")),
    responses((status = 200, body = Receipt), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn accept(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> ApiResult<Receipt> {
    Ok(Json(super::take(&s, &p, &address, &id, Step::Accept).await?))
}

/// The areas to pass an instruction down to.
#[derive(Deserialize, ToSchema)]
pub struct PassBody {
    pub receivers: Vec<String>,
}

/// Passes an instruction received by one's own area further down; one's area then
/// reviews their reports and may report their accepted figures' sum.
#[utoipa::path(post, path = "/api/v1/instruction-receipts/{id}/pass", tag = "instructions", request_body = PassBody,
    params(("id" = String, Path, description = "The receipt")),
    responses((status = 201, body = Vec<Receipt>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn pass(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PassBody>,
) -> Result<(StatusCode, Json<Vec<Receipt>>), ApiError> {
    Ok((StatusCode::CREATED, Json(super::pass_down(&s, &p, &address, &id, &b.receivers).await?)))
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use utoipa_axum::routes;
    use wangge_domain::Action::{SendInstructions, ViewInstructions};
    crate::shared::routes::Routes::new()
        .api(Role(ViewInstructions), routes!(list))
        .api(Role(SendInstructions), routes!(send))
        .api(Role(ViewInstructions), routes!(detail))
        .api(Role(ViewInstructions), routes!(read))
        .api(Role(ViewInstructions), routes!(report))
        .api(Role(SendInstructions), routes!(send_back))
        .api(Role(SendInstructions), routes!(accept))
        .api(Role(SendInstructions), routes!(pass))
}
