//! The demo's campaigns: two finished (the spring gas check over every household,
//! the vaccination drive for people over 60) and one running (the winter gas check,
//! opened five days ago: some doors answered, some in the revisit queue). Answers
//! are made up question by question under the form's own conditions and checked by
//! `Form::check`, so the demo never holds an answer the form would refuse; the
//! days they write back (the last gas check, the last vaccination) reach the
//! registry as live answers' do.

use std::collections::BTreeMap;

use fastrand::Rng;
use time::{Date, Duration};
use wangge_domain::Vocabulary;
use wangge_domain::campaigns::builtin::Builtin;
use wangge_domain::campaigns::{Fact, Form, QuestionKind, Repeat, TargetStatus};
use wangge_store::Db;
use wangge_store::campaigns::{self, NewCampaign, PastSettle, TargetFilter, Which};
use wangge_store::registry::areas;

/// Answers a form the way a household might: every asked question in order, a
/// number inside the constraint, a date inside the campaign.
fn answers(rng: &mut Rng, form: &Form, on: Date) -> BTreeMap<String, String> {
    let today = on.to_string();
    let mut given: BTreeMap<String, String> = BTreeMap::new();
    for q in &form.questions {
        if !form.is_relevant(q, &given, &today) {
            continue;
        }
        let value = match &q.kind {
            QuestionKind::SelectOne(list) => {
                let items = &form.lists[list];
                // The first choice most often ("yes", "vaccinated"): the usual door.
                let i = if rng.f64() < 0.7 { 0 } else { rng.usize(..items.len()) };
                items[i].name.clone()
            }
            QuestionKind::SelectMultiple(list) => {
                let items = &form.lists[list];
                let n = rng.usize(1..=items.len().min(2));
                items[..n].iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(" ")
            }
            QuestionKind::Integer | QuestionKind::Decimal => {
                // The smallest of a few plausible numbers the constraint accepts.
                let picks = [rng.i64(0..=6), 1, 0];
                let ok = picks.iter().find(|n| {
                    let mut trial = given.clone();
                    trial.insert(q.name.clone(), n.to_string());
                    // Later questions are not answered yet: only this one's error counts.
                    form.check(&trial, &today).err().is_none_or(|e| e.iter().all(|e| e.question != q.name))
                });
                ok.copied().unwrap_or(0).to_string()
            }
            // A check's own day is the visit's; a vaccination was some weeks before.
            QuestionKind::Date
                if q.save_to
                    .as_deref()
                    .and_then(|f| Fact::parse(f).ok())
                    .is_some_and(|f| matches!(f, Fact::GasCheckedOn | Fact::FloodCheckedOn)) =>
            {
                on.to_string()
            }
            QuestionKind::Date => (on - Duration::days(rng.i64(0..60))).to_string(),
            QuestionKind::Text => ["已当面提醒", "已登记", "需复查", "无"][rng.usize(..4)].to_owned(),
            QuestionKind::Photo | QuestionKind::Note => continue,
        };
        given.insert(q.name.clone(), value);
    }
    given
}

struct Plan {
    builtin: &'static str,
    title: &'static str,
    /// Days before today it opened.
    opened_ago: i64,
    min_age: Option<u8>,
    /// Shares of targets answered, not at home (still open), refused.
    done: f64,
    not_home: f64,
    refused: f64,
}

const PLANS: [Plan; 3] = [
    Plan {
        builtin: "gas_check",
        title: "春季燃气安全排查",
        opened_ago: 240,
        min_age: None,
        done: 0.93,
        not_home: 0.03,
        refused: 0.02,
    },
    Plan {
        builtin: "vaccination",
        title: "老年人疫苗接种摸排",
        opened_ago: 110,
        min_age: Some(60),
        done: 0.88,
        not_home: 0.05,
        refused: 0.03,
    },
    Plan {
        builtin: "gas_check",
        title: "冬季燃气安全排查",
        opened_ago: 5,
        min_age: None,
        done: 0.38,
        not_home: 0.07,
        refused: 0.01,
    },
];

/// Starts the three campaigns over the community and settles their targets.
/// Returns how many campaigns it started.
pub(crate) async fn demo(db: &Db, rng: &mut Rng, community_code: &str, today: Date) -> anyhow::Result<usize> {
    let community = areas::get_by_code(db, community_code).await?;
    let mut started = Vec::new();
    for plan in &PLANS {
        let builtin = Builtin::find(plan.builtin).ok_or_else(|| anyhow::anyhow!("no form {}", plan.builtin))?;
        let opens = today - Duration::days(plan.opened_ago);
        let closes = opens + Duration::days(i64::from(builtin.days_open));
        let new = NewCampaign {
            area_id: community.id.clone(),
            title: plan.title.into(),
            target_kind: builtin.target_kind,
            filter: TargetFilter { min_age: plan.min_age, ..Default::default() },
            opens_on: opens.to_string(),
            closes_on: closes.to_string(),
            retention_days: builtin.retention_days,
            form: builtin.form(),
        };
        let campaign = campaigns::start(db, new, None, "塔山社区").await?;
        let form = builtin.form();
        let days = (closes.min(today) - opens).whole_days().max(1);
        let mut rows = Vec::new();
        for l in campaigns::lines(db, &campaign.id, &community.path, Which::Every, i64::MAX).await? {
            let roll = rng.f64();
            let on = opens + Duration::days(rng.i64(0..=days));
            // Mid-morning or early evening, when people are in.
            let hour = if rng.bool() { 10 } else { 18 };
            let at = (on.midnight().assume_offset(wangge_domain::demands::CHINA).unix_timestamp() + hour * 3600) * 1000;
            // Never later than now: a door "done this evening" would be counted by
            // the cockpit (done by the time of reading) only tonight.
            let at = at.min(wangge_domain::now_millis());
            let (status, attempts, given) = if roll < plan.done {
                let given = answers(rng, &form, on);
                debug_assert!(form.check(&given, &on.to_string()).is_ok(), "{given:?}");
                (TargetStatus::Done, 1 + i64::from(rng.f64() < 0.15), Some(given))
            } else if roll < plan.done + plan.not_home {
                (TargetStatus::NotHome, 1 + i64::from(rng.bool()), None)
            } else if roll < plan.done + plan.not_home + plan.refused {
                (TargetStatus::Refused, 1, None)
            } else {
                continue;
            };
            rows.push(PastSettle {
                target_id: l.target.id,
                status,
                answers: given,
                attempts,
                by_name: "网格员".into(),
                at,
            });
        }
        campaigns::record_past(db, &campaign.id, campaign.form_version, &rows).await?;
        started.push(campaign);
    }
    // Two doors of the running check answered after the gas company entered its own
    // check meanwhile: the registry kept its day, the community has to decide.
    let running = &started[2];
    let doors = campaigns::lines(db, &running.id, &community.path, Which::Status(TargetStatus::Pending), 2).await?;
    for l in doors {
        let opened = wangge_domain::now_millis() - 20 * 60 * 1000;
        let yesterday = (today - Duration::days(1)).to_string();
        campaigns::write_back::set(
            db,
            &l.target.household_id,
            &l.target.path,
            Fact::GasCheckedOn,
            &yesterday,
            "燃气公司",
        )
        .await?;
        let given: BTreeMap<String, String> = [
            ("uses_gas", "yes"),
            ("kinds", "stove"),
            ("hose_age", "1"),
            ("alarm", "yes"),
            ("checked_on", &today.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let version = running.form_version;
        campaigns::answer(db, &l.target.id, &given, version, Some(opened), None, "网格员", today)
            .await
            .map_err(|e| anyhow::anyhow!("a demo answer: {e:?}"))?;
    }
    // The gas check repeats every month from next month; the vaccination drive
    // every year.
    let next_month = Repeat::Monthly.after(today, today.day()).unwrap_or(today);
    campaigns::templates::save(db, &started[2], Repeat::Monthly, Some(next_month), today, "塔山社区").await?;
    let opened = wangge_store::campaigns::templates::day_of(&started[1].opens_on)?;
    let next_year = Repeat::Yearly.after(opened, opened.day()).unwrap_or(today).max(today);
    campaigns::templates::save(db, &started[1], Repeat::Yearly, Some(next_year), today, "塔山社区").await?;
    Ok(PLANS.len())
}
