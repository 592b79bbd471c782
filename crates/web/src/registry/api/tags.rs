use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use wangge_domain::AuditAction;
use wangge_store::registry::tags::{self, NewTag, Tag};

use crate::shared::api::{ApiResult, JsonBody};
use crate::shared::audit::{self, Event};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;
use crate::{ApiError, AppState};

/// The catalogue of care tags.
#[utoipa::path(get, path = "/api/v1/tags", tag = "tags", responses((status = 200, body = Vec<Tag>)))]
pub async fn list_tags(State(s): State<AppState>) -> ApiResult<Vec<Tag>> {
    Ok(Json(tags::list(&s.db).await?))
}

/// Add a tag to the catalogue.
#[utoipa::path(post, path = "/api/v1/tags", tag = "tags", request_body = NewTag,
    responses((status = 201, body = Tag), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_tag(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(new): JsonBody<NewTag>,
) -> Result<(StatusCode, Json<Tag>), ApiError> {
    let tag = tags::create(&s.db, new).await?;
    let after = audit::json(&tag);
    let event =
        Event { target_kind: Some("tag"), target_id: Some(&tag.id), after, ..Event::of(AuditAction::TagCreate) };
    audit::log(&s.db, Some(&p), None, &address, event).await?;
    Ok((StatusCode::CREATED, Json(tag)))
}

/// This module's routes, each with who may call it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use utoipa_axum::routes;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .api(Role(ViewAreas), routes!(list_tags))
        .api(Role(ManageTags), routes!(create_tag))
}
