//! Activities (社区活动, issue 25): staff announce them (`/activities`, a month's
//! calendar per scope, with satisfaction per kind by quarter), sign residents up
//! on their behalf, and check people in at the door from the list, from the QR
//! code a resident shows (`/activities/signups/{id}`), or let them check
//! themselves in on the door's QR page (`/a/{id}`: name and the phone's last four
//! digits, no JavaScript). The printable sheet carries both QR codes and a list to
//! tick. Residents sign up, cancel and rate on the portal (`portal`). The rules
//! are `wangge_store::activities` and `wangge_domain::activities`.

pub(crate) mod portal;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::activities::{ActivityKind, SignupChannel, SignupState};
use wangge_domain::{AreaLevel, AuditAction, ResidentStatus, Vocabulary, msg, now_millis};
use wangge_store::activities::{self, Activity, NewActivity, Signup, Who};
use wangge_store::registry::areas::{self, AreaFilter};
use wangge_store::registry::residents::{self, ResidentFilter};
use wangge_store::{PageRequest, StoreError, Thing};

use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::render::{Lang, frame, label, local_time, render, tr};
use crate::{ApiError, AppState};

type Pairs = Vec<(String, String)>;

fn field<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
}

use wangge_domain::party::Period;

/// China time is UTC+8 all year.
const CHINA: i64 = 8 * 3_600_000;

/// A month named `YYYY-MM`.
fn month_named(text: &str) -> Option<Period> {
    Period::parse(text).filter(|p| p.months == 1)
}

/// An activity the caller may see: at or under one of their scopes, or the
/// community's own activity seen from one of its grids (its residents go too).
pub(crate) async fn activity_in_scope(s: &AppState, p: &Principal, id: &str) -> Result<Activity, ApiError> {
    match activities::get(&s.db, id).await {
        // Activities are of a community or a grid: the ancestors of a scope they can
        // be are the scope's community (or the grid itself).
        Ok(a) if p.can_see(&a.path) || p.is_above_scope(&a.path) => Ok(a),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(unknown(Thing::Activity, id)),
        Err(e) => Err(e.into()),
    }
}

/// A sign-up and its activity, if the caller may see the activity.
async fn signup_in_scope(s: &AppState, p: &Principal, id: &str) -> Result<(Signup, Activity), ApiError> {
    let signup = activities::signup(&s.db, id).await?;
    let a = activity_in_scope(s, p, &signup.activity_id).await.map_err(|_| unknown(Thing::ActivitySignup, id))?;
    Ok((signup, a))
}

#[derive(Serialize)]
pub(crate) struct Card {
    id: String,
    title: String,
    kind: &'static str,
    place: String,
    when: String,
    day: String,
    places: String,
    waiting: i64,
    cancelled: bool,
}

pub(crate) fn card(a: &Activity, lang: Lang) -> Card {
    let starts = local_time(a.starts_at);
    let ends = local_time(a.ends_at);
    let when = if starts[..10] == ends[..10] {
        format!("{}–{}", &starts[..16], &ends[11..16])
    } else {
        format!("{} – {}", &starts[..16], &ends[..16])
    };
    let places = match a.capacity {
        Some(c) => format!("{}/{c}", a.confirmed),
        None => a.confirmed.to_string(),
    };
    Card {
        id: a.id.clone(),
        title: a.title.clone(),
        kind: label(a.kind, lang),
        place: a.place.clone(),
        day: starts[..10].to_owned(),
        when,
        places,
        waiting: a.waiting,
        cancelled: a.cancelled,
    }
}

#[derive(Deserialize)]
pub struct MonthQuery {
    month: Option<String>,
}

#[derive(Serialize)]
struct KindRow {
    kind: &'static str,
    cells: Vec<String>,
}

/// The calendar of a month over the caller's scopes (and their community's own
/// activities), by day; below it, satisfaction per kind over the last four
/// quarters — the seed's "12 % unsatisfied with cultural activities".
pub async fn list(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<MonthQuery>,
) -> Result<Response, ApiError> {
    let now = now_millis();
    let month = q.month.as_deref().and_then(month_named).unwrap_or_else(|| Period::at(now, 1));
    let (from, to) = month.millis();
    let mut seen = std::collections::BTreeMap::new();
    for scope in &p.scopes {
        for a in activities::under(&s.db, &scope.path, from, to).await? {
            seen.entry((a.starts_at, a.id.clone())).or_insert(a);
        }
    }
    let cards: Vec<Card> = seen.values().map(|a| card(a, lang)).collect();
    // Satisfaction per kind, by quarter, over the first scope (a grid member's grid,
    // a secretary's community); each cell "unsatisfied / answers (share)".
    let mut quarters = Vec::new();
    let mut kinds: Vec<KindRow> =
        ActivityKind::all().iter().map(|k| KindRow { kind: label(*k, lang), cells: Vec::new() }).collect();
    if let Some(scope) = p.scopes.first() {
        let this = Period::at(now, 3);
        let mut periods = vec![this];
        for _ in 0..3 {
            let earlier = periods[periods.len() - 1].previous();
            periods.push(earlier);
        }
        periods.reverse();
        for period in &periods {
            quarters.push(period.label());
            let (start, end) = period.millis();
            let found = activities::satisfaction(&s.db, &scope.path, start, end).await?;
            for (row, kind) in kinds.iter_mut().zip(ActivityKind::all()) {
                let cell = match found.iter().find(|(k, ..)| k == kind) {
                    Some((_, part, whole)) if *whole > 0 => {
                        format!("{part}/{whole} ({:.0}%)", *part as f64 * 100.0 / *whole as f64)
                    }
                    _ => "—".to_owned(),
                };
                row.cells.push(cell);
            }
        }
    }
    let next = Period::containing(month.end(), 1);
    let ctx = context! {
        cards => Value::from(Serde(&cards)), month => month.label(), prev => month.previous().label(),
        next => next.label(),
        quarters => quarters, kinds => Value::from(Serde(&kinds)),
        ..frame(&p, lang, "/activities")
    };
    Ok(render(lang, StatusCode::OK, "activities/list.html", ctx))
}

/// The areas one may announce in: one's community scopes and the grids under them,
/// or one's grids.
async fn places_of(s: &AppState, p: &Principal) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for scope in &p.scopes {
        let area = areas::get_by_path(&s.db, &scope.path).await?;
        match area.level {
            AreaLevel::Community => {
                out.push((area.id.clone(), area.name.clone()));
                let filter = AreaFilter { parent_id: Some(area.id.clone()), ..Default::default() };
                for g in areas::list(&s.db, &filter, PageRequest::new(Some(1), Some(200))).await?.items {
                    out.push((g.id, format!("{} · {}", area.name, g.name)));
                }
            }
            AreaLevel::Grid => out.push((area.id, area.name)),
            _ => {}
        }
    }
    Ok(out)
}

pub async fn new_form(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    form_page(&s, &p, lang, &Pairs::new(), None, StatusCode::OK).await
}

async fn form_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    given: &Pairs,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let kinds: Vec<(&str, &str)> = ActivityKind::all().iter().map(|k| (k.code(), label(*k, lang))).collect();
    // Every field of the form, empty unless given (the template reads each).
    let mut values: std::collections::BTreeMap<String, String> =
        ["area_id", "kind", "title", "place", "day", "starts", "ends", "capacity", "detail"]
            .iter()
            .map(|k| ((*k).to_owned(), String::new()))
            .collect();
    values.extend(given.iter().cloned());
    let given = values;
    let ctx = context! {
        places => places_of(s, p).await?, kinds => kinds, given => given, error => error,
        ..frame(p, lang, "/activities")
    };
    Ok(render(lang, status, "activities/new.html", ctx))
}

/// `YYYY-MM-DD` and `HH:MM` in China time to Unix ms.
fn instant(day: &str, at: &str) -> Option<i64> {
    let date = time::Date::parse(day, &time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    let (h, m) = at.split_once(':')?;
    let t = time::Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()?;
    Some(date.with_time(t).assume_utc().unix_timestamp() * 1000 - CHINA)
}

/// Announces an activity in one of the caller's areas.
pub async fn create(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let area_id = field(&pairs, "area_id").to_owned();
    let area = p.refer(areas::get(&s.db, &area_id).await, Thing::Area, &area_id, |a| &a.path)?;
    let result = async {
        let day = field(&pairs, "day");
        let starts_at = instant(day, field(&pairs, "starts"))
            .ok_or_else(|| ApiError::invalid(msg!("activities.error.when").field("day")))?;
        let ends_at = instant(day, field(&pairs, "ends"))
            .ok_or_else(|| ApiError::invalid(msg!("activities.error.when").field("ends")))?;
        let capacity = match field(&pairs, "capacity") {
            "" => None,
            c => Some(c.parse().map_err(|_| ApiError::invalid(msg!("activities.error.capacity").field("capacity")))?),
        };
        let kind = ActivityKind::from_code(field(&pairs, "kind"))
            .ok_or_else(|| ApiError::invalid(msg!("activities.error.kind").field("kind")))?;
        let new = NewActivity {
            area_id: area.id.clone(),
            kind,
            title: field(&pairs, "title").to_owned(),
            detail: field(&pairs, "detail").to_owned(),
            place: field(&pairs, "place").to_owned(),
            starts_at,
            ends_at,
            capacity,
        };
        let a = activities::create(&s.db, new, &p.actor_name()).await?;
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::ActivitySave,
            Target("activity", &a.id, &a.path),
            None,
            &a.title,
        )
        .await?;
        Ok::<_, ApiError>(a)
    }
    .await;
    match result {
        Ok(a) => Ok(Redirect::to(&format!("/activities/{}", a.id)).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            form_page(&s, &p, lang, &pairs, Some(e.said(lang.code)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Serialize)]
struct SignupRow {
    id: String,
    name: String,
    state: &'static str,
    waiting: bool,
    confirmed: bool,
    channel: &'static str,
    checked_in: Option<String>,
    checked_out: Option<String>,
    minutes: Option<i64>,
    score: Option<i64>,
    comment: Option<String>,
}

fn signup_row(x: &Signup, lang: Lang) -> SignupRow {
    let clock = |ms: i64| local_time(ms).chars().skip(11).take(5).collect::<String>();
    SignupRow {
        id: x.id.clone(),
        name: x.name.clone(),
        state: label(x.state, lang),
        waiting: x.state == SignupState::Waiting,
        confirmed: x.state == SignupState::Confirmed,
        channel: label(x.channel, lang),
        checked_in: x.checked_in_at.map(clock),
        checked_out: x.checked_out_at.map(clock),
        minutes: x.minutes(),
        score: x.score,
        comment: x.comment.clone().filter(|c| !c.is_empty()),
    }
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    /// A name (or part of one) or a phone's last digits: residents to sign up.
    q: Option<String>,
}

/// An activity: when and where, places and the waiting list, the list of sign-ups
/// with check-in and check-out, signing a resident up (found by name), the answers.
pub async fn page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let a = activity_in_scope(&s, &p, &id).await?;
    activity_page(&s, &p, lang, &a, q.q.as_deref(), None, StatusCode::OK).await
}

async fn activity_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    a: &Activity,
    search: Option<&str>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let list = activities::signups(&s.db, &a.id).await?;
    let rows: Vec<SignupRow> =
        list.iter().filter(|x| x.state != SignupState::Cancelled).map(|x| signup_row(x, lang)).collect();
    let rated: Vec<i64> = list.iter().filter_map(|x| x.score).collect();
    let unsatisfied = rated.iter().filter(|&&n| wangge_domain::activities::unsatisfied(n)).count();
    let came = list.iter().filter(|x| x.checked_in_at.is_some()).count();
    // Residents to sign up: found by name under the activity's area and the caller's scope.
    let mut found: Vec<(String, String)> = Vec::new();
    if let Some(q) = search.map(str::trim).filter(|q| !q.is_empty()) {
        let filter = ResidentFilter {
            under_path: Some(a.path.clone()),
            status: Some(ResidentStatus::Active),
            q: Some(q.to_owned()),
            ..Default::default()
        };
        for r in residents::list(&s.db, &filter, PageRequest::new(Some(1), Some(20))).await?.items {
            if p.can_see(&r.path) {
                let door = format!(
                    "{}-{}-{}",
                    r.building_number.unwrap_or_default(),
                    r.unit.unwrap_or_default(),
                    r.room.unwrap_or_default()
                );
                found.push((r.id, format!("{} · {door}", r.name)));
            }
        }
    }
    let now = now_millis();
    let photos = activities::photos(&s.db, &a.id).await?;
    let ctx = context! {
        photos => Value::from(Serde(&photos)), max_photos => activities::MAX_PHOTOS,
        a => Value::from(Serde(a)), c => Value::from(Serde(&card(a, lang))), rows => Value::from(Serde(&rows)),
        answers => rated.len(), unsatisfied => unsatisfied, came => came,
        search => search.unwrap_or_default(), found => found, error => error,
        before => now < a.starts_at, door_open => now >= a.starts_at - 3_600_000 && now <= a.ends_at + 3_600_000,
        may_change => p.can_change(&a.path),
        ..frame(p, lang, "/activities")
    };
    Ok(render(lang, status, "activities/activity.html", ctx))
}

async fn answer(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    a: &Activity,
    result: Result<(), ApiError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/activities/{}", a.id)).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let a = activities::get(&s.db, &a.id).await?;
            activity_page(s, p, lang, &a, None, Some(e.said(lang.code)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

/// Signs a resident up on their behalf (`channel=staff`), or registers someone who
/// came to the door (`channel=door`: a place and checked in at once).
pub async fn sign_up(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let a = activity_in_scope(&s, &p, &id).await?;
    let resident_id = field(&pairs, "resident_id").to_owned();
    let r = p.refer(residents::get(&s.db, &resident_id).await, Thing::Resident, &resident_id, |r| &r.path)?;
    let result = async {
        if !r.path.starts_with(&a.path) {
            return Err(ApiError::invalid(msg!("activities.error.not_here", name = &r.name).field("resident_id")));
        }
        let channel = if field(&pairs, "channel") == "door" { SignupChannel::Door } else { SignupChannel::Staff };
        let who = Who { resident_id: Some(r.id.clone()), account_id: None, name: r.name.clone() };
        let x = activities::sign_up(&s.db, &a.id, &who, channel, &p.actor_name(), now_millis()).await?;
        let summary = serde_json::json!({ "signup": x.id, "channel": x.channel, "state": x.state });
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
    answer(&s, &p, lang, &a, result).await
}

/// A sign-up as the phone of the staff at the door shows it after scanning the
/// resident's QR code: who, and one button to check them in (or out).
pub async fn signup_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (x, a) = signup_in_scope(&s, &p, &id).await?;
    let ctx = context! {
        x => Value::from(Serde(&signup_row(&x, lang))), c => Value::from(Serde(&card(&a, lang))),
        ..frame(&p, lang, "/activities")
    };
    Ok(render(lang, StatusCode::OK, "activities/signup.html", ctx))
}

/// Checks a sign-up in at the door (`out=1`: out, for volunteers' hours).
pub async fn check(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let (x, a) = signup_in_scope(&s, &p, &id).await?;
    let out = field(&pairs, "out") == "1";
    let result = async {
        activities::check(&s.db, &x.id, out, now_millis()).await?;
        let summary = serde_json::json!({ "signup": x.id, "out": out });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::ActivityCheck,
            Target("activity", &a.id, &a.path),
            None,
            &summary,
        )
        .await?;
        Ok(())
    }
    .await;
    answer(&s, &p, lang, &a, result).await
}

/// Cancels a sign-up (the resident rang to say so); the first waiting moves up.
pub async fn cancel(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (x, a) = signup_in_scope(&s, &p, &id).await?;
    let result = async {
        let moved = activities::cancel(&s.db, &x.id, now_millis()).await?;
        if let Some(m) = &moved {
            portal::tell_moved_up(&s, &a, m).await?;
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
    answer(&s, &p, lang, &a, result).await
}

/// The key in the door's QR code: only someone at the door (or holding the sheet)
/// reaches the self check-in page.
pub(crate) fn door_key(s: &AppState, id: &str) -> String {
    s.db.vault.blind("activity_door", id).chars().take(16).collect()
}

/// The printable sign-up sheet: the activity, the QR code to sign up on the portal
/// and the QR code of the door's self check-in, the names holding a place with a
/// box to tick, and blank rows for those who come without signing up.
pub async fn sheet(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let a = activity_in_scope(&s, &p, &id).await?;
    let portal_url = format!("{}/portal/activities/{}", reached.base, a.id);
    let door_url = format!("{}/a/{}?k={}", reached.base, a.id, door_key(&s, &a.id));
    let qr = |url: &str| crate::demands::pages::posters::qr_svg(url, 160).map(Value::from_safe_string);
    let names: Vec<String> = activities::signups(&s.db, &a.id)
        .await?
        .into_iter()
        .filter(|x| x.state == SignupState::Confirmed)
        .map(|x| x.name)
        .collect();
    let blanks = a.capacity.map_or(10, |c| (c - names.len() as i64).clamp(3, 20));
    let ctx = context! {
        a => Value::from(Serde(&a)), c => Value::from(Serde(&card(&a, lang))),
        portal_url => &portal_url, door_url => &door_url, portal_svg => qr(&portal_url)?, door_svg => qr(&door_url)?,
        names => names, blanks => (0..blanks).collect::<Vec<_>>(),
        ..frame(&p, lang, "/activities")
    };
    Ok(render(lang, StatusCode::OK, "activities/sheet.html", ctx))
}

#[derive(Deserialize)]
pub struct DoorQuery {
    k: Option<String>,
}

/// The activity a door page names, if its key is right; otherwise not found.
async fn by_door(s: &AppState, id: &str, key: Option<&str>) -> Result<Activity, ApiError> {
    let a = activities::get(&s.db, id).await.map_err(|_| unknown(Thing::Activity, id))?;
    match key {
        Some(k) if k == door_key(s, id) && !a.cancelled => Ok(a),
        _ => Err(unknown(Thing::Activity, id)),
    }
}

fn door_page(lang: Lang, a: &Activity, key: &str, said: Option<(bool, String)>, status: StatusCode) -> Response {
    let ctx = context! {
        lang => lang.code, c => Value::from(Serde(&card(a, lang))), id => &a.id, key => key,
        done => said.as_ref().map(|(ok, _)| *ok), said => said.map(|(_, text)| text),
    };
    render(lang, status, "activities/door.html", ctx)
}

/// The door's QR page: a resident confirms their name and the last four digits of
/// their phone and is checked in.
pub async fn door_form(
    State(s): State<AppState>,
    lang: Lang,
    Path(id): Path<String>,
    Query(q): Query<DoorQuery>,
) -> Result<Response, ApiError> {
    let a = by_door(&s, &id, q.k.as_deref()).await?;
    Ok(door_page(lang, &a, q.k.as_deref().unwrap_or_default(), None, StatusCode::OK))
}

pub async fn door_check(
    State(s): State<AppState>,
    lang: Lang,
    Path(id): Path<String>,
    Query(q): Query<DoorQuery>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let a = by_door(&s, &id, q.k.as_deref()).await?;
    let key = q.k.as_deref().unwrap_or_default();
    let now = now_millis();
    let result = match activities::door_check_in(&s.db, &a.id, field(&pairs, "name"), field(&pairs, "last4"), now).await
    {
        Ok(Some(x)) => Ok(x),
        Ok(None) => Err(tr("activities.door.no_match", lang.code)),
        Err(StoreError::Conflict(m) | StoreError::Invalid(m)) => Err(crate::shared::render::say(&m, lang.code)),
        Err(e) => return Err(e.into()),
    };
    Ok(match result {
        Ok(x) => {
            let text = crate::shared::render::say(&msg!("activities.door.welcome", name = &x.name), lang.code);
            door_page(lang, &a, key, Some((true, text)), StatusCode::OK)
        }
        Err(text) => door_page(lang, &a, key, Some((false, text)), StatusCode::UNPROCESSABLE_ENTITY),
    })
}

/// Adds a photo of the activity (`photo`, multipart).
pub async fn add_photo(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let a = activity_in_scope(&s, &p, &id).await?;
    let result = async {
        let max = wangge_store::demands::attachments::MAX_BYTES;
        let parts = crate::shared::multipart::read(request, &(), max).await?;
        let Some(upload) = parts.files.into_iter().find(|f| f.field == "photo") else {
            return Err(ApiError::invalid(msg!("activities.error.no_photo").field("photo")));
        };
        let Some(data) = upload.data else {
            return Err(ApiError::invalid(msg!("activities.error.no_photo").field("photo")));
        };
        let photo =
            activities::add_photo(&s.db, &a.id, &upload.file_name, &data, &p.actor_name(), now_millis()).await?;
        let summary = serde_json::json!({ "photo": photo.id, "size": photo.size });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::ActivitySave,
            Target("activity", &a.id, &a.path),
            None,
            &summary,
        )
        .await?;
        Ok(())
    }
    .await;
    answer(&s, &p, lang, &a, result).await
}

/// A photo of an activity the caller may see.
pub async fn photo(State(s): State<AppState>, p: Principal, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (photo, data) = activities::photo(&s.db, &id).await?;
    activity_in_scope(&s, &p, &photo.activity_id).await.map_err(|_| unknown(Thing::ActivityPhoto, &id))?;
    Ok(crate::shared::api::private_file(&photo.content_type, "inline", data))
}

/// How often the reminders are swept.
const REMINDERS_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// The day-before reminders of activities (`wangge_store::activities::remind`),
/// swept every ten minutes, started by `serve`.
pub async fn run_reminders(db: wangge_store::Db) {
    while !db.pool.is_closed() {
        if let Err(e) = activities::remind(&db, now_millis()).await
            && !db.pool.is_closed()
        {
            tracing::error!("activity reminders: {e}");
        }
        tokio::time::sleep(REMINDERS_EVERY).await;
    }
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/activities", Role(RunActivities), list)
        .post("/activities", Role(RunActivities), create)
        .get("/activities/new", Role(RunActivities), new_form)
        .get("/activities/{id}", Role(RunActivities), page)
        .post("/activities/{id}/signups", Role(RunActivities), sign_up)
        .get("/activities/{id}/sheet", Role(RunActivities), sheet)
        .post_limited("/activities/{id}/photos", Role(RunActivities), crate::shared::routes::Limit::Upload, add_photo)
        .get("/activities/photos/{id}", Role(RunActivities), photo)
        .get("/activities/signups/{id}", Role(RunActivities), signup_page)
        .post("/activities/signups/{id}/check", Role(RunActivities), check)
        .post("/activities/signups/{id}/cancel", Role(RunActivities), cancel)
        // The door's QR code (its key in `?k=`): self check-in without an account.
        .get("/a/{id}", Public, door_form)
        .post("/a/{id}", Public, door_check)
        .merge(portal::routes())
}
