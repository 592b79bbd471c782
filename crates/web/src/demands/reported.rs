//! What building heads, volunteers and property staff reported (the auxiliary
//! network, `Role::Auxiliary`): their home on a phone, with a big "report a problem"
//! and their own reports as cards, each in plain words with its timeline. Only the
//! reporter's own items: anyone else's answers exactly as an unknown id. Staff who
//! may open the ledger follow their items there; this page is for those who may not.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_store::PageRequest;
use wangge_store::demands::{self, Demand, DemandFilter};

use crate::portal::pages::{plain_status, plain_timeline};
use crate::shared::auth::Principal;
use crate::shared::render::{Lang, frame, label, local_time, render, tr};
use crate::{ApiError, AppState};

#[derive(Serialize)]
struct Mine {
    id: String,
    title: String,
    status: String,
    open: bool,
    date: String,
    channel: String,
}

/// The caller's item `id`, or "not found" (someone else's answers the same).
async fn own(s: &AppState, p: &Principal, id: &str) -> Result<Demand, ApiError> {
    match demands::get(&s.db, id).await {
        Ok(d) if d.reporter_account_id.as_deref() == Some(p.actor_id()) => Ok(d),
        Ok(_) => Err(crate::shared::auth::unknown(wangge_store::Thing::Demand, id)),
        Err(e) => Err(e.into()),
    }
}

/// My reports, newest first, as cards.
pub async fn reported(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    let filter = DemandFilter { reporter_account_id: Some(p.actor_id().to_owned()), ..Default::default() };
    let page = demands::list(&s.db, &filter, PageRequest::new(Some(1), Some(100))).await?;
    let items: Vec<Mine> = page
        .items
        .into_iter()
        .map(|d| Mine {
            status: plain_status(d.status, lang),
            open: d.status.is_open(),
            date: local_time(d.created_at).chars().take(10).collect(),
            channel: label(d.channel, lang).to_owned(),
            id: d.id,
            title: d.title,
        })
        .collect();
    let ctx = context! {
        items => Value::from(Serde(&items)), total => page.total,
        ..frame(&p, lang, "/reported"),
    };
    Ok(render(lang, StatusCode::OK, "demands/reported.html", ctx))
}

#[derive(Deserialize)]
pub struct ReportedQuery {
    /// The tracking number of the report just sent.
    reported: Option<String>,
}

/// One of my reports: where it stands and its timeline, in plain words.
pub async fn reported_item(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<ReportedQuery>,
) -> Result<Response, ApiError> {
    let d = own(&s, &p, &id).await?;
    let merged_with = match &d.merged_into {
        Some(into) => {
            let target = demands::get(&s.db, into).await?;
            Some(
                tr("portal.merged_with", lang.code)
                    .replace("%{title}", &target.title)
                    .replace("%{status}", label(target.status, lang)),
            )
        }
        None => None,
    };
    let timeline = plain_timeline(&s, &id, lang).await?;
    let number =
        d.tracking_no.as_deref().and_then(|n| wangge_domain::TrackingNumber::parse(n).ok()).map(|n| n.spaced());
    let ctx = context! {
        d => Value::from(Serde(&d)), status => plain_status(d.status, lang),
        channel => label(d.channel, lang), created => local_time(d.created_at).chars().take(16).collect::<String>(),
        timeline => Value::from(Serde(&timeline)), merged_with => merged_with, number => number,
        just_sent => q.reported.is_some(),
        ..frame(&p, lang, "/reported"),
    };
    Ok(render(lang, StatusCode::OK, "demands/reported_item.html", ctx))
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/reported", Role(SubmitDemand), reported)
        // The item's reporter only (checked in the handler).
        .get("/reported/{id}", Role(SubmitDemand), reported_item)
}
