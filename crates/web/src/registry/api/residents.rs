use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde::Serialize;
use utoipa::IntoParams;
use utoipa::ToSchema;
use wangge_domain::AuditAction;
use wangge_domain::{Explain, ResidentStatus, msg};
use wangge_store::Thing;
use wangge_store::registry::residents::{
    self, Move, NewResident, Relocation, Resident, ResidentEvent, ResidentFilter, ResidentSort, ResidentUpdate,
    RevealField,
};
use wangge_store::{Page, PageRequest};

use crate::shared::api::{ApiResult, Id, JsonBody, Params};
use crate::shared::audit::{self, Event};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;
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
    /// `place` (default: by grid, then name), `name`, `birth_date` (oldest first),
    /// `-birth_date` (youngest first) or `-registered` (newest first).
    pub sort: Option<String>,
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
        Some(s) => ResidentStatus::parse(s).map(Some).map_err(|e| ApiError::bad_request(e.message().field("status"))),
    }
}

/// What a caller without names sees of a person: no name (a stable pseudonym), no
/// ID or phone, no room, no notes, the birth year only, and no sensitive care tags.
fn pseudonymised(mut r: Resident, sensitive: &[String]) -> Resident {
    r.name = format!("居民{}", &r.id[r.id.len() - 4..]);
    r.id_card = None;
    r.phone = None;
    r.unit = None;
    r.room = None;
    r.notes = String::new();
    r.birth_date.truncate(4);
    r.tags.retain(|t| !sensitive.contains(t));
    r
}

/// Shows the resident as the caller may see them.
pub(crate) async fn as_seen_by(s: &AppState, p: &Principal, r: Resident) -> Result<Resident, ApiError> {
    if p.sees_names(&r.path) {
        return Ok(r);
    }
    Ok(pseudonymised(r, &sensitive_tags(s).await?))
}

async fn sensitive_tags(s: &AppState) -> Result<Vec<String>, ApiError> {
    Ok(wangge_store::registry::tags::list(&s.db).await?.into_iter().filter(|t| t.sensitive).map(|t| t.code).collect())
}

/// List and search residents.
#[utoipa::path(get, path = "/api/v1/residents", tag = "residents", params(ResidentQuery),
    responses((status = 200, body = Page<Resident>), (status = 400, body = ErrorBody)))]
pub async fn list_residents(
    State(s): State<AppState>,
    p: Principal,
    Params(q): Params<ResidentQuery>,
) -> ApiResult<Page<Resident>> {
    let under_path = p.list_path(&s.db, q.area.as_deref()).await?;
    let names = under_path.as_deref().is_none_or(|path| p.sees_names(path));
    if !names && q.q.as_deref().is_some_and(|q| !q.trim().is_empty()) {
        // A search by name or number would tell who lives here.
        return Err(ApiError::forbidden(msg!("registry.error.search_needs_names")));
    }
    let filter = ResidentFilter {
        under_path,
        household_id: q.household,
        status: status_filter(q.status.as_deref())?,
        tag: q.tag,
        q: q.q,
        sort: match q.sort.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => ResidentSort::default(),
            Some(key) => ResidentSort::parse(key)
                .ok_or_else(|| ApiError::bad_request(msg!("registry.error.sort", key = key).field("sort")))?,
        },
    };
    let mut page = residents::list(&s.db, &filter, PageRequest::new(q.page, q.per_page)).await?;
    if page.items.iter().any(|r| !p.sees_names(&r.path)) {
        let sensitive = sensitive_tags(&s).await?;
        page.items = page
            .items
            .into_iter()
            .map(|r| if p.sees_names(&r.path) { r } else { pseudonymised(r, &sensitive) })
            .collect();
    }
    Ok(Json(page))
}

/// Register a person in a household (recorded as moving in).
#[utoipa::path(post, path = "/api/v1/residents", tag = "residents", request_body = NewResident,
    responses((status = 201, body = Resident), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_resident(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(new): JsonBody<NewResident>,
) -> Result<(StatusCode, Json<Resident>), ApiError> {
    p.refer(
        wangge_store::registry::households::get(&s.db, &new.household_id).await,
        Thing::Household,
        &new.household_id,
        |r| &r.path,
    )?;
    let r = residents::create(&s.db, new).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::ResidentCreate,
        audit::Target("resident", &r.id, &r.path),
        None,
        &r,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// The resident, if the caller's scope covers where they live (or last lived).
pub(crate) async fn in_scope(s: &AppState, p: &Principal, id: &str) -> Result<Resident, ApiError> {
    let r = p.refer(residents::get(&s.db, id).await, Thing::Resident, id, |r| &r.path)?;
    Ok(r)
}

/// One resident, whatever their status.
#[utoipa::path(get, path = "/api/v1/residents/{id}", tag = "residents", params(("id" = String, Path, description = "Resident id")),
    responses((status = 200, body = Resident), (status = 404, body = ErrorBody)))]
pub async fn get_resident(State(s): State<AppState>, p: Principal, Id(id): Id<String>) -> ApiResult<Resident> {
    let r = in_scope(&s, &p, &id).await?;
    Ok(Json(as_seen_by(&s, &p, r).await?))
}

/// Correct or complete a person's facts.
#[utoipa::path(patch, path = "/api/v1/residents/{id}", tag = "residents", params(("id" = String, Path, description = "Resident id")),
    request_body = ResidentUpdate,
    responses((status = 200, body = Resident), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_resident(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    JsonBody(u): JsonBody<ResidentUpdate>,
) -> ApiResult<Resident> {
    let before = in_scope(&s, &p, &id).await?;
    let after = residents::update(&s.db, &id, u).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::ResidentUpdate,
        audit::Target("resident", &id, &after.path),
        Some(&before),
        &after,
    )
    .await?;
    Ok(Json(after))
}

/// Moves in, moves out, moves of house and corrections, oldest first.
#[utoipa::path(get, path = "/api/v1/residents/{id}/history", tag = "residents", params(("id" = String, Path, description = "Resident id")),
    responses((status = 200, body = Vec<ResidentEvent>), (status = 404, body = ErrorBody)))]
pub async fn resident_history(
    State(s): State<AppState>,
    p: Principal,
    Id(id): Id<String>,
) -> ApiResult<Vec<ResidentEvent>> {
    let r = in_scope(&s, &p, &id).await?;
    let mut events = residents::history(&s.db, &id).await?;
    if !p.sees_names(&r.path) {
        // Notes on moves may say where to and why: not for a pseudonymised view.
        events.iter_mut().for_each(|e| e.note.clear());
    }
    Ok(Json(events))
}

/// Checks scope on both ends of a move, runs it, and audits it.
async fn relocate(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    id: &str,
    m: Move,
    how: Relocation,
) -> ApiResult<Resident> {
    let before = in_scope(s, p, id).await?;
    if let Some(target) = &m.household_id {
        p.refer(wangge_store::registry::households::get(&s.db, target).await, Thing::Household, target, |r| &r.path)?;
    }
    let after = residents::relocate(&s.db, id, how, m).await?;
    let target = audit::Target("resident", id, &before.path);
    audit::change(&s.db, (p, address), how.action(), target, Some(&before), &after).await?;
    Ok(Json(after))
}

/// Record that a person moved out. The record and its history stay.
#[utoipa::path(post, path = "/api/v1/residents/{id}/move-out", tag = "residents", params(("id" = String, Path, description = "Resident id")),
    request_body = Move, responses((status = 200, body = Resident), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn move_out(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    JsonBody(m): JsonBody<Move>,
) -> ApiResult<Resident> {
    relocate(&s, &p, &address, &id, m, Relocation::MoveOut).await
}

/// Record that a person who had moved out moved back in, into `household_id`.
#[utoipa::path(post, path = "/api/v1/residents/{id}/move-in", tag = "residents", params(("id" = String, Path, description = "Resident id")),
    request_body = Move, responses((status = 200, body = Resident), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_in(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    JsonBody(m): JsonBody<Move>,
) -> ApiResult<Resident> {
    relocate(&s, &p, &address, &id, m, Relocation::MoveIn).await
}

/// Record that a person moved to another household (`household_id`).
#[utoipa::path(post, path = "/api/v1/residents/{id}/move-house", tag = "residents", params(("id" = String, Path, description = "Resident id")),
    request_body = Move, responses((status = 200, body = Resident), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_house(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    JsonBody(m): JsonBody<Move>,
) -> ApiResult<Resident> {
    relocate(&s, &p, &address, &id, m, Relocation::MoveHouse).await
}

#[derive(Debug, serde::Deserialize, ToSchema)]
pub struct RevealRequest {
    /// `id_card` or `phone`.
    pub field: String,
    /// Why the full value is needed (kept in the audit log), e.g. "回访核实身份".
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct Revealed {
    pub field: String,
    /// The full value, or null when none is recorded.
    pub value: Option<String>,
}

/// Show one protected value in full, for a stated reason. Every reveal is audited.
#[utoipa::path(post, path = "/api/v1/residents/{id}/reveal", tag = "residents", params(("id" = String, Path, description = "Resident id")),
    request_body = RevealRequest, responses((status = 200, body = Revealed), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reveal(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    JsonBody(req): JsonBody<RevealRequest>,
) -> ApiResult<Revealed> {
    let (field, action) = match req.field.as_str() {
        "id_card" => (RevealField::IdCard, AuditAction::RevealIdCard),
        "phone" => (RevealField::Phone, AuditAction::RevealPhone),
        other => return Err(ApiError::bad_request(msg!("registry.error.reveal_field", field = other).field("field"))),
    };
    let reason = req.reason.trim();
    if reason.chars().count() < 2 {
        return Err(ApiError::invalid(msg!("registry.error.reveal_reason").field("reason")));
    }
    let r = in_scope(&s, &p, &id).await?;
    let value = residents::reveal(&s.db, &id, field).await?;
    let event = Event {
        target_kind: Some("resident"),
        target_id: Some(&id),
        path: Some(&r.path),
        reason: Some(reason),
        ..Event::of(action)
    };
    audit::log(&s.db, Some(&p), None, &address, event).await?;
    Ok(Json(Revealed { field: req.field, value }))
}

/// This module's routes, each with who may call it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use utoipa_axum::routes;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .api(Role(ViewPseudonymised), routes!(list_residents))
        .api(Role(EditRegistry), routes!(create_resident))
        .api(Role(ViewPseudonymised), routes!(get_resident))
        .api(Role(EditRegistry), routes!(update_resident))
        .api(Role(ViewPseudonymised), routes!(resident_history))
        .api(Role(EditRegistry), routes!(move_out))
        .api(Role(EditRegistry), routes!(move_in))
        .api(Role(EditRegistry), routes!(move_house))
        .api(Role(RevealPersonal), routes!(reveal))
}
