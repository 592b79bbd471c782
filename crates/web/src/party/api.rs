//! The JSON API of Party building: members, units, registrations (and their
//! steps), needs, service records (and their decision), a unit's feedback of a
//! period, joint meetings, resources and projects of the three lists. The rules of who may do what are the pages' (`super`).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use wangge_domain::party::RegistrationStep;
use wangge_domain::party_joint::ProjectState;
use wangge_store::party::joint::JointMeeting;
use wangge_store::party::projects::{self, Project, Resource};
use wangge_store::party::service::{self, Need, Service};
use wangge_store::party::{self, Feedback, Member, MemberFilter, Registration, RegistrationFilter, Unit};

use crate::AppState;
use crate::shared::api::{ApiResult, JsonBody};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;

#[derive(Debug, Deserialize, IntoParams)]
pub struct AreaQuery {
    /// An area's id or code inside the caller's scope (default: the caller's scope).
    pub area: Option<String>,
}

async fn path_of(s: &AppState, p: &Principal, area: Option<&str>) -> Result<String, crate::ApiError> {
    Ok(p.list_path(&s.db, area).await?.unwrap_or_else(|| "/".into()))
}

/// The Party members under an area, by name (ID numbers and phones masked): to
/// those who keep the registry, and to accounts granted the roll (403 to others).
#[utoipa::path(get, path = "/api/v1/party/members", tag = "party", params(AreaQuery),
    responses((status = 200, body = Vec<Member>), (status = 403, body = ErrorBody)))]
pub async fn members(State(s): State<AppState>, p: Principal, Query(q): Query<AreaQuery>) -> ApiResult<Vec<Member>> {
    let path = path_of(&s, &p, q.area.as_deref()).await?;
    if !super::roll_open(&s, &p, &path).await? {
        return Err(super::roll_closed());
    }
    Ok(Json(party::members_under(&s.db, &path, &MemberFilter::default()).await?))
}

/// One member (masked), to those who read the roll.
#[utoipa::path(get, path = "/api/v1/party/members/{id}", tag = "party",
    params(("id" = String, Path, description = "The member")),
    responses((status = 200, body = Member), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn member(State(s): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Member> {
    Ok(Json(super::member_on_roll(&s, &p, &id).await?))
}

/// The units registered with the community of an area (phones masked).
#[utoipa::path(get, path = "/api/v1/party/units", tag = "party", params(AreaQuery),
    responses((status = 200, body = Vec<Unit>), (status = 403, body = ErrorBody)))]
pub async fn units(State(s): State<AppState>, p: Principal, Query(q): Query<AreaQuery>) -> ApiResult<Vec<Unit>> {
    let path = path_of(&s, &p, q.area.as_deref()).await?;
    Ok(Json(party::units_under(&s.db, &path).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RegistrationQuery {
    pub area: Option<String>,
    /// `2026H1`.
    pub period: Option<String>,
}

/// The registrations under an area, newest first.
#[utoipa::path(get, path = "/api/v1/party/registrations", tag = "party", params(RegistrationQuery),
    responses((status = 200, body = Vec<Registration>), (status = 403, body = ErrorBody)))]
pub async fn registrations(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<RegistrationQuery>,
) -> ApiResult<Vec<Registration>> {
    let path = path_of(&s, &p, q.area.as_deref()).await?;
    let f = RegistrationFilter { period: q.period, ..Default::default() };
    Ok(Json(party::registrations_under(&s.db, &path, &f).await?))
}

/// A step on a registration.
#[derive(Deserialize, ToSchema)]
pub struct StepBody {
    /// `confirm`, `refuse` (with a reason), `withdraw`.
    pub step: RegistrationStep,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Confirms, refuses (with a reason) or withdraws a registration. 409 when the
/// step does not apply to its state.
#[utoipa::path(post, path = "/api/v1/party/registrations/{id}/step", tag = "party", request_body = StepBody,
    params(("id" = String, Path, description = "The registration")),
    responses((status = 200, body = Registration), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn step(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<StepBody>,
) -> ApiResult<Registration> {
    Ok(Json(super::decide_registration(&s, &p, &address, &id, b.step, b.reason.as_deref()).await?))
}

/// The needs concerning an area from today on.
#[utoipa::path(get, path = "/api/v1/party/needs", tag = "party", params(AreaQuery),
    responses((status = 200, body = Vec<Need>), (status = 403, body = ErrorBody)))]
pub async fn needs(State(s): State<AppState>, p: Principal, Query(q): Query<AreaQuery>) -> ApiResult<Vec<Need>> {
    let path = path_of(&s, &p, q.area.as_deref()).await?;
    Ok(Json(service::needs_under(&s.db, &path, wangge_store::instructions::today()).await?))
}

/// The service records under an area, newest first (at most 500).
#[utoipa::path(get, path = "/api/v1/party/service", tag = "party", params(AreaQuery),
    responses((status = 200, body = Vec<Service>), (status = 403, body = ErrorBody)))]
pub async fn services(State(s): State<AppState>, p: Principal, Query(q): Query<AreaQuery>) -> ApiResult<Vec<Service>> {
    let path = path_of(&s, &p, q.area.as_deref()).await?;
    Ok(Json(service::services_under(&s.db, &path, None, 500).await?))
}

/// A decision on a service record.
#[derive(Deserialize, ToSchema)]
pub struct DecideBody {
    pub confirm: bool,
    /// 1–5, with a confirmation.
    #[serde(default)]
    pub rating: Option<i64>,
    /// Required with a rejection.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Confirms (with the points of the community's rules) or rejects a recorded
/// service, once. 409 when it was decided already.
#[utoipa::path(post, path = "/api/v1/party/service/{id}/decide", tag = "party", request_body = DecideBody,
    params(("id" = String, Path, description = "The service record")),
    responses((status = 200, body = Service), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<DecideBody>,
) -> ApiResult<Service> {
    Ok(Json(super::decide_service(&s, &p, &address, &id, b.confirm, b.rating, b.reason.as_deref()).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// `2026Q1` (default: the community's feedback period holding today).
    pub period: Option<String>,
}

/// A unit's feedback of a period: its members, hours, activities, ratings, who did
/// nothing, its registration and completion rates (docs/party.md).
#[utoipa::path(get, path = "/api/v1/party/units/{id}/feedback", tag = "party", params(PeriodQuery,
        ("id" = String, Path, description = "The unit")),
    responses((status = 200, body = Feedback), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn feedback(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Feedback> {
    let u = super::unit_in_sight(&s, &p, &id).await?;
    let period = super::feedback::period_of(&s, &u.community_id, q.period.as_deref()).await?;
    Ok(Json(party::feedback(&s.db, &u.id, period).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ProjectQuery {
    pub area: Option<String>,
    /// `planned`, `doing`, `done`, `dropped`; all when absent.
    pub state: Option<ProjectState>,
}

/// The three lists' projects that concern an area (under it, and its community's
/// own), newest first, with their needs, resources and residents' ratings (counts
/// and the sum of stars, never who rated).
#[utoipa::path(get, path = "/api/v1/party/projects", tag = "party", params(ProjectQuery),
    responses((status = 200, body = Vec<Project>), (status = 403, body = ErrorBody)))]
pub async fn projects(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<ProjectQuery>,
) -> ApiResult<Vec<Project>> {
    let path = path_of(&s, &p, q.area.as_deref()).await?;
    Ok(Json(projects::projects_under(&s.db, &path, q.state, 500).await?))
}

/// One project.
#[utoipa::path(get, path = "/api/v1/party/projects/{id}", tag = "party",
    params(("id" = String, Path, description = "The project")),
    responses((status = 200, body = Project), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn project(State(s): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Project> {
    Ok(Json(super::projects::project_in_sight(&s, &p, &id).await?))
}

/// The resources that concern an area, withdrawn ones last.
#[utoipa::path(get, path = "/api/v1/party/resources", tag = "party", params(AreaQuery),
    responses((status = 200, body = Vec<Resource>), (status = 403, body = ErrorBody)))]
pub async fn resources(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> ApiResult<Vec<Resource>> {
    let path = path_of(&s, &p, q.area.as_deref()).await?;
    Ok(Json(projects::resources_under(&s.db, &path).await?))
}

/// The joint meetings of the community of an area, newest first, with their units
/// and resolutions (and what each became).
#[utoipa::path(get, path = "/api/v1/party/joint-meetings", tag = "party", params(AreaQuery),
    responses((status = 200, body = Vec<JointMeeting>), (status = 403, body = ErrorBody)))]
pub async fn joint_meetings(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> ApiResult<Vec<JointMeeting>> {
    let path = path_of(&s, &p, q.area.as_deref()).await?;
    Ok(Json(party::joint::meetings_under(&s.db, &path, 200).await?))
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::{PartyRoll, Role};
    use utoipa_axum::routes;
    use wangge_domain::Action::{ConfirmService, RunRegistration, ViewParty};
    crate::shared::routes::Routes::new()
        .api(PartyRoll, routes!(members))
        .api(PartyRoll, routes!(member))
        .api(Role(ViewParty), routes!(units))
        .api(Role(ViewParty), routes!(registrations))
        .api(Role(RunRegistration), routes!(step))
        .api(Role(ViewParty), routes!(needs))
        .api(Role(ViewParty), routes!(services))
        .api(Role(ConfirmService), routes!(decide))
        .api(Role(ViewParty), routes!(feedback))
        .api(Role(ViewParty), routes!(projects))
        .api(Role(ViewParty), routes!(project))
        .api(Role(ViewParty), routes!(resources))
        .api(Role(ViewParty), routes!(joint_meetings))
}
