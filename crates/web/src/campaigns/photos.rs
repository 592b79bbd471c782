//! Photos for a form's photo questions: sent with the door form's page
//! (`fill::answer_page` stores them through [`take`]) or through the API first
//! (`POST /api/v1/campaign-targets/{id}/photos`, then the answers name the photo's
//! id), and served back to those who may work on the target — the staff of its
//! community and its grid's members — never to officials above, who see the
//! campaign's households pseudonymised. Every view is audited. The rules (types,
//! size, kept or loose, purged with the answers) are `store::campaigns::photos`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use wangge_domain::campaigns::{Form, QuestionKind};
use wangge_domain::{AuditAction, Message, msg};
use wangge_store::Thing;
use wangge_store::campaigns::TargetLine;
use wangge_store::campaigns::photos::{self, Photo};
use wangge_store::demands::attachments::MAX_BYTES;

use crate::shared::api::Params;
use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::error::ErrorBody;
use crate::shared::multipart::File;
use crate::{ApiError, AppState};

/// The input a photo question's file is sent in: `f.<question>`.
pub(crate) const FILE_PREFIX: &str = "f.";

/// Stores the photos a door page carried for its photo questions (`f.<name>`; of
/// two files for one question, the first that is a photo) and answers, per
/// question, the stored photo's id or why it was refused. Files for anything but
/// a photo question of `form` are ignored.
pub(crate) async fn take(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    line: &TargetLine,
    form: &Form,
    files: Vec<File>,
) -> Result<Vec<(String, Result<String, Message>)>, ApiError> {
    let mut out: Vec<(String, Result<String, Message>)> = Vec::new();
    for file in files {
        let Some(name) = file.field.strip_prefix(FILE_PREFIX) else { continue };
        if !form.question(name).is_some_and(|q| q.kind == QuestionKind::Photo) {
            continue;
        }
        if out.iter().any(|(q, r)| q == name && r.is_ok()) {
            continue;
        }
        let result = match file.data {
            None => Err(msg!("campaigns.error.photo_big", name = &file.file_name, most = MAX_BYTES >> 20)),
            Some(data) if photos::check(&data).is_err() => {
                Err(msg!("campaigns.error.photo_not_photo", name = &file.file_name))
            }
            Some(data) => Ok(stored(s, p, address, line, name, &file.file_name, &data).await?.id),
        };
        out.retain(|(q, r)| q != name || r.is_ok());
        out.push((name.to_owned(), result));
    }
    Ok(out)
}

/// Stores one checked photo and audits it (without its bytes).
async fn stored(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    line: &TargetLine,
    question: &str,
    file_name: &str,
    data: &[u8],
) -> Result<Photo, ApiError> {
    let photo = photos::add(&s.db, &line.target.id, question, file_name, data).await?;
    let summary = serde_json::json!({ "photo": photo.id, "question": question, "size": photo.size });
    audit::change(
        &s.db,
        (p, address),
        AuditAction::CampaignPhoto,
        Target("campaign_target", &line.target.id, &line.target.path),
        None,
        &summary,
    )
    .await?;
    Ok(photo)
}

/// A photo and its target, if the caller may work on the target; else unknown.
async fn reachable(s: &AppState, p: &Principal, id: &str) -> Result<(Photo, TargetLine), ApiError> {
    let photo = match photos::get(&s.db, id).await {
        Ok(photo) => photo,
        Err(wangge_store::StoreError::NotFound { .. }) => return Err(unknown(Thing::CampaignPhoto, id)),
        Err(e) => return Err(e.into()),
    };
    let line = super::target_in_scope(s, p, &photo.target_id)
        .await
        .map_err(|e| if e.status == StatusCode::NOT_FOUND { unknown(Thing::CampaignPhoto, id) } else { e })?;
    Ok((photo, line))
}

/// The photo's bytes under its stored type, never sniffed, never cached; audited.
async fn serve(s: &AppState, p: &Principal, address: &ClientAddress, id: &str) -> Result<Response, ApiError> {
    let (photo, line) = reachable(s, p, id).await?;
    let data = photos::content(&s.db, &photo.id).await?;
    let event = audit::Event {
        target_kind: Some("campaign_photo"),
        target_id: Some(&photo.id),
        path: Some(&line.target.path),
        ..audit::Event::of(AuditAction::CampaignPhotoView)
    };
    audit::log(&s.db, Some(p), None, address, event).await?;
    Ok(crate::shared::api::private_file(&photo.content_type, "inline", data))
}

/// The photo on the door page and the target's answers.
async fn photo_page(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    serve(&s, &p, &address, &id).await
}

/// Download a photo taken for a campaign's answer (JPEG, PNG or WebP), for those
/// who may work on its target; audited.
#[utoipa::path(get, path = "/api/v1/campaign-photos/{id}", tag = "campaigns",
    params(("id" = String, Path, description = "The photo")),
    responses((status = 200, description = "The photo", content_type = "image/jpeg"),
        (status = 404, body = ErrorBody)))]
pub async fn download(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    serve(&s, &p, &address, &id).await
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PhotoQuery {
    /// The photo question of the campaign's current form it answers (required; read
    /// after the scope, so that a caller outside it learns nothing).
    pub question: Option<String>,
}

/// Send a photo for a target's photo question, before its answers: the answers
/// then give the photo's `id` as that question's answer. The body is a
/// `multipart/form-data` form whose first file is taken, or the photo itself.
/// JPEG, PNG or WebP (told by the content), at most 5 MB. A photo sent again for
/// the same question replaces the one before; photos no answers name are deleted
/// after a day.
#[utoipa::path(post, path = "/api/v1/campaign-targets/{id}/photos", tag = "campaigns",
    params(("id" = String, Path, description = "The target"), PhotoQuery),
    request_body(content = Vec<u8>, description = "multipart/form-data with a file field, or the photo's bytes",
        content_type = "multipart/form-data"),
    responses((status = 201, body = Photo), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Params(q): Params<PhotoQuery>,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<Photo>), ApiError> {
    // Scope first: a caller outside it learns nothing from how the body is parsed.
    let line = super::target_in_scope(&s, &p, &id).await?;
    if !line.target.status.is_open() {
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", msg!("campaigns.error.settled")));
    }
    let campaign = wangge_store::campaigns::get(&s.db, &line.target.campaign_id).await?;
    let form = wangge_store::campaigns::form(&s.db, &campaign.id, campaign.form_version).await?;
    let question = q.question.unwrap_or_default();
    if !form.question(&question).is_some_and(|x| x.kind == QuestionKind::Photo) {
        return Err(ApiError::invalid(msg!("campaigns.error.photo_question", question = &question).field("question")));
    }
    let (name, data) = crate::shared::multipart::one_file(request, MAX_BYTES, None).await?;
    let photo = stored(&s, &p, &address, &line, &question, &name, &data).await?;
    Ok((StatusCode::CREATED, Json(photo)))
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use crate::shared::routes::Limit;
    use utoipa_axum::routes;
    use wangge_domain::Action::VisitHouseholds;
    crate::shared::routes::Routes::new()
        .get("/campaigns/photos/{id}", Role(VisitHouseholds), photo_page)
        .api(Role(VisitHouseholds), routes!(download))
        .api_limited(Role(VisitHouseholds), Limit::Attachment, routes!(upload))
}
