//! The pages of Party building: the registry (organisations and members), a
//! member's page, units and registrations with staff confirmation and the printable
//! 报到单, the public registration form, the needs list, service to confirm, a
//! member's own page (claim, record with photos), photos, the settings.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::party::{self as rules, MemberKind, MemberStatus, NeedSource, RegistrationStep, ServiceState};
use wangge_domain::party_joint::ServiceField;
use wangge_domain::{Action, AuditAction, Explain, IdCardNumber, Phone, Vocabulary, msg, now_millis};
use wangge_store::Thing;
use wangge_store::party::{self, MemberChange, MemberFilter, MemberForm, NewMember, NewOrg, NewUnit, service};
use wangge_store::registry::areas::{self, Area};

use super::sees;
use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::render::{Lang, frame, label, local_time, render, tr};
use crate::{ApiError, AppState};

#[derive(Deserialize, Default)]
pub struct AreaQuery {
    pub(crate) area: Option<String>,
}

/// The area a page is about: `?area=` (id or code) in scope, else the caller's one scope.
pub(crate) async fn area_of(s: &AppState, p: &Principal, area: Option<&str>) -> Result<Area, ApiError> {
    let path = p.list_path(&s.db, area).await?.ok_or_else(|| ApiError::bad_request(msg!("error.several_scopes")))?;
    Ok(areas::get_by_path(&s.db, &path).await?)
}

/// The community of the page's area (a grid's parent), for forms that add to it.
pub(crate) async fn community_of(s: &AppState, area: &Area) -> Option<Area> {
    party::community_of(&s.db, area).await.ok()
}

pub(crate) fn err_text(e: &ApiError, lang: Lang) -> Option<String> {
    Some(e.said(lang.code))
}

/// The choices of a vocabulary for a `<select>`.
pub(crate) fn choices<V: Vocabulary>(lang: Lang) -> Vec<(String, String)> {
    V::all().iter().map(|t| (t.code().to_owned(), label(*t, lang).to_owned())).collect()
}

#[derive(Serialize)]
struct OrgRow {
    id: String,
    depth: usize,
    indent: String,
    name: String,
    kind: String,
    area: String,
    secretary: String,
    committee: String,
    members: i64,
}

#[derive(Serialize)]
struct MemberCard {
    href: String,
    name: String,
    kind: String,
    status: String,
    active: bool,
    org: String,
    unit: String,
    grid: String,
    post: String,
    id_card: String,
}

fn member_card(m: &party::Member, lang: Lang) -> MemberCard {
    MemberCard {
        href: format!("/party/members/{}", m.id),
        name: m.name.clone(),
        kind: label(m.kind, lang).to_owned(),
        status: label(m.status, lang).to_owned(),
        active: m.status == MemberStatus::Active,
        org: m.org_name.clone().unwrap_or_default(),
        unit: m.unit_name.clone().unwrap_or_default(),
        grid: m.grid_name.clone().unwrap_or_default(),
        post: m.post.clone(),
        id_card: m.id_card.clone(),
    }
}

/// The areas a member or need may be placed on: the community and its grids.
pub(crate) async fn places(s: &AppState, community: &Area) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = vec![(community.id.clone(), community.name.clone())];
    for g in areas::children(&s.db, &community.id).await? {
        out.push((g.id, g.name));
    }
    Ok(out)
}

// ---- the registry ----

async fn home(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> Result<Response, ApiError> {
    home_page(&s, &p, lang, q.area.as_deref(), StatusCode::OK, None).await
}

async fn home_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    area: Option<&str>,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let area = area_of(s, p, area).await?;
    let orgs: Vec<OrgRow> = party::orgs_under(&s.db, &area.path)
        .await?
        .into_iter()
        .map(|(depth, o)| OrgRow {
            id: o.id,
            depth,
            indent: "— ".repeat(depth),
            name: o.name,
            kind: label(o.kind, lang).to_owned(),
            area: o.area_name,
            secretary: o.secretary_name.unwrap_or_default(),
            committee: o.committee,
            members: o.members,
        })
        .collect();
    // The roll only to those who keep the registry and to whom they granted it.
    let roll = super::roll_open(s, p, &area.path).await?;
    let members: Vec<MemberCard> = if roll {
        party::members_under(&s.db, &area.path, &MemberFilter::default())
            .await?
            .iter()
            .map(|m| member_card(m, lang))
            .collect()
    } else {
        Vec::new()
    };
    let community = community_of(s, &area).await;
    let manage = p.role.may(Action::ManageParty) && community.is_some();
    let places = match &community {
        Some(c) if manage => places(s, c).await?,
        _ => Vec::new(),
    };
    let ctx = context! {
        area_name => &area.name, area => &area.code, orgs => Value::from(Serde(&orgs)),
        members => Value::from(Serde(&members)), roll => roll, manage => manage, places => Value::from(Serde(&places)),
        org_kinds => Value::from(Serde(&choices::<rules::OrgKind>(lang))),
        member_kinds => Value::from(Serde(&choices::<MemberKind>(lang))),
        error => error,
        ..frame(p, lang, "/party")
    };
    Ok(render(lang, status, "party/home.html", ctx))
}

#[derive(Deserialize)]
pub struct OrgForm {
    area: String,
    parent_id: Option<String>,
    area_id: String,
    kind: String,
    name: String,
    secretary_name: Option<String>,
    committee: Option<String>,
}

async fn add_org(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    axum::Form(f): axum::Form<OrgForm>,
) -> Result<Response, ApiError> {
    let result = async {
        let placed = p.refer(areas::get(&s.db, &f.area_id).await, Thing::Area, &f.area_id, |a| &a.path)?;
        let parent = f.parent_id.clone().filter(|x| !x.is_empty());
        if let Some(parent) = &parent {
            // A community's organisation is the parent of its grids' branches.
            match party::org(&s.db, parent).await {
                Ok(o) if sees(&p, &o.path) => {}
                Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => {
                    return Err(unknown(Thing::PartyOrg, parent));
                }
                Err(e) => return Err(e.into()),
            }
        }
        let kind = rules::OrgKind::parse(&f.kind).map_err(|e| ApiError::invalid(e.message().field("kind")))?;
        let new = NewOrg {
            parent_id: parent,
            area_id: placed.id.clone(),
            kind,
            name: f.name.clone(),
            secretary_name: f.secretary_name.clone(),
            committee: f.committee.clone().unwrap_or_default(),
        };
        let o = party::add_org(&s.db, new).await?;
        audit::change(&s.db, (&p, &address), AuditAction::PartyOrgSave, Target("party_org", &o.id, &o.path), None, &o)
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/party?area={}", f.area)).into_response()),
        Err(e) => match err_text(&e, lang) {
            Some(text) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
                home_page(&s, &p, lang, Some(&f.area), StatusCode::UNPROCESSABLE_ENTITY, Some(text)).await
            }
            _ => Err(e),
        },
    }
}

#[derive(Deserialize)]
pub struct MemberAddForm {
    area: String,
    area_id: String,
    kind: String,
    name: String,
    id_card: String,
    phone: Option<String>,
    post: Option<String>,
    joined_on: Option<String>,
}

fn id_card_of(text: &str) -> Result<IdCardNumber, ApiError> {
    IdCardNumber::parse(text).map_err(|e| ApiError::invalid(wangge_domain::Explain::message(&e).field("id_card")))
}

fn phone_of(text: Option<&str>) -> Result<Option<Phone>, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => {
            Phone::parse(t).map(Some).map_err(|e| ApiError::invalid(wangge_domain::Explain::message(&e).field("phone")))
        }
    }
}

async fn add_member(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    axum::Form(f): axum::Form<MemberAddForm>,
) -> Result<Response, ApiError> {
    let result = async {
        let placed = p.refer(areas::get(&s.db, &f.area_id).await, Thing::Area, &f.area_id, |a| &a.path)?;
        let kind = MemberKind::parse(&f.kind).map_err(|e| ApiError::invalid(e.message().field("kind")))?;
        let joined_on = match f.joined_on.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => None,
            Some(d) => Some(
                wangge_domain::parse_date(d)
                    .ok_or_else(|| ApiError::invalid(msg!("party.error.date", value = d).field("joined_on")))?,
            ),
        };
        let new = NewMember {
            area_id: placed.id,
            org_id: None,
            unit_id: None,
            kind,
            name: f.name.clone(),
            post: f.post.clone().unwrap_or_default(),
            skills: String::new(),
            joined_on,
            id_card: id_card_of(&f.id_card)?,
            phone: phone_of(f.phone.as_deref())?,
            account_id: None,
        };
        let m = party::add_member(&s.db, new, &p.actor_name()).await?;
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::PartyMemberAdd,
            Target("party_member", &m.id, &m.path),
            None,
            &m,
        )
        .await?;
        Ok::<_, ApiError>(m)
    }
    .await;
    match result {
        Ok(m) => Ok(Redirect::to(&format!("/party/members/{}", m.id)).into_response()),
        Err(e) => match err_text(&e, lang) {
            Some(text) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
                home_page(&s, &p, lang, Some(&f.area), StatusCode::UNPROCESSABLE_ENTITY, Some(text)).await
            }
            _ => Err(e),
        },
    }
}

#[derive(Serialize)]
struct ServiceRow {
    id: String,
    member: String,
    unit: String,
    activity: String,
    when: String,
    hours: String,
    state: String,
    state_code: &'static str,
    rating: String,
    points: i64,
    reason: String,
    photos: Vec<String>,
}

fn service_row(r: &service::Service, lang: Lang) -> ServiceRow {
    ServiceRow {
        id: r.id.clone(),
        member: r.member_name.clone(),
        unit: r.unit_name.clone().unwrap_or_default(),
        activity: r.activity.clone(),
        when: local_time(r.served_at),
        hours: rules::hours(r.minutes),
        state: label(r.state, lang).to_owned(),
        state_code: r.state.code(),
        rating: r.rating.map(|x| "★".repeat(x as usize)).unwrap_or_default(),
        points: r.points,
        reason: r.reason.clone().unwrap_or_default(),
        photos: r.photos.iter().map(|id| format!("/party/photos/{id}")).collect(),
    }
}

pub(crate) async fn member_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    id: &str,
    revealed: Option<(String, String)>,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let m = super::member_on_roll(s, p, id).await?;
    let history: Vec<(String, String, String, String)> = party::history(&s.db, &m.id)
        .await?
        .into_iter()
        .map(|e| (local_time(e.created_at), label(e.kind, lang).to_owned(), e.detail, e.by_name))
        .collect();
    let services: Vec<ServiceRow> =
        service::services_of(&s.db, &m.id).await?.iter().map(|r| service_row(r, lang)).collect();
    let registrations: Vec<(String, String, String)> =
        party::registrations_under(&s.db, &m.path, &party::RegistrationFilter { ..Default::default() })
            .await?
            .into_iter()
            .filter(|r| r.member_id.as_deref() == Some(&m.id))
            .map(|r| (format!("/party/registrations/{}", r.id), r.period, label(r.state, lang).to_owned()))
            .collect();
    let manage = p.role.may(Action::ManageParty);
    let community = areas::get(&s.db, &m.community_id).await?;
    let places = if manage { places(s, &community).await? } else { Vec::new() };
    let orgs: Vec<(String, String)> = if manage {
        party::orgs_under(&s.db, &community.path).await?.into_iter().map(|(_, o)| (o.id, o.name)).collect()
    } else {
        Vec::new()
    };
    // The member's account: its name, whether it is disabled, and what staff who
    // decide registrations may do about it (open one, enable it again).
    let account = match &m.account_id {
        Some(a) => Some(wangge_store::security::accounts::get(&s.db, a).await?),
        None => None,
    };
    let run = p.role.may(Action::RunRegistration) && p.can_change(&m.path);
    let active = m.status == MemberStatus::Active;
    let open_account = match (&account, run && active) {
        (None, true) if party::access::confirmed(&s.db, &m.id).await? => {
            Some(party::access::proposed_username(&s.db, &m.id).await?)
        }
        _ => None,
    };
    let enable_account = run && active && m.account_opened && account.as_ref().is_some_and(|a| a.disabled);
    let consent = wangge_store::party::cards::consent_of(&s.db, &m.id).await?.map(|c| {
        let when = local_time(c.consent_at);
        let revoked = c.revoked_at.map(local_time);
        (c, when, revoked)
    });
    let ctx = context! {
        consent => Value::from(Serde(&consent)), keep_cards => manage && active && p.can_change(&m.path),
        m => Value::from(Serde(&m)), card => Value::from(Serde(&member_card(&m, lang))),
        account => account.as_ref().map(|a| (a.username.clone(), a.disabled)),
        open_account => open_account, enable_account => enable_account,
        history => history, services => Value::from(Serde(&services)), registrations => registrations,
        manage => manage, places => Value::from(Serde(&places)), orgs => orgs,
        statuses => Value::from(Serde(&choices::<MemberStatus>(lang))),
        revealed => revealed, error => error,
        ..frame(p, lang, "/party")
    };
    let status = if error_status(&ctx) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(render(lang, status, "party/member.html", ctx))
}

fn error_status(ctx: &Value) -> bool {
    ctx.get_attr("error").map(|v| !v.is_none() && !v.is_undefined()).unwrap_or(false)
}

async fn member(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    member_page(&s, &p, lang, &id, None, None).await
}

#[derive(Deserialize)]
pub struct ChangeForm {
    area_id: Option<String>,
    org_id: Option<String>,
    post: Option<String>,
    status: Option<String>,
}

async fn change_member(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ChangeForm>,
) -> Result<Response, ApiError> {
    let m = super::member_in_sight(&s, &p, &id).await?;
    let result = async {
        if let Some(a) = f.area_id.as_deref().filter(|a| !a.is_empty()) {
            p.refer(areas::get(&s.db, a).await, Thing::Area, a, |x| &x.path)?;
        }
        if let Some(o) = f.org_id.as_deref().filter(|a| !a.is_empty()) {
            let org = party::org(&s.db, o).await;
            match org {
                Ok(org) if sees(&p, &org.path) => {}
                _ => return Err(unknown(Thing::PartyOrg, o)),
            }
        }
        let status = match f.status.as_deref().filter(|x| !x.is_empty()) {
            None => None,
            Some(x) => Some(MemberStatus::parse(x).map_err(|e| ApiError::invalid(e.message().field("status")))?),
        };
        let change = MemberChange {
            area_id: f.area_id.clone(),
            org_id: f.org_id.clone(),
            post: f.post.clone(),
            skills: None,
            status,
        };
        let after = party::change_member(&s.db, &m.id, change, &p.actor_name()).await?;
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::PartyMemberUpdate,
            Target("party_member", &m.id, &m.path),
            Some(&m),
            &after,
        )
        .await?;
        // The account opened for a member who stopped being active was disabled
        // with the change (store::party::change_member): said in the log too.
        if let (true, Some(account)) =
            (m.status == MemberStatus::Active && after.status != MemberStatus::Active, &after.account_id)
            && after.account_opened
            && wangge_store::security::accounts::get(&s.db, account).await?.disabled
        {
            let summary = serde_json::json!({ "account": account, "status": after.status });
            audit::change(
                &s.db,
                (&p, &address),
                AuditAction::PartyAccountDisable,
                Target("party_member", &m.id, &m.path),
                None,
                &summary,
            )
            .await?;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/party/members/{id}")).into_response()),
        Err(e) => match err_text(&e, lang) {
            Some(text) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
                member_page(&s, &p, lang, &id, None, Some(text)).await
            }
            _ => Err(e),
        },
    }
}

#[derive(Deserialize)]
pub struct RevealForm {
    field: Option<String>,
    reason: Option<String>,
}

async fn reveal(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<RevealForm>,
) -> Result<Response, ApiError> {
    let m = super::member_in_sight(&s, &p, &id).await?;
    let reason = f.reason.as_deref().map(str::trim).unwrap_or("");
    if reason.is_empty() {
        return member_page(&s, &p, lang, &id, None, Some(tr("party.reveal.reason_needed", lang.code))).await;
    }
    let phone = f.field.as_deref() == Some("phone");
    let value = party::reveal(&s.db, &m.id, phone).await?.unwrap_or_default();
    let event = audit::Event {
        target_kind: Some("party_member"),
        target_id: Some(&m.id),
        path: Some(&m.path),
        reason: Some(reason),
        after: audit::json(&serde_json::json!({ "field": if phone { "phone" } else { "id_card" } })),
        ..audit::Event::of(AuditAction::PartyMemberReveal)
    };
    audit::log(&s.db, Some(&p), None, &address, event).await?;
    let what = tr(if phone { "party.phone" } else { "party.id_card" }, lang.code);
    member_page(&s, &p, lang, &id, Some((what, value)), None).await
}

// ---- units and registrations ----

#[derive(Serialize)]
struct RegistrationRow {
    id: String,
    href: String,
    name: String,
    unit: String,
    is_unit: bool,
    period: String,
    state: String,
    pending: bool,
    confirmed: bool,
    source: String,
    reason: String,
    when: String,
    /// For a pending member without an account: the user name proposed for the
    /// account that may be opened with the confirmation.
    account_offer: Option<String>,
}

fn registration_row(r: &party::Registration, lang: Lang) -> RegistrationRow {
    RegistrationRow {
        id: r.id.clone(),
        href: format!("/party/registrations/{}", r.id),
        name: r.name.clone(),
        unit: r.unit_name.clone().unwrap_or_default(),
        is_unit: r.unit_id.is_some(),
        period: r.period.clone(),
        state: label(r.state, lang).to_owned(),
        pending: r.state == wangge_domain::party::RegistrationState::Pending,
        confirmed: r.state == wangge_domain::party::RegistrationState::Confirmed,
        source: tr(if r.source == "form" { "party.source.form" } else { "party.source.staff" }, lang.code),
        reason: r.reason.clone().unwrap_or_default(),
        when: local_time(r.requested_at),
        account_offer: None,
    }
}

async fn units(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> Result<Response, ApiError> {
    units_page(&s, &p, lang, q.area.as_deref(), StatusCode::OK, None).await
}

pub(crate) async fn units_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    area: Option<&str>,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let area = area_of(s, p, area).await?;
    let community = community_of(s, &area).await;
    let period = match &community {
        Some(c) => party::period_at(&s.db, &c.id, now_millis()).await?.label(),
        None => String::new(),
    };
    let feedback_period = match &community {
        Some(c) => {
            let months = party::settings(&s.db, &c.id).await?.feedback_months;
            rules::Period::at(now_millis(), months).label()
        }
        None => String::new(),
    };
    let units: Vec<(party::Unit, String)> = party::units_under(&s.db, &area.path)
        .await?
        .into_iter()
        .map(|u| {
            let href = format!("/party/units/{}/feedback?period={feedback_period}", u.id);
            (u, href)
        })
        .collect();
    let regs: Vec<RegistrationRow> = party::registrations_under(&s.db, &area.path, &Default::default())
        .await?
        .iter()
        .map(|r| registration_row(r, lang))
        .collect();
    let (mut pending, rest): (Vec<_>, Vec<_>) = regs.into_iter().partition(|r| r.pending);
    let run = p.role.may(Action::RunRegistration) && community.is_some();
    if run {
        for row in &mut pending {
            let r = party::registration(&s.db, &row.id).await?;
            if let Some(member_id) = &r.member_id
                && p.can_change(&r.path)
                && party::member(&s.db, member_id).await?.account_id.is_none()
            {
                row.account_offer = Some(party::access::proposed_username(&s.db, member_id).await?);
            }
        }
    }
    let places = match &community {
        Some(c) if run => places(s, c).await?,
        _ => Vec::new(),
    };
    let join = community.as_ref().map(|c| format!("/party/join/{}", c.code));
    let ctx = context! {
        area_name => &area.name, area => &area.code, period => period,
        units => Value::from(Serde(&units)), pending => Value::from(Serde(&pending)),
        done => Value::from(Serde(&rest)), run => run, places => Value::from(Serde(&places)),
        join => join, error => error,
        ..frame(p, lang, "/party")
    };
    Ok(render(lang, status, "party/units.html", ctx))
}

#[derive(Deserialize)]
pub struct StepForm {
    reason: Option<String>,
}

/// What a confirmation may carry: open an account for the member, named so.
#[derive(Deserialize, Default)]
pub struct ConfirmForm {
    open_account: Option<String>,
    username: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn take_step(
    s: AppState,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    reached: Option<&crate::shared::site::Reached>,
    id: String,
    step: RegistrationStep,
    reason: Option<String>,
    account: ConfirmForm,
) -> Result<Response, ApiError> {
    let r = super::registration_in_sight(&s, &p, &id).await?;
    // An account asked for with the confirmation: its name is checked first, so
    // that a taken name refuses before anything is decided.
    let open = step == RegistrationStep::Confirm && account.open_account.as_deref().is_some_and(|v| !v.is_empty());
    let username = match (&r.member_id, open) {
        (Some(member_id), true) => {
            let typed = account.username.as_deref().map(str::trim).filter(|u| !u.is_empty());
            let name = match typed {
                Some(u) => u.to_owned(),
                None => party::access::proposed_username(&s.db, member_id).await?,
            };
            if let Err(e) = party::access::check_username(&s.db, &name).await {
                let e = ApiError::from(e);
                let area = areas::get(&s.db, &r.community_id).await?;
                return units_page(&s, &p, lang, Some(&area.code), e.status, err_text(&e, lang)).await;
            }
            Some(name)
        }
        _ => None,
    };
    match super::decide_registration(&s, &p, &address, &id, step, reason.as_deref()).await {
        Ok(after) => {
            if step == RegistrationStep::Confirm
                && let Some(member_id) = &after.member_id
            {
                link_account(&s, member_id).await?;
                let m = party::member(&s.db, member_id).await?;
                if let (Some(username), None, Some(reached)) = (&username, &m.account_id, reached) {
                    let (account, password) = super::access::open_for(&s, &p, &address, &m, username).await?;
                    return Ok(super::access::account_page(&p, lang, reached, &m, &account, &password, false));
                }
            }
            let area = areas::get(&s.db, &r.community_id).await?;
            Ok(Redirect::to(&format!("/party/units?area={}", area.code)).into_response())
        }
        Err(e) => match err_text(&e, lang) {
            Some(text) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
                let area = areas::get(&s.db, &r.community_id).await?;
                units_page(&s, &p, lang, Some(&area.code), e.status, Some(text)).await
            }
            _ => Err(e),
        },
    }
}

/// A confirmed member whose phone is an account's sign-in phone gets that account
/// linked: they then claim needs and record service themselves.
async fn link_account(s: &AppState, member_id: &str) -> Result<(), ApiError> {
    let m = party::member(&s.db, member_id).await?;
    if m.account_id.is_some() {
        return Ok(());
    }
    let Some(phone) = party::reveal(&s.db, member_id, true).await?.and_then(|p| Phone::parse(&p).ok()) else {
        return Ok(());
    };
    if let Some((account_id, _)) = wangge_store::security::recovery::account_by_phone(&s.db, &phone).await? {
        party::set_account(&s.db, member_id, &account_id).await?;
    }
    Ok(())
}

async fn confirm(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ConfirmForm>,
) -> Result<Response, ApiError> {
    take_step(s, lang, p, address, Some(&reached), id, RegistrationStep::Confirm, None, f).await
}

async fn refuse(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<StepForm>,
) -> Result<Response, ApiError> {
    take_step(s, lang, p, address, None, id, RegistrationStep::Refuse, f.reason, ConfirmForm::default()).await
}

async fn withdraw(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    take_step(s, lang, p, address, None, id, RegistrationStep::Withdraw, None, ConfirmForm::default()).await
}

/// The printable 报到单 of a registration: signed by the community, receipted back
/// to the unit.
async fn receipt(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let r = super::registration_in_sight(&s, &p, &id).await?;
    let (member, unit) = match (&r.member_id, &r.unit_id) {
        (Some(m), _) => {
            let m = party::member(&s.db, m).await?;
            let unit = match &m.unit_id {
                Some(u) => Some(party::unit(&s.db, u).await?),
                None => None,
            };
            (Some(member_card(&m, lang)), unit)
        }
        (None, Some(u)) => (None, Some(party::unit(&s.db, u).await?)),
        (None, None) => (None, None),
    };
    let ctx = context! {
        r => Value::from(Serde(&registration_row(&r, lang))), community => &r.community_name,
        member => Value::from(Serde(&member)), unit => Value::from(Serde(&unit)),
        decided => r.decided_at.map(local_time), decided_by => &r.decided_by_name,
        number => r.id.chars().rev().take(8).collect::<String>().to_uppercase(),
        ..frame(&p, lang, "/party")
    };
    Ok(render(lang, StatusCode::OK, "party/receipt.html", ctx))
}

// ---- registering: the public form and the counter ----

#[derive(Deserialize, Default, Serialize)]
pub struct JoinForm {
    /// `member` or `unit`.
    who: Option<String>,
    name: Option<String>,
    id_card: Option<String>,
    phone: Option<String>,
    area_id: Option<String>,
    unit_id: Option<String>,
    skills: Option<String>,
    party_org_name: Option<String>,
    contact_name: Option<String>,
    resources: Option<String>,
    declared_members: Option<String>,
    /// The counter's page to return to.
    area: Option<String>,
}

/// The community named by a public form's code: a community's code, or one of its
/// grids' (the grid is then preselected).
async fn community_by_code(s: &AppState, code: &str) -> Result<(Area, Option<Area>), ApiError> {
    let area = match areas::get_by_code(&s.db, code).await {
        Ok(a) => a,
        Err(wangge_store::StoreError::NotFound { .. }) => return Err(unknown(Thing::Area, code)),
        Err(e) => return Err(e.into()),
    };
    match party::community_of(&s.db, &area).await {
        Ok(c) => {
            let grid = (c.id != area.id).then_some(area);
            Ok((c, grid))
        }
        Err(_) => Err(unknown(Thing::Area, code)),
    }
}

async fn join_page(
    s: &AppState,
    lang: Lang,
    code: &str,
    form: &JoinForm,
    status: StatusCode,
    error: Option<String>,
    done: Option<String>,
) -> Result<Response, ApiError> {
    let (community, grid) = community_by_code(s, code).await?;
    let units: Vec<(String, String)> =
        party::units_under(&s.db, &community.path).await?.into_iter().map(|u| (u.id, u.name)).collect();
    let places = places(s, &community).await?;
    let ctx = context! {
        lang => lang.code, community => &community.name, code => code, units => units,
        places => Value::from(Serde(&places)), grid => grid.map(|g| g.id), form => Value::from(Serde(form)),
        // What a form not sent shows: every field empty.
        blank => Value::from(Serde(&JoinForm::default())),
        error => error, done => done,
    };
    Ok(render(lang, status, "party/join.html", ctx))
}

async fn join(State(s): State<AppState>, lang: Lang, Path(code): Path<String>) -> Result<Response, ApiError> {
    join_page(&s, lang, &code, &JoinForm::default(), StatusCode::OK, None, None).await
}

/// What a registration form asks, checked: a member (name, ID number, phone, the
/// grid, the unit) or a unit (name, Party organisation, contact, phone, resources,
/// declared members).
async fn register_from_form(
    s: &AppState,
    community: &Area,
    f: &JoinForm,
    source: &str,
    by: &str,
) -> Result<party::Registration, ApiError> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    if f.who.as_deref() == Some("unit") {
        let declared = text(&f.declared_members);
        let declared: i64 = declared
            .trim()
            .parse()
            .map_err(|_| ApiError::invalid(msg!("party.error.declared").field("declared_members")))?;
        let new = NewUnit {
            community_id: community.id.clone(),
            name: text(&f.name),
            party_org_name: text(&f.party_org_name),
            contact_name: text(&f.contact_name),
            phone: phone_of(f.phone.as_deref())?,
            resources: text(&f.resources),
            declared_members: declared,
        };
        let (_, r) = party::register_unit(&s.db, new, now_millis(), source, by).await?;
        return Ok(r);
    }
    let area_id = f.area_id.clone().filter(|a| !a.is_empty()).unwrap_or_else(|| community.id.clone());
    let area = match areas::get(&s.db, &area_id).await {
        Ok(a) if a.path.starts_with(&community.path) => a,
        _ => return Err(unknown(Thing::Area, &area_id)),
    };
    let unit_id = f.unit_id.clone().filter(|u| !u.is_empty());
    if let Some(u) = &unit_id {
        match party::unit(&s.db, u).await {
            Ok(unit) if unit.community_id == community.id => {}
            _ => return Err(unknown(Thing::PartyUnit, u)),
        }
    }
    let form = MemberForm {
        area_id: area.id,
        name: text(&f.name),
        id_card: id_card_of(&text(&f.id_card))?,
        phone: phone_of(f.phone.as_deref())?,
        unit_id,
        skills: text(&f.skills),
    };
    let (_, r) = party::register_member(&s.db, form, now_millis(), source, by).await?;
    Ok(r)
}

/// Takes a registration from the public form. Whether a person is already on the
/// roll is not told: a second registration of a period, or one of a member who
/// withdrew, is answered as every other ("received; the community will confirm"),
/// and only a malformed field is named.
async fn join_submit(
    State(s): State<AppState>,
    lang: Lang,
    address: ClientAddress,
    Path(code): Path<String>,
    axum::Form(f): axum::Form<JoinForm>,
) -> Result<Response, ApiError> {
    let (community, _) = community_by_code(&s, &code).await?;
    match register_from_form(&s, &community, &f, "form", "公开表单").await {
        Ok(r) => {
            let event = audit::Event {
                target_kind: Some("party_registration"),
                target_id: Some(&r.id),
                path: Some(&r.path),
                after: audit::json(&serde_json::json!({ "period": r.period, "unit": r.unit_id.is_some() })),
                ..audit::Event::of(AuditAction::PartyRegister)
            };
            audit::log(&s.db, None, Some("公开表单"), &address, event).await?;
            let message = msg!("party.notice.registered", name = &r.name, period = &r.period);
            super::tell_staff(&s, &community.path, &r.id, &format!("/party/units?area={}", community.code), message)
                .await?;
        }
        Err(e) if e.status == StatusCode::CONFLICT => {}
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let text = err_text(&e, lang);
            return join_page(&s, lang, &code, &f, StatusCode::UNPROCESSABLE_ENTITY, text, None).await;
        }
        Err(e) => return Err(e),
    }
    let done = tr("party.join.done", lang.code);
    join_page(&s, lang, &code, &JoinForm::default(), StatusCode::OK, None, Some(done)).await
}

/// Staff register a member or a unit at the counter.
async fn counter(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    axum::Form(f): axum::Form<JoinForm>,
) -> Result<Response, ApiError> {
    let area = area_of(&s, &p, f.area.as_deref()).await?;
    let Some(community) = community_of(&s, &area).await else {
        return Err(ApiError::invalid(msg!("party.error.not_community", area = &area.name).field("area")));
    };
    if !p.can_see(&community.path) {
        return Err(super::not_here());
    }
    match register_from_form(&s, &community, &f, "staff", &p.actor_name()).await {
        Ok(r) => {
            audit::change(
                &s.db,
                (&p, &address),
                AuditAction::PartyRegister,
                Target("party_registration", &r.id, &r.path),
                None,
                &r,
            )
            .await?;
            Ok(Redirect::to(&format!("/party/units?area={}", area.code)).into_response())
        }
        Err(e) => match err_text(&e, lang) {
            Some(text) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
                units_page(&s, &p, lang, Some(&area.code), e.status, Some(text)).await
            }
            _ => Err(e),
        },
    }
}

// ---- needs ----

async fn needs(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> Result<Response, ApiError> {
    needs_page(&s, &p, lang, q.area.as_deref(), StatusCode::OK, None).await
}

#[derive(Serialize)]
struct NeedRow {
    id: String,
    title: String,
    detail: String,
    area: String,
    day: String,
    source: String,
    slots: i64,
    claimed: i64,
    who: String,
}

async fn need_rows(s: &AppState, list: Vec<service::Need>, lang: Lang) -> Result<Vec<NeedRow>, ApiError> {
    let mut out = Vec::new();
    for n in list {
        let who = service::claims(&s.db, &n.id).await?.into_iter().map(|(_, name)| name).collect::<Vec<_>>();
        out.push(NeedRow {
            who: who.join("、"),
            id: n.id,
            title: n.title,
            detail: n.detail,
            area: n.area_name,
            day: n.needed_on,
            source: label(n.source_kind, lang).to_owned(),
            slots: n.slots,
            claimed: n.claimed,
        });
    }
    Ok(out)
}

async fn needs_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    area: Option<&str>,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let area = area_of(s, p, area).await?;
    let today = wangge_store::instructions::today();
    let list = need_rows(s, service::needs_under(&s.db, &area.path, today).await?, lang).await?;
    let community = community_of(s, &area).await;
    let manage = p.role.may(Action::ManageParty) && community.is_some();
    let places = match &community {
        Some(c) if manage => places(s, c).await?,
        _ => Vec::new(),
    };
    let ctx = context! {
        area_name => &area.name, area => &area.code, needs => Value::from(Serde(&list)), manage => manage,
        places => Value::from(Serde(&places)), sources => Value::from(Serde(&choices::<NeedSource>(lang))),
        day => (today + time::Duration::days(7)).to_string(), error => error,
        ..frame(p, lang, "/party")
    };
    Ok(render(lang, status, "party/needs.html", ctx))
}

#[derive(Deserialize)]
pub struct NeedForm {
    area: String,
    area_id: String,
    title: String,
    detail: Option<String>,
    source_kind: String,
    source_id: Option<String>,
    field: Option<String>,
    needed_on: String,
    slots: String,
}

/// A field chosen on a form: none when left empty.
pub(crate) fn field_of(value: Option<&str>) -> Result<Option<ServiceField>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => ServiceField::parse(v).map(Some).map_err(|e| ApiError::invalid(e.message().field("field"))),
    }
}

async fn add_need(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    axum::Form(f): axum::Form<NeedForm>,
) -> Result<Response, ApiError> {
    let result = async {
        let placed = p.refer(areas::get(&s.db, &f.area_id).await, Thing::Area, &f.area_id, |a| &a.path)?;
        let source_kind =
            NeedSource::parse(&f.source_kind).map_err(|e| ApiError::invalid(e.message().field("source_kind")))?;
        let slots: i64 =
            f.slots.trim().parse().map_err(|_| ApiError::invalid(msg!("party.error.slots").field("slots")))?;
        let new = service::NewNeed {
            area_id: placed.id,
            title: f.title.clone(),
            detail: f.detail.clone().unwrap_or_default(),
            source_kind,
            source_id: f.source_id.clone().filter(|x| !x.trim().is_empty()),
            field: field_of(f.field.as_deref())?,
            needed_on: f.needed_on.clone(),
            slots,
        };
        let n = service::add_need(&s.db, new, &p.actor_name(), wangge_store::instructions::today()).await?;
        audit::change(&s.db, (&p, &address), AuditAction::PartyNeedAdd, Target("party_need", &n.id, &n.path), None, &n)
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/party/needs?area={}", f.area)).into_response()),
        Err(e) => match err_text(&e, lang) {
            Some(text) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
                needs_page(&s, &p, lang, Some(&f.area), StatusCode::UNPROCESSABLE_ENTITY, Some(text)).await
            }
            _ => Err(e),
        },
    }
}

// ---- service to confirm ----

async fn services(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> Result<Response, ApiError> {
    services_page(&s, &p, lang, q.area.as_deref(), StatusCode::OK, None).await
}

async fn services_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    area: Option<&str>,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let area = area_of(s, p, area).await?;
    let waiting: Vec<ServiceRow> = service::services_under(&s.db, &area.path, Some(ServiceState::Recorded), 200)
        .await?
        .iter()
        .map(|r| service_row(r, lang))
        .collect();
    let recent: Vec<ServiceRow> = service::services_under(&s.db, &area.path, None, 50)
        .await?
        .iter()
        .filter(|r| r.state != ServiceState::Recorded)
        .map(|r| service_row(r, lang))
        .collect();
    let ctx = context! {
        area_name => &area.name, area => &area.code, waiting => Value::from(Serde(&waiting)),
        recent => Value::from(Serde(&recent)), error => error,
        ..frame(p, lang, "/party")
    };
    Ok(render(lang, status, "party/service.html", ctx))
}

#[derive(Deserialize)]
pub struct DecideForm {
    rating: Option<String>,
    reason: Option<String>,
}

async fn decide(
    s: AppState,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    id: String,
    confirm: bool,
    f: DecideForm,
) -> Result<Response, ApiError> {
    let r = super::service_in_sight(&s, &p, &id).await?;
    let rating = f.rating.as_deref().and_then(|x| x.trim().parse::<i64>().ok());
    match super::decide_service(&s, &p, &address, &id, confirm, rating, f.reason.as_deref()).await {
        Ok(_) => Ok(Redirect::to("/party/service").into_response()),
        Err(e) => match err_text(&e, lang) {
            Some(text) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
                let area = if p.scopes.len() == 1 { None } else { Some(r.path.clone()) };
                let code = match area {
                    Some(path) => Some(areas::get_by_path(&s.db, &path).await?.code),
                    None => None,
                };
                services_page(&s, &p, lang, code.as_deref(), e.status, Some(text)).await
            }
            _ => Err(e),
        },
    }
}

async fn confirm_service(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<DecideForm>,
) -> Result<Response, ApiError> {
    decide(s, lang, p, address, id, true, f).await
}

async fn reject_service(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<DecideForm>,
) -> Result<Response, ApiError> {
    decide(s, lang, p, address, id, false, f).await
}

// ---- a member's own page ----

/// Records a member's own page lists, newest first.
const RECENT_RECORDS: usize = 20;

async fn mine(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    mine_page(&s, &p, lang, StatusCode::OK, None, None).await
}

pub(crate) async fn mine_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    status: StatusCode,
    error: Option<String>,
    done: Option<String>,
) -> Result<Response, ApiError> {
    let today = wangge_store::instructions::today();
    let mut blocks = Vec::new();
    let year_start = wangge_domain::party::china_midnight(
        time::Date::from_calendar_date(today.year(), time::Month::January, 1).expect("1 January"),
    );
    for m in super::own_members(s, p).await? {
        let community = areas::get(&s.db, &m.community_id).await?;
        let settings = party::settings(&s.db, &community.id).await?;
        let claims = service::claimed_by(&s.db, &m.id).await?;
        let claimed: Vec<String> = claims.iter().map(|n| n.id.clone()).collect();
        let open = need_rows(s, service::needs_under(&s.db, &community.path, today).await?, lang).await?;
        let records = service::services_of(&s.db, &m.id).await?;
        // What service can be recorded for: claimed needs of the last month and
        // ahead that have no record of theirs yet (a year of claims would bury them).
        let served: std::collections::HashSet<&str> = records.iter().filter_map(|r| r.need_id.as_deref()).collect();
        let since = wangge_domain::format_date(today - time::Duration::days(31));
        let claimed_open: Vec<(String, String)> = claims
            .iter()
            .filter(|n| !served.contains(n.id.as_str()) && n.needed_on >= since)
            .map(|n| (n.id.clone(), format!("{} · {}", n.needed_on, n.title)))
            .collect();
        let confirmed = |r: &&service::Service| r.state == wangge_domain::party::ServiceState::Confirmed;
        let year_minutes: i64 =
            records.iter().filter(confirmed).filter(|r| r.served_at >= year_start).map(|r| r.minutes).sum();
        let waiting = records.iter().filter(|r| r.state == wangge_domain::party::ServiceState::Recorded).count();
        let shown: Vec<ServiceRow> = records.iter().take(RECENT_RECORDS).map(|r| service_row(r, lang)).collect();
        let consent = wangge_store::party::cards::consent_of(&s.db, &m.id).await?.filter(|c| c.revoked_at.is_none());
        let grid_code = match &m.grid_id {
            Some(g) => Some(areas::get(&s.db, g).await?.code),
            None => None,
        };
        blocks.push(context! {
            id => &m.id, name => &m.name, community => &community.name,
            open => Value::from(Serde(&open)), claimed => claimed, claimed_open => claimed_open,
            records => Value::from(Serde(&shown)), more_records => records.len().saturating_sub(RECENT_RECORDS),
            year => today.year(), year_hours => wangge_domain::party::hours(year_minutes),
            target_hours => wangge_domain::party::hours(settings.yearly_minutes),
            reached => year_minutes >= settings.yearly_minutes, waiting => waiting,
            consent => Value::from(Serde(&consent)), grid_code => grid_code,
            post => if m.post.is_empty() { label(m.kind, lang).to_owned() } else { m.post.clone() },
        });
    }
    let ctx = context! {
        members => blocks, now => local_time(now_millis()).replace(' ', "T"), error => error, done => done,
        ..frame(p, lang, "/party/mine")
    };
    Ok(render(lang, status, "party/mine.html", ctx))
}

/// The caller's own member of `member_id`, else an unknown member.
pub(crate) async fn own(s: &AppState, p: &Principal, member_id: &str) -> Result<party::Member, ApiError> {
    super::own_members(s, p)
        .await?
        .into_iter()
        .find(|m| m.id == member_id)
        .ok_or_else(|| unknown(Thing::PartyMember, member_id))
}

#[derive(Deserialize)]
pub struct ClaimForm {
    member_id: String,
}

async fn claim(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ClaimForm>,
) -> Result<Response, ApiError> {
    let m = own(&s, &p, &f.member_id).await?;
    let n = match service::need(&s.db, &id).await {
        Ok(n) if n.community_id == m.community_id => n,
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => return Err(unknown(Thing::PartyNeed, &id)),
        Err(e) => return Err(e.into()),
    };
    match service::claim(&s.db, &n.id, &m.id).await {
        Ok(_) => {
            let summary = serde_json::json!({ "member": m.id, "need": n.title });
            audit::change(
                &s.db,
                (&p, &address),
                AuditAction::PartyClaim,
                Target("party_need", &n.id, &n.path),
                None,
                &summary,
            )
            .await?;
            Ok(Redirect::to("/party/mine").into_response())
        }
        Err(e) => {
            let e = ApiError::from(e);
            match err_text(&e, lang) {
                Some(text) if e.status.is_client_error() => {
                    mine_page(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(text), None).await
                }
                _ => Err(e),
            }
        }
    }
}

/// A member records their own service: multipart with photos, or a plain form.
async fn record(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let sent = crate::shared::multipart::read(request, &(), wangge_store::demands::attachments::MAX_BYTES).await?;
    let field = |name: &str| sent.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned());
    let member_id = field("member_id").unwrap_or_default();
    let m = own(&s, &p, &member_id).await?;
    let mut photos = Vec::new();
    for f in sent.files.iter().filter(|f| f.field == "photos") {
        match &f.data {
            None => {
                let text = tr("photos.too_big", lang.code).replace("%{name}", &f.file_name);
                return mine_page(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(text), None).await;
            }
            Some(d) => photos.push(d.clone()),
        }
    }
    let result = async {
        let minutes = rules::parse_hours(&field("hours").unwrap_or_default()).map_err(ApiError::invalid)?;
        let when = field("served_at").unwrap_or_default();
        let served_at = parse_local(&when)
            .ok_or_else(|| ApiError::invalid(msg!("party.error.when", value = &when).field("served_at")))?;
        let need_id = field("need_id").filter(|n| !n.is_empty());
        if let Some(n) = &need_id {
            match service::need(&s.db, n).await {
                Ok(need) if need.community_id == m.community_id => {}
                _ => return Err(unknown(Thing::PartyNeed, n)),
            }
        }
        let new = service::NewService {
            member_id: m.id.clone(),
            need_id,
            activity: field("activity").unwrap_or_default(),
            served_at,
            minutes,
        };
        let r = service::record(&s.db, new, &photos, &m.name, now_millis()).await?;
        let summary = serde_json::json!({ "activity": r.activity, "minutes": r.minutes, "photos": r.photos.len() });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::PartyServiceRecord,
            Target("party_service", &r.id, &r.path),
            None,
            &summary,
        )
        .await?;
        Ok(r)
    }
    .await;
    match result {
        Ok(_) => mine_page(&s, &p, lang, StatusCode::OK, None, Some(tr("party.mine.recorded", lang.code))).await,
        Err(e) => match err_text(&e, lang) {
            Some(text) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
                mine_page(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(text), None).await
            }
            _ => Err(e),
        },
    }
}

/// `YYYY-MM-DDTHH:MM` (a `datetime-local` input) or `YYYY-MM-DD HH:MM`, China time.
fn parse_local(text: &str) -> Option<i64> {
    let t = text.trim().replace(' ', "T");
    let (d, hm) = t.split_once('T')?;
    let day = wangge_domain::parse_date(d)?;
    let (h, m) = hm.split_once(':')?;
    let time = time::Time::from_hms(h.parse().ok()?, m.get(..2)?.parse().ok()?, 0).ok()?;
    let at = day.with_time(time).assume_offset(wangge_domain::demands::CHINA);
    Some((at.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// A service photo, to those who see the record (staff in scope, the member); audited.
async fn photo(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (service_id, content_type, data) = match service::photo(&s.db, &id).await {
        Ok(x) => x,
        Err(wangge_store::StoreError::NotFound { .. }) => return Err(unknown(Thing::PartyPhoto, &id)),
        Err(e) => return Err(e.into()),
    };
    let viewer = p.role.may(Action::ViewParty) || p.role.may(Action::ServeParty);
    if !viewer {
        return Err(unknown(Thing::PartyPhoto, &id));
    }
    let r = super::service_in_sight(&s, &p, &service_id).await.map_err(|_| unknown(Thing::PartyPhoto, &id))?;
    let event = audit::Event {
        target_kind: Some("party_photo"),
        target_id: Some(&id),
        path: Some(&r.path),
        ..audit::Event::of(AuditAction::PartyPhotoView)
    };
    audit::log(&s.db, Some(&p), None, &address, event).await?;
    Ok(crate::shared::api::private_file(&content_type, "inline", data))
}

// ---- settings ----

async fn settings(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> Result<Response, ApiError> {
    settings_page(&s, &p, lang, q.area.as_deref(), StatusCode::OK, None).await
}

async fn settings_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    area: Option<&str>,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let area = area_of(s, p, area).await?;
    let Some(community) = community_of(s, &area).await else {
        return Err(ApiError::invalid(msg!("party.error.not_community", area = &area.name).field("area")));
    };
    let st = party::settings(&s.db, &community.id).await?;
    let ctx = context! {
        area => &community.code, area_name => &community.name, st => Value::from(Serde(&st)),
        yearly_hours => rules::hours(st.yearly_minutes), error => error,
        ..frame(p, lang, "/party")
    };
    Ok(render(lang, status, "party/settings.html", ctx))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    area: String,
    period_months: String,
    feedback_months: String,
    yearly_hours: String,
    threshold_percent: String,
    per_hour: String,
    per_activity: String,
    per_need: String,
}

async fn save_settings(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    axum::Form(f): axum::Form<SettingsForm>,
) -> Result<Response, ApiError> {
    let area = area_of(&s, &p, Some(&f.area)).await?;
    let Some(community) = community_of(&s, &area).await else {
        return Err(ApiError::invalid(msg!("party.error.not_community", area = &area.name).field("area")));
    };
    if !p.can_see(&community.path) {
        return Err(super::not_here());
    }
    let result = async {
        let n = |v: &str, field: &'static str| -> Result<i64, ApiError> {
            v.trim().parse().map_err(|_| ApiError::invalid(msg!("party.error.number", value = v).field(field)))
        };
        let yearly = f
            .yearly_hours
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|h| h.is_finite() && *h > 0.0)
            .map(|h| (h * 60.0).round() as i64)
            .ok_or_else(|| ApiError::invalid(msg!("party.error.yearly_hours").field("yearly_hours")))?;
        let st = party::Settings {
            period_months: u8::try_from(n(&f.period_months, "period_months")?).unwrap_or(0),
            feedback_months: u8::try_from(n(&f.feedback_months, "feedback_months")?).unwrap_or(0),
            yearly_minutes: yearly,
            threshold_percent: n(&f.threshold_percent, "threshold_percent")?,
            points: rules::PointRules {
                per_hour: n(&f.per_hour, "per_hour")?,
                per_activity: n(&f.per_activity, "per_activity")?,
                per_need: n(&f.per_need, "per_need")?,
            },
        };
        let saved = party::save_settings(&s.db, &community.id, &st).await?;
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::PartySettings,
            Target("area", &community.id, &community.path),
            None,
            &saved,
        )
        .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/party/settings?area={}", community.code)).into_response()),
        Err(e) => match err_text(&e, lang) {
            Some(text) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
                settings_page(&s, &p, lang, Some(&community.code), e.status, Some(text)).await
            }
            _ => Err(e),
        },
    }
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::{Authenticated, PartyRoll, Public, Role};
    use crate::shared::routes::Limit;
    use wangge_domain::Action::{ConfirmService, ManageParty, RunRegistration, ServeParty, ViewParty};
    crate::shared::routes::Routes::new()
        .get("/party", Role(ViewParty), home)
        .post("/party/orgs", Role(ManageParty), add_org)
        .post("/party/members", Role(ManageParty), add_member)
        .get("/party/members/{id}", PartyRoll, member)
        .post("/party/members/{id}", Role(ManageParty), change_member)
        .post("/party/members/{id}/reveal", Role(ManageParty), reveal)
        .get("/party/units", Role(ViewParty), units)
        .post("/party/registrations", Role(RunRegistration), counter)
        .get("/party/registrations/{id}", Role(ViewParty), receipt)
        .post("/party/registrations/{id}/confirm", Role(RunRegistration), confirm)
        .post("/party/registrations/{id}/refuse", Role(RunRegistration), refuse)
        .post("/party/registrations/{id}/withdraw", Role(RunRegistration), withdraw)
        .get("/party/join/{code}", Public, join)
        .post("/party/join/{code}", Public, join_submit)
        .get("/party/needs", Role(ViewParty), needs)
        .post("/party/needs", Role(ManageParty), add_need)
        .post("/party/needs/{id}/claim", Role(ServeParty), claim)
        .get("/party/service", Role(ConfirmService), services)
        .post("/party/service/{id}/confirm", Role(ConfirmService), confirm_service)
        .post("/party/service/{id}/reject", Role(ConfirmService), reject_service)
        .get("/party/mine", Role(ServeParty), mine)
        .post_limited("/party/mine/service", Role(ServeParty), Limit::Photos, record)
        .post_limited("/party/mine/card", Role(ServeParty), Limit::Photos, super::cards::consent_own)
        .post("/party/mine/card/revoke", Role(ServeParty), super::cards::revoke_own)
        .post("/party/members/{id}/card", Role(ManageParty), super::cards::consent_paper)
        .post("/party/members/{id}/card/revoke", Role(ManageParty), super::cards::revoke_staff)
        .get("/g/{code}/cards/{member}/photo", Public, super::cards::photo)
        .get("/party/photos/{id}", Authenticated, photo)
        .get("/party/settings", Role(ManageParty), settings)
        .post("/party/settings", Role(ManageParty), save_settings)
        .merge(super::feedback::routes())
}
