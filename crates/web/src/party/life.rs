//! Organisational life (三会一课, issue 23): the branches of an area with their
//! compliance this year (`/party/life`), a branch's yearly record, printable
//! (`/party/orgs/{id}/life`), its frequencies and term, recording a meeting with
//! attendance and photos, a meeting's printable page, and the sweep that tells a
//! branch's secretary and the community's Party secretaries when a branch fell
//! behind at the end of a month or quarter (China time) or a term ends within
//! three months (`run_life`, started by `serve`; each alert claimed once in
//! `party_life_alerts`). The rules are `wangge_domain::party_life`, the SQL
//! `wangge_store::party::life`.
//!
//! Who: everyone with `view_party` sees the branches in sight, their compliance
//! and meetings with attendance counts; the names of who attended, who was
//! excused and who missed are the roll's (`manage_party`, or a grant); those who
//! keep the registry (`manage_party`) in scope record meetings and set the
//! frequencies and the term.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};
use wangge_domain::party::{OrgKind, Period, china_day};
use wangge_domain::party_life::{self as rules, Attendance, MeetingKind};
use wangge_domain::{Action, AuditAction, Module, Vocabulary, format_date, msg, now_millis, parse_date};
use wangge_store::notifications::{Audience, Notice};
use wangge_store::party::life::{self, Compliance, Meeting, NewMeeting};
use wangge_store::party::{self, Org};
use wangge_store::registry::areas::{self, Area};
use wangge_store::{Db, Thing};

use super::sees;
use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::render::{Lang, frame, label, local_time, render, tr};
use crate::{ApiError, AppState};

/// An organisation the caller sees, else an unknown one.
async fn org_in_sight(s: &AppState, p: &Principal, id: &str) -> Result<Org, ApiError> {
    match party::org(&s.db, id).await {
        Ok(o) if sees(p, &o.path) => Ok(o),
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => Err(unknown(Thing::PartyOrg, id)),
        Err(e) => Err(e.into()),
    }
}

/// An organisation the caller keeps (`manage_party` over its place), else 404
/// when out of sight and 403 when seen only.
async fn org_kept(s: &AppState, p: &Principal, id: &str) -> Result<Org, ApiError> {
    let o = org_in_sight(s, p, id).await?;
    if !p.role.may(Action::ManageParty) || !p.can_see(&o.path) {
        return Err(super::not_here());
    }
    Ok(o)
}

/// A meeting the caller sees, else an unknown one.
async fn meeting_in_sight(s: &AppState, p: &Principal, id: &str) -> Result<Meeting, ApiError> {
    match life::meeting(&s.db, id).await {
        Ok(m) if sees(p, &m.path) => Ok(m),
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => Err(unknown(Thing::PartyMeeting, id)),
        Err(e) => Err(e.into()),
    }
}

fn today() -> time::Date {
    china_day(now_millis())
}

fn pct(rate: Option<(i64, i64)>) -> String {
    wangge_domain::party::percent(rate).map_or_else(|| "—".to_owned(), |p| format!("{p}%"))
}

/// "every month", "every quarter", "every 6 months", "every year".
fn every(months: u8, lang: Lang) -> String {
    tr(&format!("party.life.every.{months}"), lang.code)
}

#[derive(Serialize)]
struct KindRow {
    kind: String,
    every: String,
    held: i64,
    required: i64,
    meetings: i64,
    missed: String,
    behind: bool,
}

fn kind_rows(c: &Compliance, lang: Lang) -> Vec<KindRow> {
    c.kinds
        .iter()
        .map(|k| KindRow {
            kind: label(k.kind, lang).to_owned(),
            every: every(k.months, lang),
            held: k.held,
            required: k.required,
            meetings: k.meetings,
            missed: k.missed.join("、"),
            behind: !k.missed.is_empty(),
        })
        .collect()
}

#[derive(Serialize)]
struct BranchRow {
    id: String,
    name: String,
    kind: String,
    area: String,
    secretary: String,
    rate: String,
    held: i64,
    required: i64,
    behind: bool,
    kinds: Vec<KindRow>,
    term_end: Option<String>,
    term_soon: bool,
}

#[derive(Deserialize, Default)]
pub struct AreaQuery {
    area: Option<String>,
    year: Option<i32>,
}

async fn area_of(s: &AppState, p: &Principal, area: Option<&str>) -> Result<Area, ApiError> {
    let path = p.list_path(&s.db, area).await?.ok_or_else(|| ApiError::bad_request(msg!("error.several_scopes")))?;
    Ok(areas::get_by_path(&s.db, &path).await?)
}

async fn term_line(s: &AppState, o: &Org, today: time::Date) -> Result<(Option<String>, bool), ApiError> {
    let (start, years) = life::term_of(&s.db, &o.id).await?;
    Ok(match start {
        Some(start) => {
            let end = rules::term_end(start, years);
            (Some(format_date(end)), today >= rules::reminder_from(end))
        }
        None => (None, false),
    })
}

/// The branches of an area (and those above one's grid) with their compliance
/// this year, read today.
async fn overview(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<AreaQuery>,
) -> Result<Response, ApiError> {
    let area = area_of(&s, &p, q.area.as_deref()).await?;
    let today = today();
    let year = q.year.unwrap_or(today.year());
    let mut rows = Vec::new();
    let (mut held, mut required) = (0, 0);
    for o in life::branches_under(&s.db, &area.path).await? {
        let c = life::compliance(&s.db, &o, year, today).await?;
        held += c.held;
        required += c.required;
        let (term_end, term_soon) = term_line(&s, &o, today).await?;
        rows.push(BranchRow {
            id: o.id.clone(),
            name: o.name.clone(),
            kind: label(o.kind, lang).to_owned(),
            area: o.area_name.clone(),
            secretary: o.secretary_name.clone().unwrap_or_default(),
            rate: pct(c.rate),
            held: c.held,
            required: c.required,
            behind: c.held < c.required,
            kinds: kind_rows(&c, lang),
            term_end,
            term_soon,
        });
    }
    let ctx = context! {
        area_name => &area.name, area => &area.code, year => year, as_of => format_date(today),
        branches => minijinja::Value::from(Serde(&rows)), rate => pct(rules::compliance(held, required)),
        held => held, required => required,
        ..frame(&p, lang, "/party")
    };
    Ok(render(lang, StatusCode::OK, "party/life.html", ctx))
}

#[derive(Serialize)]
struct MeetingRow {
    id: String,
    when: String,
    kind: String,
    org: String,
    topic: String,
    place: String,
    present: i64,
    excused: i64,
    absent: i64,
}

fn meeting_row(m: &Meeting, lang: Lang) -> MeetingRow {
    let (present, excused, absent) = m.counts();
    MeetingRow {
        id: m.id.clone(),
        when: local_time(m.held_at).get(..16).unwrap_or_default().to_owned(),
        kind: label(m.kind, lang).to_owned(),
        org: m.org_name.clone(),
        topic: m.topic.clone(),
        place: m.place.clone(),
        present,
        excused,
        absent,
    }
}

#[derive(Serialize)]
struct RuleRow {
    code: String,
    kind: String,
    months: u8,
    default: bool,
    /// Its frequency in words.
    every: String,
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    year: Option<i32>,
}

/// A branch's yearly record: compliance with what was missed, every meeting,
/// attendance per member (to those who read the roll), the alerts sent; for
/// those who keep it, the frequencies and the term.
async fn record_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<YearQuery>,
) -> Result<Response, ApiError> {
    let o = org_in_sight(&s, &p, &id).await?;
    record_view(&s, &p, lang, o, q.year, StatusCode::OK, None).await
}

async fn record_view(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    o: Org,
    year: Option<i32>,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let today = today();
    let year = year.filter(|y| (2000..=2100).contains(y)).unwrap_or(today.year());
    let r = life::year_record(&s.db, &o, year, today).await?;
    let roll = super::roll_open(s, p, &o.path).await?;
    let manage = p.role.may(Action::ManageParty) && p.can_see(&o.path);
    let meetings: Vec<MeetingRow> = r.meetings.iter().rev().map(|m| meeting_row(m, lang)).collect();
    #[derive(Serialize)]
    struct MemberRow {
        name: String,
        present: i64,
        excused: i64,
        absent: i64,
        rate: String,
    }
    let members: Vec<MemberRow> = if roll {
        r.members
            .iter()
            .map(|m| MemberRow {
                name: m.name.clone(),
                present: m.present,
                excused: m.excused,
                absent: m.absent,
                rate: pct(m.rate),
            })
            .collect()
    } else {
        Vec::new()
    };
    let rules: Vec<RuleRow> = life::rules(&s.db, &o)
        .await?
        .into_iter()
        .map(|r| RuleRow {
            code: r.kind.code().to_owned(),
            kind: label(r.kind, lang).to_owned(),
            months: r.months.unwrap_or(0),
            default: r.default,
            every: r.months.map_or_else(|| tr("party.life.not_required", lang.code), |m| every(m, lang)),
        })
        .collect();
    let alerts: Vec<(String, String, String)> = life::alerts_of(&s.db, &o.id)
        .await?
        .into_iter()
        .map(|(what, period, at)| {
            let what = MeetingKind::from_code(&what)
                .map_or_else(|| tr("party.life.term", lang.code), |k| label(k, lang).to_owned());
            (what, period, local_time(at).get(..16).unwrap_or_default().to_owned())
        })
        .collect();
    let (term_start, term_years) = life::term_of(&s.db, &o.id).await?;
    let (term_end, term_soon) = term_line(s, &o, today).await?;
    let ctx = context! {
        o => minijinja::Value::from(Serde(&o)), kind => label(o.kind, lang), year => year, previous => year - 1,
        next => year + 1, as_of => format_date(today), rate => pct(r.compliance.rate),
        held => r.compliance.held, required => r.compliance.required,
        kinds => minijinja::Value::from(Serde(&kind_rows(&r.compliance, lang))),
        meetings => minijinja::Value::from(Serde(&meetings)), members => minijinja::Value::from(Serde(&members)),
        roll => roll, manage => manage, rules => minijinja::Value::from(Serde(&rules)), alerts => alerts,
        term_start => term_start.map(format_date), term_years => term_years, term_end => term_end,
        term_soon => term_soon, error => error, keeps_rules => rules::keeps_rules(o.kind),
        everies => wangge_domain::party::PERIOD_MONTHS.iter().map(|m| (*m, every(*m, lang))).collect::<Vec<_>>(),
        ..frame(p, lang, "/party")
    };
    Ok(render(lang, status, "party/life_record.html", ctx))
}

#[derive(Deserialize)]
pub struct RulesForm {
    committee: Option<String>,
    members_meeting: Option<String>,
    group: Option<String>,
    lecture: Option<String>,
    theme_day: Option<String>,
    term_start: Option<String>,
    term_years: Option<String>,
}

/// Saves an organisation's frequencies (each kind: `default`, `0` for not
/// required, or 1, 3, 6, 12 months) and term.
async fn save_rules(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<RulesForm>,
) -> Result<Response, ApiError> {
    let o = org_kept(&s, &p, &id).await?;
    let result = async {
        let mut set = Vec::new();
        for (kind, value) in [
            (MeetingKind::Committee, &f.committee),
            (MeetingKind::MembersMeeting, &f.members_meeting),
            (MeetingKind::Group, &f.group),
            (MeetingKind::Lecture, &f.lecture),
            (MeetingKind::ThemeDay, &f.theme_day),
        ] {
            let text = value.as_deref().unwrap_or("default").trim();
            let months = match text {
                "" | "default" => None,
                n => Some(
                    n.parse::<u8>()
                        .map_err(|_| ApiError::invalid(msg!("party.life.error.months", value = n).field("months")))?,
                ),
            };
            set.push((kind, months));
        }
        let start_text = f.term_start.as_deref().unwrap_or("").trim().to_owned();
        let start = if start_text.is_empty() {
            None
        } else {
            Some(parse_date(&start_text).ok_or_else(|| {
                ApiError::invalid(msg!("party.life.error.term_start", value = &start_text).field("term_start"))
            })?)
        };
        let years_text = f.term_years.as_deref().unwrap_or("").trim().to_owned();
        let years = if years_text.is_empty() {
            rules::DEFAULT_TERM_YEARS
        } else {
            years_text.parse::<u8>().map_err(|_| {
                ApiError::invalid(msg!("party.life.error.term_years", value = &years_text).field("term_years"))
            })?
        };
        life::save_rules(&s.db, &o.id, &set, start, years).await?;
        let summary = serde_json::json!({
            "rules": set.iter().map(|(k, m)| (k.code(), *m)).collect::<std::collections::BTreeMap<_, _>>(),
            "term_start": start.map(format_date), "term_years": years,
        });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::PartyLifeRules,
            Target("party_org", &o.id, &o.path),
            None,
            &summary,
        )
        .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/party/orgs/{}/life", o.id)).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let text = e.said(lang.code);
            record_view(&s, &p, lang, o, None, StatusCode::UNPROCESSABLE_ENTITY, Some(text)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Serialize)]
struct AttendeeRow {
    id: String,
    name: String,
    status: String,
    reason: String,
}

/// The form recording a meeting, with every attendee (present unless changed).
async fn new_meeting(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let o = org_kept(&s, &p, &id).await?;
    new_meeting_view(&s, &p, lang, &o, StatusCode::OK, None, &[]).await
}

async fn new_meeting_view(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    o: &Org,
    status: StatusCode,
    error: Option<String>,
    sent: &[(String, String)],
) -> Result<Response, ApiError> {
    let field = |name: &str| sent.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let attendees: Vec<AttendeeRow> = life::attendees(&s.db, o)
        .await?
        .into_iter()
        .map(|m| AttendeeRow {
            status: field(&format!("att_{}", m.id)).unwrap_or_else(|| "present".to_owned()),
            reason: field(&format!("reason_{}", m.id)).unwrap_or_default(),
            id: m.id,
            name: m.name,
        })
        .collect();
    let kinds: Vec<(String, String)> = MeetingKind::all()
        .iter()
        .filter(|k| o.kind != OrgKind::Group || **k == MeetingKind::Group)
        .map(|k| (k.code().to_owned(), label(*k, lang).to_owned()))
        .collect();
    let statuses: Vec<(String, String)> =
        Attendance::all().iter().map(|a| (a.code().to_owned(), label(*a, lang).to_owned())).collect();
    let now = local_time(now_millis()).replace(' ', "T");
    let ctx = context! {
        o => minijinja::Value::from(Serde(o)), kinds => kinds, statuses => statuses,
        attendees => minijinja::Value::from(Serde(&attendees)), error => error,
        kind => field("kind").unwrap_or_default(), held_at => field("held_at").unwrap_or(now.get(..16).unwrap_or_default().to_owned()),
        place => field("place").unwrap_or_default(), topic => field("topic").unwrap_or_default(),
        minutes => field("minutes").unwrap_or_default(),
        ..frame(p, lang, "/party")
    };
    Ok(render(lang, status, "party/meeting_new.html", ctx))
}

/// Records a meeting: multipart with photos, or a plain form.
async fn record_meeting(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let o = org_kept(&s, &p, &id).await?;
    let sent = crate::shared::multipart::read(request, &(), wangge_store::demands::attachments::MAX_BYTES).await?;
    let field = |name: &str| sent.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned());
    let mut photos = Vec::new();
    for f in sent.files.iter().filter(|f| f.field == "photos") {
        match &f.data {
            None => {
                let text = tr("photos.too_big", lang.code).replace("%{name}", &f.file_name);
                return new_meeting_view(&s, &p, lang, &o, StatusCode::UNPROCESSABLE_ENTITY, Some(text), &sent.pairs)
                    .await;
            }
            Some(d) if !d.is_empty() => photos.push(d.clone()),
            Some(_) => {}
        }
    }
    let result = async {
        let kind_text = field("kind").unwrap_or_default();
        let kind = MeetingKind::from_code(&kind_text)
            .ok_or_else(|| ApiError::invalid(msg!("party.life.error.kind", value = &kind_text).field("kind")))?;
        let when = field("held_at").unwrap_or_default();
        let held_at = parse_local(&when)
            .ok_or_else(|| ApiError::invalid(msg!("party.error.when", value = &when).field("held_at")))?;
        let mut attendance = Vec::new();
        for (k, v) in &sent.pairs {
            if let Some(member) = k.strip_prefix("att_") {
                let status = Attendance::from_code(v.trim()).unwrap_or(Attendance::Absent);
                attendance.push((member.to_owned(), status, field(&format!("reason_{member}"))));
            }
        }
        let new = NewMeeting {
            org_id: o.id.clone(),
            kind,
            held_at,
            place: field("place").unwrap_or_default(),
            topic: field("topic").unwrap_or_default(),
            minutes: sent.pairs.iter().find(|(k, _)| k == "minutes").map(|(_, v)| v.clone()).unwrap_or_default(),
            attendance,
        };
        let m = life::record(&s.db, new, &photos, &p.actor_name(), now_millis()).await?;
        let (present, excused, absent) = m.counts();
        let summary = serde_json::json!({
            "kind": m.kind.code(), "held_at": m.held_at, "present": present, "excused": excused, "absent": absent,
            "photos": m.photos.len(),
        });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::PartyMeetingRecord,
            Target("party_meeting", &m.id, &m.path),
            None,
            &summary,
        )
        .await?;
        Ok::<_, ApiError>(m)
    }
    .await;
    match result {
        Ok(m) => Ok(Redirect::to(&format!("/party/meetings/{}", m.id)).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let text = e.said(lang.code);
            new_meeting_view(&s, &p, lang, &o, StatusCode::UNPROCESSABLE_ENTITY, Some(text), &sent.pairs).await
        }
        Err(e) => Err(e),
    }
}

/// `YYYY-MM-DDTHH:MM` (a `datetime-local` input) or `YYYY-MM-DD HH:MM`, China time.
pub(crate) fn parse_local(text: &str) -> Option<i64> {
    let t = text.trim().replace(' ', "T");
    let (d, hm) = t.split_once('T')?;
    let day = parse_date(d)?;
    let (h, m) = hm.split_once(':')?;
    let time = time::Time::from_hms(h.parse().ok()?, m.get(..2)?.parse().ok()?, 0).ok()?;
    let at = day.with_time(time).assume_offset(wangge_domain::demands::CHINA);
    Some((at.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// A meeting's printable page: attendance by name to those who read the roll.
async fn meeting_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let m = meeting_in_sight(&s, &p, &id).await?;
    let roll = super::roll_open(&s, &p, &m.path).await?;
    let lines: Vec<(String, String, String, String)> = if roll {
        m.attendance
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    label(a.status, lang).to_owned(),
                    a.status.code().to_owned(),
                    a.reason.clone().unwrap_or_default(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let (present, excused, absent) = m.counts();
    let year = china_day(m.held_at).year();
    let ctx = context! {
        m => minijinja::Value::from(Serde(&m)), kind => label(m.kind, lang),
        when => local_time(m.held_at).get(..16).unwrap_or_default(), lines => lines, roll => roll,
        present => present, excused => excused, absent => absent, expected => m.attendance.len(),
        year => year, period => Period::at(m.held_at, 1).label(),
        ..frame(&p, lang, "/party")
    };
    Ok(render(lang, StatusCode::OK, "party/meeting.html", ctx))
}

/// A meeting's photo, to those who see the meeting; audited.
async fn photo(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (meeting_id, content_type, data) = match life::photo(&s.db, &id).await {
        Ok(x) => x,
        Err(wangge_store::StoreError::NotFound { .. }) => return Err(unknown(Thing::PartyPhoto, &id)),
        Err(e) => return Err(e.into()),
    };
    let m = meeting_in_sight(&s, &p, &meeting_id).await.map_err(|_| unknown(Thing::PartyPhoto, &id))?;
    let event = audit::Event {
        target_kind: Some("party_meeting_photo"),
        target_id: Some(&id),
        path: Some(&m.path),
        ..audit::Event::of(AuditAction::PartyPhotoView)
    };
    audit::log(&s.db, Some(&p), None, &address, event).await?;
    Ok(crate::shared::api::private_file(&content_type, "inline", data))
}

// ---- the sweep ----

/// Tells a branch's secretary (an account holding `party_secretary` over its
/// place) and the community's Party secretaries.
async fn tell(
    db: &Db,
    public_url: Option<&str>,
    o: &Org,
    link: String,
    message: wangge_domain::Message,
) -> wangge_store::StoreResult<()> {
    let notice = Notice {
        module: Module::Party,
        subject_id: Some(o.id.clone()),
        path: o.path.clone(),
        link: Some(link),
        message,
    };
    let audience = Audience::Role { role: wangge_domain::Role::PartySecretary, path: o.path.clone() };
    crate::notify(db, public_url, &audience, notice).await?;
    Ok(())
}

/// Sends the alerts due at `now`: each branch behind in the last month or
/// quarter that is over in China, and each term ending within three months, once
/// (claimed in `party_life_alerts` first). Answers how many went out.
pub async fn send_due(db: &Db, public_url: Option<&str>, now: i64) -> wangge_store::StoreResult<usize> {
    let today = china_day(now);
    let mut sent = 0;
    for b in life::behind(db, today).await? {
        let period = b.period.label();
        if !life::claim_alert(db, &b.org.id, b.kind.code(), &period, now).await? {
            continue;
        }
        let message = wangge_domain::Message::new("party.life.notice.behind")
            .arg("org", &b.org.name)
            .term("kind", b.kind)
            .arg("period", &period);
        tell(db, public_url, &b.org, format!("/party/orgs/{}/life?year={}", b.org.id, b.period.year), message).await?;
        sent += 1;
    }
    for (o, end) in life::terms_ending(db, today).await? {
        if !life::claim_alert(db, &o.id, "term", &format_date(end), now).await? {
            continue;
        }
        let message = msg!("party.life.notice.term", org = &o.name, end = format_date(end));
        tell(db, public_url, &o, format!("/party/orgs/{}/life", o.id), message).await?;
        sent += 1;
    }
    Ok(sent)
}

/// How often [`run_life`] looks for alerts due.
const EVERY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Organisational life's alerts for as long as the server runs: every hour.
pub async fn run_life(db: Db, public_url: Option<String>) {
    while !db.pool.is_closed() {
        if let Err(e) = send_due(&db, public_url.as_deref(), now_millis()).await
            && !db.pool.is_closed()
        {
            tracing::error!("party organisational life: {e}");
        }
        tokio::time::sleep(EVERY).await;
    }
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use crate::shared::routes::Limit;
    use wangge_domain::Action::{ManageParty, ViewParty};
    crate::shared::routes::Routes::new()
        .get("/party/life", Role(ViewParty), overview)
        .get("/party/orgs/{id}/life", Role(ViewParty), record_page)
        .post("/party/orgs/{id}/life", Role(ManageParty), save_rules)
        .get("/party/orgs/{id}/meetings", Role(ManageParty), new_meeting)
        .post_limited("/party/orgs/{id}/meetings", Role(ManageParty), Limit::Photos, record_meeting)
        .get("/party/meetings/{id}", Role(ViewParty), meeting_page)
        .get("/party/meeting-photos/{id}", Role(ViewParty), photo)
}
