//! One item: its timeline, its photos and a form for every step the caller may take
//! from where it stands. Every step goes through `demands::api::take` (scope, state
//! machine, audit log, notifications, webhooks): the pages and the API cannot disagree.

use super::*;
use wangge_store::Thing;

/// The area code at the end of a path (`/…/370602004011/` → `370602004011`).
pub(super) fn code_of(path: String) -> Option<String> {
    path.trim_end_matches('/').rsplit('/').next().map(str::to_owned).filter(|c| !c.is_empty())
}

#[derive(Serialize)]
pub(super) struct StepForm {
    code: &'static str,
    label: String,
    note: bool,
    note_required: bool,
    dispatch: bool,
    merge: bool,
    score: bool,
    /// The step the loop expects next: the primary button; the others are quiet.
    primary: bool,
}

/// The steps `role` may take on `d` now, each with the fields it needs.
pub(super) fn steps_for(d: &Demand, role: Role, lang: Lang) -> Vec<StepForm> {
    let item = ItemState { status: d.status, kind: d.kind, level: d.level, reopened: d.reopened };
    let expected = item.expected_step();
    let mut forms: Vec<StepForm> = Step::all()
        .iter()
        .copied()
        .filter(|&step| transition(item, step, role, Some(5)).is_ok())
        // Past the time to rate, the item stays "not rated": no form to rate it.
        .filter(|&step| step != Step::Rate || demands::rating_due_of(d) >= wangge_domain::now_millis())
        .map(|step| StepForm {
            code: step.code(),
            label: tr(&format!("step.{}", step.code()), lang.code),
            note: !matches!(step, Step::Accept | Step::Start | Step::Verify | Step::Close),
            // Refusing, merging, escalating and sending back each give a reason.
            note_required: matches!(
                step,
                Step::Reject
                    | Step::Merge
                    | Step::Escalate
                    | Step::HandBack
                    | Step::SendBack
                    | Step::Progress
                    | Step::Answer
            ),
            dispatch: step == Step::Dispatch,
            merge: step == Step::Merge,
            score: step == Step::Rate,
            primary: Some(step) == expected,
        })
        .collect();
    // The expected step first; the rest keep the loop's order.
    forms.sort_by_key(|f| !f.primary);
    forms
}

/// An open item `d` could be merged into, as the merge form lists them.
#[derive(Serialize)]
pub(super) struct MergeChoice {
    id: String,
    label: String,
}

/// The open items of `d`'s category near it (its building first, then its grid),
/// the most alike by title first: what merging picks from, instead of a typed id.
pub(super) async fn merge_choices(s: &AppState, d: &Demand, lang: Lang) -> Result<Vec<MergeChoice>, ApiError> {
    let like = demands::LikeThis::default();
    let mut found = demands::similar(&s.db, &d.category, d.building_id.as_deref(), &d.path, like, 50).await?;
    found.retain(|o| o.id != d.id);
    found.sort_by(|a, b| {
        let (x, y) = (demands::title_likeness(&d.title, &a.title), demands::title_likeness(&d.title, &b.title));
        y.total_cmp(&x).then(b.same_building.cmp(&a.same_building))
    });
    Ok(found
        .into_iter()
        .take(10)
        .map(|o| {
            let day: String = local_time(o.created_at).chars().take(10).collect();
            let place =
                if o.same_building { tr("offer.same_building", lang.code) } else { tr("offer.nearby", lang.code) };
            MergeChoice { label: format!("{} · {} · {day} · {place}", o.title, label(o.status, lang)), id: o.id }
        })
        .collect())
}

/// Who took a step, in words: the poster's form and API tokens are named by what
/// they are, not by their internal names (`building-qr`, `token:…`).
pub(super) fn actor_words(name: &str, lang: Lang) -> String {
    if name == "building-qr" || name.starts_with("building-qr:") {
        return tr("timeline.by_poster", lang.code);
    }
    if let Some(token) = name.strip_prefix("token:") {
        return tr("timeline.by_token", lang.code).replace("%{name}", token);
    }
    name.to_owned()
}

#[derive(Serialize)]
pub(super) struct Event {
    at: String,
    step: String,
    status: String,
    actor: String,
    note: String,
}

/// Someone an item can be dispatched to, as the dispatch form lists them: the grid's
/// team first (those with an account), then the units serving the place.
#[derive(Clone, Serialize)]
pub(super) struct HandlerChoice {
    /// An account's or a unit's id: what `handler_id` becomes.
    id: String,
    kind: &'static str,
    name: String,
    label: String,
    /// `team` or `unit`: the group of the list it stands in.
    group: &'static str,
    /// The category's default route names them: chosen beforehand.
    suggested: bool,
}

/// Whom `d` can be dispatched to, without typing: the current team of its grid who
/// have accounts, then the handling departments and property companies serving its
/// place (a unit nobody in it can log in to is marked: the dispatcher records its
/// progress).
pub(super) async fn handler_choices(s: &AppState, d: &Demand, lang: Lang) -> Result<Vec<HandlerChoice>, ApiError> {
    use wangge_domain::UnitRole;
    let mut out = Vec::new();
    if let Ok(grid) = wangge_store::registry::areas::get_by_path(&s.db, &d.path).await
        && grid.level == wangge_domain::AreaLevel::Grid
    {
        let roster = wangge_store::team::roster(&s.db, &grid.id, wangge_store::team::Phones::Hidden, false).await?;
        for post in roster {
            let (Some(account), Some(name)) = (post.account_id, post.person_name) else { continue };
            let kind = HandlerKind::GridMember;
            let label = format!("{name}（{}）", label(post.post, lang));
            out.push(HandlerChoice { id: account, kind: kind.code(), name, label, group: "team", suggested: false });
        }
    }
    for (role, kind) in [
        (UnitRole::HandlerDepartment, HandlerKind::CommunityDepartment),
        (UnitRole::PropertyCompany, HandlerKind::PropertyCompany),
    ] {
        for unit in wangge_store::units::serving(&s.db, role, &d.path).await? {
            let o = unit.organisation;
            if out.iter().any(|c: &HandlerChoice| c.id == o.id) {
                continue;
            }
            let label = if unit.reachable == 0 {
                format!("{}（{}）", o.name, tr("demands.dispatch.no_account", lang.code))
            } else {
                o.name.clone()
            };
            out.push(HandlerChoice {
                id: o.id,
                kind: kind.code(),
                name: o.name,
                label,
                group: "unit",
                suggested: false,
            });
        }
    }
    if let Some(route) = demands::routing::route(&s.db, &d.category, d.level).await?
        && let Some(target) = demands::routing::resolve(&s.db, d, route).await?
        && let Some(c) = out.iter_mut().find(|c| c.id == target.id)
    {
        c.suggested = true;
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
pub struct ItemQuery {
    error: Option<String>,
    /// The tracking number of an item just taken in (this one, or one merged into
    /// it), to be read to the caller.
    reported: Option<String>,
    /// Part of a name: the dispatch list shows only those whose name holds it.
    who: Option<String>,
}

/// Who gave the rating, in the staff's words: the resident, or who called them
/// back and when; for a closed item not rated, until when it may be, or that it
/// counts as not rated.
fn rating_words(d: &Demand, lang: Lang) -> String {
    let day = |ms: i64| local_time(ms).chars().take(16).collect::<String>();
    match (d.rating, d.rating_source) {
        (Some(_), Some(demands::RatingSource::Staff)) => tr("demands.rated_by_staff", lang.code)
            .replace("%{who}", d.rating_called_by.as_deref().unwrap_or_default())
            .replace("%{when}", &day(d.rating_called_at.unwrap_or_default())),
        (Some(_), _) => tr("demands.rated_by_resident", lang.code),
        (None, _) if demands::rating_due_of(d) < wangge_domain::now_millis() => tr("demands.not_rated", lang.code),
        (None, _) => tr("demands.awaiting_rating", lang.code).replace("%{until}", &day(demands::rating_due_of(d))),
    }
}

/// `2026-12-03T19:05` (a `datetime-local` field) in China time, as Unix ms.
pub(crate) fn parse_local(value: &str) -> Option<i64> {
    let (date, clock) = value.trim().split_once('T')?;
    let mut ymd = date.split('-').map(|p| p.parse::<i32>().ok());
    let (y, m, d) = (ymd.next()??, ymd.next()??, ymd.next()??);
    let mut hm = clock.split(':').map(|p| p.parse::<u8>().ok());
    let (h, min) = (hm.next()??, hm.next()??);
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date = time::Date::from_calendar_date(y, month, u8::try_from(d).ok()?).ok()?;
    let t = time::Time::from_hms(h, min, 0).ok()?;
    Some((time::PrimitiveDateTime::new(date, t).assume_offset(CHINA).unix_timestamp()) * 1000)
}

/// Now in China time, as a `datetime-local` field shows it.
fn now_local() -> String {
    let now = local_time(wangge_domain::now_millis());
    format!("{}T{}", &now[..10], &now[11..16])
}

/// Where an item is, as the item page shows it: each place with a link when the
/// viewer's role opens that page (and the record lies in their scope).
#[derive(Serialize, Default)]
pub(super) struct Where {
    grid: Option<(String, Option<String>)>,
    building: Option<(String, Option<String>)>,
    household: Option<(String, Option<String>)>,
    resident: Option<(String, Option<String>)>,
}

async fn where_is(s: &AppState, p: &Principal, d: &Demand, lang: Lang) -> Result<Where, ApiError> {
    use wangge_domain::Action;
    let mut w = Where::default();
    if let Ok(area) = areas::get(&s.db, &d.area_id).await {
        let link =
            (p.role.may(Action::ViewFigures) && p.can_see(&area.path)).then(|| format!("/registry/areas/{}", area.id));
        w.grid = Some((area.name, link));
    }
    let registry = p.role.may(Action::ViewRegistry) && p.sees_names(&d.path);
    if let Some(b) = &d.building_id
        && let Ok(b) = buildings::get(&s.db, b).await
    {
        let link = (registry && p.can_see(&b.path)).then(|| format!("/registry/buildings/{}", b.id));
        w.building = Some((tr("building.number", lang.code).replace("%{number}", &b.number), link));
    }
    if let Some(h) = &d.household_id
        && p.sees_names(&d.path)
        && let Ok(h) = households::get(&s.db, h).await
    {
        let key = if h.unit.is_empty() { "household.label_no_unit" } else { "household.label" };
        let text = tr(key, lang.code).replace("%{unit}", &h.unit).replace("%{room}", &h.room);
        let link = registry.then(|| format!("/registry/households/{}", h.id));
        w.household = Some((text, link));
    }
    if let Some(r) = &d.resident_id
        && p.sees_names(&d.path)
        && let Ok(r) = wangge_store::registry::residents::get(&s.db, r).await
    {
        let link = (p.role.may(Action::ViewPseudonymised) && p.can_see(&r.path))
            .then(|| format!("/registry/residents/{}", r.id));
        w.resident = Some((r.name, link));
    }
    Ok(w)
}

pub async fn item(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
    Query(q): Query<ItemQuery>,
) -> Result<Response, ApiError> {
    item_page(&s, lang, &p, &reached, &id, q, None).await
}

/// The reporter's phone shown after a call-back reveal (None: none recorded).
pub(super) struct Revealed(Option<String>);

/// Reveals the reporter's phone to call them back (one tap, audited; 403 and no
/// reveal logged for anyone else), and shows the item with it as a `tel:` link.
pub async fn call_back(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (_, phone) = api::call_back_phone(&s, &p, &address, &id).await?;
    item_page(&s, lang, &p, &reached, &id, ItemQuery::default(), Some(Revealed(phone))).await
}

async fn item_page(
    s: &AppState,
    lang: Lang,
    p: &Principal,
    reached: &crate::shared::site::Reached,
    id: &str,
    q: ItemQuery,
    revealed: Option<Revealed>,
) -> Result<Response, ApiError> {
    let (s, p, id) = (s.clone(), p.clone(), id.to_owned());
    let d = api::visible(&s, &p, &id).await?;
    let may_call_back = d.reporter_phone.is_some() && api::may_call_back(&s, &p, &d).await?;
    let place = where_is(&s, &p, &d, lang).await?;
    let d = api::demand_as_seen_by(&p, d);
    let (number, link) = super::track::number_and_link(&s, &reached.base, &d);
    let categories = demands::categories(&s.db).await?;
    let timeline: Vec<Event> = demands::timeline(&s.db, &id)
        .await?
        .into_iter()
        .map(|e| Event {
            at: local_time(e.at).chars().take(16).collect(),
            step: tr(e.step.key(), lang.code),
            status: label(e.to_status, lang).to_owned(),
            actor: actor_words(&e.actor_name, lang),
            note: e.note,
        })
        .collect();
    let photos = photo_forms::photo_links(&s, &id, lang).await?;
    let merged_into = match &d.merged_into {
        Some(into) => Some(demands::get(&s.db, into).await?).filter(|t| p.can_see(&t.path)),
        None => None,
    };
    let duplicates: Vec<Duplicate> = demands::merged_items(&s.db, &id)
        .await?
        .into_iter()
        .map(|m| api::demand_as_seen_by(&p, m))
        .map(|m| Duplicate {
            created: local_time(m.created_at).chars().take(16).collect(),
            reporter: [m.reporter_name.unwrap_or_default(), m.reporter_phone.unwrap_or_default()].join(" "),
            channel: label(m.channel, lang).to_owned(),
            id: m.id,
            title: m.title,
        })
        .collect();
    let may_dispatch = steps_for(&d, p.role, lang).iter().any(|st| st.dispatch);
    let mut handlers = if may_dispatch { handler_choices(&s, &d, lang).await? } else { Vec::new() };
    let who = q.who.as_deref().map(wangge_domain::text::normalize).filter(|w| !w.is_empty());
    let all_handlers = handlers.len();
    if let Some(w) = &who {
        handlers.retain(|c| c.name.contains(w.as_str()) || c.label.contains(w.as_str()));
    }
    let may_merge = steps_for(&d, p.role, lang).iter().any(|st| st.merge);
    let merge_into = if may_merge { merge_choices(&s, &d, lang).await? } else { Vec::new() };
    let calendar = demands::calendar(&s.db).await?;
    let (due_date, due_words) = crate::demands::today::deadline(&calendar, wangge_domain::now_millis(), &d, lang);
    let from_visit = crate::visits::record::from_visit(&s, &d.id, lang).await?;
    let ctx = context! {
        from_visit,
        d => Value::from(Serde(&d)),
        photos => Value::from(Serde(&photos)), duplicates => Value::from(Serde(&duplicates)),
        merged_into => merged_into.map(|t| context! { id => t.id, title => t.title }),
        category => category_name(&categories, &d.category, lang),
        kind => label(d.kind, lang), channel => label(d.channel, lang), status => label(d.status, lang),
        level => label(d.level, lang), created => local_time(d.created_at),
        due => format!("{due_date} · {due_words}"), timeline => Value::from(Serde(&timeline)),
        merge_into => Value::from(Serde(&merge_into)),
        steps => Value::from(Serde(&steps_for(&d, p.role, lang))),
        scores => crate::portal::pages::scores(lang), me_name => p.actor_name(), now_local => now_local(),
        number => number, link => link, rating_source => rating_words(&d, lang),
        handler_kinds => Value::from(Serde(&vocab_choices::<HandlerKind>(lang, &[]))),
        handlers => Value::from(Serde(&handlers)), who => who, all_handlers => all_handlers,
        may_call_back => may_call_back, revealed => revealed.is_some(), place => Value::from(Serde(&place)),
        revealed_phone => revealed.and_then(|r| r.0),
        error => q.error,
        reported => q.reported.as_deref().and_then(|n| wangge_domain::TrackingNumber::parse(n).ok()).map(|n| n.spaced()),
        ..frame(&p, lang, "/demands"),
    };
    Ok(render(lang, StatusCode::OK, "demands/demand.html", ctx))
}

/// A duplicate merged into the item: its reporter is to be told too.
#[derive(Serialize)]
pub(super) struct Duplicate {
    id: String,
    title: String,
    created: String,
    channel: String,
    reporter: String,
}

/// A photo of an item, for those who may see the item (the same check as its page).
pub async fn item_photo(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path((id, photo)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let d = api::visible(&s, &p, &id).await?;
    photo_forms::serve_photo(&s, &p, &address, &d, &photo).await
}

#[derive(Deserialize)]
pub struct StepFormInput {
    #[serde(default)]
    note: String,
    handler_kind: Option<String>,
    handler_name: Option<String>,
    /// One of [`handler_choices`] (an account or a unit id); empty: typed by hand.
    handler: Option<String>,
    into: Option<String>,
    score: Option<u8>,
    called_by: Option<String>,
    called_at: Option<String>,
    /// `today`: the step was taken from a card of 今日, which the answer returns to.
    back: Option<String>,
}

impl From<&photo_forms::PhotoForm> for StepFormInput {
    fn from(f: &photo_forms::PhotoForm) -> Self {
        Self {
            note: f.get("note").to_owned(),
            handler_kind: f.opt("handler_kind"),
            handler_name: f.opt("handler_name"),
            handler: f.opt("handler"),
            into: f.opt("into"),
            score: f.opt("score").and_then(|v| v.parse().ok()),
            called_by: f.opt("called_by"),
            called_at: f.opt("called_at"),
            back: f.opt("back"),
        }
    }
}

/// Takes one step from the item page; a refusal comes back to the page as a message.
pub async fn take_step(
    State(s): State<AppState>,
    p: Principal,
    lang: Lang,
    address: ClientAddress,
    Path((id, step)): Path<(String, String)>,
    posted: photo_forms::PhotoForm,
) -> Result<Response, ApiError> {
    let step = Step::parse(&step).map_err(|e| ApiError::bad_request(wangge_domain::Explain::message(&e)))?;
    let form = StepFormInput::from(&posted);
    // "Report done" takes the after-photos (the form is multipart then); a photo
    // refused, or one too many for the item, stops the step before it is taken.
    if let Some(refused) = &posted.refused {
        return Ok(Redirect::to(&format!("/demands/{id}?error={}", urlencode(&refused.message(lang)))).into_response());
    }
    if !posted.files.is_empty() {
        if step != Step::ReportDone {
            return Err(ApiError::bad_request(wangge_domain::msg!("demands.error.photos_only_done")));
        }
        let d = api::visible(&s, &p, &id).await?;
        let held = demands::attachments::list(&s.db, &d.id).await?.len();
        if held + posted.files.len() > demands::attachments::MAX_PER_ITEM as usize {
            let m = wangge_domain::msg!("demands.error.files_full", most = demands::attachments::MAX_PER_ITEM);
            return Ok(Redirect::to(&format!("/demands/{id}?error={}", urlencode(&say(&m, lang.code)))).into_response());
        }
    }
    let mut input = StepInput {
        note: form.note.trim().to_owned(),
        handler_kind: form.handler_kind.as_deref().and_then(HandlerKind::from_code),
        handler_name: non_empty(form.handler_name),
        into: non_empty(form.into),
        score: form.score,
        called_by: non_empty(form.called_by),
        called_at: form.called_at.as_deref().and_then(parse_local),
        ..Default::default()
    };
    if step == Step::Dispatch
        && let Some(chosen) = non_empty(form.handler)
    {
        // Only someone the form offered: the same list, made again for this item.
        let d = api::visible(&s, &p, &id).await?;
        let choices = handler_choices(&s, &d, lang).await?;
        let c = choices
            .into_iter()
            .find(|c| c.id == chosen)
            .ok_or_else(|| crate::shared::auth::unknown(Thing::Handler, &chosen))?;
        input.handler_kind = HandlerKind::from_code(c.kind);
        input.handler_name = Some(c.name);
        input.handler_id = Some(c.id);
    }
    let taken = api::take(&s, &p, &address, &id, step, input).await;
    if taken.is_ok() {
        for f in &posted.files {
            demands::attachments::add(&s.db, &id, &f.name, &f.data).await?;
        }
    }
    match taken {
        Ok(_) if form.back.as_deref() == Some("today") => Ok(Redirect::to("/today").into_response()),
        Ok(_) => Ok(Redirect::to(&format!("/demands/{id}")).into_response()),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(e),
        Err(e) => Ok(Redirect::to(&format!("/demands/{id}?error={}", urlencode(&e.said(lang.code)))).into_response()),
    }
}
