//! The grid team roster (issue 15): posts kept with history, private phones sealed at
//! rest (also those an older version left in plain text), buildings in the grid only.

use wangge_domain::{TeamPost, now_millis};
use wangge_store::StoreError;
use wangge_store::team::{self, NewPost, Phones};
use wangge_store::testing::{TestDb, all_at, hierarchy};

const PHONE: &str = "13905351234";

fn member(name: &str) -> NewPost {
    NewPost {
        post: Some("网格员".into()),
        person_name: name.into(),
        phone: Some("139 0535 1234".into()),
        duties: "入户走访".into(),
        ..Default::default()
    }
}

async fn stored_texts(t: &TestDb) -> Vec<String> {
    let rows: Vec<(Option<String>, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT phone, phone_enc, phone_hash FROM grid_posts").fetch_all(&t.db.pool).await.unwrap();
    rows.into_iter().flat_map(|(a, b, c)| [a, b, c]).flatten().collect()
}

#[tokio::test]
async fn posts_are_kept_with_history_and_sealed_phones() {
    all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = hierarchy(db).await;
        let mut new = member("王海燕");
        new.building_ids = vec![h.building.id.clone()];
        new.duty_phone = Some("0535-6661234".into());
        new.starts_on = Some("2025-03-01".into());
        let added = team::add(db, &h.grid.id, &new).await.unwrap();
        assert_eq!(added.post, TeamPost::Member);
        assert_eq!(added.phone.as_deref(), Some(PHONE), "normalised and readable by who keeps the team");
        assert_eq!(added.building_ids, vec![h.building.id.clone()]);
        assert_eq!(added.duty_phone_consent_at, None, "no consent unless given");
        assert!(added.current());
        for value in stored_texts(t).await {
            assert!(!value.contains(PHONE) && !value.contains("1234"), "{value} is not the phone in clear");
        }
        let hidden = team::roster(db, &h.grid.id, Phones::Hidden, false).await.unwrap();
        assert_eq!(hidden.len(), 1);
        assert_eq!(hidden[0].phone, None);
        assert_eq!(hidden[0].clone().public().duty_phone, None, "the duty phone is public only with consent");

        // An edit without a phone keeps it; consent is recorded with its time.
        let edit = NewPost {
            person_name: "王海燕".into(),
            duty_phone: Some("0535-6661234".into()),
            duty_phone_consent: true,
            building_ids: vec![h.building.id.clone()],
            ..Default::default()
        };
        let edited = team::update(db, &added.id, &edit).await.unwrap();
        assert_eq!(edited.phone.as_deref(), Some(PHONE));
        assert!(edited.duty_phone_consent_at.is_some_and(|at| at <= now_millis()));
        assert_eq!(edited.clone().public().duty_phone.as_deref(), Some("0535-6661234"));

        // Ending keeps the post as history.
        let ended = team::end(db, &added.id, Some("2020-01-01")).await;
        assert!(matches!(ended, Err(StoreError::Invalid(_))), "before the start: {ended:?}");
        let yesterday = team::end(db, &added.id, Some("2026-01-01")).await.unwrap();
        assert!(!yesterday.current());
        assert!(team::roster(db, &h.grid.id, Phones::Full, false).await.unwrap().is_empty());
        assert_eq!(team::roster(db, &h.grid.id, Phones::Full, true).await.unwrap().len(), 1, "history kept");
        assert!(matches!(team::end(db, &added.id, None).await, Err(StoreError::Conflict(_))));

        // A building of another grid is refused; so are a bad phone and an unknown post.
        let mut elsewhere = member("李强");
        elsewhere.building_ids = vec![h.building.id.clone()];
        assert!(matches!(team::add(db, &h.other_grid.id, &elsewhere).await, Err(StoreError::Invalid(_))));
        let bad_phone = NewPost { phone: Some("12345".into()), ..member("李强") };
        assert!(matches!(team::add(db, &h.grid.id, &bad_phone).await, Err(StoreError::Invalid(_))));
        let bad_post = NewPost { post: Some("队长".into()), ..member("李强") };
        assert!(matches!(team::add(db, &h.grid.id, &bad_post).await, Err(StoreError::Invalid(_))));
        assert!(matches!(team::add(db, &h.community.id, &member("李强")).await, Err(StoreError::Invalid(_))));
        // A street has no hotline of its own: the settings say so in their own words.
        let settings = wangge_store::demands::routing::CommunitySettings::default();
        let refused = wangge_store::demands::routing::set_settings(db, &h.street.id, &settings).await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(ref m)) if m.key == "demands.error.settings_community"),
            "{refused:?}"
        );
    })
    .await;
}

/// Rows an older version wrote with the phone in plain text are sealed by the next
/// `migrate` and the plain column cleared; a second run has nothing to do.
#[tokio::test]
async fn plain_phones_of_older_versions_are_sealed_on_migrate() {
    all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = hierarchy(db).await;
        sqlx::query(
            "INSERT INTO grid_posts (id, grid_id, post, person_name, phone, created_at) \
             VALUES ('legacy-1', $1, 'leader', '赵建国', '13805359876', 1)",
        )
        .bind(&h.grid.id)
        .execute(&db.pool)
        .await
        .unwrap();
        db.migrate().await.unwrap();
        for value in stored_texts(t).await {
            assert!(!value.contains("13805359876"), "{value}");
        }
        let post = team::get(db, "legacy-1", Phones::Full).await.unwrap();
        assert_eq!(post.phone.as_deref(), Some("13805359876"));
        assert_eq!(team::seal_plain_phones(db).await.unwrap(), 0);
    })
    .await;
}
