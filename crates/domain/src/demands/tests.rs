use super::*;
use DemandStatus::*;

fn item(status: DemandStatus) -> ItemState {
    ItemState { status, kind: DemandKind::Complaint, level: Level::Community, reopened: false }
}

/// Every legal step of an ordinary (dispatched) item, by a role that may take them all.
const LEGAL: &[(DemandStatus, Step, DemandStatus)] = &[
    (Submitted, Step::Accept, Accepted),
    (Submitted, Step::Reject, Rejected),
    (Accepted, Step::Reject, Rejected),
    (Submitted, Step::Merge, Merged),
    (Accepted, Step::Merge, Merged),
    (Dispatched, Step::Merge, Merged),
    (Accepted, Step::Dispatch, Dispatched),
    (Dispatched, Step::Dispatch, Dispatched),
    (Reopened, Step::Dispatch, Dispatched),
    (Accepted, Step::Start, InHand),
    (Dispatched, Step::Start, InHand),
    (Reopened, Step::Start, InHand),
    (Accepted, Step::Progress, Accepted),
    (Dispatched, Step::Progress, Dispatched),
    (InHand, Step::Progress, InHand),
    (Reopened, Step::Progress, Reopened),
    (InHand, Step::ReportDone, ReportedDone),
    (ReportedDone, Step::Verify, Verified),
    (ReportedDone, Step::SendBack, InHand),
    (Verified, Step::Close, Closed),
    (Closed, Step::Rate, Rated),
    (Accepted, Step::Escalate, Accepted),
    (Dispatched, Step::Escalate, Accepted),
    (InHand, Step::Escalate, Accepted),
    (Reopened, Step::Escalate, Accepted),
    (Accepted, Step::HandBack, Accepted),
    (Dispatched, Step::HandBack, Accepted),
    (InHand, Step::HandBack, Accepted),
    (Reopened, Step::HandBack, Accepted),
];

#[test]
fn every_legal_and_illegal_step_of_an_ordinary_item() {
    let mut legal = 0;
    for &from in DemandStatus::all() {
        for step in Step::all().iter().copied() {
            let got = transition(item(from), step, Role::CommunitySecretary, Some(5));
            match LEGAL.iter().find(|(f, s, _)| *f == from && *s == step) {
                Some((_, _, to)) => {
                    legal += 1;
                    assert_eq!(got.as_ref().map(|n| n.status), Ok(*to), "{} from {}", step.code(), from.code());
                }
                None if step == Step::Answer && matches!(from, Submitted | Accepted | Reopened) => {
                    assert_eq!(got, Err(TransitionError::NotConsultation));
                }
                None => assert_eq!(
                    got,
                    Err(TransitionError::IllegalFrom(step, from)),
                    "{} from {}",
                    step.code(),
                    from.code()
                ),
            }
        }
    }
    assert_eq!(legal, LEGAL.len());
}

#[test]
fn consultations_are_answered_not_dispatched() {
    let consultation = |status| ItemState { kind: DemandKind::Consultation, ..item(status) };
    let answer = |from| transition(consultation(from), Step::Answer, Role::GridMember, None).map(|n| n.status);
    assert_eq!(answer(Submitted), Ok(Closed));
    assert_eq!(answer(Accepted), Ok(Closed));
    assert_eq!(answer(Closed), Err(TransitionError::IllegalFrom(Step::Answer, Closed)));
    for step in [Step::Dispatch, Step::Start, Step::ReportDone, Step::Verify] {
        for &from in DemandStatus::all() {
            let got = transition(consultation(from), step, Role::CommunitySecretary, None);
            assert_eq!(got, Err(TransitionError::Consultation(step)), "{} from {}", step.code(), from.code());
        }
    }
    let rated = transition(consultation(Closed), Step::Rate, Role::Resident, Some(5)).unwrap();
    assert_eq!(rated.status, Rated, "an answer can be rated too");
}

#[test]
fn an_unsatisfying_answer_is_answered_again_once() {
    let consultation = |status, reopened| ItemState { kind: DemandKind::Consultation, reopened, ..item(status) };
    let reopened = transition(consultation(Closed, false), Step::Rate, Role::Resident, Some(2)).unwrap();
    assert_eq!(reopened.status, Reopened);
    let again = transition(consultation(Reopened, true), Step::Answer, Role::GridMember, None).unwrap();
    assert_eq!(again.status, Closed, "the reopened consultation is answered again");
    let last = transition(consultation(Closed, true), Step::Rate, Role::Resident, Some(2)).unwrap();
    assert_eq!(last.status, Rated, "and reopens only once");
}

#[test]
fn an_unsatisfied_rating_reopens_once() {
    for score in 1..=3 {
        let first = transition(item(Closed), Step::Rate, Role::Resident, Some(score)).unwrap();
        assert_eq!(first.status, Reopened, "score {score}");
        let again = ItemState { reopened: true, ..item(Closed) };
        assert_eq!(transition(again, Step::Rate, Role::Resident, Some(score)).unwrap().status, Rated);
    }
    for score in 4..=5 {
        assert_eq!(transition(item(Closed), Step::Rate, Role::Resident, Some(score)).unwrap().status, Rated);
    }
    for bad in [None, Some(0), Some(6)] {
        let got = transition(item(Closed), Step::Rate, Role::Resident, bad);
        assert_eq!(got, Err(TransitionError::BadScore(bad.unwrap_or(0))));
    }
    assert!(satisfied(4) && !satisfied(3));
}

#[test]
fn escalation_climbs_to_the_district_and_back_down_to_the_grid() {
    let at = |level| ItemState { level, ..item(InHand) };
    let up = |level| transition(at(level), Step::Escalate, Role::StreetOfficial, None).map(|n| n.level);
    let down = |level| transition(at(level), Step::HandBack, Role::StreetOfficial, None).map(|n| n.level);
    assert_eq!(up(Level::Grid), Ok(Level::Community));
    assert_eq!(up(Level::Community), Ok(Level::Street));
    assert_eq!(up(Level::Street), Ok(Level::District));
    assert_eq!(up(Level::District), Err(TransitionError::TopLevel));
    assert_eq!(down(Level::District), Ok(Level::Street));
    assert_eq!(down(Level::Community), Ok(Level::Grid));
    assert_eq!(down(Level::Grid), Err(TransitionError::BottomLevel));
}

/// Who may take each step, written out by hand: the matrix must say the same.
#[test]
fn every_roles_rights_on_every_step() {
    use Role::*;
    let handlers = [DistrictOfficial, StreetOfficial, CommunitySecretary, CommunityStaff, GridLeader, GridMember];
    let dispatchers = [DistrictOfficial, StreetOfficial, CommunitySecretary, CommunityStaff, GridLeader];
    let raters = [CommunitySecretary, CommunityStaff, GridLeader, GridMember, Resident];
    for step in Step::all().iter().copied() {
        let allowed: &[Role] = match step {
            Step::Reject | Step::Merge | Step::Dispatch | Step::Close | Step::HandBack => &dispatchers,
            Step::Rate => &raters,
            _ => &handlers,
        };
        // From a state where the step is legal, so only the role decides.
        let from = match step {
            Step::Accept | Step::Answer => item(Submitted),
            Step::ReportDone => item(InHand),
            Step::Verify | Step::SendBack => item(ReportedDone),
            Step::Close => item(Verified),
            Step::Rate => item(Closed),
            _ => item(Accepted),
        };
        let from = if step == Step::Answer { ItemState { kind: DemandKind::Consultation, ..from } } else { from };
        for &role in Role::all() {
            let got = transition(from, step, role, Some(4));
            if allowed.contains(&role) {
                assert!(got.is_ok(), "{} should {}: {got:?}", role.code(), step.code());
            } else {
                assert_eq!(
                    got,
                    Err(TransitionError::Forbidden(role, step)),
                    "{} must not {}",
                    role.code(),
                    step.code()
                );
            }
        }
    }
}

#[test]
fn errors_say_what_went_wrong() {
    let e = transition(item(Closed), Step::Dispatch, Role::CommunityStaff, None).unwrap_err();
    assert_eq!(e.to_string(), "cannot dispatch an item that is Closed");
    let e = transition(item(Submitted), Step::Dispatch, Role::GridMember, None).unwrap_err();
    assert_eq!(e.to_string(), "a Grid member may not dispatch an item (it needs dispatch_demand)");
}

fn day(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap()
}

/// The 2025 National Day holiday: 1–8 October off, Sunday 28 September and Saturday
/// 11 October worked in exchange.
fn national_day_2025() -> BusinessCalendar {
    BusinessCalendar {
        holidays: (1..=8).map(|d| day(2025, 10, d)).collect(),
        workdays: [day(2025, 9, 28), day(2025, 10, 11)].into_iter().collect(),
    }
}

#[test]
fn business_days_skip_weekends_and_holidays_and_count_make_up_days() {
    let plain = BusinessCalendar::default();
    // Friday 2025-09-05 + 1 business day = Monday the 8th.
    assert_eq!(plain.add_business_days(day(2025, 9, 5), 1), day(2025, 9, 8));
    assert_eq!(plain.add_business_days(day(2025, 9, 5), 5), day(2025, 9, 12));
    assert_eq!(plain.add_business_days(day(2025, 9, 6), 0), day(2025, 9, 6));
    let cal = national_day_2025();
    assert!(cal.is_business_day(day(2025, 9, 28)), "a make-up Sunday is worked");
    assert!(!cal.is_business_day(day(2025, 10, 6)), "a holiday Monday is not");
    // Friday 26 September: Sunday 28th (make-up), Monday 29th, Tuesday 30th, then
    // the holiday to the 8th, Thursday 9th, Friday 10th, Saturday 11th (make-up).
    assert_eq!(cal.add_business_days(day(2025, 9, 26), 1), day(2025, 9, 28));
    assert_eq!(cal.add_business_days(day(2025, 9, 26), 3), day(2025, 9, 30));
    assert_eq!(cal.add_business_days(day(2025, 9, 26), 4), day(2025, 10, 9));
    assert_eq!(cal.add_business_days(day(2025, 9, 26), 6), day(2025, 10, 11));
    assert_eq!(cal.add_business_days(day(2025, 9, 26), 7), day(2025, 10, 13));
}

#[test]
fn deadlines_end_at_midnight_china_time() {
    let cal = national_day_2025();
    // 2025-09-30 23:30 in Beijing is 15:30 UTC; 1 business day later is 9 October,
    // whose end is 2025-10-10 00:00 +08:00 = 2025-10-09 16:00 UTC.
    let start = time::macros::datetime!(2025-09-30 15:30 UTC).unix_timestamp() * 1000;
    let want = time::macros::datetime!(2025-10-09 16:00 UTC).unix_timestamp() * 1000;
    assert_eq!(cal.deadline_millis(start, 1), want);
    // The same moment is still 30 September in Beijing even though UTC has it too;
    // 16:30 UTC is already 1 October in Beijing (a holiday).
    let later = time::macros::datetime!(2025-09-30 16:30 UTC).unix_timestamp() * 1000;
    assert_eq!(cal.deadline_millis(later, 1), want);
}

#[test]
fn vocabularies_parse_codes_and_chinese() {
    assert_eq!(DemandKind::parse("政策咨询"), Ok(DemandKind::Consultation));
    assert_eq!(Channel::parse("building_qr"), Ok(Channel::BuildingQr));
    assert_eq!(HandlerKind::parse("物业"), Ok(HandlerKind::PropertyCompany));
    assert_eq!(Level::parse("街道"), Ok(Level::Street));
    assert!(DemandStatus::open().contains(&Reopened) && !DemandStatus::open().contains(&Rated));
    for step in Step::all().iter().copied() {
        assert_eq!(Step::from_code(step.code()), Some(step));
    }
}

/// A timeline line's kind goes out and comes back as the code the API always sent,
/// and an unknown code is refused rather than shown as a bare key.
#[test]
fn timeline_kinds_keep_their_codes() {
    let all: Vec<EventKind> = EventKind::all().collect();
    assert_eq!(all.len(), Step::all().len() + 2);
    for kind in &all {
        assert_eq!(EventKind::from_code(kind.code()), Some(*kind));
        assert_eq!(kind.key(), format!("step.{}", kind.code()));
        let json = serde_json::to_string(kind).unwrap();
        assert_eq!(serde_json::from_str::<EventKind>(&json).unwrap(), *kind);
    }
    assert_eq!(serde_json::to_string(&EventKind::Step(Step::Dispatch)).unwrap(), "\"dispatch\"");
    assert_eq!(EventKind::from_code("merged_in"), Some(EventKind::MergedIn));
    assert!(EventKind::from_code("teleport").is_none());
    assert!(serde_json::from_str::<EventKind>("\"teleport\"").is_err());
}

#[test]
fn deadlines_read_as_working_days_left_or_days_overdue() {
    let cal = national_day_2025();
    let at = |d: time::OffsetDateTime| d.unix_timestamp() * 1000;
    // Due at the end of Thursday 9 October (midnight 10 October, Beijing).
    let due = at(time::macros::datetime!(2025-10-09 16:00 UTC));
    assert_eq!(BusinessCalendar::last_day(due), day(2025, 10, 9));
    // Monday 29 September, Beijing morning: 30 September, then 9 October (the holiday
    // week does not count).
    assert_eq!(cal.due_in(at(time::macros::datetime!(2025-09-29 01:00 UTC)), due), DueIn::Left(2));
    assert_eq!(cal.due_in(at(time::macros::datetime!(2025-10-09 01:00 UTC)), due), DueIn::Today);
    assert_eq!(cal.due_in(at(time::macros::datetime!(2025-10-09 15:59 UTC)), due), DueIn::Today);
    // Just past midnight: one day overdue; two days later, three.
    assert_eq!(cal.due_in(due, due), DueIn::Overdue(1));
    assert_eq!(cal.due_in(at(time::macros::datetime!(2025-10-12 02:00 UTC)), due), DueIn::Overdue(3));
}
