//! Domain types of Wangge.
//!
//! Everything here is plain data with no I/O. Values are parsed at the edge of the
//! system (an HTTP request, a spreadsheet cell, a command-line flag) into types that
//! cannot hold an invalid value: an [`IdCardNumber`] always has a valid GB 11643
//! checksum and a real birth date, a [`Phone`] is always a dialable number, an
//! [`AreaCode`] always has the shape of a statistical division code. Code further in
//! never re-validates.

mod access;
pub mod activities;
mod audit;
pub mod campaigns;
mod codes;
pub mod demands;
mod idcard;
mod ids;
pub mod instructions;
mod message;
pub mod notices;
pub mod party;
pub mod party_joint;
pub mod party_life;
mod phone;
pub mod surveys;
pub mod text;
mod tracking;
pub mod ventures;
pub mod visits;
mod vocab;

pub use access::{Action, matrix_markdown};
pub use audit::AuditAction;
pub use codes::{AreaCode, AreaCodeError, AreaLevel, ShapeReason};
pub use demands::{
    BusinessCalendar, Channel, DemandKind, DemandStatus, EventKind, HandlerKind, ItemState, Level, Next, Step,
    TransitionError, transition,
};
pub use idcard::{IdCardError, IdCardNumber};
pub use ids::new_id;
pub use message::{Arg, Explain, Message};
pub use phone::{Phone, PhoneError};
pub use tracking::{TrackingNumber, TrackingNumberError};
pub use visits::{VisitChannel, VisitOutcome};
pub use vocab::{
    BuildingKind, Gender, Module, Occupancy, OrganisationKind, PoliticalStatus, Relation, ResidenceType,
    ResidentEventKind, ResidentStatus, Role, TeamPost, UnitRole, UnknownTerm, Vocabulary,
};

/// Milliseconds since the Unix epoch: how every timestamp is stored, so that the same
/// BIGINT column works on SQLite and PostgreSQL.
pub fn now_millis() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

/// Formats a date as `YYYY-MM-DD`, the form dates are stored and exchanged in.
pub fn format_date(date: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// A Unix ms time as people in China read it: `YYYY-MM-DD HH:MM:SS`, China
/// Standard Time.
pub fn format_china_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(demands::CHINA);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses `YYYY-MM-DD` (also `YYYY/MM/DD`, `YYYY.MM.DD` and `YYYYMMDD`, which Chinese
/// ledgers use as often as the ISO form).
pub fn parse_date(input: &str) -> Option<time::Date> {
    let s = text::normalize(input);
    let digits: Vec<&str> = s.split(['-', '/', '.', '年', '月', '日']).filter(|p| !p.is_empty()).collect();
    let (y, m, d): (i32, u8, u8) = match digits.as_slice() {
        [y, m, d] => (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?),
        [ymd] if ymd.len() == 8 && ymd.bytes().all(|b| b.is_ascii_digit()) => {
            (ymd[..4].parse().ok()?, ymd[4..6].parse().ok()?, ymd[6..].parse().ok()?)
        }
        _ => return None,
    };
    let month = time::Month::try_from(m).ok()?;
    time::Date::from_calendar_date(y, month, d).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_in_the_forms_ledgers_use() {
        let want = time::Date::from_calendar_date(1958, time::Month::March, 7).unwrap();
        for s in ["1958-03-07", "1958/3/7", "1958.03.07", "19580307", "1958年3月7日", " １９５８-03-07 "] {
            assert_eq!(parse_date(s), Some(want), "{s}");
        }
        assert_eq!(parse_date("1958-02-30"), None);
        assert_eq!(parse_date("soon"), None);
        assert_eq!(format_date(want), "1958-03-07");
    }
}
