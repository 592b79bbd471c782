//! Home visits (走访): how a visit was made, what came of it, and the cadences that
//! say when someone is due again. Pure rules, no I/O: the due list, the coverage
//! figures and their tests all ask [`standing`].
//!
//! A cadence is kept per subject — a person (by a care tag: 独居老人 weekly at the
//! door) or a household (every household quarterly) — and says which channels count.
//! A door or video visit reaches everyone in the household, so one door visit settles
//! every due cadence of everyone in it that a door visit counts for (a door visit counts
//! for every cadence); a phone call or a chance meeting reaches only the person met.
//! Only a visit in which someone was met counts.

use serde::{Deserialize, Serialize};
use time::{Date, Duration};
use utoipa::ToSchema;

use crate::vocab::vocabulary;
use crate::{Vocabulary, msg};

vocabulary!(
    /// How a visit was made.
    VisitChannel, "visit channel" {
    Door = "door", "入户", "Door visit", ["入户走访", "上门"];
    Video = "video", "视频", "Video call", ["视频通话"];
    Phone = "phone", "电话", "Phone call", ["电话走访", "电话联系"];
    Chance = "chance", "偶遇", "Chance meeting", ["路遇"];
});

impl VisitChannel {
    /// Whether a visit made this way reaches the whole household (a door or a video
    /// visit sees everyone at home) or only the person spoken to.
    pub fn reaches_household(self) -> bool {
        matches!(self, Self::Door | Self::Video)
    }
}

vocabulary!(
    /// What came of a visit.
    VisitOutcome, "visit outcome" {
    Met = "met", "见到本人", "Met", ["已见面", "正常"];
    NotHome = "not_home", "未遇", "Nobody at home", ["不在家", "无人"];
    Declined = "declined", "拒访", "Declined", ["拒绝"];
});

impl VisitOutcome {
    /// Only a visit in which someone was met settles a cadence.
    pub fn counts(self) -> bool {
        self == Self::Met
    }
}

/// How often a subject is to be visited, and which channels count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Cadence {
    pub every_days: u16,
    /// The shorter interval while a cold or heat spell is declared, if any.
    pub spell_every_days: Option<u16>,
    /// The channels that count; never empty, and a door visit always counts.
    pub channels: Vec<VisitChannel>,
}

impl Cadence {
    /// A cadence from its parts: the interval is at least a day, the channels are
    /// those given (deduplicated) and always include a door visit.
    pub fn new(
        every_days: u16,
        spell_every_days: Option<u16>,
        channels: &[VisitChannel],
    ) -> Result<Self, crate::Message> {
        if every_days == 0 || every_days > 366 {
            return Err(msg!("visits.error.every_days", value = every_days).field("every_days"));
        }
        if let Some(spell) = spell_every_days
            && (spell == 0 || spell > every_days)
        {
            return Err(msg!("visits.error.spell_days", value = spell, every = every_days).field("spell_every_days"));
        }
        let mut set = vec![VisitChannel::Door];
        for c in channels {
            if !set.contains(c) {
                set.push(*c);
            }
        }
        set.sort_by_key(|c| VisitChannel::all().iter().position(|x| x == c));
        Ok(Self { every_days, spell_every_days, channels: set })
    }

    pub fn counts(&self, channel: VisitChannel) -> bool {
        self.channels.contains(&channel)
    }

    /// The channels as stored: codes joined by commas.
    pub fn channel_codes(&self) -> String {
        self.channels.iter().map(|c| c.code()).collect::<Vec<_>>().join(",")
    }

    /// The channels from their stored codes (unknown codes are skipped).
    pub fn parse_channels(codes: &str) -> Vec<VisitChannel> {
        codes.split(',').filter_map(|c| VisitChannel::from_code(c.trim())).collect()
    }
}

/// One of [`DEFAULT_CADENCES`]: (care tag code, or none for every household; every
/// so many days; during a spell; the channels that count).
pub type DefaultCadence = (Option<&'static str>, u16, Option<u16>, &'static [VisitChannel]);

/// The cadences a community starts with: 独居老人 weekly at the door (daily in a
/// declared cold or heat spell), 残疾人 and 低保 monthly (a call counts), every
/// household quarterly.
pub const DEFAULT_CADENCES: [DefaultCadence; 4] = [
    (Some("elderly_alone"), 7, Some(1), &[VisitChannel::Door]),
    (Some("disabled"), 30, None, &[VisitChannel::Door, VisitChannel::Video, VisitChannel::Phone]),
    (Some("low_income"), 30, None, &[VisitChannel::Door, VisitChannel::Video, VisitChannel::Phone]),
    (None, 90, None, &[VisitChannel::Door, VisitChannel::Video, VisitChannel::Phone]),
];

/// One visit that reached the subject and in which someone was met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contact {
    pub on: Date,
    pub channel: VisitChannel,
}

/// A period, both ends included; an open end runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Option<Date>,
}

impl Period {
    pub fn covers(&self, day: Date) -> bool {
        self.from <= day && self.to.is_none_or(|to| day <= to)
    }
}

/// A change to one subject's cadence for a period, with its reason: suspended (in
/// hospital, away; an open end ends the cadence) or visited more often.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Adjustment {
    Suspend(Period),
    Every { days: u16, period: Period },
}

/// Where a subject stands under one cadence on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Suspended on that day.
    Held,
    /// Next due on this date (today or earlier: due now).
    Due(Date),
}

impl Standing {
    /// Days past due on `today` (0 when due today or held or not yet due).
    pub fn overdue_days(self, today: Date) -> i64 {
        match self {
            Self::Due(due) if due < today => (today - due).whole_days(),
            _ => 0,
        }
    }

    /// Whether it is on the list of `today`: due today or overdue.
    pub fn is_due(self, today: Date) -> bool {
        matches!(self, Self::Due(due) if due <= today)
    }
}

/// Where a subject stands on `today` under `cadence`: held if an adjustment
/// suspends it; else due the interval after its last counting contact — the
/// shortest of the cadence's, the subject's shortened one and, while a spell covers
/// `today`, the spell's (but never before the spell began) — or, never contacted,
/// due since `since` (when the cadence began to apply).
pub fn standing(
    cadence: &Cadence,
    contacts: &[Contact],
    since: Date,
    today: Date,
    spells: &[Period],
    adjustments: &[Adjustment],
) -> Standing {
    if adjustments.iter().any(|a| matches!(a, Adjustment::Suspend(p) if p.covers(today))) {
        return Standing::Held;
    }
    let last = contacts.iter().filter(|c| c.on <= today && cadence.counts(c.channel)).map(|c| c.on).max();
    let Some(last) = last else {
        return Standing::Due(since);
    };
    let after = |days: u16| last + Duration::days(i64::from(days));
    let mut due = after(cadence.every_days);
    for a in adjustments {
        if let Adjustment::Every { days, period } = a
            && period.covers(today)
        {
            due = due.min(after(*days).max(period.from));
        }
    }
    if let Some(days) = cadence.spell_every_days
        && let Some(spell) = spells.iter().find(|s| s.covers(today))
    {
        due = due.min(after(days).max(spell.from));
    }
    Standing::Due(due)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn door_weekly() -> Cadence {
        Cadence::new(7, Some(1), &[]).unwrap()
    }

    fn monthly_any() -> Cadence {
        Cadence::new(30, None, &[VisitChannel::Phone, VisitChannel::Video]).unwrap()
    }

    fn at(on: Date, channel: VisitChannel) -> Contact {
        Contact { on, channel }
    }

    #[test]
    fn a_cadence_always_counts_a_door_visit_and_checks_its_intervals() {
        let c = Cadence::new(30, None, &[VisitChannel::Phone, VisitChannel::Phone]).unwrap();
        assert_eq!(c.channels, vec![VisitChannel::Door, VisitChannel::Phone]);
        assert_eq!(c.channel_codes(), "door,phone");
        assert_eq!(Cadence::parse_channels("door, phone,teleport"), c.channels);
        assert_eq!(Cadence::new(0, None, &[]).unwrap_err().key, "visits.error.every_days");
        assert_eq!(Cadence::new(7, Some(8), &[]).unwrap_err().key, "visits.error.spell_days");
    }

    /// Hand-computed: last door visit on 3 March, weekly → due 10 March; on 12 March
    /// two days overdue. A phone call on 11 March does not count for a door cadence,
    /// but does for a monthly one that accepts calls (due 10 April).
    #[test]
    fn a_phone_call_does_not_settle_a_door_cadence() {
        let today = date!(2026 - 03 - 12);
        let contacts = [at(date!(2026 - 03 - 03), VisitChannel::Door), at(date!(2026 - 03 - 11), VisitChannel::Phone)];
        let weekly = standing(&door_weekly(), &contacts, date!(2026 - 01 - 01), today, &[], &[]);
        assert_eq!(weekly, Standing::Due(date!(2026 - 03 - 10)));
        assert_eq!(weekly.overdue_days(today), 2);
        assert!(weekly.is_due(today));
        let monthly = standing(&monthly_any(), &contacts, date!(2026 - 01 - 01), today, &[], &[]);
        assert_eq!(monthly, Standing::Due(date!(2026 - 04 - 10)));
        assert!(!monthly.is_due(today));
    }

    /// One door visit settles both cadences: weekly door and monthly any.
    #[test]
    fn one_door_visit_settles_two_cadences() {
        let today = date!(2026 - 03 - 12);
        let contacts = [at(date!(2026 - 03 - 12), VisitChannel::Door)];
        let since = date!(2026 - 01 - 01);
        assert_eq!(standing(&door_weekly(), &contacts, since, today, &[], &[]), Standing::Due(date!(2026 - 03 - 19)));
        assert_eq!(standing(&monthly_any(), &contacts, since, today, &[], &[]), Standing::Due(date!(2026 - 04 - 11)));
    }

    /// Never visited: due since the cadence began to apply.
    #[test]
    fn never_visited_is_due_since_the_start() {
        let s = standing(&door_weekly(), &[], date!(2026 - 02 - 01), date!(2026 - 02 - 05), &[], &[]);
        assert_eq!(s, Standing::Due(date!(2026 - 02 - 01)));
        assert_eq!(s.overdue_days(date!(2026 - 02 - 05)), 4);
    }

    /// A cold spell from 10 to 14 January shortens the weekly door visit to daily:
    /// last visit 8 January → due on 10 January (the spell's first day, not the 9th);
    /// visited on the 10th → due on the 11th; after the spell, weekly again.
    #[test]
    fn a_cold_spell_makes_the_visit_daily_from_its_first_day() {
        let spell = [Period { from: date!(2026 - 01 - 10), to: Some(date!(2026 - 01 - 14)) }];
        let since = date!(2026 - 01 - 01);
        let before = [at(date!(2026 - 01 - 08), VisitChannel::Door)];
        let s = standing(&door_weekly(), &before, since, date!(2026 - 01 - 10), &spell, &[]);
        assert_eq!(s, Standing::Due(date!(2026 - 01 - 10)));
        assert_eq!(
            standing(&door_weekly(), &before, since, date!(2026 - 01 - 09), &spell, &[]),
            Standing::Due(date!(2026 - 01 - 15)),
            "not in the spell yet"
        );
        let visited = [before[0], at(date!(2026 - 01 - 10), VisitChannel::Door)];
        let s = standing(&door_weekly(), &visited, since, date!(2026 - 01 - 10), &spell, &[]);
        assert_eq!(s, Standing::Due(date!(2026 - 01 - 11)));
        let s = standing(&door_weekly(), &visited, since, date!(2026 - 01 - 15), &spell, &[]);
        assert_eq!(s, Standing::Due(date!(2026 - 01 - 17)), "the spell is over");
        assert_eq!(
            standing(&monthly_any(), &visited, since, date!(2026 - 01 - 12), &spell, &[]),
            Standing::Due(date!(2026 - 02 - 09)),
            "a cadence without a spell interval keeps its own"
        );
    }

    /// Suspended (in hospital) from 1 to 20 March: held then, due again after; a
    /// shortened cadence (every 3 days for March) brings the due date forward.
    #[test]
    fn a_suspended_cadence_is_held_and_a_shortened_one_comes_sooner() {
        let since = date!(2026 - 01 - 01);
        let contacts = [at(date!(2026 - 02 - 27), VisitChannel::Door)];
        let hospital = [Adjustment::Suspend(Period { from: date!(2026 - 03 - 01), to: Some(date!(2026 - 03 - 20)) })];
        assert_eq!(standing(&door_weekly(), &contacts, since, date!(2026 - 03 - 05), &[], &hospital), Standing::Held);
        assert_eq!(
            standing(&door_weekly(), &contacts, since, date!(2026 - 03 - 21), &[], &hospital),
            Standing::Due(date!(2026 - 03 - 06))
        );
        assert_eq!(Standing::Held.overdue_days(date!(2026 - 03 - 05)), 0);
        let closer = [Adjustment::Every { days: 3, period: Period { from: date!(2026 - 03 - 01), to: None } }];
        assert_eq!(
            standing(&door_weekly(), &contacts, since, date!(2026 - 03 - 01), &[], &closer),
            Standing::Due(date!(2026 - 03 - 02))
        );
    }

    #[test]
    fn only_a_meeting_counts_and_door_and_video_reach_the_household() {
        assert!(VisitOutcome::Met.counts());
        assert!(!VisitOutcome::NotHome.counts() && !VisitOutcome::Declined.counts());
        assert!(VisitChannel::Door.reaches_household() && VisitChannel::Video.reaches_household());
        assert!(!VisitChannel::Phone.reaches_household() && !VisitChannel::Chance.reaches_household());
        assert_eq!(VisitChannel::parse("入户").unwrap(), VisitChannel::Door);
    }
}
