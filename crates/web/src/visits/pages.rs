//! The pages of visits: 待走访 (the due list of the caller's grid, or of a grid
//! chosen in their community, as cards in walking order with the coverage figure
//! above) and the one-screen visit form a grid member fills in at the door.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::{ResidentStatus, VisitChannel, VisitOutcome, Vocabulary, msg};
use wangge_store::registry::households::{self, Household};
use wangge_store::registry::residents::{self, ResidentFilter};
use wangge_store::registry::{buildings, tags};
use wangge_store::visits::{self, DueEntry, NewVisit, Subject};
use wangge_store::{PageRequest, Thing};

use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, frame, label, render, say, tr};
use crate::{ApiError, AppState};

#[derive(Deserialize)]
pub struct DueQuery {
    area: Option<String>,
    saved: Option<u8>,
}

/// One due entry in words: where, who, why, when, and the form that settles it.
#[derive(Serialize)]
pub(crate) struct DueCard {
    pub place: String,
    pub who: String,
    pub why: String,
    pub when: String,
    pub overdue: bool,
    pub href: String,
}

/// Says due entries in a language (the tags' names read once).
pub(crate) struct DueWords {
    lang: Lang,
    tags: Vec<tags::Tag>,
}

impl DueWords {
    pub(crate) async fn new(db: &wangge_store::Db, lang: Lang) -> Result<Self, ApiError> {
        Ok(Self { lang, tags: tags::list(db).await? })
    }

    fn tag_name(&self, code: &str) -> String {
        self.tags.iter().find(|t| t.code == code).map_or_else(
            || code.to_owned(),
            |t| if self.lang.code == "en" { t.name_en.clone() } else { t.name_zh.clone() },
        )
    }

    pub(crate) fn line(&self, e: &DueEntry) -> DueCard {
        let lang = self.lang;
        let place = say(&msg!("visits.place", building = &e.building, unit = &e.unit, room = &e.room), lang.code);
        let (who, resident) = match &e.subject {
            Subject::Household => (tr("visits.whole_household", lang.code), None),
            Subject::Person { name, resident_id } => (name.clone(), Some(resident_id.clone())),
        };
        let why = match &e.tag {
            Some(tag) => say(&msg!("visits.why_tag", tag = self.tag_name(tag), days = e.every_days), lang.code),
            None => say(&msg!("visits.why_household", days = e.every_days), lang.code),
        };
        let when = if e.overdue_days > 0 {
            say(&msg!("visits.overdue", days = e.overdue_days), lang.code)
        } else {
            tr("visits.due_today", lang.code)
        };
        let mut href = format!("/visits/new?household={}", e.household_id);
        if let Some(r) = resident {
            href.push_str(&format!("&resident={r}"));
        }
        DueCard { place, who, why, when, overdue: e.overdue_days > 0, href }
    }
}

/// How many cards the page shows; the rest are counted.
const SHOWN: usize = 200;

async fn due_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<DueQuery>,
) -> Result<Response, ApiError> {
    let path = super::scope_path(&s.db, &p, q.area.as_deref()).await?;
    let community = super::community_of(&s.db, &path).await?;
    let today = super::today();
    let due = visits::due(&s.db, &path, &community.id, today).await?;
    let coverage = visits::coverage(&s.db, &path, today, 90).await?;
    let words = DueWords::new(&s.db, lang).await?;
    let total = due.len();
    let cards: Vec<DueCard> = due.iter().take(SHOWN).map(|e| words.line(e)).collect();
    let figure = say(
        &msg!(
            "visits.coverage_line",
            percent = coverage.not_visited_percent(),
            not_visited = coverage.not_visited,
            households = coverage.households,
            days = coverage.days
        ),
        lang.code,
    );
    let how = say(&msg!("visits.coverage_how", days = coverage.days), lang.code);
    let more = (total > SHOWN).then(|| say(&msg!("visits.more", count = total - SHOWN), lang.code));
    let ctx = context! {
        cards => Value::from(Serde(&cards)), total, figure, how, more, saved => q.saved.is_some(), area => q.area,
        may_manage => p.role.may(wangge_domain::Action::ManageVisits),
        ..frame(&p, lang, "/visits")
    };
    Ok(render(lang, StatusCode::OK, "visits/due.html", ctx))
}

/// The due list to print for a paper round: a tick box and blank lines per line,
/// in walking order; entered back later with the form's "paper" box.
async fn print_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<DueQuery>,
) -> Result<Response, ApiError> {
    let path = super::scope_path(&s.db, &p, q.area.as_deref()).await?;
    let community = super::community_of(&s.db, &path).await?;
    let area = wangge_store::registry::areas::get_by_code(
        &s.db,
        path.trim_end_matches('/').rsplit('/').next().unwrap_or_default(),
    )
    .await?;
    let today = super::today();
    let due = visits::due(&s.db, &path, &community.id, today).await?;
    let words = DueWords::new(&s.db, lang).await?;
    let cards: Vec<DueCard> = due.iter().map(|e| words.line(e)).collect();
    let ctx = context! {
        cards => Value::from(Serde(&cards)), area => area.name, today => today.to_string(),
        ..frame(&p, lang, "/visits")
    };
    Ok(render(lang, StatusCode::OK, "visits/print.html", ctx))
}

#[derive(Deserialize)]
pub struct BehindQuery {
    area: Option<String>,
    /// `not_visited` (the default), `visited`, `visited_at_door`.
    which: Option<String>,
    /// A care tag's code: its people instead of households.
    tag: Option<String>,
}

#[derive(Serialize)]
struct BehindCard {
    place: String,
    name: Option<String>,
    last: String,
    href: String,
}

/// How many lines the coverage list shows; the rest are counted.
const BEHIND_SHOWN: usize = 1000;

/// The households (or a care tag's people) behind a coverage figure of the cockpit
/// or the due list, in walking order: by default those not met in 90 days. Names
/// are shown, so only to those who see names where the list is (officials above the
/// community are shown the count in the cockpit, never this list).
async fn behind_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<BehindQuery>,
) -> Result<Response, ApiError> {
    use wangge_store::visits::figures::{self, Which};
    let path = super::scope_path(&s.db, &p, q.area.as_deref()).await?;
    if !p.sees_names(&path) {
        return Err(ApiError::forbidden(msg!("error.area_outside").field("area")));
    }
    let which = q.which.as_deref().and_then(Which::from_code).unwrap_or(Which::NotVisited);
    let catalogue = tags::list(&s.db).await?;
    let tag = match q.tag.as_deref().filter(|t| !t.is_empty()) {
        Some(code) => Some(
            catalogue
                .iter()
                .find(|t| t.code == code)
                .ok_or_else(|| ApiError::invalid(msg!("visits.error.tag", value = code).field("tag")))?,
        ),
        None => None,
    };
    let area = wangge_store::registry::areas::get_by_path(&s.db, &path).await?;
    let days = wangge_store::cockpit::COVERAGE_DAYS;
    let lines = figures::behind(&s.db, &path, super::today(), days, which, tag.map(|t| t.code.as_str())).await?;
    let cards: Vec<BehindCard> = lines
        .iter()
        .take(BEHIND_SHOWN)
        .map(|l| BehindCard {
            place: say(&msg!("visits.place", building = &l.building, unit = &l.unit, room = &l.room), lang.code),
            name: l.name.clone(),
            last: match (&l.last_met, which) {
                (_, Which::AtDoor) => {
                    say(&msg!("visits.behind.last_door", on = l.last_at_door.clone().unwrap_or_default()), lang.code)
                }
                (Some(on), _) => say(&msg!("visits.behind.last_met", on = on), lang.code),
                (None, _) => say(&msg!("visits.behind.none", days = days), lang.code),
            },
            href: format!("/registry/households/{}", l.household_id),
        })
        .collect();
    let tag_name = tag.map(|t| if lang.code == "en" { t.name_en.clone() } else { t.name_zh.clone() });
    let key = match (tag_name.is_some(), which) {
        (false, Which::NotVisited) => "visits.behind.not_visited",
        (false, Which::Visited) => "visits.behind.visited",
        (false, Which::AtDoor) => "visits.behind.visited_at_door",
        (true, Which::NotVisited) => "visits.behind.tag_not_visited",
        (true, Which::Visited) => "visits.behind.tag_visited",
        (true, Which::AtDoor) => "visits.behind.tag_visited_at_door",
    };
    let title = say(&msg!(key, tag = tag_name.unwrap_or_default(), days = days), lang.code);
    let count = say(&msg!("visits.behind.count", count = lines.len(), area = &area.name), lang.code);
    let more =
        (lines.len() > BEHIND_SHOWN).then(|| say(&msg!("visits.more", count = lines.len() - BEHIND_SHOWN), lang.code));
    let ctx = context! {
        title, count, more, cards => Value::from(Serde(&cards)),
        cockpit_href => format!("/cockpit?area={}", area.id),
        ..frame(&p, lang, "/visits")
    };
    Ok(render(lang, StatusCode::OK, "visits/behind.html", ctx))
}

#[derive(Deserialize)]
pub struct NewQuery {
    household: String,
    resident: Option<String>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    checked: bool,
}

/// What the form shows again after a refusal.
#[derive(Default, Deserialize)]
pub struct VisitForm {
    household_id: String,
    #[serde(default)]
    resident_id: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    visited_on: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    findings: String,
    /// Entered afterwards from a printed due list (a checkbox: present when ticked).
    #[serde(default)]
    paper: Option<String>,
    /// Where it happened, when not at the household.
    #[serde(default)]
    location: String,
    /// What the finding becomes in the same step: nothing, `demand` or `consultation`.
    #[serde(default)]
    becomes: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    answer: String,
}

async fn household_in_scope(s: &AppState, p: &Principal, id: &str) -> Result<Household, ApiError> {
    p.refer(households::get(&s.db, id).await, Thing::Household, id, |h| &h.path)
}

async fn form_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    form: &VisitForm,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let household = household_in_scope(s, p, &form.household_id).await?;
    let building = buildings::get(&s.db, &household.building_id).await?;
    let place = say(
        &msg!("visits.place", building = &building.number, unit = &household.unit, room = &household.room),
        lang.code,
    );
    let filter = ResidentFilter {
        household_id: Some(household.id.clone()),
        status: Some(ResidentStatus::Active),
        ..Default::default()
    };
    let people = residents::list(&s.db, &filter, PageRequest::new(Some(1), Some(50))).await?.items;
    let mut whom = vec![Choice {
        value: String::new(),
        label: tr("visits.whole_household", lang.code),
        checked: form.resident_id.is_empty(),
    }];
    whom.extend(people.into_iter().map(|r| Choice { checked: form.resident_id == r.id, value: r.id, label: r.name }));
    let channels: Vec<Choice> = VisitChannel::all()
        .iter()
        .map(|c| Choice { value: c.code().into(), label: label(*c, lang).into(), checked: form.channel == c.code() })
        .collect();
    let outcomes: Vec<Choice> = VisitOutcome::all()
        .iter()
        .map(|o| Choice { value: o.code().into(), label: label(*o, lang).into(), checked: form.outcome == o.code() })
        .collect();
    let visited_on = if form.visited_on.is_empty() { super::today().to_string() } else { form.visited_on.clone() };
    let becomes: Vec<Choice> = [
        ("", "visits.becomes.note"),
        ("demand", "visits.becomes.demand"),
        ("consultation", "visits.becomes.consultation"),
    ]
    .iter()
    .map(|(v, k)| Choice { value: (*v).into(), label: tr(k, lang.code), checked: form.becomes == *v })
    .collect();
    let categories: Vec<Choice> = wangge_store::demands::categories(&s.db)
        .await?
        .into_iter()
        .filter(|c| c.active)
        .map(|c| Choice {
            checked: form.category == c.code,
            label: if lang.code == "en" { c.name_en } else { c.name_zh },
            value: c.code,
        })
        .collect();
    let ctx = context! {
        becomes => Value::from(Serde(&becomes)), categories => Value::from(Serde(&categories)),
        title => &form.title, answer => &form.answer, paper => form.paper.is_some(),
        household_id => &household.id, place, whom => Value::from(Serde(&whom)),
        channels => Value::from(Serde(&channels)), outcomes => Value::from(Serde(&outcomes)),
        visited_on, purpose => &form.purpose, findings => &form.findings, error,
        location => &form.location, max_photos => visits::photos::MAX_PER_VISIT,
        ..frame(p, lang, "/visits")
    };
    Ok(render(lang, status, "visits/new.html", ctx))
}

/// The visit form for a household (and the person met, when chosen on the due list).
async fn new_visit(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<NewQuery>,
) -> Result<Response, ApiError> {
    let form =
        VisitForm { household_id: q.household, resident_id: q.resident.unwrap_or_default(), ..Default::default() };
    form_page(&s, &p, lang, &form, StatusCode::OK, None).await
}

/// Records the visit and goes back to the due list; refused, the form again with
/// what was wrong and everything typed kept.
async fn save_visit(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    // Sent as multipart/form-data (it may carry photos), or as a plain form.
    let sent = crate::shared::multipart::read(request, &(), wangge_store::demands::attachments::MAX_BYTES).await?;
    let fields: serde_json::Map<String, serde_json::Value> =
        sent.pairs.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
    let form: VisitForm = serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| ApiError::invalid(msg!("error.bad_json", detail = e)))?;
    // The photos are judged before anything is recorded: a refused one keeps the form.
    let mut photos: Vec<(String, Vec<u8>)> = Vec::new();
    for f in sent.files.into_iter().filter(|f| f.field == "photos") {
        let refused = match &f.data {
            None => Some(tr("photos.too_big", lang.code).replace("%{name}", &f.file_name)),
            Some(data) if visits::photos::check(data).is_err() => {
                Some(tr("photos.not_photo", lang.code).replace("%{name}", &f.file_name))
            }
            Some(_) => None,
        };
        if let Some(error) = refused {
            return form_page(&s, &p, lang, &form, StatusCode::UNPROCESSABLE_ENTITY, Some(error)).await;
        }
        photos.push((f.file_name, f.data.unwrap_or_default()));
    }
    if photos.len() > visits::photos::MAX_PER_VISIT {
        let error = say(&msg!("visits.error.photos", most = visits::photos::MAX_PER_VISIT), lang.code);
        return form_page(&s, &p, lang, &form, StatusCode::UNPROCESSABLE_ENTITY, Some(error)).await;
    }
    let channel = VisitChannel::from_code(&form.channel);
    let outcome = VisitOutcome::from_code(&form.outcome);
    let (Some(channel), Some(outcome)) = (channel, outcome) else {
        let missing = if channel.is_none() { "visits.error.channel" } else { "visits.error.outcome" };
        let error = tr(missing, lang.code);
        return form_page(&s, &p, lang, &form, StatusCode::UNPROCESSABLE_ENTITY, Some(error)).await;
    };
    let becomes = super::record::Becomes::from_form(&form.becomes, &form.category, &form.title, &form.answer);
    if let Some(Err(e)) = becomes.as_ref().map(super::record::Becomes::check) {
        let error = say(&e.message, lang.code);
        return form_page(&s, &p, lang, &form, StatusCode::UNPROCESSABLE_ENTITY, Some(error)).await;
    }
    let new = NewVisit {
        household_id: form.household_id.clone(),
        resident_id: (!form.resident_id.is_empty()).then(|| form.resident_id.clone()),
        channel,
        outcome,
        visited_on: form.visited_on.clone(),
        purpose: form.purpose.clone(),
        findings: form.findings.clone(),
        paper: form.paper.is_some(),
        location: form.location.clone(),
    };
    match super::api::record_visit(&s, &p, &address, new).await {
        Ok(visit) if !photos.is_empty() => {
            visits::photos::add(&s.db, &visit.id, &photos).await?;
            match becomes {
                None => Ok(Redirect::to(&format!("/visits/{}?done=saved", visit.id)).into_response()),
                Some(b) => {
                    super::record::make_demand(&s, &p, &address, &visit, b).await?;
                    Ok(Redirect::to(&format!("/visits/{}?done=demand", visit.id)).into_response())
                }
            }
        }
        Ok(visit) => match becomes {
            None => Ok(Redirect::to("/visits?saved=1").into_response()),
            // The visit is kept whatever happens next; the demand is one step more.
            Some(b) => {
                super::record::make_demand(&s, &p, &address, &visit, b).await?;
                Ok(Redirect::to(&format!("/visits/{}?done=demand", visit.id)).into_response())
            }
        },
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let error = say(&e.message, lang.code);
            form_page(&s, &p, lang, &form, StatusCode::UNPROCESSABLE_ENTITY, Some(error)).await
        }
        Err(e) => Err(e),
    }
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use wangge_domain::Action::VisitHouseholds;
    crate::shared::routes::Routes::new()
        .get("/visits", Role(VisitHouseholds), due_page)
        .get("/visits/new", Role(VisitHouseholds), new_visit)
        .get("/visits/print", Role(VisitHouseholds), print_page)
        .get("/visits/coverage", Role(VisitHouseholds), behind_page)
        // The visit form may carry photos.
        .post_limited("/visits", Role(VisitHouseholds), crate::shared::routes::Limit::Photos, save_visit)
}
