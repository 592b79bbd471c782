//! 走访频次 (`/visits/cadences`), for community staff: the community's cadences
//! (interval, interval during a spell, the channels that count, on or off), its
//! cold and heat spells, how long a visit stays editable, and — for a household
//! opened from a visit — suspending, ending or shortening one person's or the
//! household's cadence with a reason.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::visits::Cadence;
use wangge_domain::{AuditAction, VisitChannel, Vocabulary, msg};
use wangge_store::Thing;
use wangge_store::registry::{areas, households, tags};
use wangge_store::visits;

use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, frame, label, render, say, tr};
use crate::{ApiError, AppState};

#[derive(Default, Deserialize)]
pub struct PageQuery {
    area: Option<String>,
    household: Option<String>,
    resident: Option<String>,
    done: Option<String>,
    error: Option<String>,
}

#[derive(Serialize)]
struct RuleView {
    id: String,
    who: String,
    every_days: u16,
    spell_every_days: Option<u16>,
    channels: Vec<ChannelBox>,
}

#[derive(Serialize)]
struct ChannelBox {
    value: &'static str,
    label: &'static str,
    checked: bool,
    door: bool,
}

/// The community the page is about: the `area` asked for (or the caller's scope).
async fn community(s: &AppState, p: &Principal, area: Option<&str>) -> Result<areas::Area, ApiError> {
    let path = super::scope_path(&s.db, p, area).await?;
    super::community_of(&s.db, &path).await
}

async fn page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let community = match &q.household {
        Some(h) => {
            let household = p.refer(households::get(&s.db, h).await, Thing::Household, h, |h| &h.path)?;
            super::community_of(&s.db, &household.path).await?
        }
        None => community(&s, &p, q.area.as_deref()).await?,
    };
    p.check(&community.path)?;
    let catalogue = tags::list(&s.db).await?;
    let rules: Vec<RuleView> = visits::cadences(&s.db, &community.id)
        .await?
        .into_iter()
        .map(|r| RuleView {
            who: match &r.tag {
                Some(code) => catalogue.iter().find(|t| &t.code == code).map_or_else(
                    || code.clone(),
                    |t| if lang.code == "en" { t.name_en.clone() } else { t.name_zh.clone() },
                ),
                None => tr("visits.cadence.every_household", lang.code),
            },
            every_days: r.cadence.every_days,
            spell_every_days: r.cadence.spell_every_days,
            channels: VisitChannel::all()
                .iter()
                .map(|c| ChannelBox {
                    value: c.code(),
                    label: label(*c, lang),
                    checked: r.cadence.counts(*c),
                    door: *c == VisitChannel::Door,
                })
                .collect(),
            id: r.id,
        })
        .collect();
    let spells: Vec<Value> = visits::spells(&s.db, &community.id, super::today())
        .await?
        .into_iter()
        .map(
            |sp| context! { kind => tr(&format!("visits.spell.{}", sp.kind), lang.code), from => sp.from, to => sp.to },
        )
        .collect();
    let lock = visits::lock_days(&s.db, &community.id).await?;
    let household = match &q.household {
        Some(h) => {
            let household = households::get(&s.db, h).await?;
            let building = wangge_store::registry::buildings::get(&s.db, &household.building_id).await?;
            let place = say(
                &msg!("visits.place", building = &building.number, unit = &household.unit, room = &household.room),
                lang.code,
            );
            let filter = wangge_store::registry::residents::ResidentFilter {
                household_id: Some(household.id.clone()),
                status: Some(wangge_domain::ResidentStatus::Active),
                ..Default::default()
            };
            let people = wangge_store::registry::residents::list(
                &s.db,
                &filter,
                wangge_store::PageRequest::new(Some(1), Some(50)),
            )
            .await?
            .items;
            let people: Vec<Value> = people
                .into_iter()
                .map(|r| context! { value => &r.id, label => r.name, checked => q.resident.as_deref() == Some(r.id.as_str()) })
                .collect();
            Some(context! { id => household.id, place, people })
        }
        None => None,
    };
    let notice = q.done.as_deref().filter(|d| ["cadence", "spell", "lock", "adjusted"].contains(d));
    let ctx = context! {
        community => context! { id => &community.id, name => &community.name, code => &community.code },
        rules => Value::from(Serde(&rules)), spells, lock, household,
        today => super::today().to_string(),
        notice => notice.map(|d| tr(&format!("visits.cadence.done.{d}"), lang.code)),
        error => q.error,
        ..frame(&p, lang, "/visits")
    };
    Ok(render(lang, StatusCode::OK, "visits/cadences.html", ctx))
}

#[derive(Serialize)]
struct AdjustmentCard {
    place: String,
    who: String,
    kind: String,
    when: String,
    reason: String,
    href: String,
}

/// The community's suspended, ended and shortened cadences still in force or to
/// come (who, reason, until when), reached from the cadences page.
async fn adjustments_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let community = community(&s, &p, q.area.as_deref()).await?;
    p.check(&community.path)?;
    let lines = visits::adjustments(&s.db, &community.path, super::today()).await?;
    let cards: Vec<AdjustmentCard> = lines
        .into_iter()
        .map(|a| AdjustmentCard {
            place: say(&msg!("visits.place", building = &a.building, unit = &a.unit, room = &a.room), lang.code),
            who: a.name.unwrap_or_else(|| tr("visits.whole_household", lang.code)),
            kind: match (a.kind.as_str(), a.every_days) {
                ("shortened", Some(days)) => say(&msg!("visits.adjustments.shortened", days = days), lang.code),
                ("suspended", _) => tr("visits.adjustments.suspended", lang.code),
                _ => tr("visits.adjustments.ended", lang.code),
            },
            when: match &a.to {
                Some(to) => say(&msg!("visits.adjustments.until", from = &a.from, to = to), lang.code),
                None => say(&msg!("visits.adjustments.open_ended", from = &a.from), lang.code),
            },
            reason: say(&msg!("visits.adjustments.reason", reason = &a.reason), lang.code),
            href: match &a.resident_id {
                Some(r) => format!("/visits/cadences?household={}&resident={r}#adjust", a.household_id),
                None => format!("/visits/cadences?household={}#adjust", a.household_id),
            },
        })
        .collect();
    let ctx = context! {
        community => context! { name => &community.name, code => &community.code },
        cards => Value::from(Serde(&cards)),
        ..frame(&p, lang, "/visits")
    };
    Ok(render(lang, StatusCode::OK, "visits/adjustments.html", ctx))
}

/// Back to the page, with what was done or what was wrong.
fn back(community_code: &str, done: Result<&str, String>, household: Option<&str>) -> Response {
    let mut to = format!("/visits/cadences?area={community_code}");
    if let Some(h) = household {
        to.push_str(&format!("&household={h}"));
    }
    match done {
        Ok(d) => to.push_str(&format!("&done={d}")),
        Err(e) => to.push_str(&format!("&error={}", urlencoding(&e))),
    }
    Redirect::to(&to).into_response()
}

fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// The cadence form (pairs: `channels` repeats): `area`, `every_days`,
/// `spell_every_days`, the channels ticked, `active` when on.
type CadenceForm = Vec<(String, String)>;

async fn save_cadence(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(f): Form<CadenceForm>,
) -> Result<Response, ApiError> {
    let field = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    // The cadence named first: one of another community answers as an unknown id.
    let community_id = visits::cadence_community(&s.db, &id).await?;
    let community = p.refer(areas::get(&s.db, &community_id).await, Thing::Cadence, &id, |a| &a.path)?;
    if !p.can_change(&community.path) {
        return Err(crate::shared::auth::unknown(Thing::Cadence, &id));
    }
    let every_days = field("every_days");
    let Ok(every) = every_days.parse::<u16>() else {
        let e = say(&msg!("visits.error.every_days", value = &every_days), lang.code);
        return Ok(back(&community.code, Err(e), None));
    };
    let spell = field("spell_every_days").parse::<u16>().ok();
    let channels: Vec<VisitChannel> =
        f.iter().filter(|(k, _)| k == "channels").filter_map(|(_, v)| VisitChannel::from_code(v)).collect();
    let cadence = match Cadence::new(every, spell, &channels) {
        Ok(c) => c,
        Err(m) => return Ok(back(&community.code, Err(say(&m, lang.code)), None)),
    };
    let active = !field("active").is_empty();
    visits::save_cadence(&s.db, &community.id, &id, &cadence, active).await?;
    let after = serde_json::json!({"cadence": cadence, "active": active});
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::VisitSettings,
        Target("visit_cadence", &id, &community.path),
        None,
        &after,
    )
    .await?;
    Ok(back(&community.code, Ok("cadence"), None))
}

#[derive(Default, Deserialize)]
pub struct SpellForm {
    #[serde(default)]
    area: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

async fn declare_spell(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Form(f): Form<SpellForm>,
) -> Result<Response, ApiError> {
    let community = community(&s, &p, Some(&f.area).filter(|a| !a.is_empty()).map(String::as_str)).await?;
    p.check(&community.path)?;
    let kind = if f.kind == "heat" { "heat" } else { "cold" };
    match visits::declare_spell(&s.db, &community.id, kind, &f.from, &f.to, super::visitor_id(&p)).await {
        Ok(id) => {
            let after = serde_json::json!({"kind": kind, "from": f.from, "to": f.to});
            audit::change(
                &s.db,
                (&p, &address),
                AuditAction::VisitSettings,
                Target("care_spell", &id, &community.path),
                None,
                &after,
            )
            .await?;
            Ok(back(&community.code, Ok("spell"), None))
        }
        Err(wangge_store::StoreError::Invalid(m)) => Ok(back(&community.code, Err(say(&m, lang.code)), None)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Default, Deserialize)]
pub struct LockForm {
    #[serde(default)]
    area: String,
    #[serde(default)]
    lock_days: String,
}

async fn set_lock(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Form(f): Form<LockForm>,
) -> Result<Response, ApiError> {
    let community = community(&s, &p, Some(&f.area).filter(|a| !a.is_empty()).map(String::as_str)).await?;
    p.check(&community.path)?;
    let days = match f.lock_days.trim() {
        "" => None,
        v => match v.parse::<u16>() {
            Ok(d) => Some(d),
            Err(_) => {
                let e = say(&msg!("visits.error.lock_days", value = v), lang.code);
                return Ok(back(&community.code, Err(e), None));
            }
        },
    };
    match visits::set_lock_days(&s.db, &community.id, days).await {
        Ok(()) => {
            let after = serde_json::json!({"visit_lock_days": days});
            audit::change(
                &s.db,
                (&p, &address),
                AuditAction::VisitSettings,
                Target("area", &community.id, &community.path),
                None,
                &after,
            )
            .await?;
            Ok(back(&community.code, Ok("lock"), None))
        }
        Err(wangge_store::StoreError::Invalid(m)) => Ok(back(&community.code, Err(say(&m, lang.code)), None)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Default, Deserialize)]
pub struct AdjustForm {
    #[serde(default)]
    household_id: String,
    #[serde(default)]
    resident_id: String,
    /// `suspend` (an end date, or none: ended until further notice) or `shorten`.
    #[serde(default)]
    how: String,
    #[serde(default)]
    every_days: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

async fn adjust(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Form(f): Form<AdjustForm>,
) -> Result<Response, ApiError> {
    let household =
        p.refer(households::get(&s.db, &f.household_id).await, Thing::Household, &f.household_id, |h| &h.path)?;
    let community = super::community_of(&s.db, &household.path).await?;
    let resident = Some(f.resident_id.trim()).filter(|r| !r.is_empty());
    if let Some(r) = resident {
        let found = wangge_store::registry::residents::get(&s.db, r).await;
        let person = p.refer(found, Thing::Resident, r, |x| &x.path)?;
        if person.household_id.as_deref() != Some(household.id.as_str()) {
            return Err(crate::shared::auth::unknown(Thing::Resident, r));
        }
    }
    let every = match f.how.as_str() {
        "shorten" => match f.every_days.trim().parse::<u16>() {
            Ok(d) => Some(d),
            Err(_) => {
                let e = say(&msg!("visits.error.every_days", value = &f.every_days), lang.code);
                return Ok(back(&community.code, Err(e), Some(&household.id)));
            }
        },
        _ => None,
    };
    let to = Some(f.to.trim()).filter(|t| !t.is_empty());
    let done =
        visits::adjust(&s.db, &household.id, resident, every, f.from.trim(), to, &f.reason, super::visitor_id(&p))
            .await;
    match done {
        Ok(id) => {
            let after = serde_json::json!({"household_id": household.id, "resident_id": resident, "every_days": every,
                "from": f.from, "to": to, "reason": f.reason});
            audit::change(
                &s.db,
                (&p, &address),
                AuditAction::VisitSettings,
                Target("visit_adjustment", &id, &household.path),
                None,
                &after,
            )
            .await?;
            Ok(back(&community.code, Ok("adjusted"), Some(&household.id)))
        }
        Err(wangge_store::StoreError::Invalid(m)) => {
            Ok(back(&community.code, Err(say(&m, lang.code)), Some(&household.id)))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use wangge_domain::Action::ManageVisits;
    crate::shared::routes::Routes::new()
        .get("/visits/cadences", Role(ManageVisits), page)
        .post("/visits/cadences/{id}", Role(ManageVisits), save_cadence)
        .post("/visits/spells", Role(ManageVisits), declare_spell)
        .post("/visits/settings", Role(ManageVisits), set_lock)
        .get("/visits/adjustments", Role(ManageVisits), adjustments_page)
        .post("/visits/adjustments", Role(ManageVisits), adjust)
}
