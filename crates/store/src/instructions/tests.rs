//! Instructions against hand-computed figures, on both engines.

use wangge_domain::AreaLevel;

use super::*;
use crate::registry::areas::{self, NewArea};
use crate::testing::{self, TestDb};

fn table() -> Table {
    Table {
        rows: vec!["独居老人".into(), "残疾人".into()], columns: vec!["应走访".into(), "已走访".into()]
    }
}

fn report(figures: Figures) -> Step {
    Step::Report { text: "已按要求完成".into(), figures: Some(figures), files: Vec::new() }
}

/// A street sends to its two communities (the fixture's 第一社区 and a second one);
/// the first passes it down to its two grids. Hand-computed: grid 1 reports
/// [[5, 4], [1, 1]], grid 2 [[3, 3], [2, 0]]; the community accepts grid 1 only, so
/// its sum is grid 1's alone, then both: [[8, 7], [3, 1]].
#[tokio::test]
async fn reports_go_up_are_returned_accepted_locked_and_summed() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let second = areas::create(
            db,
            NewArea {
                parent_id: Some(h.street.id.clone()),
                level: AreaLevel::Community,
                code: "370602004012".into(),
                name: "第二社区".into(),
                boundary: None,
            },
        )
        .await
        .unwrap();
        let today = super::today();
        let due = iso(today + time::Duration::days(3));
        let new = NewInstruction {
            area_id: h.street.id.clone(),
            title: "冬季独居老人走访情况".into(),
            body: "请各社区于周五前上报。".into(),
            due_on: due.clone(),
            receivers: vec![h.community.id.clone(), second.id.clone()],
            table: Some(table()),
            campaign_id: None,
        };

        // Nobody outside the sender's subtree can be addressed, nor the sender itself.
        for outside in [h.district.id.clone(), h.street.id.clone()] {
            let mut wrong = new.clone();
            wrong.receivers = vec![h.community.id.clone(), outside];
            let refused = send(db, wrong, &[], None, "街道", today).await;
            assert!(
                matches!(refused, Err(StoreError::Invalid(ref m)) if m.key == "instructions.error.outside"),
                "{refused:?}"
            );
        }
        let mut past = new.clone();
        past.due_on = iso(today - time::Duration::days(1));
        assert!(matches!(send(db, past, &[], None, "街道", today).await, Err(StoreError::Invalid(_))));
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM instructions").fetch_one(&db.pool).await.unwrap();
        assert_eq!(count, 0, "nothing half-written");

        let i =
            send(db, new, &[NewFile { name: "通知.pdf".into(), data: b"%PDF-1.4 x".to_vec() }], None, "街道", today)
                .await
                .unwrap();
        assert_eq!(files(db, &i.id, None).await.unwrap().len(), 1);
        let all = receipts(db, &i.id).await.unwrap();
        assert_eq!(all.len(), 2);
        let (first, other) = (all[0].clone(), all[1].clone());
        assert_eq!((first.area_id.as_str(), first.state), (h.community.id.as_str(), ReceiptState::Sent));

        // The first community reads it and passes it to its grids.
        let read = step(db, &first.id, Step::Read, "书记").await.unwrap();
        assert_eq!((read.state, read.read_by_name.as_deref()), (ReceiptState::Read, Some("书记")));
        let again = step(db, &first.id, Step::Read, "社工").await.unwrap();
        assert_eq!(
            (again.read_at, again.read_by_name.as_deref()),
            (read.read_at, Some("书记")),
            "the first read stays"
        );
        let passed = pass_down(db, &first.id, &[h.grid.id.clone(), h.other_grid.id.clone()]).await.unwrap();
        assert_eq!(passed.len(), 2);
        assert!(passed.iter().all(|r| r.parent_id.as_deref() == Some(first.id.as_str())));
        assert_eq!(reviewer_path(db, &passed[0]).await.unwrap(), h.community.path);
        assert_eq!(reviewer_path(db, &first).await.unwrap(), h.street.path);
        let twice = pass_down(db, &first.id, std::slice::from_ref(&h.grid.id)).await;
        assert!(matches!(twice, Err(StoreError::Conflict(_))), "a grid receives it once: {twice:?}");
        let sideways = pass_down(db, &other.id, std::slice::from_ref(&h.grid.id)).await;
        assert!(matches!(sideways, Err(StoreError::Invalid(_))), "not below the second community");

        // The grids report; a report with the wrong shape or without figures is refused.
        let (g1, g2) = (passed[0].id.clone(), passed[1].id.clone());
        let wrong = step(db, &g1, report(vec![vec![5, 4]]), "网格员").await;
        assert!(matches!(wrong, Err(StoreError::Invalid(ref m)) if m.key == "instructions.error.figures"));
        step(db, &g1, report(vec![vec![5, 4], vec![1, 1]]), "网格员").await.unwrap();
        step(db, &g2, report(vec![vec![3, 3], vec![2, 0]]), "网格员").await.unwrap();
        assert_eq!(children_sum(db, &first.id).await.unwrap(), Some((vec![vec![0, 0], vec![0, 0]], 0, 2)));
        step(db, &g1, Step::Accept, "书记").await.unwrap();
        assert_eq!(children_sum(db, &first.id).await.unwrap(), Some((vec![vec![5, 4], vec![1, 1]], 1, 2)));

        // Returned with a reason, reported again, accepted; then locked.
        let no_reason = step(db, &g2, Step::Return { reason: " ".into() }, "书记").await;
        assert!(matches!(no_reason, Err(StoreError::Invalid(ref m)) if m.key == "instructions.error.reason"));
        let back = step(db, &g2, Step::Return { reason: "残疾人已走访数为 0，请核实".into() }, "书记").await.unwrap();
        assert_eq!((back.state, back.returns), (ReceiptState::Returned, 1));
        assert!(matches!(step(db, &g2, Step::Accept, "书记").await, Err(StoreError::Conflict(_))), "nothing to accept");
        step(db, &g2, report(vec![vec![3, 3], vec![2, 2]]), "网格员").await.unwrap();
        let accepted = step(db, &g2, Step::Accept, "书记").await.unwrap();
        assert_eq!(
            (accepted.state, accepted.figures.clone()),
            (ReceiptState::Accepted, Some(vec![vec![3, 3], vec![2, 2]]))
        );
        let (sum, n, of) = children_sum(db, &first.id).await.unwrap().unwrap();
        assert_eq!((sum.clone(), n, of), (vec![vec![8, 7], vec![3, 3]], 2, 2));
        for s in [report(vec![vec![9, 9], vec![9, 9]]), Step::Return { reason: "x".into() }, Step::Read] {
            let locked = step(db, &g2, s, "书记").await;
            assert!(
                matches!(locked, Err(StoreError::Conflict(ref m)) if m.key == "instructions.error.locked"),
                "{locked:?}"
            );
        }
        assert_eq!(receipt(db, &g2).await.unwrap().figures, Some(vec![vec![3, 3], vec![2, 2]]), "unchanged");
        assert!(matches!(pass_down(db, &g2, &[]).await, Err(StoreError::Conflict(_))));

        // The community reports the sum, the street accepts; the second community is late
        // only once the due day has passed.
        step(db, &first.id, report(sum), "书记").await.unwrap();
        step(db, &first.id, Step::Accept, "街道").await.unwrap();
        let sent = sent_page(db, &h.street.path, "", PageRequest::new(Some(1), Some(10))).await.unwrap();
        assert_eq!((sent.items.len(), sent.total), (1, 1));
        let s = &sent.items[0];
        assert_eq!(
            (s.receivers, s.read, s.reported, s.accepted, s.late),
            (2, 1, 1, 1, 0),
            "the street's own receivers"
        );
        // Paged and searched as the list page asks: words of the title, each, as typed.
        let title = s.instruction.title.clone();
        let word: String = title.chars().take(2).collect();
        for (search, found) in [(word.as_str(), 1), ("无此字样", 0), ("%", 0), ("_", 0)] {
            let sent = sent_page(db, &h.street.path, search, PageRequest::default()).await.unwrap();
            assert_eq!((sent.items.len() as i64, sent.total), (found, found), "sent, searching {search:?}");
            let paths = [h.community.path.clone(), second.path.clone()];
            let got = received_page(db, &paths, search, PageRequest::default()).await.unwrap();
            assert_eq!(got.total, 2 * found, "received, searching {search:?}");
        }
        let paths = [h.community.path.clone(), second.path.clone()];
        let first_page = received_page(db, &paths, "", PageRequest::new(Some(1), Some(1))).await.unwrap();
        let second_page = received_page(db, &paths, "", PageRequest::new(Some(2), Some(1))).await.unwrap();
        assert_eq!((first_page.total, first_page.items.len(), second_page.items.len()), (2, 1, 1));
        assert_ne!(first_page.items[0].1.id, second_page.items[0].1.id, "the second page goes on");
        assert!(sent_page(db, &h.community.path, "", PageRequest::default()).await.unwrap().items.is_empty());
        let mine = received_at(db, &second.path, true, 10).await.unwrap();
        assert_eq!(mine.len(), 1, "open at the second community");
        assert!(received_at(db, &h.community.path, true, 10).await.unwrap().is_empty(), "done at the first");
        // A day later than due: the second community, which reported nothing, is late;
        // the first, whose report came the day before the due day, is not.
        let yesterday = today - time::Duration::days(1);
        sqlx::query("UPDATE instructions SET due_on = $1").bind(iso(yesterday)).execute(&db.pool).await.unwrap();
        sqlx::query("UPDATE instruction_receipts SET reported_on = $1 WHERE id = $2")
            .bind(iso(yesterday - time::Duration::days(1)))
            .bind(&first.id)
            .execute(&db.pool)
            .await
            .unwrap();
        assert!(receipt(db, &other.id).await.unwrap().late);
        assert!(!receipt(db, &first.id).await.unwrap().late);
        assert!(receipt(db, &g2).await.unwrap().late, "reported today, after the due day");

        // Reminders: the second community's open receipt, once late (its due day was
        // yesterday) and never twice; reported or accepted ones are left alone.
        let secretary = crate::security::accounts::NewAccount {
            username: "dierbushuji".into(),
            display_name: "第二社区书记".into(),
            role: wangge_domain::Role::CommunitySecretary,
            scopes: vec![second.code.clone()],
            password: "a-long-password-1".into(),
        };
        crate::security::accounts::create(db, secretary).await.unwrap();
        let notices = async || -> i64 {
            sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE module = 'instructions'")
                .fetch_one(&db.pool)
                .await
                .unwrap()
        };
        assert_eq!(remind(db, today).await.unwrap(), 1);
        assert_eq!(remind(db, today).await.unwrap(), 0, "once");
        assert_eq!(notices().await, 1, "to the second community's secretary");
        // The day before a due day: soon.
        sqlx::query("UPDATE instructions SET due_on = $1")
            .bind(iso(today + time::Duration::days(1)))
            .execute(&db.pool)
            .await
            .unwrap();
        assert_eq!(remind(db, today).await.unwrap(), 1, "the second community, due tomorrow");
        assert_eq!(notices().await, 2);
    })
    .await;
}
