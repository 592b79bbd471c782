//! Exporting a community's resident ledger to .xlsx, in the shape [`crate::import`]
//! reads, so that export → edit in Excel → import round-trips.

use std::collections::HashMap;
use std::path::Path;

use wangge_domain::{ResidentStatus, Vocabulary, format_date};
use wangge_store::registry::residents::{self, ResidentFilter};
use wangge_store::registry::{areas, households};
use wangge_store::{Db, StoreError};

use crate::columns::Field;
use crate::xlsx_out::ledger_xlsx_bytes;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// Writes every current resident of the community to `path`; returns how many.
pub async fn export_residents(db: &Db, community_code: &str, path: &Path) -> Result<usize, ExportError> {
    let (bytes, written) = export_residents_bytes(db, community_code).await?;
    std::fs::write(path, bytes).map_err(|e| ExportError::Xlsx(rust_xlsxwriter::XlsxError::IoError(e)))?;
    Ok(written)
}

/// The community's ledger as the bytes of an `.xlsx` file (for a download), and how
/// many residents it holds.
pub async fn export_residents_bytes(db: &Db, community_code: &str) -> Result<(Vec<u8>, usize), ExportError> {
    let community = areas::community_by_code(db, community_code).await?;
    let filter = ResidentFilter {
        under_path: Some(community.path.clone()),
        status: Some(ResidentStatus::Active),
        ..Default::default()
    };
    // In full: an export must import again. Who may export is the caller's decision.
    let people = residents::all_for_export(db, &filter).await?;
    let occupancy: HashMap<String, &'static str> = households::keys_under(db, &community.path)
        .await?
        .into_iter()
        .map(|h| (h.id, h.occupancy.label_zh()))
        .collect();
    let rows = people.into_iter().map(|r| {
        Field::ALL
            .iter()
            .map(|field| match field {
                Field::Name => r.name.clone(),
                Field::Gender => r.gender.label_zh().to_owned(),
                Field::BirthDate => r.birth_date.clone(),
                Field::IdCard => r.id_card.clone().unwrap_or_default(),
                Field::Phone => r.phone.clone().unwrap_or_default(),
                Field::Building => r.building_number.clone().unwrap_or_default(),
                Field::Unit => r.unit.clone().unwrap_or_default(),
                Field::Room => r.room.clone().unwrap_or_default(),
                // The ledger's own word (子, 儿媳) when it had one.
                Field::Relation => r.relation_term.clone().unwrap_or_else(|| r.relation.label_zh().to_owned()),
                Field::ResidenceType => r.residence_type.label_zh().to_owned(),
                Field::PoliticalStatus => r.political_status.label_zh().to_owned(),
                Field::Ethnicity => r.ethnicity.clone(),
                Field::Tags => r.tags.join("、"),
                Field::Notes => r.notes.clone(),
                Field::Grid => grid_code_of(&r.path).to_owned(),
                Field::Occupancy => {
                    r.household_id.as_ref().and_then(|h| occupancy.get(h)).copied().unwrap_or_default().to_owned()
                }
            })
            .collect::<Vec<String>>()
    });
    let headers: Vec<&str> = Field::ALL.iter().map(|f| f.header_zh()).collect();
    let today = format_date(time::OffsetDateTime::now_utc().date());
    let title = format!("{}居民信息台账（{} 导出）", community.name, today);
    Ok(ledger_xlsx_bytes(&community.name, Some(&title), &headers, rows)?)
}

/// The last segment of a ledger path is the code of the grid the record lies in.
fn grid_code_of(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    #[test]
    fn grid_code_is_the_last_path_segment() {
        assert_eq!(super::grid_code_of("/370600000000/370602004011/370602004011001/"), "370602004011001");
    }
}
