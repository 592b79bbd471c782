//! Anonymity proved on the stored rows, quotas, second answers, named surveys.

use std::collections::BTreeMap;

use sqlx::Row;
use wangge_domain::surveys::{Channel, seed_questionnaire};

use super::*;
use crate::registry::residents;
use crate::testing::{self, TestDb};

fn full() -> BTreeMap<String, String> {
    [("know_party", "yes"), ("party_role", "partly"), ("visits", "rarely"), ("culture", "neutral")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

async fn person(db: &Db, household: &str, name: &str) -> String {
    let new = residents::NewResident {
        household_id: household.into(),
        name: name.into(),
        gender: Some(wangge_domain::Gender::Male),
        birth_date: Some("1961-03-04".into()),
        ..Default::default()
    };
    residents::create(db, new).await.expect("resident").id
}

/// Every text value of every row of `table`, as stored.
async fn every_value(db: &Db, table: &str) -> Vec<String> {
    let sql = format!("SELECT * FROM {table}");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&db.pool).await.unwrap();
    let mut out = Vec::new();
    for r in rows {
        for i in 0..r.len() {
            if let Ok(Some(v)) = r.try_get::<Option<String>, _>(i) {
                out.push(v);
            }
        }
    }
    out
}

#[tokio::test]
async fn an_anonymous_answer_has_no_link_to_its_respondent() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let resident = person(db, &h.household.id, "张先生").await;
        let s = create(db, &h.community.id, "居民问卷", "", &seed_questionnaire(), true, "社区").await.unwrap();
        set_open(db, &s.id, true).await.unwrap();
        let mut who = respondent_of_resident(db, &resident).await.unwrap();
        who.entered_by = Some("grid-member-wang".into());
        who.account_id = Some("account-of-zhang".into());
        answer(db, &s.id, &who, Channel::Paper, &full(), "2026-03-01").await.unwrap().unwrap();

        // The answer holds the coarse attributes and nothing of the person.
        let values = every_value(db, "survey_answers").await;
        for secret in
            [resident.as_str(), "张先生", "grid-member-wang", "account-of-zhang", "1961-03-04", &h.household.id]
        {
            assert!(!values.iter().any(|v| v.contains(secret)), "{secret} in {values:?}");
        }
        let row = sqlx::query(
            "SELECT id, grid_id, age_band, residence_type, channel, paper, resident_id, account_id, entered_by
             FROM survey_answers",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(row.try_get::<Option<String>, _>("grid_id").unwrap(), Some(h.grid.id.clone()));
        assert_eq!(row.try_get::<String, _>("age_band").unwrap(), "60-69");
        assert_eq!(row.try_get::<String, _>("channel").unwrap(), "paper");
        assert_eq!(row.try_get::<i64, _>("paper").unwrap(), 1);
        for c in ["resident_id", "account_id", "entered_by"] {
            assert_eq!(row.try_get::<Option<String>, _>(c).unwrap(), None, "{c}");
        }
        // Its id carries no time (a UUIDv7 would order it with the "has answered" row).
        let id: String = row.try_get("id").unwrap();
        assert_eq!(id.as_bytes()[14], b'4', "{id}");
        // "Has answered" knows the person and nothing else; it refuses a second answer.
        let responded = every_value(db, "survey_responded").await;
        assert_eq!(responded, vec![s.id.clone(), resident.clone()]);
        let again = answer(db, &s.id, &who, Channel::Portal, &full(), "2026-03-02").await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert_eq!(answers_under(db, &s.id, &h.community.path).await.unwrap().len(), 1);

        // A named survey keeps who answered, and who typed it in.
        let named = create(db, &h.community.id, "具名", "", &seed_questionnaire(), false, "社区").await.unwrap();
        set_open(db, &named.id, true).await.unwrap();
        answer(db, &named.id, &who, Channel::Doorstep, &full(), "2026-03-01").await.unwrap().unwrap();
        let kept: Option<String> = sqlx::query_scalar("SELECT resident_id FROM survey_answers WHERE survey_id = $1")
            .bind(&named.id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(kept, Some(resident));
    })
    .await;
}

#[tokio::test]
async fn quotas_required_answers_and_results_by_grid() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let s = create(db, &h.community.id, "问卷", "", &seed_questionnaire(), false, "社区").await.unwrap();
        assert!(
            matches!(
                answer(db, &s.id, &Respondent::default(), Channel::Online, &full(), "2026-03-01").await,
                Err(StoreError::Conflict(_))
            ),
            "a draft takes no answers"
        );
        set_open(db, &s.id, true).await.unwrap();
        set_quota(db, &s.id, &h.grid.id, 2).await.unwrap();
        assert!(matches!(set_quota(db, &s.id, &h.community.id, 2).await, Err(StoreError::NotFound { .. })));
        // A required answer missing: every error named, nothing stored.
        let mut missing = full();
        missing.remove("visits");
        let errors = answer(db, &s.id, &Respondent::default(), Channel::Online, &missing, "2026-03-01").await.unwrap();
        assert_eq!(errors.unwrap_err()[0].question, "visits");
        let mut people = Vec::new();
        for name in ["甲", "乙", "丙"] {
            people.push(person(db, &h.household.id, name).await);
        }
        for p in &people[..2] {
            let who = respondent_of_resident(db, p).await.unwrap();
            answer(db, &s.id, &who, Channel::Doorstep, &full(), "2026-03-01").await.unwrap().unwrap();
        }
        let third = respondent_of_resident(db, &people[2]).await.unwrap();
        let full_quota = answer(db, &s.id, &third, Channel::Doorstep, &full(), "2026-03-01").await;
        assert!(matches!(full_quota, Err(StoreError::Conflict(_))), "{full_quota:?}");
        // A link answered without signing in counts for no grid and is not held by quotas.
        answer(db, &s.id, &Respondent::default(), Channel::Online, &full(), "2026-03-01").await.unwrap().unwrap();
        let grids = by_grid(db, &s.id).await.unwrap();
        assert_eq!(
            grids.iter().map(|(_, name, n, q)| (name.as_str(), *n, *q)).collect::<Vec<_>>(),
            vec![("第一网格", 2, 2), ("第二网格", 0, 0)]
        );
        assert_eq!(answers_under(db, &s.id, &h.community.path).await.unwrap().len(), 3);
        assert_eq!(answers_under(db, &s.id, &h.grid.path).await.unwrap().len(), 2);
        assert_eq!(
            response_by_grid(db, &h.community.path).await.unwrap(),
            vec![("第一网格".to_owned(), 2), ("第二网格".to_owned(), 0)]
        );
        // The cockpit's figure: their sum, the answer of no grid not counted.
        assert_eq!(open_answers_on_grids(db, &h.community.path).await.unwrap(), 2);
        assert_eq!(open_answers_on_grids(db, &h.grid.path).await.unwrap(), 2);
    })
    .await;
}
