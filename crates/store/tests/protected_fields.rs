//! ID card numbers and phones at rest: never in plain text in the database (rows,
//! SQLite file and log), still found by whole value and by suffix, masked when
//! shown, in full only through `reveal` and the export, and unreadable with another key.

use sqlx::Row;
use sqlx::any::AnyRow;
use wangge_domain::{Gender, IdCardNumber, Phone, PoliticalStatus, Relation, ResidenceType, ResidentStatus};
use wangge_store::bulk::{BulkLoader, ResidentRow};
use wangge_store::registry::areas::Area;
use wangge_store::registry::residents::{self, NewResident, ResidentFilter, ResidentUpdate, RevealField};
use wangge_store::testing::{self, TestDb};
use wangge_store::{Backend, Db, DbOptions, KeySource, PageRequest, StoreError, Vault};

/// The person whose numbers must never be stored in clear.
const PHONE: &str = "13805351234";

fn id_card(seq: u16) -> IdCardNumber {
    let birth = time::Date::from_calendar_date(1955, time::Month::October, 1).unwrap();
    IdCardNumber::compose(370602, birth, seq)
}

struct Place {
    community: Area,
    household: String,
}

async fn place(db: &Db) -> Place {
    let h = testing::hierarchy(db).await;
    Place { community: h.community, household: h.household.id }
}

fn person(household: &str, name: &str, id: &IdCardNumber, phone: Option<&str>) -> NewResident {
    NewResident {
        household_id: household.into(),
        name: name.into(),
        id_card: Some(id.as_str().into()),
        phone: phone.map(Into::into),
        relation: Some(Relation::Other),
        ..Default::default()
    }
}

/// Every value of a row as text, whatever the column's type.
fn row_texts(row: &AnyRow) -> Vec<String> {
    (0..row.len())
        .filter_map(|i| {
            if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                return v;
            }
            if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                return v.map(|v| v.to_string());
            }
            row.try_get::<Option<f64>, _>(i).ok().flatten().map(|v| v.to_string())
        })
        .collect()
}

/// The plain-text forms that must appear nowhere: the whole ID, its first 14
/// characters (region, birth date, sequence) and the whole phone.
fn secrets(id: &IdCardNumber) -> Vec<String> {
    vec![id.as_str().to_owned(), id.as_str()[..14].to_owned(), PHONE.to_owned()]
}

async fn assert_no_plain_text_in_rows(t: &TestDb, id: &IdCardNumber) {
    let db = &t.db;
    for table in ["residents", "resident_events"] {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}"))).fetch_all(&db.pool).await.unwrap();
        assert!(!rows.is_empty() || table == "resident_events", "{table} is empty");
        for row in &rows {
            for value in row_texts(row) {
                for secret in secrets(id) {
                    assert!(!value.contains(&secret), "{:?}: {table} holds {secret} in {value}", t.backend());
                }
            }
        }
    }
    if t.backend() == Backend::Postgres {
        // Every table of the database, each row cast to text, whatever its columns.
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        assert!(tables.iter().any(|t| t == "residents"), "{tables:?}");
        let mut names_seen = false;
        for table in tables {
            let sql = format!("SELECT CAST(t AS TEXT) FROM \"{table}\" t");
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&db.pool).await.unwrap();
            for row in rows {
                names_seen |= row.contains("张桂英");
                for secret in secrets(id) {
                    assert!(!row.contains(&secret), "table {table} holds {secret}: {row}");
                }
            }
        }
        assert!(names_seen, "the scan reads the rows (names are not protected)");
    }
}

/// The SQLite database file and its write-ahead log, byte for byte.
async fn assert_no_plain_text_in_sqlite_files(t: &TestDb, id: &IdCardNumber) {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&t.db.pool).await.unwrap();
    let file = t.url.strip_prefix("sqlite:").unwrap();
    let mut names_seen = false;
    for path in [file.to_owned(), format!("{file}-wal")] {
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let name = "张桂英".as_bytes();
        names_seen |= bytes.windows(name.len()).any(|w| w == name);
        for secret in secrets(id) {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{path} holds {secret} in plain text"
            );
        }
    }
    assert!(names_seen, "the scan reads the rows (names are not protected)");
}

#[tokio::test]
async fn id_cards_and_phones_are_encrypted_searchable_and_masked() {
    for t in testing::all().await {
        let db = &t.db;
        let backend = t.backend();
        let p = place(db).await;
        let id = id_card(4);
        let created = residents::create(db, person(&p.household, "张桂英", &id, Some(PHONE))).await.unwrap();
        // Same last four of the phone, different longer suffixes: a six-digit search
        // must tell them apart, and count right.
        let same_suffix = id_card(6);
        residents::create(db, person(&p.household, "李秀兰", &same_suffix, Some("13705351234"))).await.unwrap();
        residents::create(db, person(&p.household, "王建国", &id_card(8), Some("13966661234"))).await.unwrap();
        // One through the bulk loader (import, generate).
        let bulk_id = id_card(10);
        let mut tx = db.pool.begin().await.unwrap();
        BulkLoader::new(&mut tx, &db.vault)
            .residents(&[ResidentRow {
                id: wangge_domain::new_id(),
                household_id: Some(p.household.clone()),
                path: p.community.path.clone() + "370602004011001/",
                name: "赵大勇".into(),
                gender: bulk_id.gender(),
                birth_date: wangge_domain::format_date(bulk_id.birth_date()),
                id_card: Some(bulk_id.clone()),
                phone: Some(Phone::parse("0535-6661234").unwrap()),
                residence_type: ResidenceType::Registered,
                relation: Relation::Other,
                relation_term: None,
                political_status: PoliticalStatus::Masses,
                ethnicity: "汉族".into(),
                notes: String::new(),
                status: ResidentStatus::Active,
                tag_ids: vec![],
                registered_on: "2020-01-01".into(),
                last_met_on: None,
            }])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // A correction writes history; the history names fields, never values.
        let phone_update =
            ResidentUpdate { phone: Some(PHONE.into()), notes: Some("核实".into()), ..Default::default() };
        residents::update(db, &created.id, phone_update).await.unwrap();

        // Shown masked everywhere by default.
        let masked_id = format!("370602********{}", id.last4());
        assert_eq!(created.id_card.as_deref(), Some(masked_id.as_str()), "{backend:?}");
        assert_eq!(created.phone.as_deref(), Some("138****1234"));
        let got = residents::get(db, &created.id).await.unwrap();
        assert_eq!((got.id_card.as_deref(), got.phone.as_deref()), (Some(masked_id.as_str()), Some("138****1234")));
        assert_eq!(got.gender, Gender::Female, "still read from the ID card");
        let all = residents::all(db, &ResidentFilter::default()).await.unwrap();
        assert_eq!(all.len(), 4);
        assert!(all.iter().all(|r| r.id_card.as_deref().is_some_and(|c| c.contains("********"))), "{all:?}");
        assert!(all.iter().any(|r| r.phone.as_deref() == Some("0535-***1234")), "landline masked: {all:?}");

        // In full only on purpose.
        assert_eq!(
            residents::reveal(db, &created.id, RevealField::IdCard).await.unwrap().as_deref(),
            Some(id.as_str())
        );
        assert_eq!(residents::reveal(db, &created.id, RevealField::Phone).await.unwrap().as_deref(), Some(PHONE));
        let missing = residents::reveal(db, "no-such-person", RevealField::Phone).await.unwrap_err();
        assert!(matches!(missing, StoreError::NotFound { .. }), "{missing}");
        let export = residents::all_for_export(db, &ResidentFilter::default()).await.unwrap();
        let exported = export.iter().find(|r| r.id == created.id).unwrap();
        assert_eq!((exported.id_card.as_deref(), exported.phone.as_deref()), (Some(id.as_str()), Some(PHONE)));

        // Search still works: blind index for whole values and last fours, longer
        // suffixes narrowed after decrypting.
        let search = |q: &str, page: u32, per_page: u32| {
            let filter = ResidentFilter {
                under_path: Some(p.community.path.clone()),
                q: Some(q.to_owned()),
                ..Default::default()
            };
            async move {
                let page = residents::list(db, &filter, PageRequest::new(Some(page), Some(per_page))).await.unwrap();
                let mut names: Vec<String> = page.items.into_iter().map(|r| r.name).collect();
                names.sort();
                (page.total, names)
            }
        };
        let one = |names: &[&str]| {
            let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            names.sort();
            names
        };
        assert_eq!(search(id.as_str(), 1, 50).await, (1, one(&["张桂英"])), "{backend:?}: whole ID");
        assert_eq!(search(&id.as_str().to_lowercase(), 1, 50).await.0, 1, "whole ID, any case");
        assert_eq!(search(id.last4(), 1, 50).await, (1, one(&["张桂英"])), "last four of the ID");
        assert_eq!(search(&id.as_str()[10..], 1, 50).await, (1, one(&["张桂英"])), "eight last of the ID");
        assert_eq!(search(PHONE, 1, 50).await, (1, one(&["张桂英"])), "whole phone");
        assert_eq!(search("138 0535 1234", 1, 50).await, (1, one(&["张桂英"])), "whole phone with spaces");
        assert_eq!(search("1234", 1, 50).await, (4, one(&["李秀兰", "张桂英", "王建国", "赵大勇"])), "phone last four");
        assert_eq!(search("351234", 1, 50).await, (2, one(&["李秀兰", "张桂英"])), "six-digit phone suffix");
        assert_eq!(search("805351234", 1, 50).await, (1, one(&["张桂英"])), "longer suffix narrows");
        assert_eq!(search("6661234", 1, 50).await, (2, one(&["王建国", "赵大勇"])), "mobile and landline");
        assert_eq!(search("0535-6661234", 1, 50).await, (1, one(&["赵大勇"])), "landline as written");
        assert_eq!(search("9999", 1, 50).await, (0, vec![]));
        // Pages of a narrowed search: the total stays that of all matches.
        let (total, first) = search("351234", 1, 1).await;
        let (_, second) = search("351234", 2, 1).await;
        assert_eq!((total, first.len(), second.len()), (2, 1, 1));
        assert_ne!(first, second);
        let narrowed = ResidentFilter { q: Some("351234".into()), ..Default::default() };
        assert_eq!(residents::all(db, &narrowed).await.unwrap().len(), 2, "export filter narrows too");

        // Duplicates are still refused, through the unique blind index.
        let dup = residents::create(db, person(&p.household, "重复", &id, None)).await.unwrap_err();
        assert!(matches!(dup, StoreError::Conflict(_)), "{dup}");
        assert!(!dup.to_string().contains(&id.as_str()[..14]), "the message masks the number: {dup}");
        let registered =
            residents::registered_id_cards(db, &[id.as_str(), bulk_id.as_str(), id_card(12).as_str()]).await.unwrap();
        assert_eq!(registered.len(), 2, "{registered:?}");
        assert_eq!(registered[id.as_str()], "张桂英");
        assert_eq!(registered[bulk_id.as_str()], "赵大勇");

        // Nothing in clear at rest.
        assert_no_plain_text_in_rows(&t, &id).await;
        if backend == Backend::Sqlite {
            assert_no_plain_text_in_sqlite_files(&t, &id).await;
        }

        // Another key opens nothing: an error, never garbage.
        let stranger =
            Db::connect(&t.url, DbOptions { key: KeySource::Ephemeral, ..Default::default() }).await.unwrap();
        let err = stranger.migrate().await.unwrap_err();
        assert!(matches!(err, StoreError::Key(_)), "{err}");
        assert!(err.to_string().contains(db.vault.key_id()), "names the key the data needs: {err}");
        let err = residents::reveal(&stranger, &created.id, RevealField::IdCard).await.unwrap_err();
        assert!(matches!(err, StoreError::Key(_)), "{err}");
        assert!(matches!(residents::get(&stranger, &created.id).await, Err(StoreError::Key(_))));
        assert!(residents::list(&stranger, &ResidentFilter::default(), PageRequest::default()).await.is_err());
        // A search with another key's blind index finds nobody rather than somebody else.
        let foreign = ResidentFilter { q: Some(id.as_str().into()), ..Default::default() };
        assert_eq!(residents::list(&stranger, &foreign, PageRequest::default()).await.unwrap().total, 0);
        stranger.close().await;
        // The same key again opens everything.
        let same = Db::connect(&t.url, DbOptions { key: KeySource::Vault(db.vault.clone()), ..Default::default() })
            .await
            .unwrap();
        same.migrate().await.unwrap();
        assert_eq!(residents::reveal(&same, &created.id, RevealField::Phone).await.unwrap().as_deref(), Some(PHONE));
        same.close().await;
    }
}

#[tokio::test]
async fn the_key_file_sits_beside_the_database_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("data").join("w.db").display());
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let key_file = dir.path().join("data").join("wangge.key");

    let db = Db::connect(&url, DbOptions::default()).await.unwrap();
    db.migrate().await.unwrap();
    assert!(key_file.exists(), "the key file is created on first open");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "owner only");
    }
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    let p = place(&db).await;
    let id = id_card(4);
    let r = residents::create(&db, person(&p.household, "张桂英", &id, Some(PHONE))).await.unwrap();
    let key_id = db.vault.key_id().to_owned();
    db.close().await;

    // Opened again (the next start): same file, same key, data readable.
    let db = Db::connect(&url, DbOptions::default()).await.unwrap();
    db.migrate().await.unwrap();
    assert_eq!(db.vault.key_id(), key_id);
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key_text, "the key file is not rewritten");
    assert_eq!(residents::reveal(&db, &r.id, RevealField::IdCard).await.unwrap().as_deref(), Some(id.as_str()));
    db.close().await;

    // The file named explicitly is the same key.
    let explicit =
        Db::connect(&url, DbOptions { key: KeySource::File(key_file.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(explicit.vault.key_id(), key_id);
    explicit.close().await;

    // A lost key file: the start stops with a clear message naming the key the data
    // needs, and no new, useless key file is made (issue 13).
    std::fs::rename(&key_file, dir.path().join("backup.key")).unwrap();
    let err = Db::connect(&url, DbOptions::default()).await.expect_err("refused");
    assert!(err.to_string().contains(&key_id), "{err}");
    assert!(!key_file.exists(), "no new key was made");
    // Restored from the backup, all is well again.
    std::fs::rename(dir.path().join("backup.key"), &key_file).unwrap();
    let db = Db::connect(&url, DbOptions::default()).await.unwrap();
    db.migrate().await.unwrap();
    assert_eq!(residents::reveal(&db, &r.id, RevealField::Phone).await.unwrap().as_deref(), Some(PHONE));
    db.close().await;

    // The vault on its own: a value sealed under one key does not open under another.
    let sealed: String = {
        let db = Db::connect(&url, DbOptions::default()).await.unwrap();
        let v = sqlx::query_scalar("SELECT id_card_enc FROM residents").fetch_one(&db.pool).await.unwrap();
        db.close().await;
        v
    };
    assert!(Vault::ephemeral().open(&sealed, &format!("residents.id_card:{}", r.id)).is_err());
    assert_eq!(
        Vault::from_file(&key_file).unwrap().open(&sealed, &format!("residents.id_card:{}", r.id)).unwrap(),
        id.as_str()
    );
}

#[tokio::test]
async fn a_new_key_reseals_everything_and_the_old_one_stops_working() {
    for t in testing::all().await {
        let db = &t.db;
        let p = place(db).await;
        let id = id_card(4);
        let a = residents::create(db, person(&p.household, "张桂英", &id, Some(PHONE))).await.unwrap();
        let b = residents::create(db, person(&p.household, "李秀兰", &id_card(6), None)).await.unwrap();
        let before: Vec<String> =
            sqlx::query_scalar("SELECT id_card_hash FROM residents ORDER BY id").fetch_all(&db.pool).await.unwrap();

        let new = std::sync::Arc::new(Vault::ephemeral());
        assert_eq!(residents::rekey(db, &new).await.unwrap(), 2, "{:?}", t.backend());
        let after: Vec<String> =
            sqlx::query_scalar("SELECT id_card_hash FROM residents ORDER BY id").fetch_all(&db.pool).await.unwrap();
        assert!(before.iter().all(|h| !after.contains(h)), "blind indexes are recomputed");

        // The old key no longer opens the database, nor its values.
        assert!(matches!(db.check_key().await, Err(StoreError::Key(_))));
        assert!(matches!(residents::reveal(db, &a.id, RevealField::IdCard).await, Err(StoreError::Key(_))));
        assert!(matches!(residents::rekey(db, &Vault::ephemeral()).await, Err(StoreError::Conflict(_))));

        let rekeyed =
            Db::connect(&t.url, DbOptions { key: KeySource::Vault(new), ..Default::default() }).await.unwrap();
        rekeyed.migrate().await.unwrap();
        assert_eq!(
            residents::reveal(&rekeyed, &a.id, RevealField::IdCard).await.unwrap().as_deref(),
            Some(id.as_str())
        );
        assert_eq!(residents::reveal(&rekeyed, &a.id, RevealField::Phone).await.unwrap().as_deref(), Some(PHONE));
        assert_eq!(residents::reveal(&rekeyed, &b.id, RevealField::Phone).await.unwrap(), None);
        for q in [id.as_str(), id.last4(), "351234", PHONE] {
            let filter = ResidentFilter { q: Some(q.into()), ..Default::default() };
            let page = residents::list(&rekeyed, &filter, PageRequest::default()).await.unwrap();
            assert_eq!(page.total, 1, "search {q} after the new key");
            assert_eq!(page.items[0].id, a.id);
        }
        rekeyed.close().await;
    }
}
