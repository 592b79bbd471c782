//! Phone numbers as residents give them: mobiles (11 digits, 1[3-9]…) and landlines
//! with or without their area code.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::text::fold_width;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("is empty")]
    Empty,
    #[error(
        "'{0}' is neither an 11-digit mobile number (1[3-9]…) nor a landline (7–8 digits, optionally with a 0-prefixed area code)"
    )]
    Invalid(String),
}

impl crate::Explain for PhoneError {
    fn message(&self) -> crate::Message {
        match self {
            Self::Empty => crate::msg!("phone.empty"),
            Self::Invalid(v) => crate::msg!("phone.invalid", value = v),
        }
        .field("phone")
    }
}

/// A phone number, stored as digits only (a landline keeps its area code and a dash).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let folded: String = input.chars().map(fold_width).filter(|c| !c.is_whitespace()).collect();
        if folded.is_empty() {
            return Err(PhoneError::Empty);
        }
        let invalid = || PhoneError::Invalid(folded.clone());
        let body = folded.strip_prefix("+86").or_else(|| folded.strip_prefix("0086")).unwrap_or(&folded);
        if !body.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '(' | ')')) {
            return Err(invalid());
        }
        let digits: String = body.chars().filter(char::is_ascii_digit).collect();
        let b = digits.as_bytes();
        if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            return Ok(Self(digits));
        }
        // Landline: 7–8 local digits, optionally after an area code 0xx or 0xxx.
        if (7..=8).contains(&b.len()) && b[0] != b'0' {
            return Ok(Self(digits));
        }
        if b.first() == Some(&b'0') && (10..=12).contains(&b.len()) {
            let area_len = if b[1] == b'1' || b[1] == b'2' { 3 } else { 4 };
            let local = &digits[area_len..];
            if (7..=8).contains(&local.len()) {
                return Ok(Self(format!("{}-{}", &digits[..area_len], local)));
            }
        }
        Err(invalid())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    /// `138****5678` for mobiles; landlines keep their area code and last four.
    pub fn masked(&self) -> String {
        let s = &self.0;
        if s.len() == 11 && !s.contains('-') {
            format!("{}****{}", &s[..3], self.last4())
        } else {
            let keep = s.find('-').map_or(0, |i| i + 1);
            let hidden = s.len() - keep - 4;
            format!("{}{}{}", &s[..keep], "*".repeat(hidden), self.last4())
        }
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl FromStr for Phone {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Phone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(|e| serde::de::Error::custom(format!("phone {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_are_cleaned_and_masked() {
        let p = Phone::parse(" +86 138-0535-5678 ").unwrap();
        assert_eq!(p.as_str(), "13805355678");
        assert_eq!(p.masked(), "138****5678");
        assert_eq!(p.last4(), "5678");
        assert_eq!(Phone::parse("１３８０５３５５６７８").unwrap().as_str(), "13805355678");
    }

    #[test]
    fn landlines_keep_their_area_code() {
        let p = Phone::parse("0535-6231234").unwrap();
        assert_eq!(p.as_str(), "0535-6231234");
        assert_eq!(p.masked(), "0535-***1234");
        assert_eq!(Phone::parse("05356231234").unwrap().as_str(), "0535-6231234");
        assert_eq!(Phone::parse("6231234").unwrap().as_str(), "6231234");
    }

    #[test]
    fn rejects_what_cannot_be_dialled() {
        assert_eq!(Phone::parse(""), Err(PhoneError::Empty));
        assert!(Phone::parse("12805355678").is_err(), "no mobile prefix 12");
        assert!(Phone::parse("1380535567").is_err(), "10 digits");
        assert!(Phone::parse("call me").is_err());
    }
}
