//! A community's Party year written at once (the demo's): its organisations, units,
//! members, registrations, needs, claims, service records, the feedback runs
//! already sent, and the meetings of organisational life with their attendance,
//! in multi-row statements on the caller's transaction. The live paths
//! (`add_member`, `register`, `service::record`, …) are one transaction per call
//! and stamp everything now; a year of history is thousands of rows, written every
//! time a browser test starts its server.
//!
//! The caller chooses every id, so that rows can name each other before any is
//! written, and is trusted with the rules the live paths check (one member per ID
//! number, one registration per period, points by the community's rules).

use wangge_domain::party::{MemberKind, MemberStatus, NeedSource, OrgKind, RegistrationState, ServiceState};
use wangge_domain::party_life::{Attendance, MeetingKind};
use wangge_domain::{IdCardNumber, Phone, Vocabulary, new_id};

use super::{ID_CARD, PHONE, UNIT_PHONE, aad};
use crate::StoreResult;
use crate::bulk::insert_chunked;
use crate::vault::Vault;

/// A Party organisation placed on an area (the community or a grid).
pub struct PastOrg {
    pub id: String,
    pub parent_id: Option<String>,
    pub area_id: String,
    pub path: String,
    pub kind: OrgKind,
    pub name: String,
    pub secretary_name: Option<String>,
    pub committee: String,
    pub created_at: i64,
    /// The current term's first day (`YYYY-MM-DD`) and length in years.
    pub term_start: Option<String>,
    pub term_years: u8,
}

/// A unit registered with the community, with the registry's organisation where
/// it is one of the community's.
pub struct PastUnit {
    pub id: String,
    pub organisation_id: Option<String>,
    pub name: String,
    pub party_org_name: String,
    pub contact_name: String,
    pub phone: Option<Phone>,
    pub resources: String,
    pub declared_members: i64,
    pub created_at: i64,
}

/// A member, with the line of history that added them (and one for a status other
/// than active).
pub struct PastMember {
    pub id: String,
    pub org_id: Option<String>,
    pub unit_id: Option<String>,
    pub resident_id: Option<String>,
    pub grid_id: Option<String>,
    /// Their grid's path, else the community's.
    pub path: String,
    pub kind: MemberKind,
    pub name: String,
    pub post: String,
    pub skills: String,
    /// `YYYY-MM-DD`.
    pub joined_on: Option<String>,
    pub status: MemberStatus,
    pub id_card: IdCardNumber,
    pub phone: Option<Phone>,
    pub added_at: i64,
    /// When the status other than active was set.
    pub status_at: Option<i64>,
}

/// A registration of a member or a unit for a period (`2026H1`).
pub struct PastRegistration {
    pub member_id: Option<String>,
    pub unit_id: Option<String>,
    pub path: String,
    pub period: String,
    pub state: RegistrationState,
    pub source: &'static str,
    pub reason: Option<String>,
    pub requested_at: i64,
    pub decided_at: Option<i64>,
    pub decided_by_name: Option<String>,
}

/// A need of the community's list.
pub struct PastNeed {
    pub id: String,
    pub grid_id: Option<String>,
    pub path: String,
    pub title: String,
    pub detail: String,
    pub source_kind: NeedSource,
    /// What it is about (the three lists match resources by it).
    pub field: Option<wangge_domain::party_joint::ServiceField>,
    /// `YYYY-MM-DD`.
    pub needed_on: String,
    pub slots: i64,
    pub created_by_name: String,
    pub created_at: i64,
}

/// A member's claim of a need.
pub struct PastClaim {
    pub need_id: String,
    pub member_id: String,
    pub path: String,
    pub created_at: i64,
}

/// A service record as it stands: recorded, or decided with its rating and points.
pub struct PastService {
    pub member_id: String,
    pub need_id: Option<String>,
    pub path: String,
    pub activity: String,
    pub served_at: i64,
    pub minutes: i64,
    pub state: ServiceState,
    pub rating: Option<i64>,
    pub points: i64,
    pub reason: Option<String>,
    pub recorded_by_name: String,
    pub confirmed_by_name: Option<String>,
    pub decided_at: Option<i64>,
}

/// An attendee's line: member id, attendance, the reason when excused.
pub type PastAttendance = (String, Attendance, Option<String>);

/// An alert of organisational life already sent: organisation id, what (a meeting
/// kind or `term`), period, when.
pub type PastLifeAlert = (String, String, String, i64);

/// A meeting of organisational life with every attendee's line.
pub struct PastMeeting {
    pub id: String,
    pub org_id: String,
    /// The organisation's path.
    pub path: String,
    pub kind: MeetingKind,
    pub held_at: i64,
    pub place: String,
    pub topic: String,
    pub minutes: String,
    pub recorded_by_name: String,
    pub attendance: Vec<PastAttendance>,
}

/// A community's Party year.
pub struct PastParty {
    pub community_id: String,
    pub community_path: String,
    /// Who wrote members' history lines (the office keeping the roll).
    pub office: String,
    pub orgs: Vec<PastOrg>,
    pub units: Vec<PastUnit>,
    pub members: Vec<PastMember>,
    pub registrations: Vec<PastRegistration>,
    pub needs: Vec<PastNeed>,
    pub claims: Vec<PastClaim>,
    pub service: Vec<PastService>,
    /// Feedback reports already sent: (unit id, period `2026Q3`, when).
    pub feedback_runs: Vec<(String, String, i64)>,
    /// Organisational life: the meetings held.
    pub meetings: Vec<PastMeeting>,
    /// Alerts already sent.
    pub life_alerts: Vec<PastLifeAlert>,
    /// 亮身份: (member id, commitment, when they consented on paper).
    pub cards: Vec<(String, String, i64)>,
}

/// Writes `past` on `conn` (a transaction of the caller's), sealing ID numbers and
/// phones with `vault`. Organisations are written parents first, as given.
pub async fn record(conn: &mut sqlx::AnyConnection, vault: &Vault, past: &PastParty) -> StoreResult<()> {
    let community = past.community_id.as_str();
    insert_chunked(
        conn,
        "party_orgs",
        "id, community_id, parent_id, area_id, path, kind, name, secretary_name, committee, created_at, updated_at, \
         term_start, term_years",
        &past.orgs,
        |q, o| {
            q.bind(&o.id)
                .bind(community)
                .bind(&o.parent_id)
                .bind(&o.area_id)
                .bind(&o.path)
                .bind(o.kind.code())
                .bind(&o.name)
                .bind(&o.secretary_name)
                .bind(&o.committee)
                .bind(o.created_at)
                .bind(o.created_at)
                .bind(&o.term_start)
                .bind(i64::from(o.term_years))
        },
    )
    .await?;
    let units: Vec<(&PastUnit, Option<String>, Option<String>)> = past
        .units
        .iter()
        .map(|u| {
            let sealed = u.phone.as_ref().map(|p| vault.seal(p.as_str(), &aad(UNIT_PHONE, &u.id)));
            (u, sealed, u.phone.as_ref().map(|p| vault.blind(UNIT_PHONE, p.as_str())))
        })
        .collect();
    insert_chunked(
        conn,
        "party_units",
        "id, community_id, path, organisation_id, name, party_org_name, contact_name, phone_enc, phone_hash, \
         resources, declared_members, created_at, updated_at",
        &units,
        |q, (u, phone_enc, phone_hash)| {
            q.bind(&u.id)
                .bind(community)
                .bind(&past.community_path)
                .bind(&u.organisation_id)
                .bind(&u.name)
                .bind(&u.party_org_name)
                .bind(&u.contact_name)
                .bind(phone_enc)
                .bind(phone_hash)
                .bind(&u.resources)
                .bind(u.declared_members)
                .bind(u.created_at)
                .bind(u.created_at)
        },
    )
    .await?;
    let members: Vec<(&PastMember, [Option<String>; 4])> = past
        .members
        .iter()
        .map(|m| {
            let id = m.id.as_str();
            let sealed = [
                Some(vault.seal(m.id_card.as_str(), &aad(ID_CARD, id))),
                Some(vault.blind(ID_CARD, m.id_card.as_str())),
                m.phone.as_ref().map(|p| vault.seal(p.as_str(), &aad(PHONE, id))),
                m.phone.as_ref().map(|p| vault.blind(PHONE, p.as_str())),
            ];
            (m, sealed)
        })
        .collect();
    insert_chunked(
        conn,
        "party_members",
        "id, community_id, org_id, unit_id, resident_id, account_id, grid_id, path, kind, name, post, skills, \
         joined_on, status, id_card_enc, id_card_hash, phone_enc, phone_hash, created_at, updated_at",
        &members,
        |q, (m, [id_enc, id_hash, phone_enc, phone_hash])| {
            q.bind(&m.id)
                .bind(community)
                .bind(&m.org_id)
                .bind(&m.unit_id)
                .bind(&m.resident_id)
                .bind(None::<String>)
                .bind(&m.grid_id)
                .bind(&m.path)
                .bind(m.kind.code())
                .bind(&m.name)
                .bind(&m.post)
                .bind(&m.skills)
                .bind(&m.joined_on)
                .bind(m.status.code())
                .bind(id_enc)
                .bind(id_hash)
                .bind(phone_enc)
                .bind(phone_hash)
                .bind(m.added_at)
                .bind(m.status_at.unwrap_or(m.added_at))
        },
    )
    .await?;
    // Each member's history: added, registered period by period, a status change.
    let mut events: Vec<(String, &str, String, String, i64)> = Vec::new();
    for m in &past.members {
        events.push((m.id.clone(), "added", m.kind.label_zh().to_owned(), past.office.clone(), m.added_at));
        if let (Some(at), false) = (m.status_at, m.status == MemberStatus::Active) {
            events.push((m.id.clone(), "status", m.status.label_zh().to_owned(), past.office.clone(), at));
        }
    }
    for r in &past.registrations {
        if let Some(m) = &r.member_id {
            let by = r.decided_by_name.clone().unwrap_or_else(|| past.office.clone());
            events.push((m.clone(), "registered", r.period.clone(), by, r.requested_at));
        }
    }
    insert_chunked(
        conn,
        "party_member_events",
        "id, member_id, kind, detail, by_name, created_at",
        &events,
        |q, (member, kind, detail, by, at)| q.bind(new_id()).bind(member).bind(*kind).bind(detail).bind(by).bind(*at),
    )
    .await?;
    insert_chunked(
        conn,
        "party_registrations",
        "id, community_id, path, member_id, unit_id, period, state, source, reason, requested_at, decided_at, \
         decided_by_name",
        &past.registrations,
        |q, r| {
            q.bind(new_id())
                .bind(community)
                .bind(&r.path)
                .bind(&r.member_id)
                .bind(&r.unit_id)
                .bind(&r.period)
                .bind(r.state.code())
                .bind(r.source)
                .bind(&r.reason)
                .bind(r.requested_at)
                .bind(r.decided_at)
                .bind(&r.decided_by_name)
        },
    )
    .await?;
    insert_chunked(
        conn,
        "party_needs",
        "id, community_id, grid_id, path, title, detail, source_kind, source_id, needed_on, slots, created_by_name, \
         created_at, field",
        &past.needs,
        |q, n| {
            q.bind(&n.id)
                .bind(community)
                .bind(&n.grid_id)
                .bind(&n.path)
                .bind(&n.title)
                .bind(&n.detail)
                .bind(n.source_kind.code())
                .bind(None::<String>)
                .bind(&n.needed_on)
                .bind(n.slots)
                .bind(&n.created_by_name)
                .bind(n.created_at)
                .bind(n.field.map(|f| f.code()))
        },
    )
    .await?;
    insert_chunked(conn, "party_claims", "id, need_id, member_id, path, created_at", &past.claims, |q, c| {
        q.bind(new_id()).bind(&c.need_id).bind(&c.member_id).bind(&c.path).bind(c.created_at)
    })
    .await?;
    insert_chunked(
        conn,
        "party_service",
        "id, community_id, member_id, need_id, path, activity, served_at, minutes, state, rating, points, reason, \
         recorded_by_name, confirmed_by_name, decided_at, created_at",
        &past.service,
        |q, s| {
            q.bind(new_id())
                .bind(community)
                .bind(&s.member_id)
                .bind(&s.need_id)
                .bind(&s.path)
                .bind(&s.activity)
                .bind(s.served_at)
                .bind(s.minutes)
                .bind(s.state.code())
                .bind(s.rating)
                .bind(s.points)
                .bind(&s.reason)
                .bind(&s.recorded_by_name)
                .bind(&s.confirmed_by_name)
                .bind(s.decided_at)
                .bind(s.served_at + 3_600_000)
        },
    )
    .await?;
    insert_chunked(conn, "party_feedback_runs", "id, unit_id, period, sent_at", &past.feedback_runs, |q, r| {
        q.bind(new_id()).bind(&r.0).bind(&r.1).bind(r.2)
    })
    .await?;
    insert_chunked(
        conn,
        "party_cards",
        "member_id, commitment, consent_at, consent_source, consent_by_name, updated_at",
        &past.cards,
        |q, (member, commitment, at)| {
            q.bind(member).bind(commitment).bind(*at).bind("paper").bind(&past.office).bind(*at)
        },
    )
    .await?;
    insert_chunked(
        conn,
        "party_meetings",
        "id, community_id, org_id, path, kind, held_at, place, topic, minutes, recorded_by_name, created_at",
        &past.meetings,
        |q, m| {
            q.bind(&m.id)
                .bind(community)
                .bind(&m.org_id)
                .bind(&m.path)
                .bind(m.kind.code())
                .bind(m.held_at)
                .bind(&m.place)
                .bind(&m.topic)
                .bind(&m.minutes)
                .bind(&m.recorded_by_name)
                .bind(m.held_at + 86_400_000)
        },
    )
    .await?;
    let attendance: Vec<(&str, &PastAttendance)> =
        past.meetings.iter().flat_map(|m| m.attendance.iter().map(move |a| (m.id.as_str(), a))).collect();
    insert_chunked(
        conn,
        "party_attendance",
        "meeting_id, member_id, status, reason",
        &attendance,
        |q, (meeting, (member, status, reason))| q.bind(*meeting).bind(member).bind(status.code()).bind(reason),
    )
    .await?;
    insert_chunked(conn, "party_life_alerts", "id, org_id, what, period, sent_at", &past.life_alerts, |q, a| {
        q.bind(new_id()).bind(&a.0).bind(&a.1).bind(&a.2).bind(a.3)
    })
    .await?;
    Ok(())
}
