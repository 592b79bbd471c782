//! The public report form a poster's QR code opens: no account, the building's key
//! in the link stands in for one.

use super::*;

#[derive(Deserialize)]
pub struct KeyQuery {
    k: Option<String>,
}

/// What the poster's form shows above itself, besides the form.
#[derive(Default)]
pub(super) struct ReportNotice {
    error: Option<String>,
    /// The report was recorded (its short number), …
    sent: Option<Demand>,
    /// … and added to this open item (its title and state in plain words).
    merged: Option<(String, String)>,
    /// The item chosen was finished meanwhile: the report was recorded as a new one.
    gone: bool,
    /// The start of the private tracking link given with the number.
    base: String,
}

pub(super) async fn report_page(
    s: &AppState,
    lang: Lang,
    building_id: &str,
    key: &str,
    status: StatusCode,
    notice: ReportNotice,
    values: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let building = buildings::get(&s.db, building_id).await?;
    let callback = notice.sent.as_ref().is_some_and(|d| d.reporter_phone.is_some());
    let (number, link) = match &notice.sent {
        Some(d) => super::track::number_and_link(s, &notice.base, d),
        None => (None, None),
    };
    let merged = notice
        .merged
        .map(|(title, state)| tr("report.merged", lang.code).replace("%{title}", &title).replace("%{status}", &state));
    let ctx = context! {
        lang => lang.code, building => Value::from(Serde(&building)), key => key,
        title => tr("building.number", lang.code).replace("%{number}", &building.number),
        categories => Value::from(Serde(&report_categories(s, lang, Some(&building.path)).await?)),
        values => values, max_photos => demands::attachments::MAX_PER_ITEM,
        error => notice.error, merged => merged, callback => callback, gone => notice.gone,
        sent => notice.sent.is_some(), number => number, link => link,
    };
    Ok(render(lang, status, "demands/report.html", ctx))
}

pub(super) fn check_key(s: &AppState, building_id: &str, key: Option<&str>) -> Result<String, ApiError> {
    let key = key.unwrap_or_default();
    if key != poster_key(s, building_id) {
        return Err(ApiError::not_found(wangge_domain::msg!("demands.error.poster_code")));
    }
    Ok(key.to_owned())
}

pub async fn report_form(
    State(s): State<AppState>,
    lang: Lang,
    Path(id): Path<String>,
    Query(q): Query<KeyQuery>,
) -> Result<Response, ApiError> {
    let key = check_key(&s, &id, q.k.as_deref())?;
    report_page(&s, lang, &id, &key, StatusCode::OK, ReportNotice::default(), &HashMap::new()).await
}

/// A report from the building's poster, without an account: what is wrong, photos,
/// a call-back number, a name if given. The key is checked before the body is read,
/// so that nobody without the poster can make the server read photos; pending
/// reports belong to the building's poster (`building-qr:<id>`), at most
/// `drafts::MAX_PENDING` of them at a time.
pub async fn report_submit(
    State(s): State<AppState>,
    lang: Lang,
    address: ClientAddress,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
    Query(q): Query<KeyQuery>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let key = check_key(&s, &id, q.k.as_deref())?;
    let posted = PhotoForm::from_request(request, &s).await?;
    let owner = format!("building-qr:{id}");
    let Some(posted) = photo_forms::split(&s, &owner, posted).await? else {
        let notice = ReportNotice { error: Some(tr("offer.expired", lang.code)), ..Default::default() };
        return report_page(&s, lang, &id, &key, StatusCode::CONFLICT, notice, &HashMap::new()).await;
    };
    let form = &posted.form;
    let again = |error: String| {
        let values = form.fields().clone();
        let (s, id, key) = (s.clone(), id.clone(), key.clone());
        async move {
            let notice = ReportNotice { error: Some(error), ..Default::default() };
            report_page(&s, lang, &id, &key, StatusCode::UNPROCESSABLE_ENTITY, notice, &values).await
        }
    };
    let description = form.get("description").to_owned();
    if description.chars().count() < 4 {
        return again(tr("report.too_short", lang.code)).await;
    }
    if let Some(refusal) = &form.refused {
        return again(refusal.message(lang)).await;
    }
    let new = NewDemand {
        building_id: Some(id.clone()),
        category: form.get("category").to_owned(),
        channel: Some(Channel::BuildingQr),
        title: description.chars().take(30).collect(),
        description,
        reporter_name: form.opt("name"),
        reporter_phone: form.opt("phone"),
        ..Default::default()
    };
    let place = match photo_forms::place_of(&s, &new, lang, |_| true).await? {
        Ok(place) => place,
        Err(refusal) => return again(refusal).await,
    };
    let around = photo_forms::Around {
        building: Some(&id),
        under_path: &place,
        building_only: true,
        title: &new.title,
        at: new.lat.zip(new.lng),
    };
    let duplicate_of = match photo_forms::next(&s, &posted, &new.category, around, &owner, lang).await? {
        Next::Record(into) => into,
        Next::Busy => return again(tr("offer.busy", lang.code)).await,
        Next::Offer { draft, offers } => {
            let action = format!("/report/{id}?k={key}");
            let ctx = context! { lang => lang.code };
            return Ok(photo_forms::offer_page(lang, false, &action, &draft, &offers, form.files.len(), ctx));
        }
    };
    let gone = posted.chose_gone(duplicate_of.as_ref());
    let extras = Extras { files: &form.files, duplicate_of: duplicate_of.as_deref(), draft: posted.draft() };
    let by = demands::Actor { id: None, name: "building-qr".into(), role: Role::Resident };
    match demands::create_with(&s.db, new, &by, None, extras, |_| None).await {
        Ok(d) => {
            let event = audit::Event {
                target_kind: Some("demand"),
                target_id: Some(&d.id),
                path: Some(&d.path),
                ..audit::Event::of(AuditAction::DemandCreate)
            };
            audit::log(&s.db, None, Some("building-qr"), &address, event).await?;
            let d = api::auto_dispatch(&s, &address, d).await;
            let merged = match &d.merged_into {
                Some(into) => {
                    let target = demands::get(&s.db, into).await?;
                    Some((target.title, label(target.status, lang).to_owned()))
                }
                None => None,
            };
            let notice = ReportNotice { sent: Some(d), merged, gone, base: reached.base.clone(), ..Default::default() };
            report_page(&s, lang, &id, &key, StatusCode::CREATED, notice, &HashMap::new()).await
        }
        Err(wangge_store::StoreError::Invalid(m) | wangge_store::StoreError::TooLarge(m)) => {
            again(say(&m, lang.code)).await
        }
        Err(wangge_store::StoreError::Conflict(_)) if posted.answer.is_some() => {
            again(tr("offer.expired", lang.code)).await
        }
        Err(e) => Err(e.into()),
    }
}
