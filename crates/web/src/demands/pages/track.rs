//! The public tracking page: a reporter without an account follows their report by
//! its tracking number and the last four digits of the phone they left (throttled
//! per number and per address, `store::demands::tracking`), or by the private link
//! given with the number (for a reporter who left no phone). The page shows the
//! timeline in plain words and, once the item is closed, asks for the rating.

use wangge_domain::{Explain, TrackingNumber};
use wangge_store::demands::tracking;

use super::*;
use crate::portal::pages::{can_rate, plain_status, plain_timeline, rate_until, scores};

/// The number as it is read aloud (`1234 5678`) and the private link of an item.
pub(crate) fn number_and_link(s: &AppState, base: &str, d: &Demand) -> (Option<String>, Option<String>) {
    let Some(no) = d.tracking_no.as_deref() else { return (None, None) };
    let spaced = TrackingNumber::parse(no).map(|n| n.spaced()).unwrap_or_else(|_| no.to_owned());
    (Some(spaced), Some(format!("{base}/track/{no}?k={}", tracking::link_key(&s.db, no))))
}

#[derive(Deserialize, Default)]
pub struct TrackForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    phone: String,
}

fn track_form_page(lang: Lang, status: StatusCode, error: Option<String>, number: &str) -> Response {
    let ctx = context! { lang => lang.code, error => error, number => number };
    render(lang, status, "demands/track_form.html", ctx)
}

/// The form: tracking number and the last four digits of the phone.
pub async fn track_form(lang: Lang) -> Response {
    track_form_page(lang, StatusCode::OK, None, "")
}

/// Checks number and digits; the right pair opens the item's page (its private
/// link). Wrong digits count against the number and the address; a number that is
/// mistyped (wrong length, wrong check digit) is said so and not counted: that is a
/// slip, not a guess.
pub async fn track_submit(
    State(s): State<AppState>,
    lang: Lang,
    address: ClientAddress,
    Form(form): Form<TrackForm>,
) -> Result<Response, ApiError> {
    let number = match TrackingNumber::parse(&form.number) {
        Ok(n) => n,
        Err(e) => {
            let said = say(&e.message(), lang.code);
            return Ok(track_form_page(lang, StatusCode::UNPROCESSABLE_ENTITY, Some(said), &form.number));
        }
    };
    if let Some(minutes) = tracking::throttled(&s.db, number.as_str(), &address.0).await? {
        let said = tr("track.throttled", lang.code).replace("%{minutes}", &minutes.to_string());
        return Ok(track_form_page(lang, StatusCode::TOO_MANY_REQUESTS, Some(said), number.as_str()));
    }
    match tracking::check(&s.db, &number, &form.phone).await? {
        Some(_) => {
            let key = tracking::link_key(&s.db, number.as_str());
            Ok(Redirect::to(&format!("/track/{number}?k={key}")).into_response())
        }
        None => {
            tracking::record_failure(&s.db, number.as_str(), &address.0).await?;
            let said = tr("track.no_match", lang.code);
            Ok(track_form_page(lang, StatusCode::UNPROCESSABLE_ENTITY, Some(said), number.as_str()))
        }
    }
}

#[derive(Deserialize, Default)]
pub struct TrackQuery {
    k: Option<String>,
}

/// The item of a private link: the key must be the number's, else "not found" as
/// for an unknown number.
async fn linked(s: &AppState, no: &str, key: Option<&str>) -> Result<(TrackingNumber, Demand), ApiError> {
    let unknown = || ApiError::not_found(wangge_domain::msg!("track.unknown"));
    let number = TrackingNumber::parse(no).map_err(|_| unknown())?;
    if key != Some(tracking::link_key(&s.db, number.as_str()).as_str()) {
        return Err(unknown());
    }
    let d = tracking::find(&s.db, &number).await?.ok_or_else(unknown)?;
    Ok((number, d))
}

/// Where the report stands, in plain words, and the rating once it is closed.
pub async fn track_page(
    State(s): State<AppState>,
    lang: Lang,
    Path(no): Path<String>,
    Query(q): Query<TrackQuery>,
) -> Result<Response, ApiError> {
    let (number, d) = linked(&s, &no, q.k.as_deref()).await?;
    track_item_page(&s, lang, &number, &d, StatusCode::OK, None).await
}

async fn track_item_page(
    s: &AppState,
    lang: Lang,
    number: &TrackingNumber,
    d: &Demand,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let timeline = plain_timeline(s, &d.id, lang).await?;
    // Handled together with another report: where that one stands.
    let merged_with = match &d.merged_into {
        Some(into) => {
            let target = demands::get(&s.db, into).await?;
            Some(
                tr("portal.merged_with", lang.code)
                    .replace("%{title}", &target.title)
                    .replace("%{status}", &plain_status(target.status, lang)),
            )
        }
        None => None,
    };
    let key = tracking::link_key(&s.db, number.as_str());
    let rated = d.rating.map(|r| tr(&format!("portal.score_{r}"), lang.code));
    let ctx = context! {
        lang => lang.code, number => number.spaced(), title => &d.title,
        status => plain_status(d.status, lang), timeline => Value::from(Serde(&timeline)),
        merged_with => merged_with, can_rate => can_rate(d), rate_until => rate_until(d, lang),
        rate_action => format!("/track/{number}/rate?k={key}"), scores => scores(lang),
        rated => rated, error => error,
        created => local_time(d.created_at).chars().take(10).collect::<String>(),
    };
    Ok(render(lang, status, "demands/track.html", ctx))
}

#[derive(Deserialize)]
pub struct TrackRateForm {
    score: Option<u8>,
    #[serde(default)]
    comment: String,
}

/// The reporter's rating from the tracking page: theirs, as on the portal.
pub async fn track_rate(
    State(s): State<AppState>,
    lang: Lang,
    address: ClientAddress,
    Path(no): Path<String>,
    Query(q): Query<TrackQuery>,
    Form(form): Form<TrackRateForm>,
) -> Result<Response, ApiError> {
    let (number, before) = linked(&s, &no, q.k.as_deref()).await?;
    let input = StepInput { note: form.comment.trim().to_owned(), score: form.score, ..Default::default() };
    let by = demands::Actor { id: None, name: "tracking-page".into(), role: Role::Resident };
    match demands::take_step(&s.db, &before.id, Step::Rate, &by, input).await {
        Ok(taken) => {
            let event = audit::Event {
                target_kind: Some("demand"),
                target_id: Some(&before.id),
                path: Some(&before.path),
                ..audit::Event::of(AuditAction::DemandRate)
            };
            audit::log(&s.db, None, Some("tracking-page"), &address, event).await?;
            crate::shared::webhooks::fire(s.db.clone(), s.site.public_url(), taken.demand, taken.event);
            let key = tracking::link_key(&s.db, number.as_str());
            Ok(Redirect::to(&format!("/track/{number}?k={key}")).into_response())
        }
        Err(
            wangge_store::StoreError::Invalid(m)
            | wangge_store::StoreError::Conflict(m)
            | wangge_store::StoreError::Forbidden(m),
        ) => {
            let d = demands::get(&s.db, &before.id).await?;
            track_item_page(&s, lang, &number, &d, StatusCode::UNPROCESSABLE_ENTITY, Some(say(&m, lang.code))).await
        }
        Err(e) => Err(e.into()),
    }
}
