//! Residents' demands and events (民情诉求): their vocabularies, the closed loop as an
//! explicit state machine, and business-day deadlines.
//!
//! The loop: submitted → accepted (受理), or rejected / merged → dispatched (派遣) →
//! in hand (处置) → reported done → verified (核查) → closed (结案) → rated (评价). An
//! unsatisfied rating (1–3) reopens the item once for redoing. Consultations (政策咨询)
//! are answered, never dispatched. Escalation (上报) moves an item one level up (grid →
//! community → street → district) and back down; either way it waits to be dispatched
//! again at its new level.
//!
//! [`transition`] is the one place these rules live: who may take which step from which
//! state. Who may is said through the permission matrix ([`Action`]), so the route
//! policy and the state machine cannot disagree.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime, UtcOffset, Weekday};
use utoipa::ToSchema;

use crate::vocab::vocabulary;
use crate::{Action, Role, Vocabulary};

vocabulary!(
    /// What a resident brings.
    DemandKind, "demand kind" {
    HelpRequest = "help_request", "求助", "Request for help", ["求助请求"];
    Complaint = "complaint", "投诉", "Complaint", [];
    Report = "report", "问题反映", "Report of a hazard or problem", ["隐患", "反映", "隐患报告"];
    Suggestion = "suggestion", "建议", "Suggestion", ["意见建议"];
    Consultation = "consultation", "咨询", "Consultation", ["政策咨询"];
});

vocabulary!(
    /// How the item came in.
    Channel, "channel" {
    Portal = "portal", "居民端", "Resident portal", ["网上服务大厅"];
    BuildingQr = "building_qr", "楼栋二维码", "Building QR code", ["扫码"];
    GridMember = "grid_member", "网格员上报", "Grid member in the field", ["网格员"];
    Phone = "phone", "电话", "Phone call", ["来电"];
    Visit = "visit", "走访", "Home visit", ["入户走访"];
    Instruction = "instruction", "上级交办", "Instruction from above", ["交办"];
    Api = "api", "接口", "JSON API", [];
    Open311 = "open311", "Open311", "Open311", [];
    /// The auxiliary network reporting from their building (issue 17): not 网格员上报.
    BuildingHead = "building_head", "楼长", "Building head", ["楼栋长"];
    Volunteer = "volunteer", "志愿者", "Volunteer", ["志愿者上报"];
    PropertyStaff = "property_staff", "物业", "Property staff", ["物业上报"];
});

vocabulary!(
    /// Where an item stands in the loop.
    DemandStatus, "demand status" {
    Submitted = "submitted", "待受理", "Submitted", [];
    Accepted = "accepted", "已受理", "Accepted", [];
    Rejected = "rejected", "不予受理", "Rejected", [];
    Merged = "merged", "已合并", "Merged as duplicate", [];
    Dispatched = "dispatched", "已派遣", "Dispatched", [];
    InHand = "in_hand", "处置中", "In hand", [];
    ReportedDone = "reported_done", "待核查", "Reported done", [];
    Verified = "verified", "已核查", "Verified", [];
    Closed = "closed", "已结案", "Closed", [];
    Rated = "rated", "已评价", "Rated", [];
    Reopened = "reopened", "重新办理", "Reopened", [];
});

vocabulary!(
    /// Who an item is dispatched to.
    HandlerKind, "handler kind" {
    GridMember = "grid_member", "网格员", "Grid member", [];
    CommunityDepartment = "community_department", "社区部门", "Community department", ["社区"];
    PropertyCompany = "property_company", "物业公司", "Property company", ["物业"];
    Organisation = "organisation", "驻区单位", "Organisation", ["单位"];
    StreetDepartment = "street_department", "街道部门", "Street department", ["街道"];
});

vocabulary!(
    /// The level that holds an item: small matters stay in the grid, big ones go up.
    Level, "handling level" {
    Grid = "grid", "网格", "Grid", [];
    Community = "community", "社区", "Community", [];
    Street = "street", "街道", "Street", [];
    District = "district", "区", "District", ["区级"];
});

impl Level {
    pub fn up(self) -> Option<Level> {
        match self {
            Level::Grid => Some(Level::Community),
            Level::Community => Some(Level::Street),
            Level::Street => Some(Level::District),
            Level::District => None,
        }
    }

    pub fn down(self) -> Option<Level> {
        match self {
            Level::Grid => None,
            Level::Community => Some(Level::Grid),
            Level::Street => Some(Level::Community),
            Level::District => Some(Level::Street),
        }
    }
}

impl DemandStatus {
    /// Still being worked on: counts towards overdue and work lists.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Rejected | Self::Merged | Self::Closed | Self::Rated)
    }

    /// The open statuses, for queries.
    pub fn open() -> Vec<DemandStatus> {
        Self::all().iter().copied().filter(|s| s.is_open()).collect()
    }

    /// The catalogue key of what a resident reads on their timeline, in plain
    /// words (`plain.<code>` in `locales/demands.yml`).
    pub fn plain_key(self) -> &'static str {
        match self {
            Self::Submitted => "plain.submitted",
            Self::Accepted => "plain.accepted",
            Self::Rejected => "plain.rejected",
            Self::Merged => "plain.merged",
            Self::Dispatched => "plain.dispatched",
            Self::InHand => "plain.in_hand",
            Self::ReportedDone => "plain.reported_done",
            Self::Verified => "plain.verified",
            Self::Closed => "plain.closed",
            Self::Rated => "plain.rated",
            Self::Reopened => "plain.reopened",
        }
    }
}

vocabulary!(
    /// A step of the loop, as a handler or the resident takes it.
    Step, "step" {
    Accept = "accept", "受理", "Accept", [];
    /// Refuse with a reason (not ours to handle, not a real matter…).
    Reject = "reject", "不予受理", "Reject", [];
    /// A duplicate of another open item: handled there.
    Merge = "merge", "合并", "Merge", [];
    Dispatch = "dispatch", "派遣", "Dispatch", [];
    Start = "start", "开始处置", "Start", [];
    /// A progress note: the state stays.
    Progress = "progress", "进展", "Progress note", [];
    ReportDone = "report_done", "办结反馈", "Report done", [];
    Verify = "verify", "核查", "Verify", [];
    /// The verification found the work not done: back to the handler.
    SendBack = "send_back", "核查不通过", "Send back", [];
    Close = "close", "结案", "Close", [];
    /// A consultation answered: closed without dispatch.
    Answer = "answer", "答复", "Answer", [];
    Rate = "rate", "评价", "Rate", [];
    Escalate = "escalate", "上报", "Escalate", [];
    HandBack = "hand_back", "下派", "Hand back", [];
});

impl Step {
    /// What a role needs to take this step (the route policy says the same).
    /// Deciding what happens to an item (refusing, merging, dispatching, sending it
    /// down, closing) is for those who dispatch; the work on it for those who handle.
    pub fn needs(self) -> Action {
        match self {
            Step::Reject | Step::Merge | Step::Dispatch | Step::Close | Step::HandBack => Action::DispatchDemand,
            Step::Rate => Action::RateDemand,
            _ => Action::HandleDemand,
        }
    }
}

/// What one line of an item's timeline records: the item coming in, a step of the
/// loop, or another item merged into it. Stored and sent as its code (`submit`, the
/// step's code, `merged_in`), so the API's `step` field keeps its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    Submit,
    Step(Step),
    /// A duplicate was merged into this item (the duplicate's own line is a
    /// [`Step::Merge`]).
    MergedIn,
}

impl EventKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Step(step) => step.code(),
            Self::MergedIn => "merged_in",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "submit" => Some(Self::Submit),
            "merged_in" => Some(Self::MergedIn),
            other => Step::from_code(other).map(Self::Step),
        }
    }

    /// The catalogue key of its name on a timeline (`step.<code>`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Submit => "step.submit",
            Self::MergedIn => "step.merged_in",
            Self::Step(step) => match step {
                Step::Accept => "step.accept",
                Step::Reject => "step.reject",
                Step::Merge => "step.merge",
                Step::Dispatch => "step.dispatch",
                Step::Start => "step.start",
                Step::Progress => "step.progress",
                Step::ReportDone => "step.report_done",
                Step::Verify => "step.verify",
                Step::SendBack => "step.send_back",
                Step::Close => "step.close",
                Step::Answer => "step.answer",
                Step::Rate => "step.rate",
                Step::Escalate => "step.escalate",
                Step::HandBack => "step.hand_back",
            },
        }
    }

    /// Every kind, for the documentation of the API and the catalogue test.
    pub fn all() -> impl Iterator<Item = EventKind> {
        [Self::Submit, Self::MergedIn].into_iter().chain(Step::all().iter().copied().map(Self::Step))
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Self::from_code(&code).ok_or_else(|| serde::de::Error::custom(format!("unknown timeline step {code}")))
    }
}

impl utoipa::PartialSchema for EventKind {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Self::all().map(Self::code)))
            .description(Some("`submit`, the step taken (`accept`, `dispatch`, …), or `merged_in`"))
            .into()
    }
}

impl ToSchema for EventKind {}

impl ItemState {
    /// The step the loop expects next from where the item stands: the one a form
    /// offers as its primary button (rejecting, merging, escalating are the
    /// exceptions, offered beside it). `None` once nothing is expected of staff.
    pub fn expected_step(&self) -> Option<Step> {
        use DemandStatus::*;
        let consultation = self.kind == DemandKind::Consultation;
        match self.status {
            Submitted if consultation => Some(Step::Answer),
            Submitted => Some(Step::Accept),
            Accepted | Reopened if consultation => Some(Step::Answer),
            Accepted | Reopened => Some(Step::Dispatch),
            Dispatched => Some(Step::Start),
            InHand => Some(Step::ReportDone),
            ReportedDone => Some(Step::Verify),
            Verified => Some(Step::Close),
            Closed => Some(Step::Rate),
            Rejected | Merged | Rated => None,
        }
    }
}

/// What the state machine needs to know of an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemState {
    pub status: DemandStatus,
    pub kind: DemandKind,
    pub level: Level,
    /// Whether an unsatisfied rating already reopened it (it reopens once).
    pub reopened: bool,
}

/// Where a legal step leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Next {
    pub status: DemandStatus,
    pub level: Level,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a {role} may not {step} an item (it needs {needs})", role = .0.label_en(), step = .1.code(), needs = .1.needs().code())]
    Forbidden(Role, Step),
    #[error("cannot {step} an item that is {status}", step = .0.code(), status = .1.label_en())]
    IllegalFrom(Step, DemandStatus),
    #[error("a consultation is answered, not {}", .0.code())]
    Consultation(Step),
    #[error("only a consultation can be answered; this item must be dispatched and handled")]
    NotConsultation,
    #[error("cannot escalate above the district")]
    TopLevel,
    #[error("cannot hand back below the grid")]
    BottomLevel,
    #[error("a rating is a whole number from 1 to 5, not {0}")]
    BadScore(u8),
}

impl crate::Explain for TransitionError {
    fn message(&self) -> crate::Message {
        use crate::msg;
        match self {
            Self::Forbidden(role, step) => msg!("demands.transition.forbidden").term("role", *role).term("step", *step),
            Self::IllegalFrom(step, status) => {
                msg!("demands.transition.illegal").term("step", *step).term("status", *status)
            }
            Self::Consultation(step) => msg!("demands.transition.consultation").term("step", *step),
            Self::NotConsultation => msg!("demands.transition.not_consultation"),
            Self::TopLevel => msg!("demands.transition.top_level"),
            Self::BottomLevel => msg!("demands.transition.bottom_level"),
            Self::BadScore(n) => msg!("demands.transition.bad_score", score = n).field("score"),
        }
    }
}

/// The next state of an item when `role` takes `step` (with `score` for a rating).
pub fn transition(item: ItemState, step: Step, role: Role, score: Option<u8>) -> Result<Next, TransitionError> {
    use DemandStatus::*;
    if !role.may(step.needs()) {
        return Err(TransitionError::Forbidden(role, step));
    }
    let consultation = item.kind == DemandKind::Consultation;
    if consultation && matches!(step, Step::Dispatch | Step::Start | Step::ReportDone | Step::Verify) {
        return Err(TransitionError::Consultation(step));
    }
    let stay = |status| Ok(Next { status, level: item.level });
    let illegal = Err(TransitionError::IllegalFrom(step, item.status));
    match (step, item.status) {
        (Step::Accept, Submitted) => stay(Accepted),
        (Step::Reject, Submitted | Accepted) => stay(Rejected),
        (Step::Merge, Submitted | Accepted | Dispatched) => stay(Merged),
        (Step::Dispatch, Accepted | Dispatched | Reopened) => stay(Dispatched),
        (Step::Start, Accepted | Dispatched | Reopened) => stay(InHand),
        (Step::Progress, Accepted | Dispatched | InHand | Reopened) => stay(item.status),
        (Step::ReportDone, InHand) => stay(ReportedDone),
        (Step::Verify, ReportedDone) => stay(Verified),
        (Step::SendBack, ReportedDone) => stay(InHand),
        (Step::Close, Verified) => stay(Closed),
        // A consultation reopened by an unsatisfied rating is answered again.
        (Step::Answer, Submitted | Accepted | Reopened) if consultation => stay(Closed),
        (Step::Answer, Submitted | Accepted | Reopened) => Err(TransitionError::NotConsultation),
        (Step::Rate, Closed) => rate(item, score),
        (Step::Escalate, Accepted | Dispatched | InHand | Reopened) => {
            let level = item.level.up().ok_or(TransitionError::TopLevel)?;
            Ok(Next { status: Accepted, level })
        }
        (Step::HandBack, Accepted | Dispatched | InHand | Reopened) => {
            let level = item.level.down().ok_or(TransitionError::BottomLevel)?;
            Ok(Next { status: Accepted, level })
        }
        _ => illegal,
    }
}

/// A rating closes the loop, unless the resident is unsatisfied (1–3) and the item
/// has not been redone yet: then it reopens, once.
fn rate(item: ItemState, score: Option<u8>) -> Result<Next, TransitionError> {
    let score = score.unwrap_or(0);
    if !(1..=5).contains(&score) {
        return Err(TransitionError::BadScore(score));
    }
    let status = if score <= 3 && !item.reopened { DemandStatus::Reopened } else { DemandStatus::Rated };
    Ok(Next { status, level: item.level })
}

/// Whether a rating counts as satisfied in the satisfaction rate.
pub fn satisfied(score: u8) -> bool {
    score >= 4
}

/// Working days: Monday to Friday, minus public holidays, plus the weekend days made
/// working days in exchange (调休).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BusinessCalendar {
    pub holidays: BTreeSet<Date>,
    pub workdays: BTreeSet<Date>,
}

/// Deadlines are counted in China Standard Time, whatever the server's zone.
pub const CHINA: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("UTC+8 is a valid offset"),
};

impl BusinessCalendar {
    pub fn is_business_day(&self, day: Date) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        !self.holidays.contains(&day) && !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// The `n`th business day after `day` (the day itself does not count: an item
    /// that comes in at 5 p.m. does not lose its first day). `n = 0` is `day`.
    pub fn add_business_days(&self, day: Date, n: u32) -> Date {
        let mut current = day;
        let mut left = n;
        while left > 0 {
            current = current.next_day().expect("dates within the calendar's range");
            if self.is_business_day(current) {
                left -= 1;
            }
        }
        current
    }

    /// The deadline, in Unix milliseconds, of something with `days` business days from
    /// `start_millis`: the end (midnight, China time) of the last business day.
    pub fn deadline_millis(&self, start_millis: i64, days: u32) -> i64 {
        let start = OffsetDateTime::from_unix_timestamp_nanos(i128::from(start_millis) * 1_000_000)
            .expect("timestamps within range")
            .to_offset(CHINA);
        let last = self.add_business_days(start.date(), days);
        let end = last.midnight().assume_offset(CHINA) + Duration::days(1);
        (end.unix_timestamp_nanos() / 1_000_000) as i64
    }
}

/// How a deadline reads to the person working on it: working days left, due
/// today, or days overdue (calendar days: a resident waits on weekends too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DueIn {
    /// Working days between today and the last day allowed (that day counted).
    Left(u32),
    /// The last day allowed is today.
    Today,
    /// Days since the last day allowed (at least 1).
    Overdue(u32),
}

impl BusinessCalendar {
    /// How `due_millis` (the end of the last day allowed, as [`Self::deadline_millis`]
    /// gives it) reads at `now_millis`.
    pub fn due_in(&self, now_millis: i64, due_millis: i64) -> DueIn {
        let day = |ms: i64| {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .map(|t| t.to_offset(CHINA).date())
                .unwrap_or(Date::MIN)
        };
        let (today, last) = (day(now_millis), day(due_millis - 1));
        if now_millis >= due_millis {
            let days = (today - last).whole_days().max(1);
            return DueIn::Overdue(u32::try_from(days).unwrap_or(u32::MAX));
        }
        if last <= today {
            return DueIn::Today;
        }
        let mut left = 0u32;
        let mut current = today;
        while current < last {
            current = current.next_day().expect("dates within the calendar's range");
            if self.is_business_day(current) {
                left += 1;
            }
        }
        if left == 0 { DueIn::Today } else { DueIn::Left(left) }
    }

    /// The last day allowed by a deadline (the day before its midnight, China time).
    pub fn last_day(due_millis: i64) -> Date {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(due_millis - 1) * 1_000_000)
            .map(|t| t.to_offset(CHINA).date())
            .unwrap_or(Date::MIN)
    }
}

#[cfg(test)]
mod tests;
