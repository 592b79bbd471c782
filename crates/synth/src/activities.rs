//! The demo's year of activities: about three a month across the community and
//! its grids — culture evenings, square dancing, anti-fraud talks, birthday
//! parties for the elderly, children's weekends, festivals, volunteer clean-ups —
//! with residents signed up (a waiting list where places ran out), most of them
//! checked in at the door, and their one answer afterwards. Cultural activities
//! are answered "unsatisfied" (1 or 2 of 5) three times in every 25 answers — the
//! 12 % the seed's questionnaire found; the others once in 20.
//!
//! Written through `store::activities` (its checks apply) with the times of the
//! year behind `today`.

use fastrand::Rng;
use time::{Date, Duration};
use wangge_domain::activities::{ActivityKind, SignupChannel};
use wangge_store::Db;
use wangge_store::activities::{self, NewActivity, Who};
use wangge_store::registry::areas;

fn at(day: Date, hour: i64) -> i64 {
    (day.midnight().assume_offset(wangge_domain::demands::CHINA).unix_timestamp() + hour * 3600) * 1000
}

/// Kind, title, place, hour, length in hours, places (none: as many as come).
type Plan = (ActivityKind, &'static str, &'static str, i64, i64, Option<i64>);

const PLANS: [Plan; 9] = [
    (ActivityKind::Culture, "社区文艺晚会", "塔山社区文化广场", 19, 2, None),
    (ActivityKind::Culture, "书法绘画兴趣班", "党群服务中心二楼教室", 9, 2, Some(30)),
    (ActivityKind::Sport, "广场舞交流展示", "塔山社区文化广场", 19, 2, None),
    (ActivityKind::Lecture, "防范电信诈骗讲座", "党群服务中心多功能厅", 15, 1, Some(60)),
    (ActivityKind::Elderly, "老年人集体生日会", "社区日间照料中心", 10, 2, Some(40)),
    (ActivityKind::Children, "周末亲子手工", "塔山幼儿园活动室", 9, 2, Some(25)),
    (ActivityKind::Festival, "邻里节百家宴", "塔山社区文化广场", 11, 3, Some(120)),
    (ActivityKind::Volunteer, "楼院环境清洁志愿行动", "各网格楼院", 8, 2, None),
    (ActivityKind::Culture, "社区合唱团排练", "党群服务中心多功能厅", 15, 2, Some(40)),
];

/// Writes the year; answers how many activities.
pub(crate) async fn demo(db: &Db, rng: &mut Rng, community_code: &str, today: Date) -> anyhow::Result<usize> {
    let community = areas::get_by_code(db, community_code).await?;
    let grids = areas::children(db, &community.id).await?;
    let people: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, name, path FROM residents WHERE path >= $1 AND path < $2 AND status = 'active'")
            .bind(&community.path)
            .bind(format!("{}\u{10FFFF}", community.path))
            .fetch_all(&db.pool)
            .await?;
    anyhow::ensure!(!people.is_empty(), "the demo community has residents");
    let staff = "社区工作人员";
    let mut count = 0;
    // Cultural answers are unsatisfied 12 times in 100, in this order; the others 5 in 100.
    let (mut culture_answers, mut other_answers) = (0usize, 0usize);
    let mut day = today - Duration::days(360);
    while day < today - Duration::days(1) {
        let plan = PLANS[count % PLANS.len()];
        let (kind, title, place, hour, hours, capacity) = plan;
        let area = if count % 3 == 2 { &grids[rng.usize(0..grids.len())] } else { &community };
        let new = NewActivity {
            area_id: area.id.clone(),
            kind,
            title: title.to_owned(),
            detail: format!("{title}，欢迎居民报名参加。"),
            place: place.to_owned(),
            starts_at: at(day, hour),
            ends_at: at(day, hour + hours),
            capacity,
        };
        let a = activities::create(db, new, staff).await?;
        count += 1;
        let local: Vec<&(String, String, String)> = people.iter().filter(|p| p.2.starts_with(&area.path)).collect();
        let wanted = capacity.map_or(rng.usize(20..50), |c| (c as usize) + rng.usize(0..6));
        let signed_before = a.starts_at - 3 * 86_400_000;
        let mut chosen = Vec::new();
        for _ in 0..wanted.min(local.len()) {
            let p = local[rng.usize(0..local.len())];
            if chosen.iter().any(|c: &&(String, String, String)| c.0 == p.0) {
                continue;
            }
            chosen.push(p);
            let who = Who { resident_id: Some(p.0.clone()), account_id: None, name: p.1.clone() };
            let channel = if rng.u8(0..3) == 0 { SignupChannel::Portal } else { SignupChannel::Staff };
            let s = activities::sign_up(db, &a.id, &who, channel, staff, signed_before).await?;
            if s.state != wangge_domain::activities::SignupState::Confirmed || rng.u8(0..10) < 2 {
                continue; // waiting, or did not come
            }
            activities::check(db, &s.id, false, a.starts_at - rng.i64(0..20) * 60_000).await?;
            if kind == ActivityKind::Volunteer {
                activities::check(db, &s.id, true, a.ends_at + rng.i64(0..15) * 60_000).await?;
            }
            if rng.u8(0..10) < 3 {
                continue; // did not answer
            }
            let unsatisfied = if kind == ActivityKind::Culture {
                culture_answers += 1;
                culture_answers % 25 == 3 || culture_answers % 25 == 11 || culture_answers % 25 == 19
            } else {
                other_answers += 1;
                other_answers % 20 == 7
            };
            let score = if unsatisfied { rng.i64(1..=2) } else { rng.i64(3..=5).max(rng.i64(4..=5)) };
            let comment = match (unsatisfied, kind) {
                (true, ActivityKind::Culture) => "节目年年一样，希望多听听居民想看什么",
                (true, _) => "时间安排不太方便",
                (false, _) if rng.u8(0..6) == 0 => "组织得很好，下次还来",
                _ => "",
            };
            activities::rate(db, &s.id, Some(score), comment, a.ends_at + 3_600_000).await?;
        }
        day += Duration::days(rng.i64(8..13));
    }
    Ok(count)
}
