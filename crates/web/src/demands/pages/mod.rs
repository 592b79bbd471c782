//! Residents' demands in the browser: the ledger of an area with the three rates,
//! taking in an item (a phone call, a visit, the field), one item with its timeline
//! and a form for every step the caller may take from where it stands, the building
//! posters with their QR code, and the public report form the code opens.
//!
//! Every step goes through `demands::api::take` (scope, state machine, audit log,
//! notifications, webhooks): the pages and the API cannot disagree.

mod categories;
mod item;
mod ledger;
mod new_item;
pub(crate) mod photo_forms;
pub(crate) mod posters;
mod report;
pub(crate) mod track;

use std::collections::HashMap;

use axum::Form;
use axum::extract::{FromRequest, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::demands::{CHINA, ItemState, transition};
use wangge_domain::{
    Action, AreaLevel, AuditAction, Channel, DemandKind, DemandStatus, HandlerKind, Role, Step, Vocabulary,
};
use wangge_store::PageRequest;
use wangge_store::demands::{self, Category, Demand, DemandFilter, Extras, NewDemand, StepInput};
use wangge_store::registry::{areas, buildings, households};

use crate::demands::api;
use crate::shared::audit;
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, frame, label, local_time, render, say, tr, urlencode};
use crate::{ApiError, AppState};
use photo_forms::{Next, PhotoForm};

// The split files see each other's pub(super) items through `use super::*`.
#[allow(unused_imports)]
use categories::*;
pub(crate) use item::parse_local;
#[allow(unused_imports)]
use item::*;
#[allow(unused_imports)]
use ledger::*;
#[allow(unused_imports)]
use new_item::*;
#[allow(unused_imports)]
use posters::*;
#[allow(unused_imports)]
use report::*;
#[allow(unused_imports)]
use track::*;

#[derive(Serialize)]
pub(crate) struct Choice {
    code: String,
    label: String,
}

pub(crate) async fn category_choices(s: &AppState, lang: Lang) -> Result<Vec<Choice>, ApiError> {
    Ok(demands::categories(&s.db)
        .await?
        .into_iter()
        .filter(|c| c.active)
        .map(|c| Choice { label: if lang.code == "en" { c.name_en } else { c.name_zh }, code: c.code })
        .collect())
}

/// The categories a new report offers, the most used in `under_path` over the last
/// year first (then the catalogue's order): the reporter chooses, nothing is chosen
/// for them (the forms start on "choose one").
pub(crate) async fn report_categories(
    s: &AppState,
    lang: Lang,
    under_path: Option<&str>,
) -> Result<Vec<Choice>, ApiError> {
    let mut choices = category_choices(s, lang).await?;
    let since = wangge_domain::now_millis() - 365 * 86_400_000;
    let used = demands::category_usage(&s.db, under_path, since).await?;
    // A stable sort: equal counts keep the catalogue's order.
    choices.sort_by_key(|c| std::cmp::Reverse(used.get(&c.code).copied().unwrap_or(0)));
    Ok(choices)
}

pub(super) fn vocab_choices<V: Vocabulary + PartialEq>(lang: Lang, only: &[V]) -> Vec<Choice> {
    V::all()
        .iter()
        .filter(|v| only.is_empty() || only.contains(v))
        .map(|&v| Choice { code: v.code().to_owned(), label: label(v, lang).to_owned() })
        .collect()
}

pub(super) fn category_name(categories: &[Category], code: &str, lang: Lang) -> String {
    categories
        .iter()
        .find(|c| c.code == code)
        .map(|c| if lang.code == "en" { c.name_en.clone() } else { c.name_zh.clone() })
        .unwrap_or_else(|| code.to_owned())
}

/// An item as the registry's pages list them (a building's open items, a household's).
#[derive(Serialize)]
pub(crate) struct ItemLine {
    id: String,
    title: String,
    status: String,
    created: String,
}

/// The items `filter` finds, newest first, at most 20, for a registry page; none
/// for roles that do not see items. Scope: the page's own record is in scope, and
/// the filter names it.
pub(crate) async fn item_lines(
    s: &AppState,
    p: &Principal,
    filter: DemandFilter,
    lang: Lang,
) -> Result<Vec<ItemLine>, ApiError> {
    if !p.role.may(wangge_domain::Action::ViewDemands) || p.role == Role::Resident {
        return Ok(Vec::new());
    }
    let page = demands::list(&s.db, &filter, wangge_store::PageRequest::new(Some(1), Some(20))).await?;
    Ok(page
        .items
        .into_iter()
        .filter(|d| p.can_see(&d.path))
        .map(|d| ItemLine {
            created: local_time(d.created_at).chars().take(10).collect(),
            status: label(d.status, lang).to_owned(),
            id: d.id,
            title: d.title,
        })
        .collect())
}

/// This module's pages, each with who may open it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use crate::shared::routes::Limit;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/demands", Role(ViewDemands), ledger)
        .get("/demands/categories", Role(ManageCategories), categories_page)
        .post("/demands/categories", Role(ManageCategories), save_category)
        .get("/demands/new", Role(SubmitDemand), new_demand_form)
        .get("/demands/{id}", Role(ViewDemands), item)
        // An item's photo: the item page's check (scope; residents their own items).
        .get("/demands/{id}/photos/{photo}", Role(ViewDemands), item_photo)
        // The step's own action is checked by the state machine (Step::needs).
        .post_limited("/demands/{id}/steps/{step}", Role(ViewDemands), Limit::Photos, take_step)
        // Who may call the reporter back is decided per item (api::may_call_back).
        .post("/demands/{id}/call-back", Role(ViewDemands), call_back)
        .get("/registry/buildings/{id}/poster", Role(ViewBuildings), poster)
        .get("/registry/areas/{id}/posters", Role(ViewBuildings), grid_posters)
        // The poster's key in the link stands in for an account.
        .get("/report/{id}", Public, report_form)
        .post_limited("/demands", Role(SubmitDemand), Limit::Photos, create_demand)
        .post_limited("/report/{id}", Public, Limit::Photos, report_submit)
        // Following a report without an account: the number and the phone's last
        // four digits (throttled), or the private link's key, stand in for one.
        .get("/track", Public, track_form)
        .post("/track", Public, track_submit)
        .get("/track/{no}", Public, track_page)
        .post("/track/{no}/rate", Public, track_rate)
}
