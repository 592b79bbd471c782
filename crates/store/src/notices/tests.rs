//! Targeting, scheduling, expiry and read tracking against counts by hand.

use wangge_domain::notices::{NoticeState, NoticeStep, TargetKind};
use wangge_domain::{Role, now_millis};

use super::tests_support::household_in;
use super::*;
use crate::registry::{residents, tags};
use crate::security::accounts::{self, NewAccount};
use crate::testing::{self, TestDb};

/// A resident account bound to `household_id`.
pub(crate) async fn resident_account(db: &Db, name: &str, household_id: &str) -> String {
    let new = NewAccount {
        username: name.into(),
        display_name: name.into(),
        role: Role::Resident,
        scopes: vec![testing::COMMUNITY.into()],
        password: "a-long-password-1".into(),
    };
    let a = accounts::create(db, new).await.expect("account");
    accounts::bind_household(db, &a.id, household_id).await.expect("bind");
    a.id
}

async fn published(db: &Db, area_id: &str, title: &str, important: bool, targets: Vec<(TargetKind, String)>) -> Notice {
    let input = NoticeInput { title: title.into(), body: "正文".into(), important, targets, ..Default::default() };
    let n = create(db, area_id, &input, ("author", "作者")).await.expect("create");
    step(db, &n.id, NoticeStep::Submit, "作者").await.expect("submit");
    step(db, &n.id, NoticeStep::Publish, "审核人").await.expect("publish")
}

#[tokio::test]
async fn targets_schedules_and_reads_are_exact() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let h5 = household_in(db, &h.grid.id, "5").await;
        let h7 = household_in(db, &h.other_grid.id, "7").await;
        let catalogue = tags::ensure_standard(db).await.expect("tags");
        let tag = &catalogue[0];
        let person = residents::NewResident {
            household_id: h5.id.clone(),
            name: "王阿姨".into(),
            gender: Some(wangge_domain::Gender::Female),
            birth_date: Some("1950-01-01".into()),
            tags: vec![tag.code.clone()],
            ..Default::default()
        };
        residents::create(db, person).await.expect("resident");
        let a = resident_account(db, "resident-a", &h.household.id).await;
        let b = resident_account(db, "resident-b", &h5.id).await;
        let c = resident_account(db, "resident-c", &h7.id).await;

        let everyone = published(db, &h.community.id, "全体", true, vec![]).await;
        let building3 =
            published(db, &h.community.id, "3号楼停水", false, vec![(TargetKind::Building, h.building.id.clone())])
                .await;
        let grid2 =
            published(db, &h.community.id, "二网格", true, vec![(TargetKind::Grid, h.other_grid.id.clone())]).await;
        let tagged = published(db, &h.community.id, "关爱", false, vec![(TargetKind::Tag, tag.id.clone())]).await;
        let now = now_millis();
        let later = NoticeInput {
            title: "以后".into(),
            body: "x".into(),
            publish_at: Some(now + 3_600_000),
            ..Default::default()
        };
        let later = create(db, &h.community.id, &later, ("author", "作者")).await.unwrap();
        step(db, &later.id, NoticeStep::Submit, "x").await.unwrap();
        let later = step(db, &later.id, NoticeStep::Publish, "x").await.unwrap();
        assert_eq!(later.state, NoticeState::Published);
        let draft = NoticeInput { title: "草稿".into(), body: "x".into(), ..Default::default() };
        create(db, &h.community.id, &draft, ("author", "作者")).await.unwrap();

        let titles = async |account: &str| -> Vec<String> {
            let mut v: Vec<String> =
                for_account(db, account, now_millis()).await.unwrap().into_iter().map(|s| s.notice.title).collect();
            v.sort();
            v
        };
        assert_eq!(titles(&a).await, vec!["3号楼停水", "全体"]);
        assert_eq!(titles(&b).await, vec!["全体", "关爱"]);
        assert_eq!(titles(&c).await, vec!["二网格", "全体"]);
        // Scheduled: shown once its time has come.
        let shown_later = for_account(db, &a, now + 3_600_001).await.unwrap();
        assert!(shown_later.iter().any(|s| s.notice.id == later.id));

        // A notice meant for others is not opened, and not marked read.
        assert!(matches!(open(db, &grid2.id, &a, now_millis()).await, Err(StoreError::NotFound { .. })));
        assert_eq!(reach(db, &everyone.id).await.unwrap(), (3, 0));
        open(db, &everyone.id, &a, now_millis()).await.expect("open");
        open(db, &everyone.id, &a, now_millis()).await.expect("open twice counts once");
        assert_eq!(reach(db, &everyone.id).await.unwrap(), (3, 1));
        assert_eq!(reach(db, &building3.id).await.unwrap(), (1, 0));
        assert_eq!(reach(db, &tagged.id).await.unwrap(), (1, 0));
        assert!(for_account(db, &a, now_millis()).await.unwrap().iter().any(|s| s.notice.id == everyone.id && s.read));

        // Important and unread: B and C for "全体", C for "二网格"; A has read hers.
        let unread = unread_important(db, &h.community.path, now_millis()).await.unwrap();
        let mut pairs: Vec<(String, String)> =
            unread.iter().map(|u| (u.account_name.clone(), u.title.clone())).collect();
        pairs.sort();
        assert_eq!(
            pairs,
            vec![
                ("resident-b".to_owned(), "全体".to_owned()),
                ("resident-c".to_owned(), "二网格".to_owned()),
                ("resident-c".to_owned(), "全体".to_owned()),
            ]
        );
        let in_grid = unread_important(db, &h.grid.path, now_millis()).await.unwrap();
        assert_eq!(in_grid.len(), 1, "only B lives in the first grid and has not read");

        // The public page: everyone's and the grid's own, never a building's or a tag's.
        let public = |g| async move {
            public_of_grid(db, g, now_millis()).await.unwrap().into_iter().map(|n| n.title).collect::<Vec<_>>()
        };
        assert_eq!(public(&h.grid).await, vec!["全体"]);
        let mut second = public(&h.other_grid).await;
        second.sort();
        assert_eq!(second, vec!["二网格", "全体"]);

        // Reach by grid: grid 1 has A (read) and B (2 live notices each: A 全体+3号楼, B 全体+关爱).
        let by_grid = reach_by_grid(db, &h.community.path, now_millis()).await.unwrap();
        assert_eq!(by_grid, vec![("第一网格".to_owned(), 4, 1), ("第二网格".to_owned(), 2, 0)]);

        // Withdrawn: gone at once.
        step(db, &everyone.id, NoticeStep::Withdraw, "x").await.unwrap();
        assert_eq!(titles(&b).await, vec!["关爱"]);
        // Expiry after the publish time; a target outside the area is refused.
        let bad_expiry = NoticeInput {
            title: "t".into(),
            body: "b".into(),
            publish_at: Some(10),
            expires_at: Some(5),
            ..Default::default()
        };
        assert!(matches!(create(db, &h.community.id, &bad_expiry, ("a", "a")).await, Err(StoreError::Invalid(_))));
        let outside = NoticeInput {
            title: "t".into(),
            body: "b".into(),
            targets: vec![(TargetKind::Building, h7.building_id.clone())],
            ..Default::default()
        };
        assert!(matches!(create(db, &h.grid.id, &outside, ("a", "a")).await, Err(StoreError::NotFound { .. })));
        // A published notice is not edited.
        assert!(matches!(update(db, &grid2.id, &draft).await, Err(StoreError::Conflict(_))));
    })
    .await;
}
