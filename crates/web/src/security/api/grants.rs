//! Break the glass: time-limited access to names, for a stated reason.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use wangge_domain::AuditAction;
use wangge_store::security::grants::{self, Grant};

use crate::shared::api::JsonBody;
use crate::shared::audit::{self, Event};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;
use crate::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
pub struct AccessRequest {
    /// The area (id or code) whose residents' names are needed: within your scope,
    /// or beside it (under the parent of one of your scope areas).
    pub area: String,
    /// Why, in words that will stand in the audit log (e.g. "信访件 2026-113 核实当事人").
    pub reason: String,
    /// How long, 1 to 8 hours (default 2).
    pub hours: Option<u32>,
}

/// Take access to names under an area for a limited time. Granted at once and
/// recorded with its reason in the audit log; lapses by itself. The area may lie
/// in your scope or beside it (the next street, the next community); outside your
/// scope the grant opens records to reading only.
#[utoipa::path(post, path = "/api/v1/access-grants", tag = "residents", request_body = AccessRequest,
    responses((status = 201, body = Grant), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_access(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(req): JsonBody<AccessRequest>,
) -> Result<(StatusCode, Json<Grant>), ApiError> {
    let grant = take_grant(&s, &p, &address, &req).await?;
    Ok((StatusCode::CREATED, Json(grant)))
}

/// Checks the reach, records the grant and its audit entry.
pub(crate) async fn take_grant(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    req: &AccessRequest,
) -> Result<Grant, ApiError> {
    let path = crate::shared::api::area_path(&s.db, Some(&req.area)).await?.unwrap_or_default();
    if !p.may_reach(&path) {
        return Err(ApiError::forbidden(wangge_domain::msg!("security.error.grant_reach").field("area")));
    }
    let area = wangge_store::registry::areas::get_by_path(&s.db, &path).await?;
    let grant = grants::create(&s.db, p.actor_id(), &area, &req.reason, req.hours.unwrap_or(2)).await?;
    let event = Event {
        target_kind: Some("area"),
        target_id: Some(&area.id),
        path: Some(&area.path),
        reason: Some(&grant.reason),
        after: audit::json(&grant),
        ..Event::of(AuditAction::AccessGrant)
    };
    audit::log(&s.db, Some(p), None, address, event).await?;
    Ok(grant)
}

/// This module's routes, each with who may call it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use utoipa_axum::routes;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new().api(Role(RequestAccess), routes!(request_access))
}
