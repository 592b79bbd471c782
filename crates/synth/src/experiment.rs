//! TEMPORARY: measures the store's bulk insert with `?` placeholders.
use sqlx::AnyConnection;
use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;
use wangge_domain::{Vocabulary, new_id, now_millis};
use wangge_store::bulk::{HouseholdRow, ResidentRow};

fn params() -> usize {
    std::env::var("WANGGE_PARAMS").ok().and_then(|v| v.parse().ok()).unwrap_or(30_000)
}
fn qmark() -> bool {
    std::env::var("WANGGE_QMARK").is_ok()
}

async fn insert_chunked<'q, T>(
    conn: &mut AnyConnection,
    table: &str,
    columns: &str,
    width: usize,
    rows: &'q [T],
    bind: impl Fn(Query<'q, Any, AnyArguments>, &'q T) -> Query<'q, Any, AnyArguments>,
) -> anyhow::Result<()> {
    let per_statement = (params() / width).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut sql = format!("INSERT INTO {table} ({columns}) VALUES ");
        let mut n = 0;
        for r in 0..chunk.len() {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..width {
                n += 1;
                if c > 0 {
                    sql.push_str(", ");
                }
                if qmark() {
                    sql.push('?');
                } else {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
            sql.push(')');
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            query = bind(query, row);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

pub(crate) async fn households(conn: &mut AnyConnection, rows: &[HouseholdRow]) -> anyhow::Result<()> {
    let now = now_millis();
    insert_chunked(
        conn,
        "households",
        "id, building_id, path, unit, room, occupancy, created_at, updated_at",
        8,
        rows,
        |q, r| {
            q.bind(&r.id)
                .bind(&r.building_id)
                .bind(&r.path)
                .bind(&r.unit)
                .bind(&r.room)
                .bind(r.occupancy.code())
                .bind(now)
                .bind(now)
        },
    )
    .await
}

pub(crate) async fn residents(conn: &mut AnyConnection, rows: &[ResidentRow]) -> anyhow::Result<()> {
    const COLS: &str = "id, household_id, path, name, gender, birth_date, id_card, id_last4, phone, phone_last4, \
        residence_type, relation, political_status, ethnicity, notes, status, created_at, updated_at";
    let now = now_millis();
    insert_chunked(conn, "residents", COLS, 18, rows, |q, r| {
        q.bind(&r.id)
            .bind(&r.household_id)
            .bind(&r.path)
            .bind(&r.name)
            .bind(r.gender.code())
            .bind(&r.birth_date)
            .bind(r.id_card.as_ref().map(|c| c.as_str()))
            .bind(r.id_card.as_ref().map(|c| c.last4()))
            .bind(r.phone.as_ref().map(|p| p.as_str()))
            .bind(r.phone.as_ref().map(|p| p.last4()))
            .bind(r.residence_type.code())
            .bind(r.relation.code())
            .bind(r.political_status.code())
            .bind(&r.ethnicity)
            .bind(&r.notes)
            .bind(r.status.code())
            .bind(now)
            .bind(now)
    })
    .await?;
    let tags: Vec<(&str, &str)> =
        rows.iter().flat_map(|r| r.tag_ids.iter().map(move |t| (r.id.as_str(), t.as_str()))).collect();
    insert_chunked(conn, "resident_tags", "resident_id, tag_id", 2, &tags, |q, (r, t)| q.bind(*r).bind(*t)).await?;
    let events: Vec<(String, &ResidentRow)> = rows.iter().map(|r| (new_id(), r)).collect();
    insert_chunked(
        conn,
        "resident_events",
        "id, resident_id, kind, occurred_on, from_household_id, to_household_id, note, recorded_at",
        8,
        &events,
        |q, (id, r)| {
            q.bind(id.as_str())
                .bind(&r.id)
                .bind("registered")
                .bind(&r.registered_on)
                .bind(None::<String>)
                .bind(&r.household_id)
                .bind("")
                .bind(now)
        },
    )
    .await
}
