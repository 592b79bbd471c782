//! Browsing the places of the registry: an area (community, grid…) with what lies
//! beneath it, and a building with its households and their people — so that a grid
//! member reaches a household in two taps from the grid page.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::{Action, AreaLevel, ResidentStatus, Vocabulary};
use wangge_store::Thing;
use wangge_store::registry::areas;
use wangge_store::registry::buildings::{self, BuildingFilter};
use wangge_store::registry::households::{self, HouseholdFilter};
use wangge_store::registry::residents::{self, ResidentFilter};
use wangge_store::{PageRequest, stats};

use crate::shared::auth::Principal;
use crate::shared::render::{Lang, frame, label, render, tr};
use crate::{ApiError, AppState};

#[derive(Serialize)]
struct BuildingTile {
    id: String,
    label: String,
    kind_label: &'static str,
}

#[derive(Deserialize)]
pub struct AreaQuery {
    granted: Option<u8>,
}

/// An area: its figures, the areas beneath it, a grid's buildings (for those who
/// work with buildings), and for officials who see figures only, the way to take
/// access to names for a reason.
pub async fn area_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<AreaQuery>,
) -> Result<Response, ApiError> {
    let area = p.refer(areas::get(&s.db, &id).await, Thing::Area, &id, |r| &r.path)?;
    let children = areas::children(&s.db, &area.id).await?;
    let counts = stats::counts_under(&s.db, &area.path).await?;
    let can_browse = p.role.may(Action::ViewBuildings);
    let names = p.sees_names(&area.path);
    let (buildings, buildings_total) = if area.level == AreaLevel::Grid && can_browse {
        let filter = BuildingFilter { grid_id: Some(area.id.clone()), ..Default::default() };
        let page = buildings::list(&s.db, &filter, PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE))).await?;
        let tiles: Vec<BuildingTile> = page
            .items
            .into_iter()
            .map(|b| BuildingTile {
                label: tr("building.number", lang.code).replace("%{number}", &b.number),
                kind_label: label(b.kind, lang),
                id: b.id,
            })
            .collect();
        (tiles, page.total)
    } else {
        (Vec::new(), 0)
    };
    let ctx = context! {
        area => Value::from(Serde(&area)), children => Value::from(Serde(&children)),
        buildings => Value::from(Serde(&buildings)), buildings_total => buildings_total, q => "",
        counts => Value::from(Serde(&counts)), names => names, can_browse => can_browse,
        may_grant => p.role.may(Action::RequestAccess) && !names, grant_area => area.id.clone(),
        granted => q.granted.is_some(), search_area => area.code.clone(),
        can_export => area.level == AreaLevel::Community && p.role.may(Action::ExportRegistry) && p.can_change(&area.path),
        ..frame(&p, lang, "/registry"),
    };
    Ok(render(lang, StatusCode::OK, "registry/area.html", ctx))
}

#[derive(Serialize)]
struct Member {
    id: String,
    name: String,
    relation_label: &'static str,
    birth_year: String,
}

#[derive(Serialize)]
struct HouseholdCard {
    id: String,
    label: String,
    occupancy_label: &'static str,
    members: Vec<Member>,
}

pub async fn building_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let building = p.refer(buildings::get(&s.db, &id).await, Thing::Building, &id, |r| &r.path)?;
    let grid = areas::get(&s.db, &building.grid_id).await?;
    let all = PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE));
    let homes =
        households::list(&s.db, &HouseholdFilter { building_id: Some(id.clone()), ..Default::default() }, all).await?;
    let mut cards = Vec::with_capacity(homes.items.len());
    for h in homes.items {
        let filter = ResidentFilter {
            household_id: Some(h.id.clone()),
            status: Some(ResidentStatus::Active),
            ..Default::default()
        };
        let people = residents::list(&s.db, &filter, PageRequest::new(Some(1), Some(50))).await?.items;
        let key = if h.unit.is_empty() { "household.label_no_unit" } else { "household.label" };
        cards.push(HouseholdCard {
            id: h.id.clone(),
            label: tr(key, lang.code).replace("%{unit}", &h.unit).replace("%{room}", &h.room),
            occupancy_label: label(h.occupancy, lang),
            members: people
                .into_iter()
                .map(|r| Member {
                    relation_label: label(r.relation, lang),
                    birth_year: r.birth_date.chars().take(4).collect(),
                    id: r.id,
                    name: r.name,
                })
                .collect(),
        });
    }
    let open_items = wangge_store::demands::DemandFilter {
        building_id: Some(building.id.clone()),
        status: wangge_domain::DemandStatus::open(),
        ..Default::default()
    };
    let item_lines = crate::demands::pages::item_lines(&s, &p, open_items, lang).await?;
    let ctx = context! {
        shows_items => p.role.may(Action::ViewDemands), item_lines => Value::from(Serde(&item_lines)),
        title => tr("building.number", lang.code).replace("%{number}", &building.number),
        kind_label => label(building.kind, lang), grid => Value::from(Serde(&grid)),
        building => Value::from(Serde(&building)), households => Value::from(Serde(&cards)),
        can_add => p.role.may(Action::EditRegistry) && p.can_change(&building.path),
        occupancies => wangge_domain::Occupancy::all().iter().map(|&o| (o.code(), label(o, lang))).collect::<Vec<_>>(),
        ..frame(&p, lang, "/registry"),
    };
    Ok(render(lang, StatusCode::OK, "registry/building.html", ctx))
}

/// A household on one screen: its people (as the registry shows them to the
/// caller), the items it reported with their state, and "report a problem for this
/// household", which opens the staff's report form filled in for it.
pub async fn household_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let h = p.refer(households::get(&s.db, &id).await, Thing::Household, &id, |r| &r.path)?;
    let building = buildings::get(&s.db, &h.building_id).await?;
    let grid = areas::get(&s.db, &building.grid_id).await?;
    let names = p.sees_names(&h.path);
    let filter =
        ResidentFilter { household_id: Some(h.id.clone()), status: Some(ResidentStatus::Active), ..Default::default() };
    let people = residents::list(&s.db, &filter, PageRequest::new(Some(1), Some(50))).await?.items;
    let mut members = Vec::with_capacity(people.len());
    for r in people {
        let r = crate::registry::api::residents::as_seen_by(&s, &p, r).await?;
        members.push(Member {
            relation_label: label(r.relation, lang),
            birth_year: r.birth_date.chars().take(4).collect(),
            id: r.id,
            name: r.name,
        });
    }
    let shows_items = names && p.role.may(Action::ViewDemands);
    let item_lines = if shows_items {
        let filter = wangge_store::demands::DemandFilter { household_id: Some(h.id.clone()), ..Default::default() };
        crate::demands::pages::item_lines(&s, &p, filter, lang).await?
    } else {
        Vec::new()
    };
    let facts = if names { fact_lines(&s, &h.id, &members, lang).await? } else { Vec::new() };
    let key = if h.unit.is_empty() { "household.label_no_unit" } else { "household.label" };
    let ctx = context! {
        facts => Value::from(Serde(&facts)),
        title => tr(key, lang.code).replace("%{unit}", &h.unit).replace("%{room}", &h.room),
        building_label => tr("building.number", lang.code).replace("%{number}", &building.number),
        occupancy_label => label(h.occupancy, lang), grid => Value::from(Serde(&grid)),
        building => Value::from(Serde(&building)), h => Value::from(Serde(&h)),
        members => Value::from(Serde(&members)), names => names,
        shows_items => shows_items, item_lines => Value::from(Serde(&item_lines)),
        may_report => names && p.role.may(Action::SubmitDemand) && p.role != wangge_domain::Role::Resident,
        can_add => names && p.role.may(Action::EditRegistry) && p.can_change(&h.path),
        ..frame(&p, lang, "/registry"),
    };
    Ok(render(lang, StatusCode::OK, "registry/household.html", ctx))
}

/// A registry fact as the household's page shows it.
#[derive(Serialize)]
struct FactLine {
    /// The fact's name, with the person's for a person's fact.
    what: String,
    value: String,
    /// Who wrote it and when; the campaign it came from, linked.
    source: String,
    campaign: Option<(String, String)>,
}

/// The dated facts campaigns wrote back (or the office set) about the household
/// and its people.
async fn fact_lines(
    s: &AppState,
    household_id: &str,
    members: &[Member],
    lang: Lang,
) -> Result<Vec<FactLine>, ApiError> {
    use wangge_store::campaigns::{self, write_back};
    let mut subjects = vec![household_id.to_owned()];
    subjects.extend(members.iter().map(|m| m.id.clone()));
    let mut out = Vec::new();
    for f in write_back::facts(&s.db, &subjects).await? {
        let who = members.iter().find(|m| m.id == f.subject_id).map(|m| m.name.as_str());
        let campaign = match &f.campaign_id {
            Some(id) => Some((format!("/campaigns/{id}"), campaigns::get(&s.db, id).await?.title)),
            None => None,
        };
        out.push(FactLine {
            what: match who {
                Some(name) => format!("{} · {name}", label(f.fact, lang)),
                None => label(f.fact, lang).to_owned(),
            },
            value: f.value,
            source: format!("{} · {}", f.updated_by_name, crate::shared::render::local_time(f.updated_at)),
            campaign,
        });
    }
    Ok(out)
}

/// This module's pages, each with who may open it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/registry/areas/{id}", Role(ViewFigures), area_page)
        .get("/registry/buildings/{id}", Role(ViewRegistry), building_page)
        .get("/registry/households/{id}", Role(ViewRegistry), household_page)
}
