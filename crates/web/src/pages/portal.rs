//! The residents' portal: a separate entry with large type, high contrast, big
//! touch targets, plain words and one task per page, for people in their sixties on
//! old phones and in the WeChat in-app browser. Its pages use `portal_base.html`,
//! not the staff frame.
//!
//! Today it holds "my household" and signing up; the places for requests, notices,
//! surveys and activities are designed (see `PORTAL_TASKS`) and appear as their
//! modules are built.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::{IdCardNumber, ResidentStatus, Role};
use wangge_store::residents::{self, ResidentFilter};
use wangge_store::signups::{self, SignupOutcome, SignupRequest};
use wangge_store::{PageRequest, accounts, households};

use super::{Lang, label, render, tr};
use crate::audit::{self, Event};
use crate::auth::{Actor, ClientAddress, Principal};
use crate::{ApiError, AppState};

/// The portal's tasks in the order residents see them: (id, href, catalogue key,
/// built). Unbuilt ones stay hidden until their module lands.
const PORTAL_TASKS: [(&str, &str, &str, bool); 5] = [
    ("task-household", "/portal/household", "portal.household", true),
    ("task-requests", "/portal/requests", "portal.requests", false),
    ("task-notices", "/portal/notices", "portal.notices", false),
    ("task-surveys", "/portal/surveys", "portal.surveys", false),
    ("task-activities", "/portal/activities", "portal.activities", false),
];

#[derive(Serialize)]
struct Task {
    id: &'static str,
    href: &'static str,
    label: String,
}

fn portal_ctx(p: &Principal, lang: Lang) -> Value {
    context! { lang => lang.code, user => p.actor_name(), csrf => p.csrf_token.clone().unwrap_or_default() }
}

/// Staff who open the portal are sent to their own side.
fn staff(p: &Principal) -> bool {
    p.role != Role::Resident
}

pub async fn home(lang: Lang, p: Principal) -> Response {
    if staff(&p) {
        return Redirect::to("/registry").into_response();
    }
    let tasks: Vec<Task> = PORTAL_TASKS
        .iter()
        .filter(|t| t.3)
        .map(|&(id, href, key, _)| Task { id, href, label: tr(key, lang.code) })
        .collect();
    render(
        lang,
        StatusCode::OK,
        "portal_home.html",
        context! { tasks => Value::from(Serde(&tasks)), ..portal_ctx(&p, lang) },
    )
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
        return Ok(Redirect::to("/registry").into_response());
    }
    let Actor::Account { id, .. } = &p.actor else { return Ok(Redirect::to("/login").into_response()) };
    let account = accounts::get(&s.db, id).await?;
    let Some(household_id) = account.household_id else {
        return Ok(render(lang, StatusCode::OK, "portal_household.html", portal_ctx(&p, lang)));
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
    Ok(render(lang, StatusCode::OK, "portal_household.html", ctx))
}

pub async fn signup_form(lang: Lang) -> Response {
    render(lang, StatusCode::OK, "portal_signup.html", context! { lang => lang.code })
}

#[derive(Deserialize)]
pub struct SignupForm {
    name: String,
    id_card: String,
    username: String,
    password: String,
}

/// Takes a sign-up. The answer is the same whether or not the person was found on
/// the roll, so the form tells nobody who lives where; only a bad number, a weak
/// password or a taken user name are said plainly.
pub async fn signup_submit(
    State(s): State<AppState>,
    lang: Lang,
    address: ClientAddress,
    Form(form): Form<SignupForm>,
) -> Result<Response, ApiError> {
    let again = |error: String| {
        let ctx =
            context! { lang => lang.code, error => error, name => form.name.trim(), username => form.username.trim() };
        Ok(render(lang, StatusCode::UNPROCESSABLE_ENTITY, "portal_signup.html", ctx))
    };
    let id_card = match IdCardNumber::parse(&form.id_card) {
        Ok(id) => id,
        Err(e) => return again(format!("{}: {e}", tr("signup.id_card", lang.code))),
    };
    let request = SignupRequest {
        name: form.name.clone(),
        id_card,
        username: form.username.clone(),
        password: form.password.clone(),
    };
    let outcome = match signups::request(&s.db, request).await {
        Ok(outcome) => outcome,
        Err(wangge_store::StoreError::Invalid(message)) => return again(message),
        Err(e) => return Err(e.into()),
    };
    if outcome == SignupOutcome::UsernameTaken {
        return again(tr("signup.taken", lang.code));
    }
    // Recorded without the number: the log says a sign-up came, and whether it matched.
    let (action, target) = match &outcome {
        SignupOutcome::Queued(id) => ("signup.request", Some(id.as_str())),
        _ => ("signup.unmatched", None),
    };
    let event = Event { action, target_kind: target.map(|_| "signup"), target_id: target, ..Default::default() };
    audit::log(&s.db, None, Some(form.username.trim()), &address, event).await?;
    Ok(render(lang, StatusCode::OK, "portal_signup_sent.html", context! { lang => lang.code }))
}
