//! Counts of what lies under an area: the first figures of the cockpit.

use serde::Serialize;
use utoipa::ToSchema;

use crate::conditions::Conditions;
use crate::{Db, StoreResult};

#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct AreaCounts {
    pub grids: i64,
    pub buildings: i64,
    pub households: i64,
    /// People currently living here.
    pub residents: i64,
    pub organisations: i64,
}

pub async fn counts_under(db: &Db, path: &str) -> StoreResult<AreaCounts> {
    let count = |table: &'static str, extra: &'static str| {
        let mut c = Conditions::default();
        c.under_path("path", path);
        let sql = format!("SELECT COUNT(*) FROM {table} {} {extra}", c.where_clause());
        async move { c.scalar(sql).fetch_one(&db.pool).await }
    };
    // Places and current residents: from their summaries (migrations 0038 and
    // 0028), the same counts without reading every row of a street or a city.
    let places = crate::summaries::places(db, path).await?;
    let place = |kind: &str| places.get(kind).copied().unwrap_or(0);
    Ok(AreaCounts {
        grids: count("areas", "AND level = 'grid'").await?,
        buildings: place("buildings"),
        households: place("households"),
        residents: crate::summaries::residents_by_type(db, path).await?.values().sum(),
        organisations: place("organisations"),
    })
}

/// Answers when the database does.
pub async fn ping(db: &Db) -> StoreResult<()> {
    sqlx::query("SELECT 1").execute(&db.pool).await?;
    Ok(())
}

/// A tiny write that changes nothing (the key record's creation time set to
/// itself): fails with [`crate::StoreError::DiskFull`] when the database's disk is
/// full. On SQLite a change may still fit in room the WAL file already has, so 16 KiB
/// are also written to an unnamed temporary file beside the database (never kept).
pub async fn write_probe(db: &Db) -> StoreResult<()> {
    if db.backend == crate::Backend::Sqlite {
        let file: Option<String> = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_optional(&db.pool)
            .await?;
        if let Some(file) = file.filter(|f| !f.is_empty()) {
            let dir = std::path::Path::new(&file).parent().map(std::path::Path::to_owned).unwrap_or_default();
            let written = tokio::task::spawn_blocking(move || {
                use std::io::Write;
                let mut probe = tempfile::tempfile_in(&dir)?;
                probe.write_all(&[0u8; 16 * 1024])?;
                probe.sync_data()
            })
            .await
            .map_err(|e| crate::StoreError::Invalid(crate::error::operator(format!("the write probe failed: {e}"))))?;
            match written {
                Err(e) if e.raw_os_error() == Some(28) => return Err(crate::StoreError::DiskFull(e.to_string())),
                Err(e) => tracing::warn!("health check: writing beside the database: {e}"),
                Ok(()) => {}
            }
        }
    }
    sqlx::query("UPDATE vault_key SET created_at = created_at WHERE id = 1").execute(&db.pool).await?;
    Ok(())
}
