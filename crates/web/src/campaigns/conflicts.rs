//! Registry conflicts: an answer that would have overwritten a registry fact
//! changed after its form was opened is held (`store::campaigns::write_back`), and
//! listed on the campaign's page for whoever runs the campaign there, with the two
//! values side by side and who changed the registry when; they keep one of them.

use axum::Form as Posted;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wangge_domain::{Action, AuditAction, Vocabulary};
use wangge_store::campaigns::write_back::{self, Conflict, Keep};
use wangge_store::campaigns::{self, Campaign};

use wangge_store::Thing;

use crate::shared::api::{ApiResult, JsonBody};
use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::error::ErrorBody;
use crate::shared::render::{Lang, label, local_time};
use crate::shared::routes::Routes;
use crate::{ApiError, AppState};

/// A conflict as the campaign's page shows it.
#[derive(Serialize)]
pub(crate) struct ConflictView {
    id: String,
    place: String,
    fact: String,
    answer: String,
    registry: String,
    /// Who changed the registry, and when (local time).
    changed: String,
    answered: String,
}

/// The open conflicts of the campaign the caller may settle (in their own part of
/// it, as someone who runs campaigns there), for the campaign's page.
pub(crate) async fn for_page(
    s: &AppState,
    p: &Principal,
    campaign: &Campaign,
    seen: &str,
    lang: Lang,
) -> Result<Vec<ConflictView>, ApiError> {
    if !p.role.may(Action::RunCampaigns) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for c in write_back::conflicts(&s.db, &campaign.id, seen, true).await? {
        if !p.can_change(&c.path) {
            continue;
        }
        let line = campaigns::line(&s.db, &c.target_id).await?;
        let mut place = super::pages::place(&line, lang);
        if let Some(who) = &line.resident_name {
            place = format!("{place} · {who}");
        }
        out.push(ConflictView {
            id: c.id,
            place,
            fact: label(c.fact, lang).to_owned(),
            answer: c.answer_value,
            registry: c.registry_value,
            changed: format!("{} · {}", c.registry_changed_by, local_time(c.registry_changed_at)),
            answered: local_time(c.answered_at),
        });
    }
    Ok(out)
}

/// A conflict the caller may settle: in their scope, where they may change records.
async fn settleable(s: &AppState, p: &Principal, id: &str) -> Result<Conflict, ApiError> {
    let c = p.refer(write_back::conflict(&s.db, id).await, Thing::CampaignConflict, id, |c| &c.path)?;
    if !p.can_change(&c.path) {
        return Err(unknown(Thing::CampaignConflict, id));
    }
    Ok(c)
}

async fn settle(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    c: &Conflict,
    keep: Keep,
) -> Result<Conflict, ApiError> {
    let settled = write_back::resolve(&s.db, &c.id, keep, &p.actor_name()).await?;
    let summary = serde_json::json!({
        "fact": c.fact.code(), "subject": c.subject_id, "kept": keep,
        "answer_value": c.answer_value, "registry_value": c.registry_value,
    });
    audit::change(
        &s.db,
        (p, address),
        AuditAction::CampaignConflict,
        Target("campaign_target", &c.target_id, &c.path),
        None,
        &summary,
    )
    .await?;
    Ok(settled)
}

/// Which value to keep.
#[derive(Deserialize, ToSchema)]
pub struct SettleBody {
    /// `answer`: the campaign's answer replaces the registry's value; `registry`:
    /// the registry keeps its own.
    pub keep: Keep,
}

/// The page's two buttons.
async fn settle_form(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Posted(b): Posted<SettleBody>,
) -> Result<Response, ApiError> {
    let c = settleable(&s, &p, &id).await?;
    settle(&s, &p, &address, &c, b.keep).await?;
    Ok(Redirect::to(&format!("/campaigns/{}?settled=1#conflicts", c.campaign_id)).into_response())
}

/// Which conflicts to list.
#[derive(Deserialize, IntoParams)]
pub struct ConflictsQuery {
    /// Settled ones too (default: only those still open).
    #[serde(default)]
    pub all: bool,
}

/// A campaign's registry conflicts in the caller's part of it, open ones first.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/conflicts", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign"), ConflictsQuery),
    responses((status = 200, body = Vec<Conflict>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<ConflictsQuery>,
) -> ApiResult<Vec<Conflict>> {
    let (campaign, seen) = super::reachable(&s, &p, &id).await?;
    Ok(Json(write_back::conflicts(&s.db, &campaign.id, &seen, !q.all).await?))
}

/// Settles a registry conflict (once; a second decision answers 409).
#[utoipa::path(post, path = "/api/v1/campaign-conflicts/{id}", tag = "campaigns", request_body = SettleBody,
    params(("id" = String, Path, description = "The conflict")),
    responses((status = 200, body = Conflict), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resolve(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<SettleBody>,
) -> ApiResult<Conflict> {
    let c = settleable(&s, &p, &id).await?;
    Ok(Json(settle(&s, &p, &address, &c, b.keep).await?))
}

pub(crate) fn routes() -> Routes {
    use crate::shared::auth::Access::Role;
    use utoipa_axum::routes;
    use wangge_domain::Action::{RunCampaigns, ViewCampaigns};
    Routes::new()
        .post("/campaigns/conflicts/{id}", Role(RunCampaigns), settle_form)
        .api(Role(ViewCampaigns), routes!(list))
        .api(Role(RunCampaigns), routes!(resolve))
}
