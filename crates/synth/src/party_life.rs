//! The demo's organisational life (三会一课): a year of meetings of the general
//! branch and the eight grid branches — a committee meeting and a theme Party day
//! every month, a members' meeting and a Party lecture every quarter — with each
//! member's attendance (mostly present, some excused with a reason, a few
//! absent). Mostly on time; one branch (the sixth grid's) missed four committee
//! meetings and another one theme Party day, and the alerts of those were sent.
//! The general branch's term began almost five years ago: its reminder is due.

use fastrand::Rng;
use time::{Date, Duration};
use wangge_domain::party::{MemberStatus, Period};
use wangge_domain::party_life::{Attendance, MeetingKind};
use wangge_domain::{Vocabulary, new_id};
use wangge_store::party::past::{PastLifeAlert, PastMeeting, PastMember, PastOrg};

/// The branch (index among the grid branches) that missed committee meetings, and
/// which months of the year (0 = the first month drawn) it missed.
const LATE_BRANCH: usize = 5;
const LATE_MONTHS: [usize; 4] = [2, 4, 5, 8];
/// The branch that missed one theme Party day, and when.
const SKIPPED_BRANCH: usize = 2;
const SKIPPED_MONTH: usize = 6;

const EXCUSES: [&str; 6] = ["外出务工", "身体不适住院", "照顾生病家人", "单位值班", "在外地探亲", "参加社区志愿服务"];
const COMMITTEE_TOPICS: [&str; 6] = [
    "研究本月党员服务需求认领安排",
    "讨论发展对象考察意见",
    "部署网格平安巡逻工作",
    "研究困难党员慰问名单",
    "讨论党费收缴情况",
    "部署主题党日活动安排",
];
const THEME_TOPICS: [&str; 8] = [
    "重温入党誓词，开展楼道清洁志愿服务",
    "学习党的二十届三中全会精神",
    "走访慰问独居老人",
    "垃圾分类入户宣传",
    "参观红色教育基地",
    "社区环境整治",
    "平安建设宣传进楼院",
    "关爱未成年人课业辅导",
];
const LECTURE_TOPICS: [&str; 4] =
    ["书记讲党课：发挥党员先锋模范作用", "党章专题学习", "基层治理与网格党建", "廉洁自律专题党课"];
const MEMBERS_TOPICS: [&str; 4] =
    ["通报支部上季度工作，评议党员", "讨论年度工作计划", "民主评议党员", "选举产生出席上级党代会代表候选人推荐人选"];

/// Milliseconds of `day` at `hour`, China time.
fn at(day: Date, hour: i64) -> i64 {
    (day.midnight().assume_offset(wangge_domain::demands::CHINA).unix_timestamp() + hour * 3600) * 1000
}

/// A day of `month` (its first day), `day` of it at most the month's length.
fn day_in(month: Date, day: u8) -> Date {
    let last = Period::containing(month, 1).end().previous_day().expect("a day before").day();
    month.replace_day(day.min(last)).expect("a day of the month")
}

/// Draws the meetings of `orgs` (the general branch first, then the grid
/// branches in grid order) of the twelve months up to `today`, and the alerts
/// (organisation, kind, period, when) sent for the periods missed.
pub(crate) fn year(
    rng: &mut Rng,
    orgs: &[PastOrg],
    members: &[PastMember],
    today: Date,
) -> (Vec<PastMeeting>, Vec<PastLifeAlert>) {
    let first = Period::containing(today - Duration::days(365), 1).end();
    let mut meetings = Vec::new();
    let mut alerts = Vec::new();
    for (i, o) in orgs.iter().enumerate() {
        let branch = i.checked_sub(1);
        let attendees: Vec<&PastMember> =
            members.iter().filter(|m| m.org_id.as_ref() == Some(&o.id) && m.status == MemberStatus::Active).collect();
        let place = if branch.is_some() { "网格党群服务站" } else { "社区党群服务中心" };
        let secretary = o.secretary_name.clone().unwrap_or_else(|| "组织委员".to_owned());
        let mut month = first;
        let mut n = 0;
        while month <= today {
            let mut plan = vec![
                (
                    MeetingKind::Committee,
                    day_in(month, rng.u8(3..=10)),
                    19,
                    COMMITTEE_TOPICS[rng.usize(..COMMITTEE_TOPICS.len())],
                ),
                (
                    MeetingKind::ThemeDay,
                    day_in(month, rng.u8(14..=22)),
                    9,
                    THEME_TOPICS[rng.usize(..THEME_TOPICS.len())],
                ),
            ];
            if u8::from(month.month()) % 3 == 0 {
                plan.push((
                    MeetingKind::MembersMeeting,
                    day_in(month, 25),
                    15,
                    MEMBERS_TOPICS[rng.usize(..MEMBERS_TOPICS.len())],
                ));
                plan.push((
                    MeetingKind::Lecture,
                    day_in(month, 27),
                    15,
                    LECTURE_TOPICS[rng.usize(..LECTURE_TOPICS.len())],
                ));
            }
            for (kind, day, hour, topic) in plan {
                let missed =
                    (branch == Some(LATE_BRANCH) && kind == MeetingKind::Committee && LATE_MONTHS.contains(&n))
                        || (branch == Some(SKIPPED_BRANCH) && kind == MeetingKind::ThemeDay && n == SKIPPED_MONTH);
                if missed {
                    let period = Period::containing(month, 1);
                    if period.end() <= today {
                        alerts.push((
                            o.id.clone(),
                            kind.code().to_owned(),
                            period.label(),
                            at(period.end(), 0) + 600_000,
                        ));
                    }
                    continue;
                }
                if day >= today {
                    continue;
                }
                let attendance = attendees
                    .iter()
                    .map(|m| match rng.u8(0..100) {
                        0..=84 => (m.id.clone(), Attendance::Present, None),
                        85..=95 => {
                            (m.id.clone(), Attendance::Excused, Some(EXCUSES[rng.usize(..EXCUSES.len())].to_owned()))
                        }
                        _ => (m.id.clone(), Attendance::Absent, None),
                    })
                    .collect();
                let present = attendees.len();
                meetings.push(PastMeeting {
                    id: new_id(),
                    org_id: o.id.clone(),
                    path: o.path.clone(),
                    kind,
                    held_at: at(day, hour),
                    place: place.to_owned(),
                    topic: topic.to_owned(),
                    minutes: format!(
                        "{secretary}主持。应到{present}人。会议围绕“{topic}”进行了学习和讨论，形成了下一步工作安排，明确责任人和完成时限。"
                    ),
                    recorded_by_name: secretary.clone(),
                    attendance,
                });
            }
            month = Period::containing(month, 1).end();
            n += 1;
        }
    }
    meetings.sort_by_key(|m| m.held_at);
    (meetings, alerts)
}

/// The first day of the general branch's term (almost five years ago: its end
/// is two months away) and of a grid branch's (elected two years ago).
pub(crate) fn term_start(general: bool, today: Date) -> String {
    let start = if general { today - Duration::days(5 * 365 - 60) } else { today - Duration::days(2 * 365 + 30) };
    wangge_domain::format_date(start)
}
