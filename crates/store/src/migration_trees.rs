//! The two migration trees (`migrations/sqlite`, `migrations/postgres`) must build the
//! same schema: the same tables, columns (type, nullability) and indexes, once the
//! differences the engines force are normalised. Both are migrated for real and read
//! back from the engines' own catalogues, so a column or index added to one file of
//! a migration and forgotten in the other fails here. The few differences made on
//! purpose are listed, each with its reason ([`ON_PURPOSE`]).

use std::collections::BTreeSet;

use sqlx::Row;

use crate::testing;
use crate::{Backend, Db};

/// One fact of a schema, comparable across engines.
type Fact = String;

/// The type a column is declared with, in one vocabulary for both engines. The known
/// differences: SQLite's `REAL` is PostgreSQL's `DOUBLE PRECISION`; `VARCHAR` and
/// `TEXT` are both text.
fn type_class(declared: &str) -> String {
    let t = declared.trim().to_ascii_uppercase();
    let t = t.split('(').next().unwrap_or("").trim().to_owned();
    match t.as_str() {
        "BIGINT" | "INT8" => "bigint",
        "SMALLINT" | "INT2" => "smallint",
        "INTEGER" | "INT" | "INT4" => "integer",
        "TEXT" | "VARCHAR" | "CHARACTER VARYING" => "text",
        "REAL" | "DOUBLE PRECISION" | "FLOAT8" => "double",
        "BLOB" | "BYTEA" => "bytes",
        other => return other.to_ascii_lowercase(),
    }
    .to_owned()
}

async fn sqlite_schema(db: &Db) -> BTreeSet<Fact> {
    let mut facts = BTreeSet::new();
    // Views by name (the same names read the same figures on both engines; what
    // each selects may differ, as 0074's do).
    for view in sqlx::query("SELECT name FROM sqlite_master WHERE type = 'view'").fetch_all(&db.pool).await.unwrap() {
        facts.insert(format!("view {}", view.get::<String, _>("name")));
    }
    let tables: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>("name"))
    .collect();
    for table in tables {
        facts.insert(format!("table {table}"));
        let columns = sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info($1)")
            .bind(&table)
            .fetch_all(&db.pool)
            .await
            .unwrap();
        for c in columns {
            let not_null = c.get::<i64, _>("notnull") == 1 || c.get::<i64, _>("pk") > 0;
            let name: String = c.get("name");
            let null = if not_null { "not null" } else { "null" };
            facts.insert(format!("column {table}.{name} {} {null}", type_class(&c.get::<String, _>("type"))));
        }
        // Indexes created by CREATE INDEX (those behind UNIQUE and PRIMARY KEY
        // constraints have no SQL of their own; PostgreSQL's are left out alike).
        let indexes = sqlx::query(
            "SELECT l.name, l.\"unique\" FROM pragma_index_list($1) l JOIN sqlite_master m ON m.name = l.name
             WHERE m.sql IS NOT NULL",
        )
        .bind(&table)
        .fetch_all(&db.pool)
        .await
        .unwrap();
        for i in indexes {
            let name: String = i.get("name");
            let columns: Vec<String> = sqlx::query("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                .bind(&name)
                .fetch_all(&db.pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get::<String, _>("name").unwrap_or_else(|_| "(expression)".into()))
                .collect();
            let unique = if i.get::<i64, _>("unique") == 1 { "unique " } else { "" };
            facts.insert(format!("{unique}index {name} on {table}({})", columns.join(", ")));
        }
    }
    facts
}

async fn postgres_schema(db: &Db) -> BTreeSet<Fact> {
    let mut facts = BTreeSet::new();
    let tables = sqlx::query(
        "SELECT table_name::text AS name, table_type::text AS kind FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type IN ('BASE TABLE', 'VIEW') AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for t in tables {
        let kind = if t.get::<String, _>("kind") == "VIEW" { "view" } else { "table" };
        facts.insert(format!("{kind} {}", t.get::<String, _>("name")));
    }
    // The columns of tables (a view's are what it selects).
    let columns = sqlx::query(
        "SELECT c.table_name::text AS t, c.column_name::text AS c, c.data_type::text AS ty, c.is_nullable::text AS n
         FROM information_schema.columns c JOIN information_schema.tables t
              ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
         WHERE c.table_schema = 'public' AND c.table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for c in columns {
        let null = if c.get::<String, _>("n") == "NO" { "not null" } else { "null" };
        let (t, name): (String, String) = (c.get("t"), c.get("c"));
        facts.insert(format!("column {t}.{name} {} {null}", type_class(&c.get::<String, _>("ty"))));
    }
    let indexes = sqlx::query(
        "SELECT ic.relname::text AS name, tc.relname::text AS t, CASE WHEN x.indisunique THEN 1 ELSE 0 END AS u,
                COALESCE((SELECT string_agg(COALESCE(a.attname::text, '(expression)'), ', ' ORDER BY k.ord)
                  FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                  LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum), '') AS cols
         FROM pg_index x
         JOIN pg_class ic ON ic.oid = x.indexrelid
         JOIN pg_class tc ON tc.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = tc.relnamespace
         WHERE n.nspname = 'public' AND tc.relname NOT LIKE '\\_sqlx%'
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for i in indexes {
        let (name, t, cols): (String, String, String) = (i.get("name"), i.get("t"), i.get("cols"));
        let unique = if i.get::<i32, _>("u") == 1 { "unique " } else { "" };
        facts.insert(format!("{unique}index {name} on {t}({cols})"));
    }
    facts
}

/// Where the trees differ on purpose: a fact of one engine's schema, the engine,
/// and why. Each must be there (a difference that went away leaves the list), and
/// nothing else may differ.
const ON_PURPOSE: &[(&str, Backend, &str)] = &[
    (
        "index demand_counts_day on demand_counts(day, path, category, status, n)",
        Backend::Sqlite,
        "covering (0060): SQLite sums a range of days from the index alone",
    ),
    (
        "index demand_counts_day on demand_counts(day, path)",
        Backend::Postgres,
        "without n (0073): an update of a count no index holds stays heap-only, as every new item writes one",
    ),
    (
        "view demand_open_days",
        Backend::Sqlite,
        "0076: kept by row triggers, the open items' roll-up cost SQLite's intake as much as demand_days; a view of the items for figures verify",
    ),
    ("table demand_open_days", Backend::Postgres, OPEN_ROLL_UP),
    ("column demand_open_days.created_day bigint not null", Backend::Postgres, OPEN_ROLL_UP),
    ("column demand_open_days.due_day bigint not null", Backend::Postgres, OPEN_ROLL_UP),
    ("column demand_open_days.n bigint not null", Backend::Postgres, OPEN_ROLL_UP),
    ("column demand_open_days.path text not null", Backend::Postgres, OPEN_ROLL_UP),
    ("index demands_due on demands((expression), path)", Backend::Postgres, OPEN_ROLL_UP),
];

/// Why PostgreSQL alone has the open items' roll-up and its index.
const OPEN_ROLL_UP: &str = "0076: the open items' roll-up is kept on PostgreSQL only (through the queue); SQLite counts open items from their index";

/// Takes the facts [`ON_PURPOSE`] lists for `engine` out of `facts`, failing if one
/// is missing.
fn without_listed(mut facts: BTreeSet<Fact>, engine: Backend) -> BTreeSet<Fact> {
    for (fact, _, why) in ON_PURPOSE.iter().filter(|(_, e, _)| *e == engine) {
        assert!(facts.remove(*fact), "{engine:?} should have `{fact}` ({why}); ON_PURPOSE is out of date");
    }
    facts
}

#[tokio::test]
async fn both_migration_trees_build_the_same_schema() {
    let sqlite = testing::sqlite().await;
    let lite = without_listed(sqlite_schema(&sqlite.db).await, Backend::Sqlite);
    assert!(lite.contains("table residents") && lite.len() > 100, "the SQLite schema was read: {} facts", lite.len());
    assert!(lite.iter().any(|f| f.starts_with("column residents.id_card_enc text")), "{lite:?}");
    let Some(pg) = testing::postgres().await else { return };
    assert_eq!(pg.backend(), Backend::Postgres);
    let post = without_listed(postgres_schema(&pg.db).await, Backend::Postgres);
    let only_sqlite: Vec<_> = lite.difference(&post).collect();
    let only_postgres: Vec<_> = post.difference(&lite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migration trees differ.\nonly in migrations/sqlite:\n  {}\nonly in migrations/postgres:\n  {}",
        only_sqlite.iter().map(|f| f.as_str()).collect::<Vec<_>>().join("\n  "),
        only_postgres.iter().map(|f| f.as_str()).collect::<Vec<_>>().join("\n  ")
    );
}
