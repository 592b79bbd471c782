//! Party building (党建引领, module 6): organisations on the community and its
//! grids, members, double registration (双报到) of units and in-service members,
//! the needs list, service records and the feedback each unit receives.
//!
//! Pure rules, no I/O: the vocabularies, a registration's states as one `match`
//! ([`next`]), a service record's ([`service_next`]), the periods (quarters,
//! half-years, years) read in China time ([`Period`]), the share of the yearly
//! hours a member owes by the end of a period ([`share_minutes`]), a unit's rates
//! ([`registration_rate`], [`completion_rate`], [`below`]) and the points of a
//! confirmed record ([`PointRules::points`]).

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime};
use utoipa::ToSchema;

use crate::demands::CHINA;
use crate::vocab::vocabulary;
use crate::{Message, Vocabulary, msg};

vocabulary!(
    /// The level of a Party organisation, from the top.
    OrgKind, "party organisation kind" {
    Committee = "committee", "党委", "Party committee", ["社区党委"];
    GeneralBranch = "general_branch", "党总支", "General Party branch", ["总支"];
    Branch = "branch", "党支部", "Party branch", ["支部", "网格党支部"];
    Group = "group", "党小组", "Party group", ["小组"];
});

impl OrgKind {
    fn rank(self) -> u8 {
        match self {
            OrgKind::Committee => 0,
            OrgKind::GeneralBranch => 1,
            OrgKind::Branch => 2,
            OrgKind::Group => 3,
        }
    }

    /// Whether an organisation of this kind may sit under one of `parent`'s: the
    /// tree goes strictly down (a branch under a general branch or a committee, a
    /// group under a branch).
    pub fn fits_under(self, parent: OrgKind) -> bool {
        self.rank() > parent.rank()
    }
}

vocabulary!(
    /// How a member belongs to the community.
    MemberKind, "party member kind" {
    Resident = "resident", "社区党员", "Resident member", ["居民党员", "社区在册党员"];
    InService = "in_service", "在职党员", "In-service member", ["在职报到党员", "报到党员"];
    Retired = "retired", "离退休党员", "Retired member", ["退休党员"];
    Floating = "floating", "流动党员", "Floating member", ["外出党员"];
});

vocabulary!(
    /// Whether a member is on the community's roll.
    MemberStatus, "party member status" {
    Active = "active", "正常", "Active", ["在册"];
    /// Left the community's work (报到撤销, 退出): may not register again.
    Withdrawn = "withdrawn", "已退出", "Withdrawn", ["退出"];
    Transferred = "transferred", "已转出", "Transferred out", ["转出"];
    Deceased = "deceased", "已故", "Deceased", [];
});

vocabulary!(
    /// A line of a member's history.
    MemberEventKind, "party member event" {
    Added = "added", "登记", "Added", [];
    Changed = "changed", "信息修改", "Changed", [];
    Status = "status", "状态变更", "Status changed", [];
    Registered = "registered", "报到", "Registered", [];
    /// Consent to the public card (亮身份) given or revoked.
    Card = "card", "亮身份", "Public card", [];
});

vocabulary!(
    /// Where a registration (报到) stands.
    RegistrationState, "registration state" {
    Pending = "pending", "待确认", "Waiting for confirmation", ["待审核"];
    Confirmed = "confirmed", "已确认", "Confirmed", ["已报到"];
    Refused = "refused", "未通过", "Refused", ["退回"];
    Withdrawn = "withdrawn", "已撤回", "Withdrawn", ["撤回"];
});

vocabulary!(
    /// What staff (or the registrant) do to a registration.
    RegistrationStep, "registration step" {
    Confirm = "confirm", "确认报到", "Confirm", ["确认"];
    Refuse = "refuse", "不予通过", "Refuse", ["退回"];
    Withdraw = "withdraw", "撤回报到", "Withdraw", ["撤回"];
    /// A refused registration sent again in the same period.
    Resubmit = "resubmit", "重新报到", "Register again", [];
});

vocabulary!(
    /// Where a service record stands.
    ServiceState, "service state" {
    Recorded = "recorded", "待确认", "Waiting for confirmation", [];
    Confirmed = "confirmed", "已确认", "Confirmed", [];
    Rejected = "rejected", "未认可", "Not accepted", ["驳回"];
});

vocabulary!(
    /// Where a need of the community's list comes from.
    NeedSource, "need source" {
    Demand = "demand", "民情诉求", "A demand", ["诉求"];
    Visit = "visit", "入户走访", "A home visit", ["走访"];
    Plan = "plan", "社区计划", "The community's plan", ["计划", "活动"];
});

/// Why a step cannot be taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepError(pub RegistrationStep, pub RegistrationState);

impl StepError {
    pub fn message(self) -> Message {
        Message::new("party.error.step").term("step", self.0).term("state", self.1)
    }
}

/// The state of a registration after `step`: staff confirm or refuse a pending
/// one; a confirmed or pending one may be withdrawn; a refused one may be sent
/// again (it is pending once more). A withdrawn registration is final for its
/// period.
pub fn next(state: RegistrationState, step: RegistrationStep) -> Result<RegistrationState, StepError> {
    use RegistrationState::*;
    match (step, state) {
        (RegistrationStep::Confirm, Pending) => Ok(Confirmed),
        (RegistrationStep::Refuse, Pending) => Ok(Refused),
        (RegistrationStep::Withdraw, Pending | Confirmed) => Ok(Withdrawn),
        (RegistrationStep::Resubmit, Refused) => Ok(Pending),
        (step, state) => Err(StepError(step, state)),
    }
}

/// The state of a service record once decided: only a recorded one is decided,
/// once.
pub fn service_next(state: ServiceState, confirm: bool) -> Result<ServiceState, Message> {
    match (state, confirm) {
        (ServiceState::Recorded, true) => Ok(ServiceState::Confirmed),
        (ServiceState::Recorded, false) => Ok(ServiceState::Rejected),
        (state, _) => Err(Message::new("party.error.decided").term("state", state)),
    }
}

/// Period lengths a community may choose, in months.
pub const PERIOD_MONTHS: [u8; 4] = [1, 3, 6, 12];

/// A period of the calendar in China time: a month, a quarter, a half-year or a
/// year, named `2026-03`, `2026Q1`, `2026H1`, `2026`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub year: i32,
    /// The first month, 1–12.
    pub first_month: u8,
    /// 1, 3, 6 or 12.
    pub months: u8,
}

impl Period {
    /// The period of `months` that holds `day`. `months` must be one of
    /// [`PERIOD_MONTHS`] (else a year).
    pub fn containing(day: Date, months: u8) -> Period {
        let months = if PERIOD_MONTHS.contains(&months) { months } else { 12 };
        let m = u8::from(day.month());
        Period { year: day.year(), first_month: (m - 1) / months * months + 1, months }
    }

    /// The period of `months` that holds the instant `millis` (Unix ms), read in China.
    pub fn at(millis: i64, months: u8) -> Period {
        Period::containing(china_day(millis), months)
    }

    /// The first day.
    pub fn start(&self) -> Date {
        Date::from_calendar_date(self.year, month(self.first_month), 1).expect("a first day")
    }

    /// The day after the last (the next period's first day).
    pub fn end(&self) -> Date {
        let m = u32::from(self.first_month) - 1 + u32::from(self.months);
        let (year, m) = (self.year + (m / 12) as i32, (m % 12) as u8 + 1);
        Date::from_calendar_date(year, month(m), 1).expect("a first day")
    }

    /// `[start, end)` as Unix ms, midnights in China.
    pub fn millis(&self) -> (i64, i64) {
        (china_midnight(self.start()), china_midnight(self.end()))
    }

    /// The period before this one.
    pub fn previous(&self) -> Period {
        Period::containing(self.start().previous_day().expect("a day before"), self.months)
    }

    /// How many months of its year have passed at its end (3 for Q1, 12 for Q4).
    pub fn months_into_year(&self) -> u8 {
        self.first_month - 1 + self.months
    }

    /// Its name: `2026-03`, `2026Q1`, `2026H1`, `2026`.
    pub fn label(&self) -> String {
        let n = (self.first_month - 1) / self.months + 1;
        match self.months {
            1 => format!("{}-{:02}", self.year, self.first_month),
            3 => format!("{}Q{n}", self.year),
            6 => format!("{}H{n}", self.year),
            _ => format!("{}", self.year),
        }
    }

    /// Reads a name [`Period::label`] wrote.
    pub fn parse(text: &str) -> Option<Period> {
        let t = text.trim().to_ascii_uppercase();
        let year: i32 = t.get(..4)?.parse().ok()?;
        if !(1900..=9999).contains(&year) {
            return None;
        }
        let rest = &t[4..];
        let (first_month, months) = match rest.as_bytes() {
            [] => (1, 12),
            [b'Q', n @ b'1'..=b'4'] => ((n - b'1') * 3 + 1, 3),
            [b'H', n @ b'1'..=b'2'] => ((n - b'1') * 6 + 1, 6),
            [b'-', ..] => {
                let m: u8 = rest[1..].parse().ok()?;
                ((1..=12).contains(&m) && rest.len() == 3).then_some((m, 1))?
            }
            _ => return None,
        };
        Some(Period { year, first_month, months })
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

fn month(m: u8) -> Month {
    Month::try_from(m).expect("a month 1-12")
}

/// The day in China of the instant `millis` (Unix ms).
pub fn china_day(millis: i64) -> Date {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(CHINA)
        .date()
}

/// Midnight in China of `day`, as Unix ms.
pub fn china_midnight(day: Date) -> i64 {
    (day.midnight().assume_offset(CHINA).unix_timestamp_nanos() / 1_000_000) as i64
}

/// The yearly service target by default: 50 hours (Xingtai Qiaoxi), in minutes.
pub const DEFAULT_YEARLY_MINUTES: i64 = 50 * 60;
/// The threshold of a unit's rates by default, in percent.
pub const DEFAULT_THRESHOLD: i64 = 95;

/// The minutes of a yearly target of `yearly` a member owes by the end of
/// `period`: the target times the months of the year passed at its end, over 12
/// (rounded down). 50 h a year is 12 h 30 min by the end of Q1, 50 h by the end of Q4.
pub fn share_minutes(yearly: i64, period: &Period) -> i64 {
    yearly * i64::from(period.months_into_year()) / 12
}

/// A unit's registration rate: its members with a confirmed registration over the
/// members it declared, capped at 100 % (a unit that declared 10 and has 12
/// registered is at 10 of 10). `None` when it declared none.
pub fn registration_rate(confirmed: i64, declared: i64) -> Option<(i64, i64)> {
    (declared > 0).then(|| (confirmed.min(declared), declared))
}

/// A unit's completion rate: of its members with a confirmed registration, those
/// whose confirmed service this year up to the period's end reached their share
/// ([`share_minutes`]). `None` when none is registered.
pub fn completion_rate(reached: i64, registered: i64) -> Option<(i64, i64)> {
    (registered > 0).then_some((reached, registered))
}

/// Whether a rate is below `threshold` percent (a missing rate is below: nothing
/// to show is not a pass).
pub fn below(rate: Option<(i64, i64)>, threshold: i64) -> bool {
    match rate {
        Some((part, whole)) => part * 100 < threshold * whole,
        None => true,
    }
}

/// A rate as whole percent, rounded down.
pub fn percent(rate: Option<(i64, i64)>) -> Option<i64> {
    rate.map(|(part, whole)| part * 100 / whole)
}

/// Hours to show for `minutes`, with one decimal: 90 → "1.5".
pub fn hours(minutes: i64) -> String {
    format!("{}.{}", minutes / 60, minutes % 60 * 10 / 60)
}

/// Points for confirmed service, per community.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PointRules {
    /// Per full hour served.
    pub per_hour: i64,
    /// Per confirmed record.
    pub per_activity: i64,
    /// More for a record on a need of the community's list.
    pub per_need: i64,
}

impl Default for PointRules {
    fn default() -> Self {
        PointRules { per_hour: 10, per_activity: 2, per_need: 5 }
    }
}

impl PointRules {
    /// The points of a confirmed record: `per_hour` × full hours + `per_activity`
    /// (+ `per_need` when it served a need).
    pub fn points(&self, minutes: i64, on_need: bool) -> i64 {
        self.per_hour * (minutes / 60) + self.per_activity + if on_need { self.per_need } else { 0 }
    }

    /// Refuses a negative or absurd number of points.
    pub fn check(&self) -> Result<(), Message> {
        for (v, field) in
            [(self.per_hour, "per_hour"), (self.per_activity, "per_activity"), (self.per_need, "per_need")]
        {
            if !(0..=1000).contains(&v) {
                return Err(msg!("party.error.points", value = v).field(field));
            }
        }
        Ok(())
    }
}

/// Reads a duration typed as hours (`2`, `1.5`, `0.5`, `１.５`) into minutes:
/// tenths of an hour at most, more than 0 and at most 24 hours.
pub fn parse_hours(text: &str) -> Result<i64, Message> {
    let t = crate::text::normalize(text);
    let bad = || msg!("party.error.hours", value = &t).field("hours");
    let (whole, tenth) = match t.split_once('.') {
        Some((w, f)) if f.len() == 1 => (w, f),
        Some(_) => return Err(bad()),
        None => (t.as_str(), "0"),
    };
    let w: i64 = whole.parse().map_err(|_| bad())?;
    let f: i64 = tenth.parse().map_err(|_| bad())?;
    let minutes = w * 60 + f * 6;
    if w < 0 || minutes <= 0 || minutes > 24 * 60 {
        return Err(bad());
    }
    Ok(minutes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vocabulary;
    use time::macros::{date, datetime};

    #[test]
    fn a_registration_moves_as_the_match_says() {
        use RegistrationState::*;
        use RegistrationStep::*;
        assert_eq!(next(Pending, Confirm), Ok(Confirmed));
        assert_eq!(next(Pending, Refuse), Ok(Refused));
        assert_eq!(next(Confirmed, Withdraw), Ok(Withdrawn));
        assert_eq!(next(Refused, Resubmit), Ok(Pending));
        assert_eq!(next(Confirmed, Confirm), Err(StepError(Confirm, Confirmed)));
        assert_eq!(next(Withdrawn, Resubmit), Err(StepError(Resubmit, Withdrawn)));
        assert_eq!(next(Refused, Withdraw), Err(StepError(Withdraw, Refused)));
        assert!(service_next(ServiceState::Recorded, true) == Ok(ServiceState::Confirmed));
        assert!(service_next(ServiceState::Confirmed, false).is_err());
    }

    #[test]
    fn periods_are_read_in_china_time() {
        // 2026-03-31 23:30 in China is 15:30 UTC on the same day: Q1.
        let late_march = datetime!(2026-03-31 15:30 UTC).unix_timestamp() * 1000;
        // 2026-04-01 00:10 in China is 16:10 UTC on 31 March: already Q2.
        let early_april = datetime!(2026-03-31 16:10 UTC).unix_timestamp() * 1000;
        assert_eq!(Period::at(late_march, 3).label(), "2026Q1");
        assert_eq!(Period::at(early_april, 3).label(), "2026Q2");
        assert_eq!(Period::at(early_april, 6).label(), "2026H1");
        assert_eq!(Period::at(early_april, 12).label(), "2026");
        assert_eq!(Period::at(early_april, 1).label(), "2026-04");
        let q2 = Period::parse("2026q2").unwrap();
        assert_eq!((q2.start(), q2.end()), (date!(2026 - 04 - 01), date!(2026 - 07 - 01)));
        assert_eq!(q2.millis().0, early_april - 10 * 60 * 1000);
        assert_eq!(Period::parse("2026H2").unwrap().end(), date!(2027 - 01 - 01));
        assert_eq!(Period::parse("2026-12").unwrap().end(), date!(2027 - 01 - 01));
        assert_eq!(Period::parse("2026Q1").unwrap().previous().label(), "2025Q4");
        assert_eq!(Period::parse("2026Q5"), None);
        assert_eq!(Period::parse("soon"), None);
        for label in ["2026", "2026H2", "2026Q3", "2026-07"] {
            assert_eq!(Period::parse(label).unwrap().label(), label);
        }
    }

    #[test]
    fn shares_rates_and_points_are_what_the_docs_say() {
        let q1 = Period::parse("2026Q1").unwrap();
        let h2 = Period::parse("2026H2").unwrap();
        assert_eq!(share_minutes(DEFAULT_YEARLY_MINUTES, &q1), 750); // 12.5 h
        assert_eq!(share_minutes(DEFAULT_YEARLY_MINUTES, &h2), 3000);
        assert_eq!(registration_rate(12, 10), Some((10, 10)));
        assert_eq!(registration_rate(3, 0), None);
        assert!(!below(Some((19, 20)), 95)); // 95 % exactly passes
        assert!(below(Some((18, 20)), 95));
        assert!(below(None, 95));
        assert_eq!(percent(Some((2, 3))), Some(66));
        assert_eq!(hours(90), "1.5");
        assert_eq!(hours(750), "12.5");
        assert_eq!(PointRules::default().points(150, true), 10 * 2 + 2 + 5);
        assert_eq!(parse_hours("1.5"), Ok(90));
        assert_eq!(parse_hours("２"), Ok(120));
        assert!(parse_hours("0").is_err() && parse_hours("25").is_err() && parse_hours("1.25").is_err());
    }

    #[test]
    fn the_tree_goes_down() {
        assert!(OrgKind::Branch.fits_under(OrgKind::GeneralBranch));
        assert!(OrgKind::Group.fits_under(OrgKind::Branch));
        assert!(!OrgKind::GeneralBranch.fits_under(OrgKind::Branch));
        assert!(!OrgKind::Branch.fits_under(OrgKind::Branch));
        assert_eq!(MemberKind::parse("在职党员").unwrap(), MemberKind::InService);
    }
}
