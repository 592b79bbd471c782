//! A year of home visits for the demo, shaped like the seed's finding: early in the
//! year about three households in ten had no visit in 90 days (the seed: 29% rarely
//! visited); visiting grows month by month, so the figure falls. Elderly people
//! living alone are visited at the door most weeks, the disabled and those on 低保
//! most months (half of it by phone); some doors find nobody at home.

use std::collections::HashMap;

use fastrand::Rng;
use time::{Date, Duration};
use wangge_domain::{TeamPost, VisitChannel, VisitOutcome, new_id};
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

/// Visits over the 365 days before `today`, in date order.
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
    let member: HashMap<&str, &str> = grids
        .iter()
        .filter_map(|g| {
            let name = posts
                .iter()
                .find(|p| p.grid_id == g.id && p.post == TeamPost::Member)
                .and_then(|p| p.person_name.as_deref())?;
            Some((g.path.as_str(), name))
        })
        .collect();
    let start = today - Duration::days(364);
    // How keen the year is on day d (0 = a year ago): from about a third of
    // households a month to well over half.
    let month = |d: i64| (d / 30).min(11) as f64;
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
        for m in 0..12_i64 {
            let keen = 0.28 + 0.027 * m as f64;
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
            for week in 0..52_i64 {
                if rng.f64() < 0.55 + 0.035 * month(week * 7) {
                    let on = start + Duration::days(week * 7 + rng.i64(0..7));
                    push(rng, h, Some(&r.id), VisitChannel::Door, on.min(today));
                }
            }
        } else if r.tag_ids.iter().any(|t| tags.monthly.contains(&t.as_str())) {
            for m in 0..12_i64 {
                if rng.f64() < 0.6 + 0.03 * m as f64 {
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
