//! The pages of campaigns: the list, one campaign (its progress per grid as cards,
//! the caller's own targets: pending first, then the revisit queue) and starting a
//! campaign from a shipped form or an earlier campaign's.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::campaigns::builtin::{BUILTINS, Builtin};
use wangge_domain::campaigns::{TargetKind, TargetStatus};
use wangge_domain::{Action, AreaLevel, AuditAction, ResidenceType, Vocabulary, msg};
use wangge_store::Thing;
use wangge_store::campaigns::{self, Campaign, NewCampaign, Phase, Progress, TargetFilter, TargetLine, Which};
use wangge_store::registry::{areas, tags};

use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, frame, label, render, say, tr};
use crate::{ApiError, AppState};

/// A campaign in a list, in words.
#[derive(Serialize)]
struct Row {
    href: String,
    title: String,
    phase: &'static str,
    phase_words: String,
    dates: String,
    progress: String,
    open_here: u64,
}

fn phase_code(p: Phase) -> &'static str {
    match p {
        Phase::Upcoming => "upcoming",
        Phase::Running => "running",
        Phase::Closed => "closed",
    }
}

fn dates(c: &Campaign, lang: Lang) -> String {
    say(&msg!("campaigns.dates", opens = &c.opens_on, closes = &c.closes_on), lang.code)
}

fn progress_words(total: &Progress, lang: Lang) -> String {
    say(
        &msg!(
            "campaigns.progress_line",
            done = total.done,
            expected = total.expected,
            percent = percent(total.done, total.expected)
        ),
        lang.code,
    )
}

/// A share as a whole percentage, rounded down so that 99.6% never shows as done.
fn percent(part: u64, whole: u64) -> u64 {
    (part * 100).checked_div(whole).unwrap_or(0)
}

#[derive(Deserialize)]
pub struct ListQuery {
    area: Option<String>,
}

async fn list_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let path = p.list_path(&s.db, q.area.as_deref()).await?.unwrap_or_else(|| "/".into());
    let today = super::today();
    let mut rows = Vec::new();
    for c in campaigns::touching(&s.db, &path).await? {
        // The part of the campaign the caller sees: all of it, or their area in it.
        let seen = if path.starts_with(&c.path) { path.clone() } else { c.path.clone() };
        let figures = campaigns::progress(&s.db, &c.id, &seen).await?;
        let total = figures.last().cloned().unwrap_or_default();
        let phase = c.phase(today);
        rows.push(Row {
            href: format!("/campaigns/{}", c.id),
            phase: phase_code(phase),
            phase_words: tr(&format!("campaigns.phase.{}", phase_code(phase)), lang.code),
            dates: dates(&c, lang),
            progress: progress_words(&total, lang),
            open_here: total.pending + total.revisit,
            title: c.title,
        });
    }
    let ctx = context! {
        rows => Value::from(Serde(&rows)), area => q.area,
        may_run => p.role.may(Action::RunCampaigns),
        ..frame(&p, lang, "/campaigns")
    };
    Ok(render(lang, StatusCode::OK, "campaigns/list.html", ctx))
}

/// A grid's progress as a card.
#[derive(Serialize)]
struct GridCard {
    name: String,
    expected: u64,
    done: u64,
    on_time: u64,
    not_reachable: u64,
    pending: u64,
    percent: u64,
    href: Option<String>,
}

fn card(g: &Progress, campaign_id: &str) -> GridCard {
    GridCard {
        name: g.grid_name.clone(),
        expected: g.expected,
        done: g.done,
        on_time: g.on_time,
        not_reachable: g.not_reachable,
        pending: g.pending,
        percent: percent(g.done, g.expected),
        href: g.grid_id.as_ref().map(|id| format!("/campaigns/{campaign_id}?grid={id}")),
    }
}

/// A target in a list: where, who, how it stands, and the page that works on it.
#[derive(Serialize)]
pub(crate) struct TargetCard {
    pub place: String,
    pub who: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub href: String,
}

pub(crate) fn target_card(l: &TargetLine, lang: Lang) -> TargetCard {
    TargetCard {
        place: place(l, lang),
        who: l.resident_name.clone(),
        status: label(l.target.status, lang).to_owned(),
        attempts: l.target.attempts,
        href: format!("/campaigns/targets/{}", l.target.id),
    }
}

pub(crate) fn place(l: &TargetLine, lang: Lang) -> String {
    say(&msg!("visits.place", building = &l.building, unit = &l.unit, room = &l.room), lang.code)
}

#[derive(Deserialize)]
pub struct ShowQuery {
    /// A grid of the campaign, to list its targets.
    grid: Option<String>,
    saved: Option<u8>,
    marked: Option<String>,
    form: Option<u8>,
    /// Registry facts the answers just saved could not write (changed meanwhile).
    held: Option<usize>,
    settled: Option<u8>,
}

/// How many targets a list shows; the rest wait behind the grid's own page.
const SHOWN: i64 = 200;

async fn show_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, ApiError> {
    let (campaign, seen) = super::reachable(&s, &p, &id).await?;
    let figures = campaigns::progress(&s.db, &campaign.id, &seen).await?;
    let (grids, total) = figures.split_at(figures.len() - 1);
    let grid_cards: Vec<GridCard> = grids.iter().map(|g| card(g, &campaign.id)).collect();
    let total = card(&total[0], &campaign.id);
    // Targets by name and door: for those who visit, in their own area (a grid
    // member's grid; a community's staff a grid they choose). Officials above the
    // community see counts only.
    let mut list_path: Option<String> = None;
    if p.role.may(Action::VisitHouseholds) {
        if let Some(g) = &q.grid {
            let grid = areas::get(&s.db, g).await?;
            if grid.path.starts_with(&seen) && p.can_change(&grid.path) {
                list_path = Some(grid.path);
            }
        } else if p.can_change(&seen) && (seen != campaign.path || grids.len() == 1) {
            // Their own grid inside the campaign, or a campaign of one grid.
            list_path = Some(seen.clone());
        }
    }
    let today = super::today();
    let phase = campaign.phase(today);
    let (mut pending, mut revisit, mut settled) = (Vec::new(), Vec::new(), Vec::new());
    let mut list_name = None;
    if let Some(path) = &list_path {
        list_name = Some(areas::get_by_path(&s.db, path).await?.name);
        for l in campaigns::lines(&s.db, &campaign.id, path, Which::Every, SHOWN * 3).await? {
            let c = target_card(&l, lang);
            match l.target.status {
                TargetStatus::Pending => pending.push(c),
                TargetStatus::NotHome => revisit.push(c),
                _ => settled.push(c),
            }
        }
    }
    let may_run = p.role.may(Action::RunCampaigns) && p.can_change(&campaign.path);
    let form = campaigns::form(&s.db, &campaign.id, campaign.form_version).await?;
    let form_title = if lang.code == "en" { form.title.en.clone() } else { form.title.zh.clone() };
    let marked = q
        .marked
        .as_deref()
        .and_then(TargetStatus::from_code)
        .map(|st| say(&msg!("campaigns.marked").lang_arg("status", st.label_zh(), st.label_en()), lang.code));
    let conflicts = super::conflicts::for_page(&s, &p, &campaign, &seen, lang).await?;
    let held = q.held.filter(|n| *n > 0).map(|n| say(&msg!("campaigns.held", count = n), lang.code));
    let purged = campaigns::retention::purged_at(&s.db, &campaign.id).await?.map(crate::shared::render::local_time);
    let purge_on = campaigns::retention::purge_on(&campaign).map(|d| d.to_string());
    let ctx = context! {
        purged, purge_on,
        campaign => Value::from(Serde(&campaign)),
        phase => phase_code(phase), phase_words => tr(&format!("campaigns.phase.{}", phase_code(phase)), lang.code),
        dates => dates(&campaign, lang), kind => label(campaign.target_kind, lang),
        grids => Value::from(Serde(&grid_cards)), total => Value::from(Serde(&total)),
        listing => list_name, pending => Value::from(Serde(&pending)), revisit => Value::from(Serde(&revisit)),
        settled => Value::from(Serde(&settled)), may_run, form_title, form_version => campaign.form_version,
        question_count => form.questions.len(), saved => q.saved.is_some(), marked, form_changed => q.form.is_some(),
        retention => campaign.retention_days, held, settled => q.settled.is_some(),
        conflicts => Value::from(Serde(&conflicts)),
        repeats => wangge_domain::campaigns::Repeat::all().iter().map(|r| (r.code(), label(*r, lang))).collect::<Vec<_>>(),
        ..frame(&p, lang, "/campaigns")
    };
    Ok(render(lang, StatusCode::OK, "campaigns/campaign.html", ctx))
}

/// What the new-campaign form holds (shown again after a refusal).
#[derive(Default, Deserialize)]
pub struct NewForm {
    #[serde(default)]
    area: String,
    /// `builtin:<code>` or `campaign:<id>` (an earlier campaign's form).
    #[serde(default)]
    template: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    target_kind: String,
    #[serde(default)]
    opens_on: String,
    #[serde(default)]
    closes_on: String,
    #[serde(default)]
    retention_days: String,
    #[serde(default)]
    min_age: String,
    #[serde(default)]
    max_age: String,
    /// Checkboxes, joined by the handler: `grids`, `tags`, `residence_types`.
    #[serde(skip)]
    grids: Vec<String>,
    #[serde(skip)]
    tags: Vec<String>,
    #[serde(skip)]
    residence_types: Vec<String>,
}

impl NewForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut f = NewForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "area" => f.area = v,
                "template" => f.template = v,
                "title" => f.title = v,
                "target_kind" => f.target_kind = v,
                "opens_on" => f.opens_on = v,
                "closes_on" => f.closes_on = v,
                "retention_days" => f.retention_days = v,
                "min_age" => f.min_age = v,
                "max_age" => f.max_age = v,
                "grids" => f.grids.push(v),
                "tags" => f.tags.push(v),
                "residence_types" => f.residence_types.push(v),
                _ => {}
            }
        }
        f
    }
}

#[derive(Serialize)]
struct Check {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Deserialize)]
pub struct NewQuery {
    area: Option<String>,
    template: Option<String>,
}

/// The area a campaign is started over: the one asked for, else the caller's
/// scope; a community or above, and changeable by the caller.
async fn scope_area(s: &AppState, p: &Principal, area: Option<&str>) -> Result<areas::Area, ApiError> {
    let path = p.list_path(&s.db, area.filter(|a| !a.is_empty())).await?.unwrap_or_default();
    let area = areas::get_by_path(&s.db, &path).await?;
    if area.level == AreaLevel::Grid || !p.can_change(&area.path) {
        return Err(ApiError::invalid(msg!("campaigns.error.level", area = &area.name).field("area")));
    }
    Ok(area)
}

async fn new_page_with(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    form: NewForm,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let area = scope_area(s, p, Some(&form.area)).await?;
    let today = super::today();
    // The forms to start from: the shipped ones, then those of earlier campaigns here.
    let mut templates: Vec<Check> = BUILTINS
        .iter()
        .map(|b| Check {
            value: format!("builtin:{}", b.code),
            label: if lang.code == "en" { b.title_en.into() } else { b.title_zh.into() },
            checked: form.template == format!("builtin:{}", b.code),
        })
        .collect();
    for c in
        campaigns::touching(&s.db, &area.path).await?.into_iter().filter(|c| c.path.starts_with(&area.path)).take(10)
    {
        let value = format!("campaign:{}", c.id);
        templates.push(Check {
            label: say(&msg!("campaigns.template_from", title = &c.title, opens = &c.opens_on), lang.code),
            checked: form.template == value,
            value,
        });
    }
    let grids: Vec<Check> = if area.level == AreaLevel::Community {
        areas::children(&s.db, &area.id)
            .await?
            .into_iter()
            .filter(|g| g.level == AreaLevel::Grid)
            .map(|g| Check { checked: form.grids.contains(&g.id), value: g.id, label: g.name })
            .collect()
    } else {
        Vec::new()
    };
    let tag_checks: Vec<Check> = tags::list(&s.db)
        .await?
        .into_iter()
        .map(|t| Check {
            checked: form.tags.contains(&t.code),
            label: if lang.code == "en" { t.name_en } else { t.name_zh },
            value: t.code,
        })
        .collect();
    let types: Vec<Check> = ResidenceType::all()
        .iter()
        .map(|t| Check {
            value: t.code().into(),
            label: label(*t, lang).into(),
            checked: form.residence_types.iter().any(|c| c == t.code()),
        })
        .collect();
    let kinds: Vec<Check> = TargetKind::all()
        .iter()
        .map(|k| Check { value: k.code().into(), label: label(*k, lang).into(), checked: form.target_kind == k.code() })
        .collect();
    let opens_on = if form.opens_on.is_empty() { today.to_string() } else { form.opens_on.clone() };
    let ctx = context! {
        area => Value::from(Serde(&area)), templates => Value::from(Serde(&templates)),
        grids => Value::from(Serde(&grids)), tags => Value::from(Serde(&tag_checks)), types => Value::from(Serde(&types)),
        kinds => Value::from(Serde(&kinds)), title => &form.title, opens_on, closes_on => &form.closes_on,
        retention_days => &form.retention_days, min_age => &form.min_age, max_age => &form.max_age, error,
        ..frame(p, lang, "/campaigns")
    };
    Ok(render(lang, status, "campaigns/new.html", ctx))
}

/// The new-campaign page; `?template=gas_check` fills in the shipped form's name,
/// kind of target, dates and retention.
async fn new_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<NewQuery>,
) -> Result<Response, ApiError> {
    let mut form = NewForm { area: q.area.unwrap_or_default(), ..Default::default() };
    let builtin = q.template.as_deref().and_then(Builtin::find).unwrap_or(&BUILTINS[0]);
    let today = super::today();
    form.template = format!("builtin:{}", builtin.code);
    form.title = if lang.code == "en" { builtin.title_en.into() } else { builtin.title_zh.into() };
    form.target_kind = builtin.target_kind.code().into();
    form.opens_on = today.to_string();
    form.closes_on = (today + time::Duration::days(i64::from(builtin.days_open))).to_string();
    form.retention_days = builtin.retention_days.map(|d| d.to_string()).unwrap_or_default();
    new_page_with(&s, &p, lang, form, StatusCode::OK, None).await
}

fn number<T: std::str::FromStr>(text: &str, field: &'static str) -> Result<Option<T>, ApiError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse().map(Some).map_err(|_| ApiError::invalid(msg!("campaigns.error.number", value = t).field(field)))
}

/// Starts the campaign and opens it; refused, the form again with what was wrong.
async fn create(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let form = NewForm::from_pairs(pairs);
    match start_from(&s, &p, &address, &form).await {
        Ok(c) => Ok(Redirect::to(&format!("/campaigns/{}", c.id)).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::BAD_REQUEST => {
            let error = say(&e.message, lang.code);
            new_page_with(&s, &p, lang, form, StatusCode::UNPROCESSABLE_ENTITY, Some(error)).await
        }
        Err(e) => Err(e),
    }
}

async fn start_from(s: &AppState, p: &Principal, address: &ClientAddress, f: &NewForm) -> Result<Campaign, ApiError> {
    let area = scope_area(s, p, Some(&f.area)).await?;
    let form = if let Some(code) = f.template.strip_prefix("builtin:") {
        Builtin::find(code).map(Builtin::form)
    } else if let Some(id) = f.template.strip_prefix("campaign:") {
        let (earlier, _) = super::reachable(s, p, id).await?;
        Some(campaigns::form(&s.db, &earlier.id, earlier.form_version).await?)
    } else {
        None
    };
    let form = form.ok_or_else(|| ApiError::invalid(msg!("campaigns.error.template").field("template")))?;
    let target_kind = TargetKind::from_code(&f.target_kind)
        .ok_or_else(|| ApiError::invalid(msg!("campaigns.error.kind").field("target_kind")))?;
    let residence_types = f
        .residence_types
        .iter()
        .map(|c| ResidenceType::from_code(c).ok_or_else(|| ApiError::invalid(msg!("campaigns.error.kind"))))
        .collect::<Result<Vec<_>, _>>()?;
    let new = NewCampaign {
        area_id: area.id.clone(),
        title: f.title.clone(),
        target_kind,
        filter: TargetFilter {
            grids: f.grids.clone(),
            buildings: Vec::new(),
            tags: f.tags.clone(),
            residence_types,
            min_age: number(&f.min_age, "min_age")?,
            max_age: number(&f.max_age, "max_age")?,
        },
        opens_on: f.opens_on.clone(),
        closes_on: f.closes_on.clone(),
        retention_days: number(&f.retention_days, "retention_days")?,
        form,
    };
    start(s, p, address, new).await
}

/// The one way a campaign starts, for the page and the API: audited with its
/// scope, filter and form version.
pub(crate) async fn start(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    new: NewCampaign,
) -> Result<Campaign, ApiError> {
    // An area outside the caller's scope answers as an unknown one.
    let area = p.refer(areas::get(&s.db, &new.area_id).await, Thing::Area, &new.area_id, |a| &a.path)?;
    if !p.can_change(&area.path) {
        return Err(crate::shared::auth::unknown(Thing::Area, &new.area_id));
    }
    let c = campaigns::start(&s.db, new, super::account_id(p), &p.actor_name()).await?;
    let summary = serde_json::json!({
        "title": c.title, "target_kind": c.target_kind, "filter": c.filter, "opens_on": c.opens_on,
        "closes_on": c.closes_on, "retention_days": c.retention_days,
    });
    audit::change(&s.db, (p, address), AuditAction::CampaignStart, Target("campaign", &c.id, &c.path), None, &summary)
        .await?;
    Ok(c)
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use wangge_domain::Action::{RunCampaigns, ViewCampaigns};
    crate::shared::routes::Routes::new()
        .get("/campaigns", Role(ViewCampaigns), list_page)
        .get("/campaigns/new", Role(RunCampaigns), new_page)
        .post("/campaigns", Role(RunCampaigns), create)
        .get("/campaigns/{id}", Role(ViewCampaigns), show_page)
}
