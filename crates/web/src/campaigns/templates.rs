//! Campaigns saved as templates and repeated on a schedule (`store::campaigns::templates`):
//! "save as a template" on a campaign's page, the list of templates in the caller's
//! area with their next opening day and the campaigns they started, stopping a
//! schedule, and the job that starts the campaigns whose day has come.

use axum::Form as Posted;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::campaigns::Repeat;
use wangge_domain::{Action, AuditAction, Vocabulary, msg};
use wangge_store::Thing;
use wangge_store::campaigns::templates::{self, Template};

use crate::shared::api::ApiResult;
use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::error::ErrorBody;
use crate::shared::render::{Lang, frame, label, render};
use crate::shared::routes::Routes;
use crate::{ApiError, AppState};

/// "Save as a template": how often, and the first opening day.
#[derive(Deserialize)]
pub struct SaveForm {
    every: String,
    #[serde(default)]
    first_on: String,
}

async fn save(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Posted(f): Posted<SaveForm>,
) -> Result<Response, ApiError> {
    let (campaign, _) = super::reachable(&s, &p, &id).await?;
    if !p.can_change(&campaign.path) {
        return Err(unknown(Thing::Campaign, &id));
    }
    let every = Repeat::parse(&f.every)
        .map_err(|_| ApiError::invalid(msg!("campaigns.error.repeat", value = &f.every).field("every")))?;
    let first_on = match f.first_on.trim() {
        "" => None,
        d => Some(
            time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                .map_err(|_| ApiError::invalid(msg!("campaigns.error.date", value = d).field("first_on")))?,
        ),
    };
    // A refusal (no first day, a day past) is said on the error page in the
    // caller's language, naming the field.
    let t = templates::save(&s.db, &campaign, every, first_on, super::today(), &p.actor_name()).await?;
    let summary = serde_json::json!({ "template": t.id, "every": t.every, "next_on": t.next_on });
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::CampaignTemplate,
        Target("campaign", &campaign.id, &campaign.path),
        None,
        &summary,
    )
    .await?;
    Ok(Redirect::to("/campaigns/templates?saved=1").into_response())
}

/// A template as the list shows it.
#[derive(Serialize)]
struct Card {
    id: String,
    title: String,
    every: String,
    next_on: Option<String>,
    ended: bool,
    days_open: i64,
    created: String,
    /// The campaigns it started, newest first: (href, title, opening day).
    started: Vec<(String, String, String)>,
    may_end: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    area: Option<String>,
    saved: Option<u8>,
    ended: Option<u8>,
}

async fn list_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let path = p.list_path(&s.db, q.area.as_deref()).await?.unwrap_or_else(|| "/".into());
    let mut cards = Vec::new();
    for t in templates::list(&s.db, &path).await? {
        let started = templates::campaigns_of(&s.db, &t.id)
            .await?
            .into_iter()
            .take(6)
            .map(|c| (format!("/campaigns/{}", c.id), c.title, c.opens_on))
            .collect();
        cards.push(Card {
            may_end: t.ended_at.is_none() && p.role.may(Action::RunCampaigns) && p.can_change(&t.path),
            every: label(t.every, lang).to_owned(),
            ended: t.ended_at.is_some(),
            created: format!("{} · {}", t.created_by_name, crate::shared::render::local_time(t.created_at)),
            id: t.id,
            title: t.title,
            next_on: t.next_on,
            days_open: t.days_open,
            started,
        });
    }
    let ctx = context! {
        cards => Value::from(Serde(&cards)), saved => q.saved.is_some(), ended => q.ended.is_some(),
        ..frame(&p, lang, "/campaigns")
    };
    Ok(render(lang, StatusCode::OK, "campaigns/templates.html", ctx))
}

async fn end(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let t = p.refer(templates::get(&s.db, &id).await, Thing::CampaignTemplate, &id, |t| &t.path)?;
    if !p.can_change(&t.path) {
        return Err(unknown(Thing::CampaignTemplate, &id));
    }
    let t = templates::end(&s.db, &t.id).await?;
    let summary = serde_json::json!({ "template": t.id, "ended": true });
    let source = t.source_campaign_id.clone().unwrap_or_default();
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::CampaignTemplate,
        Target("campaign", &source, &t.path),
        None,
        &summary,
    )
    .await?;
    Ok(Redirect::to("/campaigns/templates?ended=1").into_response())
}

/// The campaign templates of the area and below, running schedules first.
#[utoipa::path(get, path = "/api/v1/campaign-templates", tag = "campaigns", params(super::api::AreaQuery),
    responses((status = 200, body = Vec<Template>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<super::api::AreaQuery>,
) -> ApiResult<Vec<Template>> {
    let path = p.list_path(&s.db, q.area.as_deref()).await?.unwrap_or_else(|| "/".into());
    Ok(Json(templates::list(&s.db, &path).await?))
}

/// How often [`run_jobs`] sweeps: templates open on their day within the hour.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// The campaigns' jobs for as long as the server runs: templates whose day has come
/// start their campaigns (once, whichever server sweeps first), and every sixth
/// sweep the retention purge of health answers and of the photos no answers kept
/// (a form left half-way), a day after they were sent.
pub async fn run_jobs(db: wangge_store::Db) {
    let mut sweep: u64 = 0;
    while !db.pool.is_closed() {
        match templates::run_due(&db, super::today()).await {
            Ok(runs) => {
                for r in runs {
                    if let Err(why) = r.started {
                        tracing::warn!("campaign template {} started nothing: {why}", r.template_id);
                    }
                }
            }
            Err(e) if !db.pool.is_closed() => tracing::error!("campaign templates: {e}"),
            Err(_) => break,
        }
        if sweep.is_multiple_of(6)
            && let Err(e) = wangge_store::campaigns::retention::purge(&db, super::today(), false).await
        {
            if db.pool.is_closed() {
                break;
            }
            tracing::error!("campaign retention purge: {e}");
        }
        if sweep.is_multiple_of(6) {
            let before = wangge_domain::now_millis() - wangge_store::campaigns::photos::LOOSE_FOR_MS;
            if let Err(e) = wangge_store::campaigns::photos::purge_loose(&db, before).await
                && !db.pool.is_closed()
            {
                tracing::error!("campaign photos left by unfinished forms: {e}");
            }
        }
        sweep += 1;
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}

pub(crate) fn routes() -> Routes {
    use crate::shared::auth::Access::Role;
    use utoipa_axum::routes;
    use wangge_domain::Action::{RunCampaigns, ViewCampaigns};
    Routes::new()
        .get("/campaigns/templates", Role(ViewCampaigns), list_page)
        .post("/campaigns/{id}/template", Role(RunCampaigns), save)
        .post("/campaigns/templates/{id}/end", Role(RunCampaigns), end)
        .api(Role(ViewCampaigns), routes!(list))
}
