//! Activities on the residents' portal: what is coming in one's community and
//! grid, signing up a member of one's household (a place or the waiting list),
//! cancelling, the QR code the staff at the door scan, and one question afterwards
//! (nothing chosen beforehand) with a comment.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;
use wangge_domain::activities::{SignupChannel, SignupState};
use wangge_domain::{AuditAction, Module, ResidentStatus, msg, now_millis};
use wangge_store::activities::{self, Activity, Signup, Who};
use wangge_store::notifications::{self, Audience};
use wangge_store::registry::residents::{self, ResidentFilter};
use wangge_store::{PageRequest, StoreError, Thing};

use super::{Pairs, card, field};
use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::render::{Lang, label, local_time, render};
use crate::{ApiError, AppState};

const DAY: i64 = 86_400_000;

use crate::portal::pages::{Home, home_of};

fn portal_ctx(p: &Principal, lang: Lang) -> Value {
    crate::portal::pages::portal_ctx(p, lang)
}

#[derive(Serialize)]
struct Row {
    card: super::Card,
    mine: Option<&'static str>,
}

/// What is coming (the next 60 days) in one's community and grid, with one's own
/// sign-ups marked; then one's past activities, to rate.
pub async fn list(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    let Some(home) = home_of(&s, &p).await? else {
        return Ok(Redirect::to(crate::shared::render::home_of(p.role)).into_response());
    };
    let now = now_millis();
    let mine = activities::of_account(&s.db, &home.account).await?;
    let state_of = |a: &Activity| {
        mine.iter().find(|x| x.activity_id == a.id && x.state != SignupState::Cancelled).map(|x| label(x.state, lang))
    };
    let coming: Vec<Row> = activities::under(&s.db, &home.path, now - 3 * 3_600_000, now + 60 * DAY)
        .await?
        .iter()
        .filter(|a| !a.cancelled && a.ends_at > now)
        .map(|a| Row { card: card(a, lang), mine: state_of(a) })
        .collect();
    let mut past = Vec::new();
    for x in mine.iter().filter(|x| x.checked_in_at.is_some()) {
        let a = activities::get(&s.db, &x.activity_id).await?;
        if a.ends_at <= now {
            past.push(context! { card => Value::from(Serde(&card(&a, lang))), rated => x.score.is_some() });
        }
    }
    let ctx = context! { coming => Value::from(Serde(&coming)), past => past, ..portal_ctx(&p, lang) };
    Ok(render(lang, StatusCode::OK, "activities/portal_list.html", ctx))
}

/// The activity a resident may open: of their community or their own grid (an
/// activity's area is one of the two, so it is theirs when it holds their home).
async fn reachable(s: &AppState, home: &Home, id: &str) -> Result<Activity, ApiError> {
    match activities::get(&s.db, id).await {
        Ok(a) if home.path.starts_with(&a.path) => Ok(a),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(unknown(Thing::Activity, id)),
        Err(e) => Err(e.into()),
    }
}

/// One's own sign-up for an activity, if any (not cancelled).
async fn own_signup(s: &AppState, home: &Home, a: &Activity) -> Result<Option<Signup>, ApiError> {
    Ok(activities::of_account(&s.db, &home.account)
        .await?
        .into_iter()
        .find(|x| x.activity_id == a.id && x.state != SignupState::Cancelled))
}

/// An activity: when, where, places left; sign a member of the household up, or
/// one's sign-up with its QR code for the door, cancelling, and the rating after.
pub async fn page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Some(home) = home_of(&s, &p).await? else { return Err(unknown(Thing::Activity, &id)) };
    let a = reachable(&s, &home, &id).await?;
    activity_page(&s, &p, lang, &reached, &home, &a, None, StatusCode::OK).await
}

#[allow(clippy::too_many_arguments)]
async fn activity_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    reached: &crate::shared::site::Reached,
    home: &Home,
    a: &Activity,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let now = now_millis();
    let signup = own_signup(s, home, a).await?;
    let filter = ResidentFilter {
        household_id: Some(home.household.clone()),
        status: Some(ResidentStatus::Active),
        ..Default::default()
    };
    let people: Vec<(String, String)> = residents::list(&s.db, &filter, PageRequest::new(Some(1), Some(50)))
        .await?
        .items
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let qr = match &signup {
        Some(x) if x.state == SignupState::Confirmed && now <= a.ends_at => {
            let url = format!("{}/activities/signups/{}", reached.base, x.id);
            Some(Value::from_safe_string(crate::demands::pages::posters::qr_svg(&url, 180)?))
        }
        _ => None,
    };
    let may_rate = signup.as_ref().is_some_and(|x| {
        wangge_domain::activities::may_rate(x.checked_in_at.is_some(), now >= a.ends_at, x.score.is_some()).is_ok()
    });
    let full = a.capacity.is_some_and(|c| a.confirmed >= c);
    let photos = activities::photos(&s.db, &a.id).await?;
    let ctx = context! {
        a => Value::from(Serde(a)), c => Value::from(Serde(&card(a, lang))),
        signup => signup.as_ref().map(|x| context! {
            state => label(x.state, lang), waiting => x.state == SignupState::Waiting, name => &x.name,
            checked_in => x.checked_in_at.map(local_time), score => x.score, comment => &x.comment,
        }),
        one_person => people.len() == 1, people => people, qr => qr, may_rate => may_rate, full => full,
        photos => Value::from(Serde(&photos)),
        before => now < a.starts_at, error => error, scores => crate::portal::pages::scores(lang),
        ..portal_ctx(p, lang)
    };
    Ok(render(lang, status, "activities/portal_activity.html", ctx))
}

async fn answer(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    reached: &crate::shared::site::Reached,
    home: &Home,
    a: &Activity,
    result: Result<(), ApiError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/portal/activities/{}", a.id)).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let a = activities::get(&s.db, &a.id).await?;
            activity_page(s, p, lang, reached, home, &a, Some(e.said(lang.code)), StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(e) => Err(e),
    }
}

/// Signs up the member of the household chosen (`resident_id`).
pub async fn sign_up(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let Some(home) = home_of(&s, &p).await? else { return Err(unknown(Thing::Activity, &id)) };
    let a = reachable(&s, &home, &id).await?;
    let result = async {
        let chosen = field(&pairs, "resident_id");
        if chosen.is_empty() {
            return Err(ApiError::invalid(msg!("activities.error.choose_person").field("resident_id")));
        }
        let r = residents::get(&s.db, chosen).await.map_err(|_| unknown(Thing::Resident, chosen))?;
        if r.household_id.as_deref() != Some(home.household.as_str()) {
            return Err(unknown(Thing::Resident, chosen));
        }
        let who = Who { resident_id: Some(r.id.clone()), account_id: Some(home.account.clone()), name: r.name.clone() };
        let x = activities::sign_up(&s.db, &a.id, &who, SignupChannel::Portal, &p.actor_name(), now_millis()).await?;
        let summary = serde_json::json!({ "signup": x.id, "state": x.state });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::ActivitySignup,
            Target("activity", &a.id, &a.path),
            None,
            &summary,
        )
        .await?;
        Ok(())
    }
    .await;
    answer(&s, &p, lang, &reached, &home, &a, result).await
}

/// Tells whoever moved up from the waiting list, through their notifications.
pub(crate) async fn tell_moved_up(s: &AppState, a: &Activity, moved: &Signup) -> Result<(), ApiError> {
    if let Some(account) = &moved.account_id {
        let n = notifications::Notice {
            module: Module::Participation,
            subject_id: Some(a.id.clone()),
            path: a.path.clone(),
            link: Some(format!("/portal/activities/{}", a.id)),
            message: msg!("activities.notice.moved_up", title = &a.title, name = &moved.name),
        };
        notifications::notify(&s.db, &Audience::Account(account.clone()), &n).await?;
    }
    Ok(())
}

/// Cancels one's sign-up; the first of the waiting list moves up and is told.
pub async fn cancel(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Some(home) = home_of(&s, &p).await? else { return Err(unknown(Thing::Activity, &id)) };
    let a = reachable(&s, &home, &id).await?;
    let result = async {
        let Some(x) = own_signup(&s, &home, &a).await? else {
            return Err(ApiError::invalid(msg!("activities.error.not_signed_up")));
        };
        let moved = activities::cancel(&s.db, &x.id, now_millis()).await?;
        if let Some(m) = &moved {
            tell_moved_up(&s, &a, m).await?;
        }
        let summary = serde_json::json!({ "signup": x.id, "moved_up": moved.map(|m| m.id) });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::ActivityCancel,
            Target("activity", &a.id, &a.path),
            None,
            &summary,
        )
        .await?;
        Ok(())
    }
    .await;
    answer(&s, &p, lang, &reached, &home, &a, result).await
}

/// One question afterwards (`score` 1–5, chosen by the resident) and a comment.
pub async fn rate(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let Some(home) = home_of(&s, &p).await? else { return Err(unknown(Thing::Activity, &id)) };
    let a = reachable(&s, &home, &id).await?;
    let result = async {
        let Some(x) = own_signup(&s, &home, &a).await? else {
            return Err(ApiError::invalid(msg!("activities.error.not_signed_up")));
        };
        let score = field(&pairs, "score").parse().ok();
        let rated = activities::rate(&s.db, &x.id, score, field(&pairs, "comment"), now_millis()).await?;
        let summary = serde_json::json!({ "signup": x.id, "score": rated.score });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::ActivityRate,
            Target("activity", &a.id, &a.path),
            None,
            &summary,
        )
        .await?;
        Ok(())
    }
    .await;
    answer(&s, &p, lang, &reached, &home, &a, result).await
}

/// A photo of an activity of the resident's community or grid.
pub async fn photo(State(s): State<AppState>, p: Principal, Path(id): Path<String>) -> Result<Response, ApiError> {
    let Some(home) = home_of(&s, &p).await? else { return Err(unknown(Thing::ActivityPhoto, &id)) };
    let (photo, data) = activities::photo(&s.db, &id).await?;
    reachable(&s, &home, &photo.activity_id).await.map_err(|_| unknown(Thing::ActivityPhoto, &id))?;
    Ok(crate::shared::api::private_file(&photo.content_type, "inline", data))
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    crate::shared::routes::Routes::new()
        // A resident's own: the handlers show only their community's and grid's.
        .get("/portal/activities", Authenticated, list)
        .get("/portal/activities/{id}", Authenticated, page)
        .post("/portal/activities/{id}/signup", Authenticated, sign_up)
        .post("/portal/activities/{id}/cancel", Authenticated, cancel)
        .post("/portal/activities/{id}/rate", Authenticated, rate)
        .get("/portal/activity-photos/{id}", Authenticated, photo)
}
