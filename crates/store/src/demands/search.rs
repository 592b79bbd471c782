//! Searching the ledger with one box: a tracking number, the reporter's phone (all
//! of it, or its last four digits, through the blind indexes — phones are sealed,
//! so there is nothing else to search), or words of the title or the address.
//! Building and household are filters of their own ([`DemandFilter`]). The caller's
//! scope is the filter's `under_path`, as for any list.

use wangge_domain::{Phone, TrackingNumber, text};

use super::{DemandFilter, PHONE_LAST4_PURPOSE, PHONE_PURPOSE};
use crate::Db;

/// What the search box asks for, read from what was typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    Number(TrackingNumber),
    /// A whole phone number.
    Phone(Phone),
    /// The last four digits of a phone.
    PhoneSuffix(String),
    /// Words, each in the title or the address.
    Words(Vec<String>),
}

impl Query {
    /// `None` when nothing was typed.
    pub fn read(typed: &str) -> Option<Query> {
        let folded = text::normalize(typed);
        if folded.is_empty() {
            return None;
        }
        let digits: String = folded.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            if digits.len() == 4 {
                return Some(Query::PhoneSuffix(digits));
            }
            if let Ok(n) = TrackingNumber::parse(&digits) {
                return Some(Query::Number(n));
            }
            if let Ok(p) = Phone::parse(&digits) {
                return Some(Query::Phone(p));
            }
        }
        Some(Query::Words(folded.split_whitespace().take(5).map(str::to_owned).collect()))
    }

    /// Narrows `f` to what the query asks for.
    pub fn apply(&self, db: &Db, f: &mut DemandFilter) {
        match self {
            Query::Number(n) => f.tracking_no = Some(n.to_string()),
            Query::Phone(p) => f.phone_hash = Some(db.vault.blind(PHONE_PURPOSE, p.as_str())),
            Query::PhoneSuffix(s) => f.phone_last4_hash = Some(db.vault.blind(PHONE_LAST4_PURPOSE, s)),
            Query::Words(w) => f.words = w.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_reads_numbers_phones_suffixes_and_words() {
        let n = TrackingNumber::from_body(1_234_567);
        assert_eq!(Query::read(&n.spaced()), Some(Query::Number(n.clone())));
        assert_eq!(Query::read(" 5678 "), Some(Query::PhoneSuffix("5678".into())));
        assert!(matches!(Query::read("138 0535 1234"), Some(Query::Phone(_))));
        assert_eq!(Query::read("楼道 灯"), Some(Query::Words(vec!["楼道".into(), "灯".into()])));
        // Eight digits with a wrong check digit are not a tracking number (they may be a landline).
        let mut wrong = n.to_string();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '0' { '1' } else { '0' });
        assert!(!matches!(Query::read(&wrong), Some(Query::Number(_))));
        assert_eq!(Query::read("   "), None);
    }
}
