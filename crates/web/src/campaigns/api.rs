//! The JSON API of campaigns: the campaigns touching an area, a campaign's progress
//! per grid, the targets in the caller's own area (fail-closed: a grid member gets
//! their grid's only), starting a campaign from a shipped form, answering and
//! marking a target. The registry conflicts' two routes are in `conflicts`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wangge_domain::campaigns::builtin::Builtin;
use wangge_domain::campaigns::{TargetKind, TargetStatus};
use wangge_domain::{Vocabulary, msg};
use wangge_store::campaigns::{self, Campaign, NewCampaign, Phase, Progress, TargetFilter, TargetLine, Which};

use crate::shared::api::{ApiResult, JsonBody};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;
use crate::shared::render::{Lang, say};
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
pub struct AreaQuery {
    /// An area's id or code inside the caller's scope (default: the caller's scope).
    pub area: Option<String>,
}

/// A campaign with where it stands and its progress in the caller's part of it.
#[derive(Serialize, ToSchema)]
pub struct CampaignSummary {
    #[serde(flatten)]
    pub campaign: Campaign,
    pub phase: Phase,
    pub progress: Progress,
}

/// The campaigns whose scope contains the area or lies under it, newest first.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", params(AreaQuery),
    responses((status = 200, body = Vec<CampaignSummary>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> ApiResult<Vec<CampaignSummary>> {
    let path = p.list_path(&s.db, q.area.as_deref()).await?.unwrap_or_else(|| "/".into());
    let today = super::today();
    let mut out = Vec::new();
    for c in campaigns::touching(&s.db, &path).await? {
        let seen = if path.starts_with(&c.path) { path.clone() } else { c.path.clone() };
        let progress = campaigns::progress(&s.db, &c.id, &seen).await?.pop().unwrap_or_default();
        out.push(CampaignSummary { phase: c.phase(today), progress, campaign: c });
    }
    Ok(Json(out))
}

/// Progress per grid in the caller's part of the campaign, the total last:
/// expected (every target but the exempt), done, on time (by the end of the
/// closing day, China time), not reachable, of which not at home, pending.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/progress", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign")),
    responses((status = 200, body = Vec<Progress>), (status = 404, body = ErrorBody)))]
pub async fn progress(State(s): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Vec<Progress>> {
    let (campaign, seen) = super::reachable(&s, &p, &id).await?;
    Ok(Json(campaigns::progress(&s.db, &campaign.id, &seen).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TargetsQuery {
    /// A grid (id or code) inside the caller's scope; default: the caller's scope.
    pub area: Option<String>,
    /// `open` (pending, then not at home: the default), a status code, or `all`.
    pub status: Option<String>,
}

/// The campaign's targets in the caller's own area, in walking order.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/targets", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign"), TargetsQuery),
    responses((status = 200, body = Vec<TargetLine>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn targets(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<TargetsQuery>,
) -> ApiResult<Vec<TargetLine>> {
    let (campaign, _) = super::reachable(&s, &p, &id).await?;
    let path = p.list_path(&s.db, q.area.as_deref()).await?.unwrap_or_else(|| campaign.path.clone());
    if !p.can_change(&path) {
        return Err(ApiError::forbidden(msg!("error.area_outside").field("area")));
    }
    let which = match q.status.as_deref() {
        None | Some("open") => Which::Open,
        Some("all") => Which::Every,
        Some(code) => Which::Status(
            TargetStatus::from_code(code)
                .ok_or_else(|| ApiError::invalid(msg!("campaigns.error.status", value = code).field("status")))?,
        ),
    };
    Ok(Json(campaigns::lines(&s.db, &campaign.id, &path, which, 5000).await?))
}

/// A campaign to start from a shipped form.
#[derive(Deserialize, ToSchema)]
pub struct StartBody {
    /// A community, or a street or district over its communities, in the caller's scope.
    #[schema(format = Uuid)]
    pub area_id: String,
    pub title: String,
    /// The shipped form: `gas_check`, `flood_check`, `arrivals_census`,
    /// `vaccination`, `testing_round`.
    pub template: String,
    /// Default: the form's own.
    pub target_kind: Option<TargetKind>,
    #[serde(default)]
    pub filter: TargetFilter,
    #[schema(format = Date)]
    pub opens_on: String,
    #[schema(format = Date)]
    pub closes_on: String,
    /// Default: the form's own (health data is purged after it).
    pub retention_days: Option<u16>,
}

/// Starts a campaign: its targets are drawn from the registry at once.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = StartBody,
    responses((status = 201, body = Campaign), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(b): JsonBody<StartBody>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    let builtin = Builtin::find(&b.template)
        .ok_or_else(|| ApiError::invalid(msg!("campaigns.error.template").field("template")))?;
    let new = NewCampaign {
        area_id: b.area_id,
        title: b.title,
        target_kind: b.target_kind.unwrap_or(builtin.target_kind),
        filter: b.filter,
        opens_on: b.opens_on,
        closes_on: b.closes_on,
        retention_days: b.retention_days.or(builtin.retention_days),
        form: builtin.form(),
    };
    let c = super::pages::start(&s, &p, &address, new).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Answers for a target, with the form version they were given with.
#[derive(Deserialize, ToSchema)]
pub struct AnswersBody {
    pub version: i64,
    /// When the form was opened on the device (milliseconds since 1970): a registry
    /// fact the form writes that changed after it is held as a conflict instead of
    /// overwritten. Default: when the campaign started.
    pub opened_at: Option<i64>,
    /// By question name; a multiple choice as its choice names separated by spaces.
    pub answers: BTreeMap<String, String>,
}

/// What is wrong with one answer.
#[derive(Serialize, ToSchema)]
pub struct AnswerProblem {
    pub question: String,
    pub message: String,
}

/// Every answer's error.
#[derive(Serialize, ToSchema)]
pub struct AnswerProblems {
    pub errors: Vec<AnswerProblem>,
}

/// Records a target's answers (judged by the form; sealed at rest) and writes the
/// registry facts the form names, holding as conflicts those changed since
/// `opened_at`. 409 when the form changed since the version given; 422 with every
/// answer's error.
#[utoipa::path(post, path = "/api/v1/campaign-targets/{id}/answers", tag = "campaigns", request_body = AnswersBody,
    params(("id" = String, Path, description = "The target")),
    responses((status = 200, body = wangge_store::campaigns::Answered), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = AnswerProblems)))]
pub async fn answer(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<AnswersBody>,
) -> Result<Response, ApiError> {
    let line = super::target_in_scope(&s, &p, &id).await?;
    match super::fill::record(&s, &p, &address, &line, &b.answers, b.version, b.opened_at).await {
        Ok(done) => Ok(Json(done).into_response()),
        Err(super::fill::Failed::Api(e)) => Err(e),
        Err(super::fill::Failed::Answers(errs)) => {
            let errors = errs
                .into_iter()
                .map(|e| AnswerProblem { message: say(&e.message, lang.code), question: e.question })
                .collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(AnswerProblems { errors })).into_response())
        }
    }
}

/// A visit that did not end in answers.
#[derive(Deserialize, ToSchema)]
pub struct MarkBody {
    /// `not_home` (to the revisit queue), `refused`, `no_such_household`, or
    /// `exempt` (for those who run campaigns).
    pub status: TargetStatus,
}

/// Marks a target.
#[utoipa::path(post, path = "/api/v1/campaign-targets/{id}/mark", tag = "campaigns", request_body = MarkBody,
    params(("id" = String, Path, description = "The target")),
    responses((status = 200, body = wangge_store::campaigns::Target), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mark(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<MarkBody>,
) -> ApiResult<wangge_store::campaigns::Target> {
    let line = super::target_in_scope(&s, &p, &id).await?;
    Ok(Json(super::fill::mark_target(&s, &p, &address, &line, b.status).await?))
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use utoipa_axum::routes;
    use wangge_domain::Action::{RunCampaigns, ViewCampaigns, VisitHouseholds};
    crate::shared::routes::Routes::new()
        .api(Role(ViewCampaigns), routes!(list))
        .api(Role(RunCampaigns), routes!(start))
        .api(Role(ViewCampaigns), routes!(progress))
        .api(Role(VisitHouseholds), routes!(targets))
        .api(Role(VisitHouseholds), routes!(answer))
        .api(Role(VisitHouseholds), routes!(mark))
}
