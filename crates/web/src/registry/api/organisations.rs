use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use wangge_domain::AuditAction;
use wangge_domain::OrganisationKind;
use wangge_store::Thing;
use wangge_store::registry::organisations::{
    self, NewOrganisation, Organisation, OrganisationFilter, OrganisationUpdate,
};
use wangge_store::{Page, PageRequest};

use crate::shared::api::{ApiResult, Id, JsonBody, Params};
use crate::shared::audit;
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
pub struct OrganisationQuery {
    /// Only organisations under this area (id or code).
    pub area: Option<String>,
    pub kind: Option<OrganisationKind>,
    /// Part of the name.
    pub q: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 500 (default 50).
    pub per_page: Option<u32>,
}

/// List organisations located in the area.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations", params(OrganisationQuery),
    responses((status = 200, body = Page<Organisation>), (status = 400, body = ErrorBody)))]
pub async fn list_organisations(
    State(s): State<AppState>,
    p: Principal,
    Params(q): Params<OrganisationQuery>,
) -> ApiResult<Page<Organisation>> {
    let filter = OrganisationFilter { under_path: p.list_path(&s.db, q.area.as_deref()).await?, kind: q.kind, q: q.q };
    Ok(Json(organisations::list(&s.db, &filter, PageRequest::new(q.page, q.per_page)).await?))
}

/// Register an organisation in a grid.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", request_body = NewOrganisation,
    responses((status = 201, body = Organisation), (status = 422, body = ErrorBody)))]
pub async fn create_organisation(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(new): JsonBody<NewOrganisation>,
) -> Result<(StatusCode, Json<Organisation>), ApiError> {
    p.refer(wangge_store::registry::areas::get(&s.db, &new.grid_id).await, Thing::Area, &new.grid_id, |r| &r.path)?;
    let o = organisations::create(&s.db, new).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::OrganisationCreate,
        audit::Target("organisation", &o.id, &o.path),
        None,
        &o,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(o)))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "organisations", params(("id" = String, Path, description = "Organisation id")),
    responses((status = 200, body = Organisation), (status = 404, body = ErrorBody)))]
pub async fn get_organisation(State(s): State<AppState>, p: Principal, Id(id): Id<String>) -> ApiResult<Organisation> {
    let o = p.refer(organisations::get(&s.db, &id).await, Thing::Organisation, &id, |r| &r.path)?;
    Ok(Json(o))
}

/// Change an organisation, or move it to another grid.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}", tag = "organisations", params(("id" = String, Path, description = "Organisation id")),
    request_body = OrganisationUpdate, responses((status = 200, body = Organisation), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_organisation(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    JsonBody(u): JsonBody<OrganisationUpdate>,
) -> ApiResult<Organisation> {
    let before = p.refer(organisations::get(&s.db, &id).await, Thing::Organisation, &id, |r| &r.path)?;
    if let Some(grid_id) = &u.grid_id {
        p.refer(wangge_store::registry::areas::get(&s.db, grid_id).await, Thing::Area, grid_id, |r| &r.path)?;
    }
    let after = organisations::update(&s.db, &id, u).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::OrganisationUpdate,
        audit::Target("organisation", &id, &after.path),
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
        .api(Role(ViewRegistry), routes!(list_organisations))
        .api(Role(EditRegistry), routes!(create_organisation))
        .api(Role(ViewRegistry), routes!(get_organisation))
        .api(Role(EditRegistry), routes!(update_organisation))
}
