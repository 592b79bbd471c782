//! The tracking number of a demand: what a reporter reads over the phone or types on
//! the tracking page. Eight digits: seven chosen at random by the store (unique in
//! the deployment) and a Damm check digit, which catches every single wrong digit and
//! every swap of two neighbouring digits — the two slips of someone reading a number
//! aloud or typing it on an old phone — so that a slip is answered "check the number"
//! rather than leading to someone else's report.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::text::fold_width;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackingNumberError {
    #[error("'{0}' is not 8 digits")]
    Shape(String),
    #[error("'{0}' has a wrong check digit")]
    Check(String),
}

impl crate::Explain for TrackingNumberError {
    fn message(&self) -> crate::Message {
        match self {
            Self::Shape(v) => crate::msg!("tracking.shape", value = v),
            Self::Check(v) => crate::msg!("tracking.check", value = v),
        }
        .field("number")
    }
}

/// The Damm quasigroup of order 10 (totally anti-symmetric, zero diagonal).
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

fn damm(digits: &[u8]) -> u8 {
    digits.iter().fold(0, |interim, &d| DAMM[interim as usize][(d - b'0') as usize])
}

/// A tracking number with a valid check digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackingNumber(String);

impl TrackingNumber {
    /// How many numbers there are: the seven digits before the check digit.
    pub const SPACE: u32 = 10_000_000;

    /// The number whose first seven digits are `body` (taken modulo [`Self::SPACE`]).
    pub fn from_body(body: u32) -> TrackingNumber {
        let body = format!("{:07}", body % Self::SPACE);
        let check = damm(body.as_bytes());
        TrackingNumber(format!("{body}{check}"))
    }

    /// Reads a number as people type it: full-width digits, spaces and dashes
    /// (`1234 5678`, `1234-5678`) are fine.
    pub fn parse(input: &str) -> Result<TrackingNumber, TrackingNumberError> {
        let folded: String = input.chars().map(fold_width).filter(|c| !c.is_whitespace() && *c != '-').collect();
        if folded.len() != 8 || !folded.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TrackingNumberError::Shape(input.trim().to_owned()));
        }
        if damm(folded.as_bytes()) != 0 {
            return Err(TrackingNumberError::Check(folded));
        }
        Ok(TrackingNumber(folded))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `1234 5678`: two groups of four, easier to read aloud.
    pub fn spaced(&self) -> String {
        format!("{} {}", &self.0[..4], &self.0[4..])
    }
}

impl fmt::Display for TrackingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TrackingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrackingNumber({})", self.0)
    }
}

impl Serialize for TrackingNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_digit_is_damms() {
        // The worked example of the Damm algorithm: 572 → check digit 4.
        assert_eq!(damm(b"572"), 4);
        assert_eq!(damm(b"5724"), 0);
        let n = TrackingNumber::from_body(1_234_567);
        assert_eq!(n.as_str().len(), 8);
        assert_eq!(TrackingNumber::parse(n.as_str()).unwrap(), n);
        assert_eq!(TrackingNumber::from_body(7).as_str(), format!("000000{}{}", 7, damm(b"0000007")));
    }

    #[test]
    fn every_single_slip_and_neighbour_swap_is_caught() {
        for body in [0u32, 1_234_567, 9_999_999, 3_141_592, 2_718_281] {
            let n = TrackingNumber::from_body(body);
            let digits: Vec<u8> = n.as_str().bytes().collect();
            for i in 0..8 {
                for d in b'0'..=b'9' {
                    if d == digits[i] {
                        continue;
                    }
                    let mut wrong = digits.clone();
                    wrong[i] = d;
                    let wrong = String::from_utf8(wrong).unwrap();
                    assert!(TrackingNumber::parse(&wrong).is_err(), "{wrong}");
                }
                if i < 7 && digits[i] != digits[i + 1] {
                    let mut swapped = digits.clone();
                    swapped.swap(i, i + 1);
                    let swapped = String::from_utf8(swapped).unwrap();
                    assert!(TrackingNumber::parse(&swapped).is_err(), "{swapped}");
                }
            }
        }
    }

    #[test]
    fn numbers_are_read_as_people_type_them() {
        let n = TrackingNumber::from_body(1_234_567);
        let spaced = n.spaced();
        assert_eq!(TrackingNumber::parse(&spaced).unwrap(), n);
        let full_width: String =
            n.as_str().chars().map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap()).collect();
        assert_eq!(TrackingNumber::parse(&full_width).unwrap(), n);
        assert!(matches!(TrackingNumber::parse("1234567"), Err(TrackingNumberError::Shape(_))));
        assert!(matches!(TrackingNumber::parse("b42add"), Err(TrackingNumberError::Shape(_))));
    }
}
