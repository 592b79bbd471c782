//! One way to build and write an item, whatever brings it: the API's group-committed
//! intake ([`super::intake`]), the forms ([`super::create_with`]) and a ledger's past
//! ([`super::history`]). All three check what a person wrote with [`Texts::check`],
//! seal the call-back phone with [`Row::new`], and insert with the one column list
//! [`COLUMNS`] (and [`EVENT_COLUMNS`] for the timeline), from which every insert
//! takes its width ([`crate::bulk::width`]). A column added to `demands` is added
//! here once.

use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;
use wangge_domain::{DemandStatus, Explain, Phone, Vocabulary, msg};

use super::{DUE_SOON_MS, Demand, DemandEvent, PHONE_LAST4_PURPOSE, PHONE_PURPOSE, aad};
use crate::db::Float;
use crate::vault::Vault;
use crate::{StoreError, StoreResult};

/// Every stored column of `demands`, in the order [`bind`] binds them.
pub(crate) const COLUMNS: &str = "id, path, area_id, building_id, household_id, resident_id, category, kind, \
    channel, title, description, address, lat, lng, reporter_name, reporter_phone_enc, reporter_phone_hash, \
    reporter_account_id, status, level, handler_kind, handler_id, handler_name, merged_into, reopened, accept_due, \
    resolve_due, responded_at, closed_at, rating, rating_comment, created_at, updated_at, tracking_no, \
    reporter_phone_last4_hash, rating_source, rated_at, rating_called_by, rating_called_at, rating_due";

/// Every column of `demand_events`, in the order [`bind_event`] binds them.
pub(crate) const EVENT_COLUMNS: &str =
    "id, demand_id, step, from_status, to_status, level, actor_id, actor_name, note, at";

/// Longest title, in characters.
const TITLE_MAX: usize = 100;
/// Longest description, in characters.
const DESCRIPTION_MAX: usize = 5000;

/// What a person wrote on a new item, checked the same way wherever it comes from.
#[derive(Clone, Debug)]
pub(crate) struct Texts {
    pub title: String,
    pub description: String,
    pub phone: Option<Phone>,
}

impl Texts {
    pub(crate) fn check(title: &str, description: &str, phone: Option<&str>) -> StoreResult<Texts> {
        let title = wangge_domain::text::normalize(title);
        match title.chars().count() {
            0 => return Err(StoreError::Invalid(msg!("demands.error.title_empty").field("title"))),
            n if n > TITLE_MAX => {
                return Err(StoreError::Invalid(
                    msg!("demands.error.title_long", length = n, most = TITLE_MAX).field("title"),
                ));
            }
            _ => {}
        }
        let description = description.trim().to_owned();
        if description.chars().count() > DESCRIPTION_MAX {
            return Err(StoreError::Invalid(
                msg!("demands.error.description_long", most = DESCRIPTION_MAX).field("description"),
            ));
        }
        let phone = phone
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Phone::parse(p).map_err(|e| StoreError::Invalid(e.message().field("reporter_phone"))))
            .transpose()?;
        Ok(Texts { title, description, phone })
    }
}

/// The deadline that matters in `status` (accepting while submitted, resolving
/// after), whether it has passed, and whether it comes within a day.
pub(crate) fn deadline(status: DemandStatus, accept_due: i64, resolve_due: i64, now: i64) -> (i64, bool, bool) {
    let due = if status == DemandStatus::Submitted { accept_due } else { resolve_due };
    let open = status.is_open();
    (due, open && now > due, open && now <= due && due - now < DUE_SOON_MS)
}

/// A row of `demands` as written: the item and its sealed call-back phone (the
/// item itself carries only the masked number).
#[derive(Debug)]
pub(crate) struct Row {
    pub demand: Demand,
    pub phone_enc: Option<String>,
    pub phone_hash: Option<String>,
    /// The blind index of the phone's last four digits: the tracking page's check
    /// and the ledger's search by phone suffix.
    pub phone_last4_hash: Option<String>,
}

impl Row {
    /// Seals `phone` for the item (bound to its id) and masks it on the item.
    pub(crate) fn new(mut demand: Demand, phone: Option<&Phone>, vault: &Vault) -> Row {
        demand.reporter_phone = phone.map(Phone::masked);
        Row {
            phone_enc: phone.map(|p| vault.seal(p.as_str(), &aad(&demand.id))),
            phone_hash: phone.map(|p| vault.blind(PHONE_PURPOSE, p.as_str())),
            phone_last4_hash: phone.map(|p| vault.blind(PHONE_LAST4_PURPOSE, p.last4())),
            demand,
        }
    }
}

/// Binds one row's [`COLUMNS`].
pub(crate) fn bind<'q>(q: Query<'q, Any, AnyArguments>, r: &'q Row) -> Query<'q, Any, AnyArguments> {
    let d = &r.demand;
    q.bind(&d.id)
        .bind(&d.path)
        .bind(&d.area_id)
        .bind(&d.building_id)
        .bind(&d.household_id)
        .bind(&d.resident_id)
        .bind(&d.category)
        .bind(d.kind.code())
        .bind(d.channel.code())
        .bind(&d.title)
        .bind(&d.description)
        .bind(&d.address)
        .bind(Float(d.lat))
        .bind(Float(d.lng))
        .bind(&d.reporter_name)
        .bind(&r.phone_enc)
        .bind(&r.phone_hash)
        .bind(&d.reporter_account_id)
        .bind(d.status.code())
        .bind(d.level.code())
        .bind(d.handler_kind.map(|k| k.code()))
        .bind(&d.handler_id)
        .bind(&d.handler_name)
        .bind(&d.merged_into)
        .bind(i16::from(d.reopened))
        .bind(d.accept_due)
        .bind(d.resolve_due)
        .bind(d.responded_at)
        .bind(d.closed_at)
        .bind(d.rating.map(|v| v as i16))
        .bind(&d.rating_comment)
        .bind(d.created_at)
        .bind(d.updated_at)
        .bind(&d.tracking_no)
        .bind(&r.phone_last4_hash)
        .bind(d.rating_source.map(|s| s.code()))
        .bind(d.rated_at)
        .bind(&d.rating_called_by)
        .bind(d.rating_called_at)
        .bind(d.rating_due)
}

/// Binds one timeline entry's [`EVENT_COLUMNS`].
pub(crate) fn bind_event<'q>(q: Query<'q, Any, AnyArguments>, e: &'q DemandEvent) -> Query<'q, Any, AnyArguments> {
    q.bind(&e.id)
        .bind(&e.demand_id)
        .bind(e.step.code())
        .bind(e.from_status.map(|s| s.code()))
        .bind(e.to_status.code())
        .bind(e.level.code())
        .bind(&e.actor_id)
        .bind(&e.actor_name)
        .bind(&e.note)
        .bind(e.at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::width;

    #[test]
    fn the_column_lists_name_every_column_once() {
        for list in [COLUMNS, EVENT_COLUMNS] {
            let names: Vec<&str> = list.split(',').map(str::trim).collect();
            let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
            assert_eq!(unique.len(), names.len(), "a column twice in {list}");
            assert_eq!(width(list), names.len());
        }
        assert_eq!(width(COLUMNS), 40);
    }

    /// A column added to a migration and forgotten here (or the reverse) fails.
    #[tokio::test]
    async fn the_column_lists_are_the_tables_columns() {
        use sqlx::Row as _;
        let t = crate::testing::sqlite().await;
        for (table, list) in [("demands", COLUMNS), ("demand_events", EVENT_COLUMNS)] {
            let stored: std::collections::BTreeSet<String> = sqlx::query("SELECT name FROM pragma_table_info($1)")
                .bind(table)
                .fetch_all(&t.db.pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>("name"))
                .collect();
            let listed: std::collections::BTreeSet<String> = list.split(',').map(|c| c.trim().to_owned()).collect();
            assert_eq!(listed, stored, "{table}");
        }
    }

    #[test]
    fn texts_are_checked_once_for_every_source() {
        assert!(Texts::check("  ", "", None).is_err());
        assert!(Texts::check(&"长".repeat(101), "", None).is_err());
        assert!(Texts::check("路灯不亮", &"长".repeat(5001), None).is_err());
        assert!(Texts::check("路灯不亮", "", Some("12345")).is_err());
        let ok = Texts::check(" 路灯不亮 ", " 3号楼 ", Some(" 13812345678 ")).unwrap();
        assert_eq!((ok.title.as_str(), ok.description.as_str()), ("路灯不亮", "3号楼"));
        assert_eq!(ok.phone.unwrap().as_str(), "13812345678");
    }
}
