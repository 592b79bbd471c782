//! A year of home visits for the demo, shaped like the seed's finding: early in the
//! year about three households in ten had no visit in 90 days (the seed: 29% rarely
//! visited); visiting grows month by month, so the figure falls. Elderly people
//! living alone are visited at the door most weeks, the disabled and those on 低保
//! most months (half of it by phone); some doors find nobody at home.

use std::collections::HashMap;

use fastrand::Rng;
use time::{Date, Duration};
use wangge_domain::{TeamPost, VisitChannel, VisitOutcome, Vocabulary, new_id};
use wangge_store::bulk::{GridPostRow, HouseholdRow, ResidentRow};
use wangge_store::registry::areas::Area;
use wangge_store::visits::PastVisit;

const PURPOSES: [&str; 4] = ["例行走访", "重点人群探访", "政策宣传", "安全提示"];
const FINDINGS: [&str; 6] = [
    "家中一切正常",
    "血压偏高，已提醒按时服药",
    "子女在外地，需定期电话联系",
    "楼道灯不亮，已报修",
    "想了解高龄补贴申领，已解释",
    "冬季取暖正常，已提醒开窗通风",
];

/// The care tags visited more often than every household, by their catalogue ids.
pub(crate) struct CareTags<'a> {
    pub elderly_alone: &'a str,
    pub monthly: [&'a str; 2],
}

/// Each household's last day met and met at the door, and each resident's last day
/// met, from the community's `visits`: what the triggers of migrations 0035 and
/// 0040 keep (`generate` loads with them suspended, so the rows bring the days).
/// A resident is met by a visit with someone met to their household at the door or
/// by video, or by one naming them. `figures verify` recounts both from the visits.
pub(crate) fn set_last_met(households: &mut [HouseholdRow], residents: &mut [ResidentRow], visits: &[PastVisit]) {
    fn later(day: &mut Option<String>, on: &str) {
        if day.as_deref().is_none_or(|d| d < on) {
            *day = Some(on.to_owned());
        }
    }
    // Per household: met, met at the door, met at the door or by video.
    let mut by_household: HashMap<&str, [Option<String>; 3]> = HashMap::new();
    let mut named: HashMap<&str, Option<String>> = HashMap::new();
    for v in visits.iter().filter(|v| v.outcome == VisitOutcome::Met) {
        let days = by_household.entry(v.household_id.as_str()).or_default();
        later(&mut days[0], &v.visited_on);
        if v.channel == VisitChannel::Door {
            later(&mut days[1], &v.visited_on);
        }
        if v.channel.reaches_household() {
            later(&mut days[2], &v.visited_on);
        }
        if let Some(r) = &v.resident_id {
            later(named.entry(r.as_str()).or_default(), &v.visited_on);
        }
    }
    for h in households.iter_mut() {
        if let Some([met, door, _]) = by_household.get(h.id.as_str()) {
            h.last_met_on.clone_from(met);
            h.last_door_on.clone_from(door);
        }
    }
    for r in residents.iter_mut() {
        let mut day = r.household_id.as_deref().and_then(|h| by_household.get(h)).and_then(|d| d[2].clone());
        if let Some(Some(on)) = named.get(r.id.as_str()) {
            later(&mut day, on);
        }
        r.last_met_on = day;
    }
}

/// Visits at benchmark scale (`generate`): about five per resident over the 365
/// days before `today` (≈ 5 million for a million residents, as issue 19's targets
/// say), each person's spread over the year, three in four at the door. Drawn
/// plainly and fast: no shape of the year, few findings.
pub(crate) fn year_at_scale(
    rng: &mut Rng,
    grids: &[Area],
    households: &[HouseholdRow],
    residents: &[ResidentRow],
    posts: &[GridPostRow],
    today: Date,
) -> Vec<PastVisit> {
    let member = grid_members(grids, posts);
    let paths: HashMap<&str, &str> = households.iter().map(|h| (h.id.as_str(), h.path.as_str())).collect();
    let start = today - Duration::days(364);
    let noon =
        |on: Date| (on.midnight().assume_offset(wangge_domain::demands::CHINA).unix_timestamp() + 10 * 3600) * 1000;
    let mut out = Vec::with_capacity(residents.len() * 5);
    for r in residents {
        let Some((hid, path)) = r.household_id.as_deref().and_then(|id| paths.get_key_value(id)) else { continue };
        for _ in 0..rng.usize(3..=7) {
            let on = start + Duration::days(rng.i64(0..365));
            let channel = if rng.f64() < 0.75 { VisitChannel::Door } else { VisitChannel::Phone };
            let outcome = if channel == VisitChannel::Door && rng.f64() < 0.08 {
                VisitOutcome::NotHome
            } else {
                VisitOutcome::Met
            };
            let findings = (outcome == VisitOutcome::Met && rng.f64() < 0.03)
                .then(|| FINDINGS[rng.usize(..FINDINGS.len())].to_owned());
            out.push(PastVisit {
                id: new_id(),
                path: (*path).to_owned(),
                household_id: (*hid).to_owned(),
                resident_id: (channel != VisitChannel::Door).then(|| r.id.clone()),
                channel,
                outcome,
                visited_on: on.to_string(),
                purpose: PURPOSES[rng.usize(..PURPOSES.len())].to_owned(),
                findings,
                visitor_name: member.get(path).copied().unwrap_or("网格员").to_owned(),
                created_at: noon(on),
            });
        }
    }
    out
}

/// The grid member of each grid, by the grid's path.
fn grid_members<'a>(grids: &'a [Area], posts: &'a [GridPostRow]) -> HashMap<&'a str, &'a str> {
    grids
        .iter()
        .filter_map(|g| {
            let name = posts
                .iter()
                .find(|p| p.grid_id == g.id && p.post == TeamPost::Member)
                .and_then(|p| p.person_name.as_deref())?;
            Some((g.path.as_str(), name))
        })
        .collect()
}

/// Visits over the 365 days before `today` and the quarter before them, in date order.
pub(crate) fn history(
    rng: &mut Rng,
    grids: &[Area],
    households: &[HouseholdRow],
    residents: &[ResidentRow],
    posts: &[GridPostRow],
    tags: &CareTags<'_>,
    today: Date,
) -> Vec<PastVisit> {
    // The grid member of each grid (by its path) visits its households.
    let member = grid_members(grids, posts);
    let start = today - Duration::days(364);
    // How keen the year is on day d (0 = a year ago): from about a third of
    // households a month to well over half. The quarter before the year is drawn
    // at the year's first keenness, so that the 90-day figure of the year's first
    // months reads the seed's state (about 29%) rather than an empty window.
    let month = |d: i64| (d / 30).clamp(0, 11) as f64;
    let mut out = Vec::new();
    let mut push = |rng: &mut Rng, h: &HouseholdRow, resident: Option<&str>, channel, on: Date| {
        let outcome =
            if channel == VisitChannel::Door && rng.f64() < 0.08 { VisitOutcome::NotHome } else { VisitOutcome::Met };
        let findings = (outcome == VisitOutcome::Met && rng.f64() < 0.12)
            .then(|| FINDINGS[rng.usize(..FINDINGS.len())].to_owned());
        out.push(PastVisit {
            id: new_id(),
            path: h.path.clone(),
            household_id: h.id.clone(),
            resident_id: resident.map(str::to_owned),
            channel,
            outcome,
            visited_on: on.to_string(),
            purpose: PURPOSES[rng.usize(..PURPOSES.len())].to_owned(),
            findings,
            visitor_name: member.get(h.path.as_str()).copied().unwrap_or("网格员").to_owned(),
            created_at: (on.midnight().assume_offset(wangge_domain::demands::CHINA).unix_timestamp() + 10 * 3600)
                * 1000,
        });
    };
    let occupied: Vec<&HouseholdRow> =
        households.iter().filter(|h| h.occupancy != wangge_domain::Occupancy::Vacant).collect();
    for h in &occupied {
        for m in -3..12_i64 {
            let keen = 0.28 + 0.027 * m.max(0) as f64;
            if rng.f64() < keen {
                let on = start + Duration::days(m * 30 + rng.i64(0..30));
                let channel = if rng.f64() < 0.8 { VisitChannel::Door } else { VisitChannel::Phone };
                push(rng, h, None, channel, on.min(today));
            }
        }
    }
    let by_id: HashMap<&str, &HouseholdRow> = occupied.iter().map(|h| (h.id.as_str(), *h)).collect();
    for r in residents {
        let Some(h) = r.household_id.as_deref().and_then(|id| by_id.get(id)) else { continue };
        if r.tag_ids.iter().any(|t| t == tags.elderly_alone) {
            for week in -13..52_i64 {
                if rng.f64() < 0.55 + 0.035 * month(week * 7) {
                    let on = start + Duration::days(week * 7 + rng.i64(0..7));
                    push(rng, h, Some(&r.id), VisitChannel::Door, on.min(today));
                }
            }
        } else if r.tag_ids.iter().any(|t| tags.monthly.contains(&t.as_str())) {
            for m in -3..12_i64 {
                if rng.f64() < 0.6 + 0.03 * m.max(0) as f64 {
                    let on = start + Duration::days(m * 30 + rng.i64(0..30));
                    let channel = if rng.bool() { VisitChannel::Door } else { VisitChannel::Phone };
                    push(rng, h, Some(&r.id), channel, on.min(today));
                }
            }
        }
    }
    out.sort_by(|a, b| a.visited_on.cmp(&b.visited_on));
    out
}

/// What the year's rounds left behind besides the visits themselves, so that the
/// pages of a fresh demo look lived in: registry corrections proposed at recent
/// visits (some still waiting on `/corrections`, some confirmed and applied, one
/// declined) and adjusted cadences of elderly people living alone (one in hospital,
/// one gone to live with a daughter, one visited more often after coming home).
/// Reminders are not written here: `serve` sweeps at start, once the demo's
/// accounts exist to receive them.
pub(crate) async fn after_rounds(
    db: &wangge_store::Db,
    rng: &mut Rng,
    visits: &[PastVisit],
    residents: &[ResidentRow],
    elderly_alone: &str,
    today: Date,
) -> anyhow::Result<()> {
    use wangge_store::audit::{self, Entry};
    use wangge_store::registry::residents as registry;
    use wangge_store::visits::{adjust, corrections};
    const NOTES: [(&str, &str); 5] = [
        ("女儿每周六回来探望，有事可联系女儿", "家属联系方式补充"),
        ("已办理高龄补贴，每月到账", "补贴情况更新"),
        ("腿脚不便，上下楼需要搀扶", "身体状况更新"),
        ("儿子在外地工作，春节回来", "家庭情况更新"),
        ("安装了燃气报警器", "安全设施更新"),
    ];
    let by_id: HashMap<&str, &ResidentRow> = residents.iter().map(|r| (r.id.as_str(), r)).collect();
    let recent = (today - Duration::days(30)).to_string();
    let mut met: Vec<&PastVisit> = visits
        .iter()
        .filter(|v| v.outcome == VisitOutcome::Met && v.visited_on >= recent && v.resident_id.is_some())
        .collect();
    // One correction per person at most: a second proposal would read oddly.
    let mut seen = std::collections::HashSet::new();
    met.retain(|v| seen.insert(v.resident_id.clone()));
    rng.shuffle(&mut met);
    // (status, what changes): three waiting, two confirmed, one declined.
    for (i, v) in met.iter().take(6).enumerate() {
        let Some(person) = v.resident_id.as_deref().and_then(|id| by_id.get(id)) else { continue };
        let (notes, note) = NOTES[i % NOTES.len()];
        let mut changes = corrections::Changes { notes: Some(notes.to_owned()), ..Default::default() };
        let mut note = note.to_owned();
        if i == 1 {
            // A name written with the wrong character in the ledger.
            let mut chars: Vec<char> = person.name.chars().collect();
            if let Some(last) = chars.last_mut() {
                *last = if *last == '兰' { '岚' } else { '兰' };
            }
            changes = corrections::Changes { name: Some(chars.into_iter().collect()), ..Default::default() };
            note = "户口本上的名字与台账不一致".to_owned();
        }
        let proposal =
            corrections::propose(db, &v.id, &person.id, changes, &note, (None, v.visitor_name.as_str())).await?;
        match i {
            3 | 4 => {
                let after = registry::update(db, &person.id, proposal.changes.update()).await?;
                corrections::decide(db, &proposal.id, true, "社区书记").await?;
                let entry = Entry {
                    actor_name: "社区书记".into(),
                    action: wangge_domain::AuditAction::ResidentUpdate.code().into(),
                    target_kind: Some("resident".into()),
                    target_id: Some(person.id.clone()),
                    path: Some(after.path.clone()),
                    reason: Some(format!("走访更正 {}", proposal.id)),
                    ..Default::default()
                };
                audit::record(db, entry).await?;
            }
            5 => {
                corrections::decide(db, &proposal.id, false, "社区书记").await?;
            }
            _ => {}
        }
    }

    // Three elderly people living alone whose weekly door visit was adjusted.
    let alone: Vec<&ResidentRow> =
        residents.iter().filter(|r| r.tag_ids.iter().any(|t| t == elderly_alone) && r.household_id.is_some()).collect();
    let day = |d: i64| (today + Duration::days(d)).to_string();
    let plans: [(Option<u16>, i64, Option<i64>, &str); 3] = [
        (None, -5, Some(9), "住院治疗，出院后恢复走访"),
        (None, -20, None, "已随女儿到外地居住"),
        (Some(3), -2, Some(12), "出院后恢复期，每三天上门一次"),
    ];
    for (i, (every, from, to, reason)) in plans.into_iter().enumerate() {
        let Some(r) = alone.get(i * 7 % alone.len().max(1)) else { break };
        let household = r.household_id.as_deref().unwrap_or_default();
        adjust(db, household, Some(&r.id), every, &day(from), to.map(day).as_deref(), reason, None).await?;
    }
    Ok(())
}
