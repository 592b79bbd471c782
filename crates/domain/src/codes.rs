//! Codes of the administrative hierarchy.
//!
//! Cities, districts, streets and communities carry the 12-digit statistical division
//! codes of the National Bureau of Statistics (统计用区划代码): 2 digits of province,
//! 2 of city, 2 of county/district, 3 of street (township), 3 of community, padded
//! with zeros at the higher levels (烟台市 370600000000, 芝罘区 370602000000). A grid
//! code extends its community's code with 3 more digits. Because the codes nest by
//! prefix, a code alone tells where it belongs.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::text::digits_only;

/// The levels of the hierarchy that are areas (buildings and below are ledgers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    City,
    District,
    Street,
    Community,
    Grid,
}

impl AreaLevel {
    pub const ALL: [AreaLevel; 5] = [Self::City, Self::District, Self::Street, Self::Community, Self::Grid];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::City => "city",
            Self::District => "district",
            Self::Street => "street",
            Self::Community => "community",
            Self::Grid => "grid",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::City => "市",
            Self::District => "区",
            Self::Street => "街道",
            Self::Community => "社区",
            Self::Grid => "网格",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s.trim() || l.label_zh() == s.trim())
    }

    /// The level directly above, or `None` for a city (the top of a deployment).
    pub fn parent(self) -> Option<Self> {
        match self {
            Self::City => None,
            Self::District => Some(Self::City),
            Self::Street => Some(Self::District),
            Self::Community => Some(Self::Street),
            Self::Grid => Some(Self::Community),
        }
    }

    /// How many leading digits of a code are significant at this level.
    fn significant_digits(self) -> usize {
        match self {
            Self::City => 4,
            Self::District => 6,
            Self::Street => 9,
            Self::Community => 12,
            Self::Grid => 15,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaCodeError {
    #[error("'{code}' is not a {} code: {reason}", level.as_str())]
    Shape { code: String, level: AreaLevel, reason: ShapeReason },
    #[error("code {child} does not lie under {parent}: it must begin with {prefix}")]
    NotUnderParent { child: String, parent: String, prefix: String },
}

/// Why a code does not have the shape of its level; each reason is a sentence of the
/// catalogue (`areacode.reason.*`), its English words here only for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShapeReason {
    #[error("only digits are allowed")]
    Digits,
    #[error("a grid code has 15 digits: its community's 12 and 3 of its own")]
    GridLength,
    #[error("a division code has 12 digits")]
    Length,
    #[error("digits below this level must be zero")]
    BelowZero,
    #[error("the digits of this level must not all be zero")]
    OwnZero,
}

impl ShapeReason {
    /// The catalogue key of this reason.
    pub fn key(self) -> &'static str {
        match self {
            Self::Digits => "areacode.reason.digits",
            Self::GridLength => "areacode.reason.grid_length",
            Self::Length => "areacode.reason.length",
            Self::BelowZero => "areacode.reason.below_zero",
            Self::OwnZero => "areacode.reason.own_zero",
        }
    }
}

impl crate::Explain for AreaCodeError {
    fn message(&self) -> crate::Message {
        use crate::msg;
        match self {
            Self::Shape { code, level, reason } => {
                msg!("areacode.shape", code = code).level("level", *level).key_arg("reason", reason.key())
            }
            Self::NotUnderParent { child, parent, prefix } => {
                msg!("areacode.not_under_parent", child = child, parent = parent, prefix = prefix)
            }
        }
        .field("code")
    }
}

/// A code of a city, district, street, community (12 digits) or grid (15 digits).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AreaCode(String);

impl AreaCode {
    pub fn parse(input: &str, level: AreaLevel) -> Result<Self, AreaCodeError> {
        let trimmed = input.trim();
        let digits = digits_only(trimmed);
        let shape = |reason| AreaCodeError::Shape { code: trimmed.to_owned(), level, reason };
        if digits.chars().count() != trimmed.chars().count() {
            return Err(shape(ShapeReason::Digits));
        }
        let want = if level == AreaLevel::Grid { 15 } else { 12 };
        if digits.len() != want {
            return Err(shape(if level == AreaLevel::Grid { ShapeReason::GridLength } else { ShapeReason::Length }));
        }
        if level != AreaLevel::Grid && digits[level.significant_digits()..].bytes().any(|b| b != b'0') {
            return Err(shape(ShapeReason::BelowZero));
        }
        if digits[..level.significant_digits()].ends_with("000") && level >= AreaLevel::Street {
            return Err(shape(ShapeReason::OwnZero));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits that identify this area and prefix every code beneath it.
    pub fn prefix(&self, level: AreaLevel) -> &str {
        &self.0[..level.significant_digits()]
    }

    /// Checks that this code (of `level`) nests under `parent`'s code.
    pub fn check_under(&self, level: AreaLevel, parent: &AreaCode) -> Result<(), AreaCodeError> {
        let parent_level = level.parent().expect("a city has no parent");
        let prefix = parent.prefix(parent_level);
        if self.0.starts_with(prefix) {
            Ok(())
        } else {
            Err(AreaCodeError::NotUnderParent {
                child: self.0.clone(),
                parent: parent.0.clone(),
                prefix: prefix.to_owned(),
            })
        }
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AreaCode({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AreaLevel::*;

    #[test]
    fn division_codes_nest_by_prefix() {
        let city = AreaCode::parse("370600000000", City).unwrap();
        let district = AreaCode::parse("370602000000", District).unwrap();
        let street = AreaCode::parse("370602003000", Street).unwrap();
        let community = AreaCode::parse("370602003015", Community).unwrap();
        let grid = AreaCode::parse("370602003015001", Grid).unwrap();
        district.check_under(District, &city).unwrap();
        street.check_under(Street, &district).unwrap();
        community.check_under(Community, &street).unwrap();
        grid.check_under(Grid, &community).unwrap();
        assert_eq!(community.prefix(Street), "370602003");
    }

    #[test]
    fn rejects_misshapen_and_misplaced_codes() {
        assert!(AreaCode::parse("3706020030", Community).is_err());
        assert!(AreaCode::parse("37060200301A", Community).is_err());
        assert!(AreaCode::parse("370602003015", District).is_err(), "district code with street digits");
        assert!(AreaCode::parse("370602000000", Street).is_err(), "street digits all zero");
        assert!(AreaCode::parse("370602003015", Grid).is_err(), "grid needs 15 digits");
        let other = AreaCode::parse("370603000000", District).unwrap();
        let street = AreaCode::parse("370602003000", Street).unwrap();
        let err = street.check_under(Street, &other).unwrap_err();
        assert!(err.to_string().contains("must begin with 370603"), "{err}");
    }
}
