//! The areas above the ledgers: city, district, street, community and its grids,
//! planned through the store (`areas::plan`, which checks codes and parents),
//! written with the community's ledgers, and remembered so each is looked up once.

use std::collections::HashMap;

use wangge_domain::AreaLevel;
use wangge_store::registry::areas::{self, Area, NewArea};
use wangge_store::{Db, StoreError};

/// Areas already known to exist, by code.
#[derive(Default)]
pub(crate) struct AreaCache {
    known: HashMap<String, Area>,
}

impl AreaCache {
    /// Remembers the area with `code` if the database already holds it. Runs on the
    /// pool, outside any transaction, so it also works with a one-connection pool.
    pub(crate) async fn learn(&mut self, db: &Db, code: &str) -> anyhow::Result<Option<&Area>> {
        if !self.known.contains_key(code) {
            match areas::get_by_code(db, code).await {
                Ok(area) => {
                    self.known.insert(code.to_owned(), area);
                }
                Err(StoreError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(self.known.get(code))
    }

    /// The area with `code`: the one known, or a new one planned and pushed to `new`
    /// for the caller to insert.
    pub(crate) fn ensure(
        &mut self,
        level: AreaLevel,
        code: &str,
        name: &str,
        parent: Option<&Area>,
        new: &mut Vec<Area>,
    ) -> anyhow::Result<Area> {
        if let Some(area) = self.known.get(code) {
            anyhow::ensure!(
                area.level == level,
                "area {code} exists but is a {}, not a {}",
                area.level.as_str(),
                level.as_str()
            );
            return Ok(area.clone());
        }
        let area = plan(level, code, name, parent)?;
        self.known.insert(code.to_owned(), area.clone());
        new.push(area.clone());
        Ok(area)
    }
}

/// A new area under `parent`, checked but not yet written: communities are written
/// with their ledgers, in one go.
pub(crate) fn plan(level: AreaLevel, code: &str, name: &str, parent: Option<&Area>) -> anyhow::Result<Area> {
    let new = NewArea {
        parent_id: parent.map(|p| p.id.clone()),
        level,
        code: code.to_owned(),
        name: name.to_owned(),
        boundary: None,
    };
    Ok(areas::plan(new, parent)?)
}

/// The grids of a community, coded `<community code>001`… and named 塔山第一网格….
pub(crate) fn plan_grids(community: &Area, stem: &str, count: usize) -> anyhow::Result<Vec<Area>> {
    (1..=count)
        .map(|n| {
            let code = format!("{}{n:03}", community.code);
            let name = format!("{stem}第{}网格", chinese_numeral(n));
            plan(AreaLevel::Grid, &code, &name, Some(community))
        })
        .collect()
}

/// 1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九.
pub(crate) fn chinese_numeral(n: usize) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..10 => DIGITS[n].to_owned(),
        10..20 => format!("十{}", if n == 10 { "" } else { DIGITS[n % 10] }),
        20..100 => format!("{}十{}", DIGITS[n / 10], if n.is_multiple_of(10) { "" } else { DIGITS[n % 10] }),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numerals_read_as_in_grid_names() {
        let got: Vec<String> = [1, 8, 10, 11, 20, 23].into_iter().map(super::chinese_numeral).collect();
        assert_eq!(got, ["一", "八", "十", "十一", "二十", "二十三"]);
    }
}
