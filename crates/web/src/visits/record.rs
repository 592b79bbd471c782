//! A recorded visit: its page (what was found masked — "已记录" — and revealed one
//! visit at a time, audited, to the staff of its grid and community), its edit
//! within the community's window (locked after), and what its finding becomes in
//! one step: a demand (channel 走访, linked both ways), an answered consultation,
//! or a proposed correction of the registry, confirmed or declined by whoever may
//! edit the registry there (`/corrections`).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::demands::DemandKind;
use wangge_domain::{Action, AuditAction, Channel, ResidentStatus, Step, VisitChannel, VisitOutcome, Vocabulary, msg};
use wangge_store::demands::{self, Demand, NewDemand, StepInput};
use wangge_store::registry::residents::{self, ResidentFilter};
use wangge_store::registry::{buildings, households};
use wangge_store::visits::corrections::{self, Changes, Correction, CorrectionStatus};
use wangge_store::visits::{self, Visit, VisitEdit};
use wangge_store::{PageRequest, Thing};

use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, frame, label, local_time, render, say, tr};
use crate::{ApiError, AppState};

/// The visit, if the caller may see where it was: in scope, else answered as an
/// unknown id.
pub(crate) async fn visible(s: &AppState, p: &Principal, id: &str) -> Result<Visit, ApiError> {
    p.refer(visits::get(&s.db, id).await, Thing::Visit, id, |v| &v.path)
}

/// Whether `p` may read what was found at a visit at `path`: those who visit, in
/// their own grid or community (never through a grant, never from above).
pub(crate) fn may_read_findings(p: &Principal, path: &str) -> bool {
    p.role.may(Action::VisitHouseholds) && p.can_change(path)
}

/// What was found, in full, for those who may read it; every reveal audited
/// (`reveal.findings`, the visit as target). Refused with 403 for anyone else.
pub(crate) async fn reveal(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    id: &str,
) -> Result<(Visit, Option<String>), ApiError> {
    let v = visible(s, p, id).await?;
    if !may_read_findings(p, &v.path) {
        return Err(ApiError::forbidden(msg!("visits.error.findings_forbidden")));
    }
    let findings = visits::reveal_findings(&s.db, id).await?;
    let event = audit::Event {
        target_kind: Some("visit"),
        target_id: Some(id),
        path: Some(&v.path),
        reason: Some("走访发现"),
        ..audit::Event::of(AuditAction::RevealFindings)
    };
    audit::log(&s.db, Some(p), None, address, event).await?;
    Ok((v, findings))
}

/// What a finding becomes in one step.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "becomes", rename_all = "snake_case")]
pub enum Becomes {
    /// A demand of the category, worked to closure like any other.
    Demand { category: String, title: String },
    /// A consultation (政策咨询) answered on the spot: taken in and closed as answered.
    Consultation { title: String, answer: String },
}

impl Becomes {
    /// From the visit form's fields: none when the finding stays a note.
    pub(crate) fn from_form(becomes: &str, category: &str, title: &str, answer: &str) -> Option<Becomes> {
        match becomes {
            "demand" => Some(Becomes::Demand { category: category.trim().into(), title: title.trim().into() }),
            "consultation" => Some(Becomes::Consultation { title: title.trim().into(), answer: answer.trim().into() }),
            _ => None,
        }
    }

    /// What is missing, before anything is written.
    pub(crate) fn check(&self) -> Result<(), ApiError> {
        let (title, other, field, key) = match self {
            Becomes::Demand { category, title } => (title, category, "category", "visits.error.category"),
            Becomes::Consultation { title, answer } => (title, answer, "answer", "visits.error.answer"),
        };
        if title.trim().is_empty() {
            return Err(ApiError::invalid(msg!("visits.error.demand_title").field("title")));
        }
        if other.trim().is_empty() {
            return Err(ApiError::invalid(msg!(key).field(field)));
        }
        Ok(())
    }
}

/// Turns a visit's finding into a demand (channel 走访) of the visit's household and
/// person, links the two, and for a consultation answers it at once. What was
/// found stays sealed on the visit: the demand carries only the title typed.
pub(crate) async fn make_demand(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    visit: &Visit,
    becomes: Becomes,
) -> Result<Demand, ApiError> {
    becomes.check()?;
    if visit.demand_id.is_some() {
        return Err(wangge_store::StoreError::Conflict(msg!("visits.error.has_demand")).into());
    }
    let (category, kind, title, answer) = match becomes {
        Becomes::Demand { category, title } => (category, None, title, None),
        Becomes::Consultation { title, answer } => {
            ("policy".to_owned(), Some(DemandKind::Consultation), title, Some(answer))
        }
    };
    let new = NewDemand {
        household_id: Some(visit.household_id.clone()),
        resident_id: visit.resident_id.clone(),
        category,
        kind,
        channel: Some(Channel::Visit),
        title,
        description: say(&msg!("visits.demand_description", on = &visit.visited_on), "zh-CN"),
        ..Default::default()
    };
    let d = crate::demands::api::create_checked(s, p, address, new).await?;
    visits::link_demand(&s.db, &visit.id, &d.id).await?;
    if let Some(answer) = answer {
        let input = StepInput { note: answer, ..Default::default() };
        return Ok(crate::demands::api::take(s, p, address, &d.id, Step::Answer, input).await?.0.demand);
    }
    Ok(d)
}

/// The line on a demand's page that links back to the visit it came from.
pub(crate) async fn from_visit(s: &AppState, demand_id: &str, lang: Lang) -> Result<Option<Value>, ApiError> {
    Ok(visits::of_demand(&s.db, demand_id).await?.map(|v| {
        let words =
            say(&msg!("visits.from_visit_line", on = &v.visited_on, channel = label(v.channel, lang)), lang.code);
        context! { id => v.id, words }
    }))
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct CorrectionLine {
    id: String,
    who: String,
    what: String,
    note: String,
    status: String,
    waiting: bool,
}

fn change_words(c: &Changes, full: bool, lang: Lang) -> String {
    let mut out = Vec::new();
    let show = |v: &str| if full { v.to_owned() } else { "***".to_owned() };
    if let Some(v) = &c.name {
        out.push(format!("{}：{}", tr("visits.field.name", lang.code), show(v)));
    }
    if let Some(v) = &c.phone {
        out.push(format!("{}：{}", tr("visits.field.phone", lang.code), show(v)));
    }
    if let Some(v) = &c.birth_date {
        out.push(format!("{}：{}", tr("visits.field.birth_date", lang.code), show(v)));
    }
    if let Some(v) = &c.notes {
        out.push(format!("{}：{}", tr("visits.field.notes", lang.code), show(v)));
    }
    out.join("；")
}

fn status_words(status: CorrectionStatus, lang: Lang) -> String {
    tr(&format!("visits.correction.{}", status.code()), lang.code)
}

/// Names of the household's current people, for the forms and the lines.
async fn people_of(s: &AppState, household_id: &str) -> Result<Vec<(String, String)>, ApiError> {
    let filter = ResidentFilter {
        household_id: Some(household_id.to_owned()),
        status: Some(ResidentStatus::Active),
        ..Default::default()
    };
    let people = residents::list(&s.db, &filter, PageRequest::new(Some(1), Some(50))).await?.items;
    Ok(people.into_iter().map(|r| (r.id, r.name)).collect())
}

async fn correction_lines(
    s: &AppState,
    p: &Principal,
    list: Vec<Correction>,
    lang: Lang,
) -> Result<Vec<CorrectionLine>, ApiError> {
    let mut out = Vec::new();
    for c in list {
        let names = p.sees_names(&c.path);
        let who = if names { residents::get(&s.db, &c.resident_id).await?.name } else { "***".into() };
        let full = p.role.may(Action::EditRegistry) && p.can_change(&c.path);
        out.push(CorrectionLine {
            what: change_words(&c.changes, full, lang),
            note: if names { c.note } else { String::new() },
            status: status_words(c.status, lang),
            waiting: c.status == CorrectionStatus::Proposed && full,
            id: c.id,
            who,
        });
    }
    Ok(out)
}

/// Messages the visit's page shows after an action.
#[derive(Default, Deserialize)]
pub struct ShowQuery {
    done: Option<String>,
}

/// The page of one visit. `revealed` carries what was found after an audited reveal.
async fn visit_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    id: &str,
    revealed: Option<Option<String>>,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, ApiError> {
    let v = visible(s, p, id).await?;
    let names = p.sees_names(&v.path);
    let household = households::get(&s.db, &v.household_id).await?;
    let building = buildings::get(&s.db, &household.building_id).await?;
    let place = if names {
        say(
            &msg!("visits.place", building = &building.number, unit = &household.unit, room = &household.room),
            lang.code,
        )
    } else {
        say(&msg!("visits.place_building", building = &building.number), lang.code)
    };
    let people = if names { people_of(s, &v.household_id).await? } else { Vec::new() };
    let who = match (&v.resident_id, names) {
        (_, false) => "***".to_owned(),
        (None, true) => tr("visits.whole_household", lang.code),
        (Some(r), true) => match people.iter().find(|(id, _)| id == r) {
            Some((_, name)) => name.clone(),
            None => residents::get(&s.db, r).await?.name,
        },
    };
    let readable = may_read_findings(p, &v.path);
    let findings = match (&revealed, v.findings_recorded) {
        (Some(text), _) => text.clone().unwrap_or_else(|| tr("visits.findings_none", lang.code)),
        (None, true) => tr("visits.findings_recorded", lang.code),
        (None, false) => tr("visits.findings_none", lang.code),
    };
    let may_visit = p.role.may(Action::VisitHouseholds) && p.can_change(&v.path);
    let community = super::community_of(&s.db, &v.path).await?;
    let lock = visits::lock_days(&s.db, &community.id).await?;
    let until = visits::editable_until(&v, lock);
    let editable = may_visit && super::today() <= until;
    let lock_words = if super::today() <= until {
        say(&msg!("visits.editable_until", until = until.to_string()), lang.code)
    } else {
        say(&msg!("visits.locked_since", days = lock, until = until.to_string()), lang.code)
    };
    let demand = match &v.demand_id {
        Some(d) => Some(demands::get(&s.db, d).await?).filter(|d| p.can_see(&d.path)),
        None => None,
    };
    let categories: Vec<Choice> = if may_visit && v.demand_id.is_none() {
        demands::categories(&s.db)
            .await?
            .into_iter()
            .filter(|c| c.active)
            .map(|c| Choice { label: if lang.code == "en" { c.name_en } else { c.name_zh }, value: c.code })
            .collect()
    } else {
        Vec::new()
    };
    let persons: Vec<Choice> =
        people.iter().map(|(id, name)| Choice { value: id.clone(), label: name.clone() }).collect();
    let fields: Vec<Choice> = ["name", "phone", "birth_date", "notes"]
        .iter()
        .map(|f| Choice { value: (*f).into(), label: tr(&format!("visits.field.{f}"), lang.code) })
        .collect();
    let lines = correction_lines(s, p, corrections::of_visit(&s.db, id).await?, lang).await?;
    // Photos only inside the community, where names are seen: a door may show a face.
    let photos: Vec<String> = if may_visit {
        visits::photos::of_visit(&s.db, &v.id).await?.into_iter().map(|ph| ph.id).collect()
    } else {
        Vec::new()
    };
    let (status, error) = match error {
        Some((status, e)) => (status, Some(e)),
        None => (StatusCode::OK, None),
    };
    let ctx = context! {
        id => &v.id, place, who, channel => label(v.channel, lang), outcome => label(v.outcome, lang),
        visited_on => &v.visited_on, purpose => &v.purpose, visitor => &v.visitor_name, paper => v.paper,
        recorded => local_time(v.created_at), edited => v.updated_at.map(local_time),
        findings, findings_recorded => v.findings_recorded, revealed => revealed.is_some(), readable,
        demand => demand.map(|d| context! { id => d.id, title => d.title, status => label(d.status, lang) }),
        may_visit, editable, lock_words, categories => Value::from(Serde(&categories)),
        persons => Value::from(Serde(&persons)), fields => Value::from(Serde(&fields)),
        corrections => Value::from(Serde(&lines)), notice, error,
        may_manage => p.role.may(Action::ManageVisits) && p.can_change(&v.path),
        household_id => &v.household_id, resident_id => &v.resident_id,
        location => &v.location, photos,
        ..frame(p, lang, "/visits")
    };
    Ok(render(lang, status, "visits/visit.html", ctx))
}

async fn show(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, ApiError> {
    let notice = q.done.filter(|d| ["saved", "demand", "correction", "edited"].contains(&d.as_str()));
    let notice = notice.map(|d| tr(&format!("visits.done.{d}"), lang.code));
    visit_page(&s, &p, lang, &id, None, notice, None).await
}

async fn reveal_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (_, findings) = reveal(&s, &p, &address, &id).await?;
    visit_page(&s, &p, lang, &id, Some(findings), None, None).await
}

#[derive(Default, Deserialize)]
pub struct BecomesForm {
    #[serde(default)]
    becomes: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    answer: String,
}

async fn becomes_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(f): Form<BecomesForm>,
) -> Result<Response, ApiError> {
    let v = visible(&s, &p, &id).await?;
    let Some(becomes) = Becomes::from_form(&f.becomes, &f.category, &f.title, &f.answer) else {
        let e = tr("visits.error.becomes", lang.code);
        return visit_page(&s, &p, lang, &id, None, None, Some((StatusCode::UNPROCESSABLE_ENTITY, e))).await;
    };
    match make_demand(&s, &p, &address, &v, becomes).await {
        Ok(_) => Ok(Redirect::to(&format!("/visits/{id}?done=demand")).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
            let said = e.said(lang.code);
            visit_page(&s, &p, lang, &id, None, None, Some((e.status, said))).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Default, Deserialize)]
pub struct CorrectionForm {
    #[serde(default)]
    resident_id: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    note: String,
}

/// Proposes a correction (audited without the values, which may be a phone).
pub(crate) async fn propose(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    visit: &Visit,
    resident_id: &str,
    changes: Changes,
    note: &str,
) -> Result<Correction, ApiError> {
    if !(p.role.may(Action::VisitHouseholds) && p.can_change(&visit.path)) {
        return Err(crate::shared::auth::unknown(Thing::Visit, &visit.id));
    }
    let c = corrections::propose(&s.db, &visit.id, resident_id, changes, note, (super::visitor_id(p), &p.actor_name()))
        .await?;
    let fields: Vec<&str> = [
        ("name", c.changes.name.is_some()),
        ("phone", c.changes.phone.is_some()),
        ("birth_date", c.changes.birth_date.is_some()),
        ("notes", c.changes.notes.is_some()),
    ]
    .into_iter()
    .filter_map(|(f, on)| on.then_some(f))
    .collect();
    let summary = serde_json::json!({"resident_id": c.resident_id, "visit_id": c.visit_id, "fields": fields});
    audit::change(
        &s.db,
        (p, address),
        AuditAction::CorrectionPropose,
        Target("correction", &c.id, &c.path),
        None,
        &summary,
    )
    .await?;
    Ok(c)
}

async fn correction_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(f): Form<CorrectionForm>,
) -> Result<Response, ApiError> {
    let v = visible(&s, &p, &id).await?;
    let value = Some(f.value.clone());
    let changes = match f.field.as_str() {
        "name" => Changes { name: value, ..Default::default() },
        "phone" => Changes { phone: value, ..Default::default() },
        "birth_date" => Changes { birth_date: value, ..Default::default() },
        "notes" => Changes { notes: value, ..Default::default() },
        _ => Changes::default(),
    };
    match propose(&s, &p, &address, &v, f.resident_id.trim(), changes, &f.note).await {
        Ok(_) => Ok(Redirect::to(&format!("/visits/{id}?done=correction")).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let said = e.said(lang.code);
            visit_page(&s, &p, lang, &id, None, None, Some((e.status, said))).await
        }
        Err(e) => Err(e),
    }
}

/// Confirms (applies, audited before/after as a registry edit) or declines a
/// proposed correction: for whoever may edit the registry where the person lives.
pub(crate) async fn decide(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    id: &str,
    confirm: bool,
) -> Result<Correction, ApiError> {
    let c = p.refer(corrections::get(&s.db, id).await, Thing::Correction, id, |c| &c.path)?;
    if !p.can_change(&c.path) {
        return Err(crate::shared::auth::unknown(Thing::Correction, id));
    }
    if c.status != CorrectionStatus::Proposed {
        return Err(wangge_store::StoreError::Conflict(msg!("visits.error.decided")).into());
    }
    if confirm {
        let before =
            p.refer(residents::get(&s.db, &c.resident_id).await, Thing::Resident, &c.resident_id, |r| &r.path)?;
        let after = residents::update(&s.db, &c.resident_id, c.changes.update()).await?;
        let decided = corrections::decide(&s.db, id, true, &p.actor_name()).await?;
        let reason = format!("走访更正 {id}");
        let event = audit::Event {
            target_kind: Some("resident"),
            target_id: Some(&c.resident_id),
            path: Some(&after.path),
            reason: Some(&reason),
            before: audit::json(&before),
            after: audit::json(&after),
            ..audit::Event::of(AuditAction::ResidentUpdate)
        };
        audit::log(&s.db, Some(p), None, address, event).await?;
        Ok(decided)
    } else {
        let decided = corrections::decide(&s.db, id, false, &p.actor_name()).await?;
        let event = audit::Event {
            target_kind: Some("correction"),
            target_id: Some(id),
            path: Some(&c.path),
            ..audit::Event::of(AuditAction::CorrectionDecline)
        };
        audit::log(&s.db, Some(p), None, address, event).await?;
        Ok(decided)
    }
}

#[derive(Default, Deserialize)]
pub struct AreaQuery {
    area: Option<String>,
    done: Option<String>,
}

/// 台账更正: the proposals waiting in the caller's area, to confirm or decline.
async fn corrections_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> Result<Response, ApiError> {
    let path = super::scope_path(&s.db, &p, q.area.as_deref()).await?;
    let list = corrections::waiting(&s.db, &path).await?;
    let visits: Vec<Option<String>> = list.iter().map(|c| c.visit_id.clone()).collect();
    let lines = correction_lines(&s, &p, list, lang).await?;
    let lines: Vec<Value> = lines
        .into_iter()
        .zip(visits)
        .map(|(line, visit)| context! { line => Value::from(Serde(&line)), visit })
        .collect();
    let notice =
        q.done.filter(|d| d == "confirmed" || d == "declined").map(|d| tr(&format!("visits.done.{d}"), lang.code));
    let ctx = context! { lines, notice, ..frame(&p, lang, "/visits") };
    Ok(render(lang, StatusCode::OK, "visits/corrections.html", ctx))
}

async fn confirm_page(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    decide(&s, &p, &address, &id, true).await?;
    Ok(Redirect::to("/corrections?done=confirmed").into_response())
}

async fn decline_page(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    decide(&s, &p, &address, &id, false).await?;
    Ok(Redirect::to("/corrections?done=declined").into_response())
}

/// What the edit form sends.
#[derive(Default, Deserialize)]
pub struct EditForm {
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
}

/// Edits a visit in scope within its community's window (audited, without what
/// was found); after the window, refused with the day it locked (409).
pub(crate) async fn edit(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    id: &str,
    e: VisitEdit,
) -> Result<Visit, ApiError> {
    let before = visible(s, p, id).await?;
    if !p.can_change(&before.path) {
        return Err(crate::shared::auth::unknown(Thing::Visit, id));
    }
    let community = super::community_of(&s.db, &before.path).await?;
    let lock = visits::lock_days(&s.db, &community.id).await?;
    let after = visits::edit(&s.db, id, e, lock, super::today()).await?;
    audit::change(&s.db, (p, address), AuditAction::VisitEdit, Target("visit", id, &after.path), Some(&before), &after)
        .await?;
    Ok(after)
}

async fn edit_form_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    id: &str,
    form: EditForm,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let v = visible(s, p, id).await?;
    let people = people_of(s, &v.household_id).await?;
    let community = super::community_of(&s.db, &v.path).await?;
    let lock = visits::lock_days(&s.db, &community.id).await?;
    let until = visits::editable_until(&v, lock);
    if super::today() > until {
        let e = say(&msg!("visits.error.locked", days = lock, until = until.to_string()), lang.code);
        return visit_page(s, p, lang, id, None, None, Some((StatusCode::CONFLICT, e))).await;
    }
    let household = households::get(&s.db, &v.household_id).await?;
    let building = buildings::get(&s.db, &household.building_id).await?;
    let place = say(
        &msg!("visits.place", building = &building.number, unit = &household.unit, room = &household.room),
        lang.code,
    );
    let choose = |value: &str, checked: bool, label: String| context! { value, label, checked };
    let mut whom = vec![choose("", form.resident_id.is_empty(), tr("visits.whole_household", lang.code))];
    whom.extend(people.iter().map(|(rid, name)| choose(rid, &form.resident_id == rid, name.clone())));
    let channels: Vec<Value> = VisitChannel::all()
        .iter()
        .map(|c| choose(c.code(), form.channel == c.code(), label(*c, lang).into()))
        .collect();
    let outcomes: Vec<Value> = VisitOutcome::all()
        .iter()
        .map(|o| choose(o.code(), form.outcome == o.code(), label(*o, lang).into()))
        .collect();
    let ctx = context! {
        id, place, whom, channels, outcomes, visited_on => &form.visited_on, purpose => &form.purpose,
        findings => &form.findings, error, lock_words => say(&msg!("visits.editable_until", until = until.to_string()), lang.code),
        ..frame(p, lang, "/visits")
    };
    Ok(render(lang, status, "visits/edit.html", ctx))
}

/// The edit form, filled with the visit as it stands (what was found opened for
/// the form: an audited reveal).
async fn edit_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let v = visible(&s, &p, &id).await?;
    if !p.can_change(&v.path) {
        return Err(crate::shared::auth::unknown(Thing::Visit, &id));
    }
    let community = super::community_of(&s.db, &v.path).await?;
    let until = visits::editable_until(&v, visits::lock_days(&s.db, &community.id).await?);
    let findings = if super::today() <= until && v.findings_recorded {
        reveal(&s, &p, &address, &id).await?.1.unwrap_or_default()
    } else {
        String::new()
    };
    let form = EditForm {
        resident_id: v.resident_id.clone().unwrap_or_default(),
        channel: v.channel.code().into(),
        outcome: v.outcome.code().into(),
        visited_on: v.visited_on.clone(),
        purpose: v.purpose.clone(),
        findings,
    };
    edit_form_page(&s, &p, lang, &id, form, StatusCode::OK, None).await
}

async fn save_edit(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<EditForm>,
) -> Result<Response, ApiError> {
    let (Some(channel), Some(outcome)) =
        (VisitChannel::from_code(&form.channel), VisitOutcome::from_code(&form.outcome))
    else {
        let e = tr("visits.error.channel", lang.code);
        return edit_form_page(&s, &p, lang, &id, form, StatusCode::UNPROCESSABLE_ENTITY, Some(e)).await;
    };
    let e = VisitEdit {
        resident_id: (!form.resident_id.is_empty()).then(|| form.resident_id.clone()),
        channel,
        outcome,
        visited_on: form.visited_on.clone(),
        purpose: form.purpose.clone(),
        findings: form.findings.clone(),
    };
    match edit(&s, &p, &address, &id, e).await {
        Ok(_) => Ok(Redirect::to(&format!("/visits/{id}?done=edited")).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let said = e.said(lang.code);
            edit_form_page(&s, &p, lang, &id, form, StatusCode::UNPROCESSABLE_ENTITY, Some(said)).await
        }
        Err(e) if e.status == StatusCode::CONFLICT => {
            let said = e.said(lang.code);
            visit_page(&s, &p, lang, &id, None, None, Some((StatusCode::CONFLICT, said))).await
        }
        Err(e) => Err(e),
    }
}

/// A photo of a visit, to those who visit in its community (never from above, as
/// what was found); each view audited.
async fn photo(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path((id, photo)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let v = visible(&s, &p, &id).await?;
    if !p.can_change(&v.path) {
        return Err(crate::shared::auth::unknown(wangge_store::Thing::VisitPhoto, &photo));
    }
    let (ph, data) = match visits::photos::content(&s.db, &photo).await {
        Ok(x) if x.0.visit_id == v.id => x,
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => {
            return Err(crate::shared::auth::unknown(wangge_store::Thing::VisitPhoto, &photo));
        }
        Err(e) => return Err(e.into()),
    };
    let event = crate::shared::audit::Event {
        target_kind: Some("visit_photo"),
        target_id: Some(&ph.id),
        path: Some(&v.path),
        ..crate::shared::audit::Event::of(wangge_domain::AuditAction::VisitPhotoView)
    };
    crate::shared::audit::log(&s.db, Some(&p), None, &address, event).await?;
    Ok(crate::shared::api::private_file(&ph.content_type, "inline", data))
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use wangge_domain::Action::{EditRegistry, ViewDemands, VisitHouseholds};
    crate::shared::routes::Routes::new()
        .get("/visits/{id}", Role(ViewDemands), show)
        .get("/visits/{id}/photos/{photo}", Role(VisitHouseholds), photo)
        .post("/visits/{id}/findings", Role(VisitHouseholds), reveal_page)
        .get("/visits/{id}/edit", Role(VisitHouseholds), edit_page)
        .post("/visits/{id}/edit", Role(VisitHouseholds), save_edit)
        .post("/visits/{id}/demand", Role(VisitHouseholds), becomes_page)
        .post("/visits/{id}/correction", Role(VisitHouseholds), correction_page)
        .get("/corrections", Role(EditRegistry), corrections_page)
        .post("/corrections/{id}/confirm", Role(EditRegistry), confirm_page)
        .post("/corrections/{id}/decline", Role(EditRegistry), decline_page)
}
