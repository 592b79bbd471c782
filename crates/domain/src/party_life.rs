//! Organisational life of the Party (三会一课, issue 23): the kinds of meeting a
//! Party organisation holds, a member's attendance, how often each is required by
//! default (中国共产党支部工作条例), which periods a rule requires and the
//! compliance they add up to, and when an organisation's term ends.
//!
//! Pure rules, no I/O. A meeting belongs to the period holding its time in China
//! (UTC+8): 31 March 23:30 is March and the first quarter.

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use crate::Vocabulary;
use crate::party::{OrgKind, PERIOD_MONTHS, Period};
use crate::vocab::vocabulary;

vocabulary!(
    /// A meeting of organisational life (三会一课 and the theme Party day).
    MeetingKind, "party meeting kind" {
    MembersMeeting = "members_meeting", "支部党员大会", "Members' meeting", ["党员大会"];
    Committee = "committee", "支委会", "Committee meeting", ["支部委员会"];
    Group = "group", "党小组会", "Group meeting", ["小组会"];
    Lecture = "lecture", "党课", "Party lecture", [];
    ThemeDay = "theme_day", "主题党日", "Theme Party day", ["主题党日活动"];
});

vocabulary!(
    /// A member's attendance at a meeting.
    Attendance, "meeting attendance" {
    Present = "present", "出席", "Present", ["到会"];
    Excused = "excused", "请假", "Excused", [];
    Absent = "absent", "缺席", "Absent", [];
});

/// Whether an organisation of `kind` keeps the rules of organisational life (a
/// branch or a general branch: 支部 in the 条例's sense).
pub fn keeps_rules(kind: OrgKind) -> bool {
    matches!(kind, OrgKind::Branch | OrgKind::GeneralBranch)
}

/// How often (in months) `meeting` is required of an organisation of `org` by
/// default: theme Party day and committee meeting monthly, members' meeting and
/// Party lecture quarterly, group meeting monthly where the branch has groups.
/// None: not required.
pub fn default_months(org: OrgKind, meeting: MeetingKind, has_groups: bool) -> Option<u8> {
    if !keeps_rules(org) {
        return None;
    }
    match meeting {
        MeetingKind::ThemeDay | MeetingKind::Committee => Some(1),
        MeetingKind::MembersMeeting | MeetingKind::Lecture => Some(3),
        MeetingKind::Group => has_groups.then_some(1),
    }
}

/// Whether `months` is a frequency an organisation may set (1, 3, 6 or 12).
pub fn valid_months(months: u8) -> bool {
    PERIOD_MONTHS.contains(&months)
}

/// The periods of a rule of every `months` that start in `year` and are over on
/// `today` (each must hold at least one meeting of its kind).
pub fn required_periods(months: u8, year: i32, today: Date) -> Vec<Period> {
    let mut out = Vec::new();
    let Ok(first) = Date::from_calendar_date(year, time::Month::January, 1) else { return out };
    let mut p = Period::containing(first, months);
    while p.year == year && p.end() <= today {
        out.push(p);
        p = Period::containing(p.end(), months);
    }
    out
}

/// The last period of a rule of every `months` that is over on `today`.
pub fn last_complete(months: u8, today: Date) -> Period {
    Period::containing(today, months).previous()
}

/// Compliance: required periods holding a meeting ÷ required periods; none when
/// nothing was required yet.
pub fn compliance(held: i64, required: i64) -> Option<(i64, i64)> {
    (required > 0).then_some((held.min(required), required))
}

/// A term's length by default, in years (a community's branch, general branch
/// and committee alike).
pub const DEFAULT_TERM_YEARS: u8 = 5;

/// How many months before a term ends its organisation is reminded.
pub const TERM_REMINDER_MONTHS: u8 = 3;

/// The day a term started on `start` for `years` ends (the same day, so many
/// years later; 29 February ends on 28 February).
pub fn term_end(start: Date, years: u8) -> Date {
    let year = start.year() + i32::from(years);
    Date::from_calendar_date(year, start.month(), start.day())
        .or_else(|_| Date::from_calendar_date(year, start.month(), start.day() - 1))
        .unwrap_or(start)
}

/// The first day the organisation is reminded of a term ending on `end`.
pub fn reminder_from(end: Date) -> Date {
    let mut d = end;
    for _ in 0..TERM_REMINDER_MONTHS {
        let first = d.replace_day(1).expect("the first");
        let previous_last = first.previous_day().expect("a day before");
        d = previous_last.replace_day(d.day().min(previous_last.day())).expect("a day of the month");
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn defaults_follow_the_regulations() {
        let b = OrgKind::Branch;
        assert_eq!(default_months(b, MeetingKind::ThemeDay, false), Some(1));
        assert_eq!(default_months(b, MeetingKind::Committee, false), Some(1));
        assert_eq!(default_months(b, MeetingKind::MembersMeeting, false), Some(3));
        assert_eq!(default_months(b, MeetingKind::Lecture, false), Some(3));
        assert_eq!(default_months(b, MeetingKind::Group, false), None);
        assert_eq!(default_months(b, MeetingKind::Group, true), Some(1));
        assert_eq!(default_months(OrgKind::Group, MeetingKind::Group, true), None);
    }

    #[test]
    fn required_periods_are_those_over() {
        assert_eq!(required_periods(1, 2026, date!(2026 - 04 - 01)).len(), 3);
        assert_eq!(required_periods(3, 2026, date!(2026 - 04 - 01)).len(), 1);
        assert_eq!(required_periods(3, 2026, date!(2026 - 03 - 31)).len(), 0);
        assert_eq!(required_periods(1, 2026, date!(2027 - 02 - 01)).len(), 12);
        assert_eq!(last_complete(1, date!(2026 - 04 - 01)).label(), "2026-03");
        assert_eq!(last_complete(3, date!(2026 - 04 - 01)).label(), "2026Q1");
        assert_eq!(compliance(5, 4), Some((4, 4)));
        assert_eq!(compliance(0, 0), None);
    }

    #[test]
    fn terms_end_and_are_reminded() {
        assert_eq!(term_end(date!(2021 - 12 - 20), 5), date!(2026 - 12 - 20));
        assert_eq!(term_end(date!(2024 - 02 - 29), 5), date!(2029 - 02 - 28));
        assert_eq!(reminder_from(date!(2026 - 12 - 20)), date!(2026 - 09 - 20));
        assert_eq!(reminder_from(date!(2026 - 05 - 31)), date!(2026 - 02 - 28));
    }
}
