//! Taking in an item at the office or in the field: the staff's report form, with
//! photos, the "is it one of these?" offer and the place in two taps.

use super::*;
use wangge_store::Thing;

/// What the intake form says above itself.
pub(super) struct Notice {
    error: Option<String>,
    /// The last report was taken (1), or added to an item already open (2) (for
    /// reporters who do not see the ledger).
    sent: Option<u8>,
}

pub(super) async fn new_form(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    status: StatusCode,
    notice: Notice,
    values: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let channels = channels_of(p.role);
    let default_channel = channels[0].code();
    let under = p.list_path(&s.db, None).await.ok().flatten();
    let ctx = context! {
        categories => Value::from(Serde(&report_categories(s, lang, under.as_deref()).await?)),
        kinds => Value::from(Serde(&vocab_choices::<DemandKind>(lang, &[]))),
        channels => Value::from(Serde(&vocab_choices::<Channel>(lang, &channels))),
        buildings => Value::from(Serde(&building_choices(s, p, lang).await?)),
        households => Value::from(Serde(&household_choices(s, p, values.get("building"), lang).await?)),
        default_channel => values.get("channel").map_or(default_channel, String::as_str),
        values => values, max_photos => demands::attachments::MAX_PER_ITEM,
        error => notice.error, sent => notice.sent == Some(1), sent_merged => notice.sent == Some(2),
        can_view => p.role.may(Action::ViewDemands),
        ..frame(p, lang, "/demands"),
    };
    Ok(render(lang, status, "demands/demand_new.html", ctx))
}

/// The households of the building picked, for the field form's second tap; none
/// when no building is picked or it lies outside the caller's area.
pub(super) async fn household_choices(
    s: &AppState,
    p: &Principal,
    building: Option<&String>,
    lang: Lang,
) -> Result<Vec<BuildingChoice>, ApiError> {
    let Some(building) = building.map(|b| b.trim()).filter(|b| !b.is_empty()) else { return Ok(Vec::new()) };
    let Ok(found) = buildings::get(&s.db, building).await else { return Ok(Vec::new()) };
    if !p.can_see(&found.path) {
        return Ok(Vec::new());
    }
    let filter = households::HouseholdFilter { building_id: Some(found.id), ..Default::default() };
    let page = households::list(&s.db, &filter, PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE))).await?;
    Ok(page
        .items
        .into_iter()
        .map(|h| {
            let key = if h.unit.is_empty() { "household.label_no_unit" } else { "household.label" };
            let label = tr(key, lang.code).replace("%{unit}", &h.unit).replace("%{room}", &h.room);
            BuildingChoice { id: h.id, label }
        })
        .collect())
}

/// The field form. Its "pick the household" button submits the form back here by
/// GET (no JavaScript), so what was typed comes back in the query and the chosen
/// building's households are offered: the household in two taps.
pub async fn new_demand_form(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(mut values): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if p.role == Role::Resident {
        // Residents report from their portal, in plainer words.
        return Ok(Redirect::to("/portal").into_response());
    }
    let sent = values.remove("sent").and_then(|v| v.parse().ok());
    // The tracking number of the item just sent, to be read to the caller.
    if let Some(n) = values.remove("reported").and_then(|n| wangge_domain::TrackingNumber::parse(&n).ok()) {
        values.insert("reported".into(), n.spaced());
    }
    values.remove("lang");
    // "Report a problem for this household" (a resident's page): the household's
    // building and the household chosen, and the resident as the reporter.
    if let Some(h) = values.get("household").cloned().filter(|h| !h.is_empty())
        && !values.contains_key("building")
    {
        let household = p.refer(households::get(&s.db, &h).await, Thing::Household, &h, |h| &h.path)?;
        values.insert("building".into(), household.building_id);
        if let Some(r) = values.get("resident").cloned().filter(|r| !r.is_empty()) {
            let resident =
                p.refer(wangge_store::registry::residents::get(&s.db, &r).await, Thing::Resident, &r, |r| &r.path)?;
            values.entry("reporter_name".into()).or_insert(resident.name);
        }
    }
    new_form(&s, &p, lang, StatusCode::OK, Notice { error: None, sent }, &values).await
}

pub(super) fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The field form's report as a new item: at the building picked, else at the
/// caller's own area.
pub(super) async fn staff_report(s: &AppState, p: &Principal, form: &PhotoForm) -> NewDemand {
    let building_id = form.opt("building");
    NewDemand {
        // The household, when picked, places the item (and its building) itself.
        household_id: form.opt("household"),
        resident_id: form.opt("resident"),
        area: if building_id.is_none() {
            p.list_path(&s.db, None).await.ok().flatten().and_then(code_of)
        } else {
            None
        },
        building_id,
        category: form.get("category").to_owned(),
        kind: DemandKind::from_code(form.get("kind")),
        // Only a channel the form offers this role (a building head is not 网格员上报).
        channel: Channel::from_code(form.get("channel"))
            .filter(|c| channels_of(p.role).contains(c))
            .or_else(|| channels_of(p.role).first().copied()),
        title: form.get("title").to_owned(),
        description: form.get("description").to_owned(),
        reporter_name: form.opt("reporter_name"),
        reporter_phone: form.opt("reporter_phone"),
        ..Default::default()
    }
}

/// The channels a role's reports come by, the usual one first: grid members report
/// from the field; building heads, volunteers and property staff (one role) say which
/// of the three they are; the office takes calls, visits and instructions.
pub(super) fn channels_of(role: Role) -> Vec<Channel> {
    match role {
        Role::GridMember | Role::GridLeader => {
            vec![Channel::GridMember, Channel::Phone, Channel::Visit, Channel::Instruction]
        }
        Role::Auxiliary => vec![Channel::BuildingHead, Channel::Volunteer, Channel::PropertyStaff],
        _ => vec![Channel::Phone, Channel::Visit, Channel::GridMember, Channel::Instruction],
    }
}

/// Staff take in an item: a phone call, a visit, something seen in the field, with
/// photos; "is it one of these?" first when the same matter is already open nearby.
pub async fn create_demand(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    posted: PhotoForm,
) -> Result<Response, ApiError> {
    let owner = p.actor_id().to_owned();
    let Some(posted) = photo_forms::split(&s, &owner, posted).await? else {
        let notice = Notice { error: Some(tr("offer.expired", lang.code)), sent: None };
        return new_form(&s, &p, lang, StatusCode::CONFLICT, notice, &HashMap::new()).await;
    };
    let form = &posted.form;
    let again = |error: String| {
        let values = form.fields().clone();
        let (s, p) = (s.clone(), p.clone());
        async move {
            let notice = Notice { error: Some(error), sent: None };
            new_form(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, notice, &values).await
        }
    };
    if let Some(refusal) = &form.refused {
        return again(refusal.message(lang)).await;
    }
    let new = staff_report(&s, &p, form).await;
    let place = match photo_forms::place_of(&s, &new, lang, |path| p.can_see(path)).await? {
        Ok(place) => place,
        Err(refusal) => return again(refusal).await,
    };
    p.check(&place)?;
    let building = new.building_id.clone();
    let around = photo_forms::Around {
        building: building.as_deref(),
        under_path: &place,
        building_only: false,
        title: &new.title,
        at: new.lat.zip(new.lng),
    };
    let duplicate_of = match photo_forms::next(&s, &posted, &new.category, around, &owner, lang).await? {
        Next::Record(into) => into,
        Next::Busy => return again(tr("offer.busy", lang.code)).await,
        Next::Offer { draft, offers } => {
            let ctx = frame(&p, lang, "/demands");
            return Ok(photo_forms::offer_page(lang, true, "/demands", &draft, &offers, form.files.len(), ctx));
        }
    };
    let extras = Extras { files: &form.files, duplicate_of: duplicate_of.as_deref(), draft: posted.draft() };
    // Building heads, volunteers and property staff follow what they reported on
    // /reported, which lists the items whose reporter account is theirs.
    let reporter = (!p.role.may(Action::ViewDemands)).then(|| p.actor_id());
    match demands::create_with(&s.db, new, &api::actor(&p), reporter, extras, |_| None).await {
        Ok(d) => {
            let target = audit::Target("demand", &d.id, &d.path);
            audit::change(&s.db, (&p, &address), AuditAction::DemandCreate, target, None, &d).await?;
            let may_view = p.role.may(Action::ViewDemands);
            // The new item's tracking number goes along, to be read to the caller.
            let no = d.tracking_no.clone().unwrap_or_default();
            Ok(match (&d.merged_into, may_view) {
                (Some(into), true) => Redirect::to(&format!("/demands/{into}?reported={no}")),
                (None, true) => Redirect::to(&format!("/demands/{}?reported={no}", d.id)),
                // Reporters who do not work items (building heads…) report the next one.
                // Building heads and volunteers follow theirs on their own page.
                (Some(into), false) => Redirect::to(&format!("/reported/{into}?reported={no}")),
                (None, false) => Redirect::to(&format!("/reported/{}?reported={no}", d.id)),
            }
            .into_response())
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
