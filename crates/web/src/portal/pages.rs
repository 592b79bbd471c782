//! The residents' portal: a separate entry with large type, high contrast, big
//! touch targets, plain words and one task per page, for people in their sixties on
//! old phones and in the WeChat in-app browser. Its pages use `portal_base.html`,
//! not the staff frame.
//!
//! Its tasks (`PORTAL_TASKS`): my household, requests, messages, notices,
//! surveys, activities and the community's micro venture projects; a Party
//! member's own and the Party projects are added when they apply.

use std::collections::HashMap;
use wangge_store::Thing;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::{
    AuditAction, DemandStatus, EventKind, Explain, IdCardNumber, Module, Phone, ResidentStatus, Role, Step,
};
use wangge_store::PageRequest;
use wangge_store::demands::{self, DemandFilter, Extras, NewDemand, StepInput};
use wangge_store::notifications::{Audience, Notice};
use wangge_store::registry::households;
use wangge_store::registry::residents::{self, ResidentFilter};
use wangge_store::security::accounts;
use wangge_store::security::signups::{self, SignupOutcome, SignupRequest};

use crate::demands::pages::photo_forms::{self, PhotoForm};
use crate::shared::audit::{self, Event};
use crate::shared::auth::{Actor, ClientAddress, Principal};
use crate::shared::render::{Lang, label, render, say, tr};
use crate::{ApiError, AppState};

/// The portal's tasks in the order residents see them: (id, href, catalogue key,
/// built). Unbuilt ones stay hidden until their module lands.
const PORTAL_TASKS: [(&str, &str, &str, bool); 7] = [
    ("task-household", "/portal/household", "portal.household", true),
    ("task-requests", "/portal/requests", "portal.requests", true),
    ("task-messages", "/notifications", "notices.title", true),
    ("task-notices", "/portal/notices", "portal.notices", true),
    ("task-surveys", "/portal/surveys", "portal.surveys", true),
    ("task-activities", "/portal/activities", "portal.activities", true),
    ("task-ventures", "/portal/ventures", "portal.ventures", true),
];

#[derive(Serialize)]
struct Task {
    id: &'static str,
    href: &'static str,
    label: String,
}

/// The resident behind a portal request: their account, household and its path.
pub(crate) struct Home {
    pub account: String,
    pub household: String,
    pub path: String,
}

/// `None` for staff, and for a resident whose account is bound to no household.
pub(crate) async fn home_of(s: &AppState, p: &Principal) -> Result<Option<Home>, ApiError> {
    let Actor::Account { id, .. } = &p.actor else { return Ok(None) };
    if p.role != Role::Resident {
        return Ok(None);
    }
    let account = wangge_store::security::accounts::get(&s.db, id).await?;
    let Some(household) = account.household_id else { return Ok(None) };
    let h = wangge_store::registry::households::get(&s.db, &household).await?;
    Ok(Some(Home { account: id.clone(), household, path: h.path }))
}

pub(crate) fn portal_ctx(p: &Principal, lang: Lang) -> Value {
    context! { lang => lang.code, user => p.actor_name(), csrf => p.csrf_token.clone().unwrap_or_default() }
}

/// Staff who open the portal are sent to their own side.
fn staff(p: &Principal) -> bool {
    p.role != Role::Resident
}

pub async fn home(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    if staff(&p) {
        return Ok(Redirect::to(crate::shared::render::home_of(p.role)).into_response());
    }
    let unread = wangge_store::notifications::unread(&s.db, p.actor_id()).await?;
    let tasks: Vec<Task> = PORTAL_TASKS
        .iter()
        .filter(|t| t.3)
        .map(|&(id, href, key, _)| {
            let mut label = tr(key, lang.code);
            // What is new is said on the task itself: one look, no extra page.
            if id == "task-messages" && unread > 0 {
                label =
                    format!("{label}（{}）", say(&wangge_domain::msg!("notices.unread", count = unread), lang.code));
            }
            Task { id, href, label }
        })
        .collect();
    // A Party member's own tasks (claim needs, record service), when the account is one's.
    let mut tasks = tasks;
    if !crate::party::own_members(&s, &p).await?.is_empty() {
        tasks.push(Task { id: "task-party", href: "/party/mine", label: tr("party.mine.title", lang.code) });
    }
    // The community's finished projects, their results, and a rating of one's own.
    tasks.push(Task {
        id: "task-projects",
        href: "/portal/projects",
        label: crate::party::projects::portal_task(lang),
    });
    // Greeted by their name, not by the generated login.
    let name = match &p.actor {
        Actor::Account { id, .. } => accounts::get(&s.db, id).await?.display_name,
        _ => String::new(),
    };
    let name = if name.trim().is_empty() { p.actor_name() } else { name };
    Ok(render(
        lang,
        StatusCode::OK,
        "portal/home.html",
        context! { tasks => Value::from(Serde(&tasks)), greet => name, ..portal_ctx(&p, lang) },
    ))
}

#[derive(Serialize)]
struct Member {
    name: String,
    relation: &'static str,
    birth_year: String,
    phone: Option<String>,
}

pub async fn household(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    if staff(&p) {
        return Ok(Redirect::to(crate::shared::render::home_of(p.role)).into_response());
    }
    let Actor::Account { id, .. } = &p.actor else { return Ok(Redirect::to("/login").into_response()) };
    let account = accounts::get(&s.db, id).await?;
    let Some(household_id) = account.household_id else {
        return Ok(render(lang, StatusCode::OK, "portal/household.html", portal_ctx(&p, lang)));
    };
    let household = households::get(&s.db, &household_id).await?;
    let filter =
        ResidentFilter { household_id: Some(household_id), status: Some(ResidentStatus::Active), ..Default::default() };
    let members: Vec<Member> = residents::list(&s.db, &filter, PageRequest::new(Some(1), Some(100)))
        .await?
        .items
        .into_iter()
        .map(|r| Member {
            relation: label(r.relation, lang),
            birth_year: r.birth_date.chars().take(4).collect(),
            phone: r.phone,
            name: r.name,
        })
        .collect();
    let address = tr("address.format", lang.code)
        .replace("%{building}", &household.building_number)
        .replace("%{unit}", if household.unit.is_empty() { "-" } else { &household.unit })
        .replace("%{room}", &household.room);
    let ctx = context! {
        address => address, occupancy => label(household.occupancy, lang), members => Value::from(Serde(&members)),
        ..portal_ctx(&p, lang)
    };
    Ok(render(lang, StatusCode::OK, "portal/household.html", ctx))
}

pub async fn signup_form(lang: Lang) -> Response {
    render(lang, StatusCode::OK, "portal/signup.html", context! { lang => lang.code })
}

#[derive(Deserialize)]
pub struct SignupForm {
    name: String,
    id_card: String,
    phone: String,
    password: String,
}

/// Takes a sign-up: name, ID card number, the phone number to sign in with and a
/// password (the user name is generated). The answer is the same whether or not the
/// person was found on the roll, so the form tells nobody who lives where; only a
/// bad number, a weak password or a phone that already signs in are said plainly.
pub async fn signup_submit(
    State(s): State<AppState>,
    lang: Lang,
    address: ClientAddress,
    Form(form): Form<SignupForm>,
) -> Result<Response, ApiError> {
    let again = |error: String| {
        let ctx = context! { lang => lang.code, error => error, name => form.name.trim(), phone => form.phone.trim() };
        Ok(render(lang, StatusCode::UNPROCESSABLE_ENTITY, "portal/signup.html", ctx))
    };
    let id_card = match IdCardNumber::parse(&form.id_card) {
        Ok(id) => id,
        Err(e) => return again(format!("{}: {}", tr("signup.id_card", lang.code), say(&e.message(), lang.code))),
    };
    let phone = match Phone::parse(&form.phone) {
        Ok(phone) => phone,
        Err(e) => return again(format!("{}: {}", tr("portal_login.phone", lang.code), say(&e.message(), lang.code))),
    };
    let request = SignupRequest { name: form.name.clone(), id_card, phone, password: form.password.clone() };
    let outcome = match signups::request(&s.db, request).await {
        Ok(outcome) => outcome,
        Err(wangge_store::StoreError::Invalid(message)) => return again(say(&message, lang.code)),
        Err(e) => return Err(e.into()),
    };
    if outcome == SignupOutcome::PhoneTaken {
        return again(tr("signup.phone_taken", lang.code));
    }
    // The grid members over the household hear of it: they confirm sign-ups.
    if let SignupOutcome::Queued(id) = &outcome {
        let signup = signups::get(&s.db, id).await?;
        let notice = Notice {
            module: Module::Registry,
            subject_id: Some(id.clone()),
            path: signup.path.clone(),
            link: Some("/registry/signups".into()),
            message: wangge_domain::msg!(
                "notice.signup",
                building = &signup.building_number,
                unit = &signup.unit,
                room = &signup.room,
                name = &signup.resident_name
            ),
        };
        crate::notify(
            &s.db,
            s.site.public_url(),
            &Audience::Role { role: Role::GridMember, path: signup.path },
            notice,
        )
        .await?;
    }
    // Recorded without the number: the log says a sign-up came, and whether it matched.
    let (action, target) = match &outcome {
        SignupOutcome::Queued(id) => (AuditAction::SignupRequest, Some(id.as_str())),
        _ => (AuditAction::SignupUnmatched, None),
    };
    let event = Event { target_kind: target.map(|_| "signup"), target_id: target, ..Event::of(action) };
    // No actor name: the sign-up's only names are the person's own and their phone.
    audit::log(&s.db, None, None, &address, event).await?;
    Ok(render(lang, StatusCode::OK, "portal/signup_sent.html", context! { lang => lang.code }))
}

// ---- my requests: report a problem, follow it, rate it ----

#[derive(Serialize)]
struct MyItem {
    id: String,
    title: String,
    status: String,
    date: String,
}

pub async fn requests(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    if staff(&p) {
        return Ok(Redirect::to("/demands").into_response());
    }
    let filter = DemandFilter { reporter_account_id: Some(p.actor_id().to_owned()), ..Default::default() };
    let items: Vec<MyItem> = demands::list(&s.db, &filter, PageRequest::new(Some(1), Some(50)))
        .await?
        .items
        .into_iter()
        .map(|d| MyItem {
            status: plain_status(d.status, lang),
            date: crate::shared::render::local_time(d.created_at).chars().take(10).collect(),
            id: d.id,
            title: d.title,
        })
        .collect();
    let ctx = context! { items => Value::from(Serde(&items)), ..portal_ctx(&p, lang) };
    Ok(render(lang, StatusCode::OK, "portal/requests.html", ctx))
}

/// A state in the words a resident uses.
pub(crate) fn plain_status(status: DemandStatus, lang: Lang) -> String {
    tr(status.plain_key(), lang.code)
}

/// The building of the resident's household: where their reports are put.
async fn my_building(s: &AppState, p: &Principal) -> Result<Option<String>, ApiError> {
    let Actor::Account { id, .. } = &p.actor else { return Ok(None) };
    let account = accounts::get(&s.db, id).await?;
    Ok(match account.household_id {
        Some(h) => Some(households::get(&s.db, &h).await?.building_id),
        None => None,
    })
}

async fn new_request_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    status: StatusCode,
    error: Option<String>,
    values: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let bound = my_building(s, p).await?.is_some();
    let under = p.scopes.first().map(|scope| scope.path.clone());
    let categories = crate::demands::pages::report_categories(s, lang, under.as_deref()).await?;
    let ctx = context! {
        bound => bound, categories => Value::from(Serde(&categories)), error => error,
        values => values, max_photos => demands::attachments::MAX_PER_ITEM,
        ..portal_ctx(p, lang)
    };
    Ok(render(lang, status, "portal/request_new.html", ctx))
}

pub async fn new_request(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    if staff(&p) {
        return Ok(Redirect::to("/demands/new").into_response());
    }
    new_request_page(&s, &p, lang, StatusCode::OK, None, &HashMap::new()).await
}

/// A resident reports from the portal: what is wrong and photos, at their
/// household's building; "is it one of these?" first when the same matter is
/// already open there or nearby (see `photo_forms`).
pub async fn submit_request(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    posted: PhotoForm,
) -> Result<Response, ApiError> {
    let owner = p.actor_id().to_owned();
    let Some(posted) = photo_forms::split(&s, &owner, posted).await? else {
        let error = Some(tr("offer.expired", lang.code));
        return new_request_page(&s, &p, lang, StatusCode::CONFLICT, error, &HashMap::new()).await;
    };
    let form = &posted.form;
    let again = |error: String| {
        let values = form.fields().clone();
        let (s, p) = (s.clone(), p.clone());
        async move { new_request_page(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(error), &values).await }
    };
    let Some(building) = my_building(&s, &p).await?.filter(|_| !staff(&p)) else {
        return again(tr("portal.not_confirmed", lang.code)).await;
    };
    let description = form.get("description").to_owned();
    if description.chars().count() < 4 {
        return again(tr("report.too_short", lang.code)).await;
    }
    if let Some(refusal) = &form.refused {
        return again(refusal.message(lang)).await;
    }
    let new = NewDemand {
        building_id: Some(building.clone()),
        category: form.get("category").to_owned(),
        channel: Some(wangge_domain::Channel::Portal),
        title: description.chars().take(30).collect(),
        description,
        reporter_name: Some(p.actor_name()),
        ..Default::default()
    };
    let place = match photo_forms::place_of(&s, &new, lang, |_| true).await? {
        Ok(place) => place,
        Err(refusal) => return again(refusal).await,
    };
    let around = photo_forms::Around {
        building: Some(&building),
        under_path: &place,
        building_only: false,
        title: &new.title,
        at: new.lat.zip(new.lng),
    };
    let duplicate_of = match photo_forms::next(&s, &posted, &new.category, around, &owner, lang).await? {
        photo_forms::Next::Record(into) => into,
        photo_forms::Next::Busy => return again(tr("offer.busy", lang.code)).await,
        photo_forms::Next::Offer { draft, offers } => {
            let ctx = portal_ctx(&p, lang);
            let files = form.files.len();
            return Ok(photo_forms::offer_page(lang, false, "/portal/requests", &draft, &offers, files, ctx));
        }
    };
    let gone = posted.chose_gone(duplicate_of.as_ref());
    let extras = Extras { files: &form.files, duplicate_of: duplicate_of.as_deref(), draft: posted.draft() };
    let actor = crate::demands::api::actor(&p);
    let d = match demands::create_with(&s.db, new, &actor, Some(p.actor_id()), extras, |_| None).await {
        Ok(d) => d,
        Err(wangge_store::StoreError::Invalid(m) | wangge_store::StoreError::TooLarge(m)) => {
            return again(say(&m, lang.code)).await;
        }
        Err(wangge_store::StoreError::Conflict(_)) if posted.answer.is_some() => {
            return again(tr("offer.expired", lang.code)).await;
        }
        Err(e) => return Err(e.into()),
    };
    audit::change(&s.db, (&p, &address), AuditAction::DemandCreate, audit::Target("demand", &d.id, &d.path), None, &d)
        .await?;
    let d = crate::demands::api::auto_dispatch(&s, &address, d).await;
    let suffix = if gone { "?gone=1" } else { "" };
    Ok(Redirect::to(&format!("/portal/requests/{}{suffix}", d.id)).into_response())
}

/// One of my reports, if it is mine.
async fn mine(s: &AppState, p: &Principal, id: &str) -> Result<wangge_store::demands::Demand, ApiError> {
    let d = demands::get(&s.db, id).await?;
    if d.reporter_account_id.as_deref() != Some(p.actor_id()) {
        return Err(crate::shared::auth::unknown(Thing::Demand, id));
    }
    Ok(d)
}

#[derive(Serialize)]
pub(crate) struct PlainEvent {
    date: String,
    what: String,
    note: String,
}

#[derive(Deserialize)]
pub struct RequestQuery {
    gone: Option<u8>,
}

/// An item's timeline in plain words, for the reporter (the portal, the tracking page).
pub(crate) async fn plain_timeline(s: &AppState, id: &str, lang: Lang) -> Result<Vec<PlainEvent>, ApiError> {
    Ok(demands::timeline(&s.db, id)
        .await?
        .into_iter()
        .map(|e| PlainEvent {
            date: crate::shared::render::local_time(e.at).chars().take(16).collect(),
            what: plain_status(e.to_status, lang),
            // Handlers' notes are for the resident too, except reasons for escalation.
            note: if matches!(e.step, EventKind::Step(Step::Escalate | Step::HandBack)) {
                String::new()
            } else {
                e.note
            },
        })
        .collect())
}

/// The words of the five scores, best first; none of them chosen beforehand.
pub(crate) fn scores(lang: Lang) -> Vec<(u8, String)> {
    (1..=5).rev().map(|n| (n, tr(&format!("portal.score_{n}"), lang.code))).collect()
}

/// Whether the reporter may rate `d` now: closed and within its time to rate.
pub(crate) fn can_rate(d: &wangge_store::demands::Demand) -> bool {
    d.status == DemandStatus::Closed && demands::rating_due_of(d) >= wangge_domain::now_millis()
}

/// "Please rate by …": the end of the time to rate, in the reader's words.
pub(crate) fn rate_until(d: &wangge_store::demands::Demand, lang: Lang) -> String {
    let day: String = crate::shared::render::local_time(demands::rating_due_of(d)).chars().take(10).collect();
    tr("track.rate_until", lang.code).replace("%{date}", &day)
}

pub async fn request_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
    Query(q): Query<RequestQuery>,
) -> Result<Response, ApiError> {
    let d = mine(&s, &p, &id).await?;
    let (number, link) = crate::demands::pages::track::number_and_link(&s, &reached.base, &d);
    let photos = photo_forms::photo_links(&s, &id, lang).await?;
    // Handled together with another item: where that one stands, in plain words.
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
    let ctx = context! {
        d => Value::from(Serde(&d)), status => plain_status(d.status, lang),
        timeline => Value::from(Serde(&timeline)), can_rate => can_rate(&d), rate_until => rate_until(&d, lang),
        photos => Value::from(Serde(&photos)), merged_with => merged_with, gone => q.gone.is_some(),
        scores => scores(lang), number => number, link => link,
        ..portal_ctx(&p, lang)
    };
    Ok(render(lang, StatusCode::OK, "portal/request.html", ctx))
}

/// A photo of one of my reports.
pub async fn request_photo(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path((id, photo)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let d = mine(&s, &p, &id).await?;
    photo_forms::serve_photo(&s, &p, &address, &d, &photo).await
}

#[derive(Deserialize)]
pub struct RateForm {
    score: u8,
    #[serde(default)]
    comment: String,
}

/// The resident rates their closed report; 1–3 reopens it once for redoing.
pub async fn rate_request(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<RateForm>,
) -> Result<Response, ApiError> {
    let before = mine(&s, &p, &id).await?;
    let input = StepInput { note: form.comment.trim().to_owned(), score: Some(form.score), ..Default::default() };
    let taken = demands::take_step(&s.db, &id, Step::Rate, &crate::demands::api::actor(&p), input).await?;
    let target = audit::Target("demand", &id, &before.path);
    audit::change(&s.db, (&p, &address), AuditAction::DemandRate, target, Some(&before), &taken.demand).await?;
    crate::shared::webhooks::fire(s.db.clone(), s.site.public_url(), taken.demand.clone(), taken.event.clone());
    Ok(Redirect::to(&format!("/portal/requests/{id}")).into_response())
}

/// This module's pages, each with who may open it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use crate::shared::routes::Limit;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/portal", Authenticated, home)
        .get("/portal/household", Authenticated, household)
        // A resident's own reports: the handlers check the reporter is the caller.
        .get("/portal/requests", Authenticated, requests)
        .get("/portal/requests/new", Authenticated, new_request)
        .get("/portal/requests/{id}", Authenticated, request_page)
        .get("/portal/requests/{id}/photos/{photo}", Authenticated, request_photo)
        .post("/portal/requests/{id}/rate", Role(RateDemand), rate_request)
        .get("/portal/signup", Public, signup_form)
        .post("/portal/signup", Public, signup_submit)
        .post_limited("/portal/requests", Role(SubmitDemand), Limit::Photos, submit_request)
}
