//! The 18-character resident identity card number of GB 11643-1999.
//!
//! Layout: 6 digits of region, 8 digits of birth date (YYYYMMDD), 3 digits of
//! sequence (odd for men, even for women) and one check character computed over the
//! first 17 with ISO 7064 MOD 11-2 (`X` stands for 10).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::Date;

use crate::Gender;
use crate::text::fold_width;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdCardError {
    #[error("is empty")]
    Empty,
    #[error(
        "'{0}' was stored as a number in scientific notation and has lost its last digits; format the column as text in Excel and export again"
    )]
    LostDigits(String),
    #[error("must have 18 characters, found {0}")]
    WrongLength(usize),
    #[error("the first 17 characters must be digits and the last a digit or X")]
    NotDigits,
    #[error("holds no valid birth date ({0})")]
    BadBirthDate(String),
    #[error("checksum does not match: the last character should be {expected}, not {found}")]
    Checksum { expected: char, found: char },
}

impl crate::Explain for IdCardError {
    fn message(&self) -> crate::Message {
        use crate::msg;
        match self {
            Self::Empty => msg!("idcard.empty"),
            Self::LostDigits(v) => msg!("idcard.lost_digits", value = v),
            Self::WrongLength(n) => msg!("idcard.wrong_length", found = n),
            Self::NotDigits => msg!("idcard.not_digits"),
            Self::BadBirthDate(d) => msg!("idcard.bad_birth_date", date = d),
            Self::Checksum { expected, found } => msg!("idcard.checksum", expected = expected, found = found),
        }
        .field("id_card")
    }
}

/// A checksum-valid ID card number with a real birth date. Stored upper-case.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdCardNumber(String);

impl IdCardNumber {
    pub fn parse(input: &str) -> Result<Self, IdCardError> {
        let cleaned: String = input
            .chars()
            .map(fold_width)
            .filter(|c| !c.is_whitespace() && *c != '\'')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if cleaned.is_empty() {
            return Err(IdCardError::Empty);
        }
        if looks_like_scientific_notation(&cleaned) {
            return Err(IdCardError::LostDigits(cleaned));
        }
        let len = cleaned.chars().count();
        if len != 18 {
            return Err(IdCardError::WrongLength(len));
        }
        let bytes = cleaned.as_bytes();
        if !bytes[..17].iter().all(u8::is_ascii_digit) || !(bytes[17].is_ascii_digit() || bytes[17] == b'X') {
            return Err(IdCardError::NotDigits);
        }
        birth_date_of(&cleaned[6..14]).ok_or_else(|| IdCardError::BadBirthDate(cleaned[6..14].to_owned()))?;
        let expected = check_char(&bytes[..17]);
        if expected != bytes[17] {
            return Err(IdCardError::Checksum { expected: expected as char, found: bytes[17] as char });
        }
        Ok(Self(cleaned))
    }

    /// Builds a valid number from a region, a birth date and a sequence number; used
    /// by the synthetic data generator and in tests.
    pub fn compose(region: u32, birth: Date, sequence: u16) -> Self {
        let head = format!(
            "{:06}{:04}{:02}{:02}{:03}",
            region % 1_000_000,
            birth.year(),
            u8::from(birth.month()),
            birth.day(),
            sequence % 1000
        );
        let check = check_char(head.as_bytes()) as char;
        Self(format!("{head}{check}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Date {
        birth_date_of(&self.0[6..14]).expect("checked when parsed")
    }

    /// The sex encoded in the sequence digit: odd for men, even for women.
    pub fn gender(&self) -> Gender {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 { Gender::Male } else { Gender::Female }
    }

    pub fn last4(&self) -> &str {
        &self.0[14..]
    }

    /// The form shown on screen: region kept, birth date and sequence hidden.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], self.last4())
    }
}

fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK_CHARS[(sum % 11) as usize]
}

fn birth_date_of(yyyymmdd: &str) -> Option<Date> {
    let year: i32 = yyyymmdd[..4].parse().ok()?;
    let month: u8 = yyyymmdd[4..6].parse().ok()?;
    let day: u8 = yyyymmdd[6..8].parse().ok()?;
    if !(1880..=2200).contains(&year) {
        return None;
    }
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// `3.70602E+17`, `3.70602e17`: what Excel shows (and CSV exports write) when an ID
/// column was left as a number. The digits after the sixth are gone for good.
fn looks_like_scientific_notation(s: &str) -> bool {
    let Some((mantissa, exponent)) = s.split_once('E') else { return false };
    let exponent = exponent.trim_start_matches('+');
    !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !exponent.is_empty()
        && exponent.bytes().all(|b| b.is_ascii_digit())
}

impl fmt::Display for IdCardNumber {
    /// Displays masked: a full number is shown only where the caller asks for
    /// [`IdCardNumber::as_str`] on purpose.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for IdCardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdCardNumber({})", self.masked())
    }
}

impl FromStr for IdCardNumber {
    type Err = IdCardError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for IdCardNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IdCardNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(|e| serde::de::Error::custom(format!("ID card number {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Month;

    // A published specimen number (GB 11643 examples use region 110105 / 11010519491231002X).
    const SPECIMEN: &str = "11010519491231002X";

    #[test]
    fn accepts_a_valid_number_and_reads_it() {
        let id = IdCardNumber::parse(SPECIMEN).unwrap();
        assert_eq!(id.birth_date(), Date::from_calendar_date(1949, Month::December, 31).unwrap());
        assert_eq!(id.gender(), Gender::Female);
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(id.last4(), "002X");
        assert_eq!(format!("{id}"), "110105********002X", "Display never shows the full number");
    }

    #[test]
    fn cleans_lower_case_x_full_width_and_quotes() {
        assert_eq!(IdCardNumber::parse(" 11010519491231002x ").unwrap().as_str(), SPECIMEN);
        assert_eq!(IdCardNumber::parse("１１０１０５１９４９１２３１００２Ｘ").unwrap().as_str(), SPECIMEN);
        assert_eq!(IdCardNumber::parse("'11010519491231002X").unwrap().as_str(), SPECIMEN);
    }

    #[test]
    fn rejects_a_wrong_checksum_with_the_expected_character() {
        let err = IdCardNumber::parse("110105194912310021").unwrap_err();
        assert_eq!(err, IdCardError::Checksum { expected: 'X', found: '1' });
        assert!(err.to_string().contains("checksum does not match"));
    }

    #[test]
    fn rejects_every_malformed_shape() {
        assert_eq!(IdCardNumber::parse(""), Err(IdCardError::Empty));
        assert_eq!(IdCardNumber::parse("1101051949123100"), Err(IdCardError::WrongLength(16)));
        assert_eq!(IdCardNumber::parse("11010519491231A02X"), Err(IdCardError::NotDigits));
        assert!(matches!(IdCardNumber::parse("110105194913310021"), Err(IdCardError::BadBirthDate(_))));
        assert!(matches!(IdCardNumber::parse("3.70602E+17"), Err(IdCardError::LostDigits(_))));
        assert!(matches!(IdCardNumber::parse("3.70602e17"), Err(IdCardError::LostDigits(_))));
    }

    #[test]
    fn composed_numbers_are_valid_and_carry_their_parts() {
        let birth = Date::from_calendar_date(1961, Month::May, 9).unwrap();
        for seq in 0..200u16 {
            let id = IdCardNumber::compose(370602, birth, seq);
            let reparsed = IdCardNumber::parse(id.as_str()).expect("composed numbers pass the checksum");
            assert_eq!(reparsed.birth_date(), birth);
            assert_eq!(reparsed.gender(), if seq % 2 == 1 { Gender::Male } else { Gender::Female });
            assert!(id.as_str().starts_with("37060219610509"));
        }
    }
}
