//! Joint meetings (联席会议, issue 23): the community's meetings with the units in
//! its area (`/party/joint`), recording one with its topics and resolutions, its
//! printable page, and turning a resolution into a project of the three lists or
//! an instruction sent down to the grids. The SQL is `wangge_store::party::joint`
//! and `…::projects`, the rules `wangge_domain::party_joint`.
//!
//! Who: everyone with `view_party` in sight reads the meetings of their community;
//! those who keep the registry (`manage_party`) over the whole community record
//! them and turn resolutions into projects or instructions from the community to
//! its grids (the Party secretary is usually the community's director too, 一肩挑).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use wangge_domain::party::china_day;
use wangge_domain::party_joint::{Outcome, ServiceField};
use wangge_domain::{Action, AuditAction, format_date, msg, now_millis};
use wangge_store::party::joint::{self, JointMeeting, NewJointMeeting, Resolution};
use wangge_store::party::projects::{self, NewProject};
use wangge_store::party::{self};
use wangge_store::registry::areas::{self, Area};
use wangge_store::{Thing, instructions};

use super::pages::{AreaQuery, area_of, choices, community_of, places};
use super::sees;
use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::render::{Lang, frame, label, local_time, render};
use crate::{ApiError, AppState};

/// A joint meeting the caller sees, else an unknown one.
async fn meeting_in_sight(s: &AppState, p: &Principal, id: &str) -> Result<JointMeeting, ApiError> {
    match joint::meeting(&s.db, id).await {
        Ok(m) if sees(p, &m.path) => Ok(m),
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => Err(unknown(Thing::PartyJointMeeting, id)),
        Err(e) => Err(e.into()),
    }
}

/// Whether the caller keeps the registry of the whole community at `path`.
fn keeps(p: &Principal, path: &str) -> bool {
    p.role.may(Action::ManageParty) && p.can_see(path)
}

/// The community of the page's area, kept by the caller, else refused.
async fn kept_community(s: &AppState, p: &Principal, area: Option<&str>) -> Result<Area, ApiError> {
    let area = area_of(s, p, area).await?;
    let community =
        community_of(s, &area).await.ok_or_else(|| ApiError::invalid(msg!("party.joint.error.community")))?;
    if !keeps(p, &community.path) {
        return Err(super::not_here());
    }
    Ok(community)
}

#[derive(Serialize)]
struct ResolutionRow {
    id: String,
    position: i64,
    topic: String,
    decision: String,
    outcome: String,
    noted: bool,
    project_id: Option<String>,
    instruction_id: Option<String>,
}

fn resolution_row(r: &Resolution, lang: Lang) -> ResolutionRow {
    ResolutionRow {
        id: r.id.clone(),
        position: r.position,
        topic: r.topic.clone(),
        decision: r.decision.clone(),
        outcome: label(r.outcome, lang).to_owned(),
        noted: r.outcome == Outcome::Noted,
        project_id: r.project_id.clone(),
        instruction_id: r.instruction_id.clone(),
    }
}

#[derive(Serialize)]
struct MeetingRow {
    id: String,
    when: String,
    title: String,
    place: String,
    community: String,
    units: String,
    others: String,
    resolutions: Vec<ResolutionRow>,
}

fn meeting_row(m: &JointMeeting, lang: Lang) -> MeetingRow {
    MeetingRow {
        id: m.id.clone(),
        when: local_time(m.held_at).get(..16).unwrap_or_default().to_owned(),
        title: m.title.clone(),
        place: m.place.clone(),
        community: m.community_name.clone(),
        units: m.units.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join("、"),
        others: m.others.clone(),
        resolutions: m.resolutions.iter().map(|r| resolution_row(r, lang)).collect(),
    }
}

/// The joint meetings of the caller's community, newest first.
async fn list(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> Result<Response, ApiError> {
    let area = area_of(&s, &p, q.area.as_deref()).await?;
    let meetings: Vec<MeetingRow> =
        joint::meetings_under(&s.db, &area.path, 200).await?.iter().map(|m| meeting_row(m, lang)).collect();
    let manage = match community_of(&s, &area).await {
        Some(c) => keeps(&p, &c.path),
        None => false,
    };
    let ctx = context! {
        area_name => &area.name, area => &area.code, meetings => minijinja::Value::from(Serde(&meetings)),
        manage => manage, see_instructions => p.role.may(Action::ViewInstructions),
        ..frame(&p, lang, "/party")
    };
    Ok(render(lang, StatusCode::OK, "party/joint.html", ctx))
}

/// The form recording a joint meeting.
async fn new_form(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> Result<Response, ApiError> {
    let community = kept_community(&s, &p, q.area.as_deref()).await?;
    new_view(&s, &p, lang, &community, StatusCode::OK, None, &[]).await
}

/// How many topic rows the form offers.
const TOPIC_ROWS: usize = 5;

async fn new_view(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    community: &Area,
    status: StatusCode,
    error: Option<String>,
    sent: &[(String, String)],
) -> Result<Response, ApiError> {
    let field = |name: &str| sent.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let chosen: Vec<&str> = sent.iter().filter(|(k, _)| k == "units").map(|(_, v)| v.as_str()).collect();
    let units: Vec<(String, String, bool)> = party::units_under(&s.db, &community.path)
        .await?
        .into_iter()
        .map(|u| {
            let on = chosen.contains(&u.id.as_str());
            (u.id, u.name, on)
        })
        .collect();
    let topics: Vec<(usize, String, String)> =
        (1..=TOPIC_ROWS).map(|i| (i, field(&format!("topic_{i}")), field(&format!("decision_{i}")))).collect();
    let now = local_time(now_millis()).replace(' ', "T");
    let held_at =
        Some(field("held_at")).filter(|v| !v.is_empty()).unwrap_or(now.get(..16).unwrap_or_default().to_owned());
    let ctx = context! {
        community => &community.name, area => &community.code, units => units, topics => topics, error => error,
        held_at => held_at, place => field("place"), title => field("title"), others => field("others"),
        minutes => field("minutes"),
        ..frame(p, lang, "/party")
    };
    Ok(render(lang, status, "party/joint_new.html", ctx))
}

/// Records a joint meeting (plain form: units ticked, topics in rows).
async fn record(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    axum::Form(sent): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let field = |name: &str| sent.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let area = field("area");
    let community = kept_community(&s, &p, Some(&area)).await?;
    let result = async {
        let when = field("held_at");
        let held_at = super::life::parse_local(&when)
            .ok_or_else(|| ApiError::invalid(msg!("party.error.when", value = &when).field("held_at")))?;
        let new = NewJointMeeting {
            community_id: community.id.clone(),
            held_at,
            place: field("place"),
            title: field("title"),
            others: field("others"),
            minutes: field("minutes"),
            unit_ids: sent.iter().filter(|(k, _)| k == "units").map(|(_, v)| v.clone()).collect(),
            topics: (1..=TOPIC_ROWS).map(|i| (field(&format!("topic_{i}")), field(&format!("decision_{i}")))).collect(),
        };
        let m = joint::record(&s.db, new, &p.actor_name(), now_millis()).await?;
        let summary = serde_json::json!({
            "held_at": m.held_at, "title": m.title, "units": m.units.len(), "resolutions": m.resolutions.len(),
        });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::PartyJointRecord,
            Target("party_joint_meeting", &m.id, &m.path),
            None,
            &summary,
        )
        .await?;
        Ok::<_, ApiError>(m)
    }
    .await;
    match result {
        Ok(m) => Ok(Redirect::to(&format!("/party/joint/{}", m.id)).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let text = e.said(lang.code);
            new_view(&s, &p, lang, &community, StatusCode::UNPROCESSABLE_ENTITY, Some(text), &sent).await
        }
        Err(e) => Err(e),
    }
}

/// A joint meeting's printable page; to those who keep the community, a form per
/// noted resolution to make it a project or (with `send_instructions`) an
/// instruction to the grids.
async fn page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let m = meeting_in_sight(&s, &p, &id).await?;
    page_view(&s, &p, lang, m, StatusCode::OK, None).await
}

async fn page_view(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    m: JointMeeting,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let manage = keeps(p, &m.path);
    let instruct = manage;
    let community = areas::get(&s.db, &m.community_id).await?;
    let (places, grids, owners) = if manage || instruct {
        let places = places(s, &community).await?;
        let grids = places[1..].to_vec();
        let owners: Vec<(String, String)> =
            party::units_under(&s.db, &community.path).await?.into_iter().map(|u| (u.id, u.name)).collect();
        (places, grids, owners)
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let due = format_date(china_day(now_millis()) + time::Duration::days(30));
    let ctx = context! {
        m => minijinja::Value::from(Serde(&meeting_row(&m, lang))), minutes => &m.minutes,
        recorded_by => &m.recorded_by_name, area => &community.code, manage => manage, instruct => instruct,
        places => places, grids => grids, owners => owners, fields => choices::<ServiceField>(lang), due => due,
        error => error, see_instructions => p.role.may(Action::ViewInstructions),
        ..frame(p, lang, "/party")
    };
    Ok(render(lang, status, "party/joint_meeting.html", ctx))
}

/// A resolution the caller keeps (`manage_party` over its community), with its meeting.
async fn resolution_kept(s: &AppState, p: &Principal, id: &str) -> Result<(Resolution, JointMeeting), ApiError> {
    let r = match joint::resolution(&s.db, id).await {
        Ok(r) if sees(p, &r.path) => r,
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => return Err(unknown(Thing::PartyResolution, id)),
        Err(e) => return Err(e.into()),
    };
    if !keeps(p, &r.path) {
        return Err(super::not_here());
    }
    let m = joint::meeting(&s.db, &r.meeting_id).await?;
    Ok((r, m))
}

/// The owner, place and field of a project as a form sends them.
pub(crate) fn project_form(sent: &[(String, String)]) -> Result<NewProject, ApiError> {
    let field = |name: &str| sent.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let service_field = super::pages::field_of(Some(&field("field")))?
        .ok_or_else(|| ApiError::invalid(msg!("party.joint.error.field").field("field")))?;
    Ok(NewProject {
        area_id: field("area_id"),
        title: field("title"),
        detail: sent.iter().find(|(k, _)| k == "detail").map(|(_, v)| v.clone()).unwrap_or_default(),
        field: service_field,
        owner_unit_id: Some(field("owner_unit_id")).filter(|v| !v.is_empty()),
        owner_name: field("owner_name"),
        deadline: field("deadline"),
    })
}

/// Turns a resolution into a project of the three lists.
async fn to_project(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(sent): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let (r, m) = resolution_kept(&s, &p, &id).await?;
    let result = async {
        let new = project_form(&sent)?;
        p.refer(areas::get(&s.db, &new.area_id).await, Thing::Area, &new.area_id, |a| &a.path)?;
        let project = projects::from_resolution(&s.db, &r.id, new, &p.actor_name(), china_day(now_millis())).await?;
        let summary = serde_json::json!({ "outcome": "project", "project": project.id, "title": project.title,
            "owner": project.owner_name, "deadline": project.deadline });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::PartyResolutionOutcome,
            Target("party_resolution", &r.id, &r.path),
            None,
            &summary,
        )
        .await?;
        Ok::<_, ApiError>(project)
    }
    .await;
    match result {
        Ok(project) => Ok(Redirect::to(&format!("/party/projects/{}", project.id)).into_response()),
        Err(e) if matches!(e.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => {
            let text = e.said(lang.code);
            page_view(&s, &p, lang, m, StatusCode::UNPROCESSABLE_ENTITY, Some(text)).await
        }
        Err(e) => Err(e),
    }
}

/// Sends a resolution down as an instruction from the community to the grids
/// ticked, due on the day given; the resolution then names it.
async fn to_instruction(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(sent): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let (r, m) = resolution_kept(&s, &p, &id).await?;
    let field = |name: &str| sent.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let result = async {
        let receivers: Vec<String> = sent.iter().filter(|(k, _)| k == "grids").map(|(_, v)| v.clone()).collect();
        // Every id named is checked against the caller's scope first.
        for g in &receivers {
            p.refer(areas::get(&s.db, g).await, Thing::Area, g, |a| &a.path)?;
        }
        joint::still_noted(&r)?;
        if receivers.is_empty() {
            return Err(ApiError::invalid(msg!("party.joint.error.no_grid").field("grids")));
        }
        let title = Some(field("title")).filter(|t| !t.is_empty()).unwrap_or_else(|| r.topic.clone());
        let new = instructions::NewInstruction {
            area_id: m.community_id.clone(),
            title,
            body: format!("{}\n\n{}", r.decision, field("body")).trim().to_owned(),
            due_on: field("due_on"),
            receivers,
            ..Default::default()
        };
        // Sent from the community by whoever keeps its Party registry (the Party
        // secretary is usually the community's director too, 一肩挑), to grids in
        // sight (the store keeps them below the community); audited, each told.
        let sent_one = crate::instructions::deliver(&s, &p, &address, new, &[]).await?;
        let after = joint::mark_instruction(&s.db, &r.id, &sent_one.id).await?;
        let summary = serde_json::json!({ "outcome": "instruction", "instruction": sent_one.id,
            "due_on": sent_one.due_on });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::PartyResolutionOutcome,
            Target("party_resolution", &after.id, &after.path),
            None,
            &summary,
        )
        .await?;
        Ok::<_, ApiError>(sent_one)
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/party/joint/{}", m.id)).into_response()),
        Err(e) if matches!(e.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => {
            let text = e.said(lang.code);
            page_view(&s, &p, lang, m, StatusCode::UNPROCESSABLE_ENTITY, Some(text)).await
        }
        Err(e) => Err(e),
    }
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use wangge_domain::Action::{ManageParty, ViewParty};
    crate::shared::routes::Routes::new()
        .get("/party/joint", Role(ViewParty), list)
        .get("/party/joint/new", Role(ManageParty), new_form)
        .post("/party/joint/new", Role(ManageParty), record)
        .get("/party/joint/{id}", Role(ViewParty), page)
        .post("/party/resolutions/{id}/project", Role(ManageParty), to_project)
        .post("/party/resolutions/{id}/instruction", Role(ManageParty), to_instruction)
}
