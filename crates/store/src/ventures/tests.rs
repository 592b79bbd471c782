//! A call from applications to the library against hand-computed scores, ranks
//! and amounts, on both engines.

use wangge_domain::ventures::{ApplicationState, CallState, Criterion, Grade, Stage};

use super::*;
use crate::testing::{self, TestDb};

fn key<T: std::fmt::Debug>(r: &StoreResult<T>) -> String {
    match r {
        Err(StoreError::Conflict(m)) | Err(StoreError::Invalid(m)) => m.key.to_string(),
        other => format!("not refused: {other:?}"),
    }
}

/// Scores in the order of the default criteria: need, fit, participation,
/// feasibility, novelty, sustainability, budget.
fn marks(s: [i64; 7]) -> Vec<(Criterion, i64)> {
    Criterion::all().iter().copied().zip(s).collect()
}

/// A budget of 30,000 yuan and three applications:
/// - 文明养犬 (asks 12,000): judge 甲 10,9,9,9,8,9,9 → 200+135+135+135+80+135+90 = 910;
///   judge 乙 9,9,9,9,9,9,9 → 900; mean 905 (90.5, A) → 12,000.
/// - 垃圾分类 (asks 20,000): 甲 8,8,8,8,8,8,8 → 800; 乙 8,9,8,8,7,8,8 → 160+135+120+120+70+120+80
///   = 805; mean (800+805)/2 = 802.5 → 803 (80.3, B, cap 15,000) → 15,000.
/// - 楼道美化 (asks 8,000): 甲 6,6,6,6,6,6,6 → 600; 乙 7,6,6,6,6,6,6 → 620; mean 610 (61.0, C)
///   → 3,000 left, under the 5,000 least → nothing.
#[tokio::test]
async fn a_call_ranked_granted_spent_evaluated_and_rated() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let now = wangge_domain::now_millis();
        let new = NewCall {
            community_id: h.community.id.clone(),
            title: "2026年社区微创投".into(),
            intro: "支持居民自组织解决身边小事".into(),
            budget_fen: 3_000_000,
            closes_on: "2026-04-30".into(),
            weights: None,
        };
        assert_eq!(
            key(&create_call(db, NewCall { budget_fen: 100, ..new.clone() }, "书记", now).await),
            "ventures.error.budget"
        );
        assert_eq!(
            key(&create_call(db, NewCall { community_id: h.grid.id.clone(), ..new.clone() }, "书记", now).await),
            "ventures.error.community"
        );
        let call = create_call(db, new, "书记", now).await.unwrap();
        assert_eq!(call.weights.iter().map(|w| w.percent).sum::<i64>(), 100);
        let app = |title: &str, yuan: i64| NewApplication {
            unit_id: None,
            applicant: format!("{title}志愿队"),
            contact: "王队长 13900000000".into(),
            title: title.into(),
            need: "居民反映多".into(),
            plan: "每月两次活动".into(),
            requested_fen: yuan * 100,
        };
        let too_much = apply(db, &call.id, app("太贵", 40_000), now).await;
        assert_eq!(key(&too_much), "ventures.error.requested");
        let dogs = apply(db, &call.id, app("文明养犬", 12_000), now).await.unwrap();
        let waste = apply(db, &call.id, app("垃圾分类", 20_000), now + 1).await.unwrap();
        let stairs = apply(db, &call.id, app("楼道美化", 8_000), now + 2).await.unwrap();
        assert_eq!(key(&score(db, &dogs.id, "甲", &marks([9; 7]), now).await), "ventures.error.not_review");

        assert_eq!(advance(db, &call.id, now).await.unwrap().state, CallState::Review);
        assert_eq!(key(&apply(db, &call.id, app("晚了", 6_000), now).await), "ventures.error.not_open");
        for (x, a, b) in [
            (&dogs, [10, 9, 9, 9, 8, 9, 9], [9; 7]),
            (&waste, [8; 7], [8, 9, 8, 8, 7, 8, 8]),
            (&stairs, [6; 7], [7, 6, 6, 6, 6, 6, 6]),
        ] {
            score(db, &x.id, "甲", &marks(a), now).await.unwrap();
            score(db, &x.id, "乙", &marks(b), now).await.unwrap();
        }
        let partial: Vec<(Criterion, i64)> = marks([9; 7]).into_iter().take(6).collect();
        assert_eq!(key(&score(db, &dogs.id, "丙", &partial, now).await), "ventures.error.unscored");
        // 甲 scores 文明养犬 again: the new scores replace the old.
        score(db, &dogs.id, "甲", &marks([10, 9, 9, 9, 8, 9, 9]), now).await.unwrap();
        let judged = scores(db, &dogs.id).await.unwrap();
        assert_eq!(judged.iter().map(|j| (j.judge.as_str(), j.total)).collect::<Vec<_>>(), [("乙", 900), ("甲", 910)]);

        let call = advance(db, &call.id, now).await.unwrap();
        assert_eq!(call.state, CallState::Published);
        assert_eq!(call.given_fen, 2_700_000);
        type Ranked = (String, Option<i64>, Option<i64>, Option<Grade>, i64, ApplicationState);
        let ranked: Vec<Ranked> = applications(db, &call.id)
            .await
            .unwrap()
            .into_iter()
            .map(|x| (x.title, x.rank, x.score_tenths, x.grade, x.amount_fen / 100, x.state))
            .collect();
        assert_eq!(
            ranked,
            [
                ("文明养犬".into(), Some(1), Some(905), Some(Grade::A), 12_000, ApplicationState::Funded),
                ("垃圾分类".into(), Some(2), Some(803), Some(Grade::B), 15_000, ApplicationState::Funded),
                ("楼道美化".into(), Some(3), Some(610), Some(Grade::C), 0, ApplicationState::Declined),
            ]
        );

        // Granted 12,000: 9,000 then 3,000 fit; 0.01 more needs a decision.
        assert_eq!(key(&grant(db, &stairs.id, now).await), "ventures.error.not_funded");
        let spend_on = |yuan: i64, decision: Option<&str>| NewSpending {
            spent_on: "2026-06-01".into(),
            amount_fen: yuan,
            what: "宣传材料".into(),
            decision: decision.map(str::to_owned),
        };
        assert_eq!(key(&spend(db, &dogs.id, spend_on(900_000, None), "社工", now).await), "ventures.error.not_granted");
        grant(db, &dogs.id, now).await.unwrap();
        spend(db, &dogs.id, spend_on(900_000, None), "社工", now).await.unwrap();
        let kept = spend(db, &dogs.id, spend_on(300_000, Some("不需要")), "社工", now).await.unwrap();
        assert_eq!(kept.decision, None, "a decision is kept only where it was needed");
        assert_eq!(key(&spend(db, &dogs.id, spend_on(1, None), "社工", now).await), "ventures.error.over_grant");
        let over = spend(db, &dogs.id, spend_on(50_000, Some("两委会6月3日决定追加500元")), "社工", now).await.unwrap();
        assert_eq!(over.decision.as_deref(), Some("两委会6月3日决定追加500元"));
        assert_eq!(application(db, &dogs.id).await.unwrap().spent_fen, 1_250_000);

        assert_eq!(key(&evaluate(db, &dogs.id, Stage::Final, 90, "完成", "评估组", now).await), "ventures.error.stage");
        evaluate(db, &dogs.id, Stage::Midterm, 85, "按计划推进", "评估组", now).await.unwrap();
        let done = evaluate(db, &dogs.id, Stage::Final, 92, "文明养犬公约签订120户", "评估组", now).await.unwrap();
        assert_eq!((done.state, done.result.as_str()), (ApplicationState::Finished, "文明养犬公约签订120户"));

        // Two residents rate it 5 and 4: mean 4.5.
        for (name, n) in [("resident-a", 5), ("resident-b", 4)] {
            let account = crate::security::accounts::create(
                db,
                crate::security::accounts::NewAccount {
                    username: name.into(),
                    display_name: name.into(),
                    role: wangge_domain::Role::Resident,
                    scopes: vec![testing::COMMUNITY.into()],
                    password: "a-long-password-1".into(),
                },
            )
            .await
            .unwrap();
            assert_eq!(key(&rate(db, &dogs.id, &account.id, None, "", now).await), "ventures.error.rating");
            rate(db, &dogs.id, &account.id, Some(n), "好", now).await.unwrap();
            assert_eq!(key(&rate(db, &dogs.id, &account.id, Some(1), "", now).await), "ventures.error.rated");
        }
        const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
        assert_eq!(
            key(&add_photo(db, &dogs.id, "公约签订", b"not an image at all", "社工", now).await),
            "demands.error.file_type"
        );
        assert_eq!(key(&add_photo(db, &dogs.id, " ", PNG, "社工", now).await), "ventures.error.caption");
        add_photo(db, &dogs.id, "文明养犬公约签订仪式", PNG, "社工", now).await.unwrap();
        let shown = photos(db, &dogs.id).await.unwrap();
        assert_eq!((shown.len(), shown[0].caption.as_str()), (1, "文明养犬公约签订仪式"));
        let shelf = library(db, &h.community.path, None).await.unwrap();
        assert_eq!(shelf.len(), 1);
        assert_eq!((shelf[0].ratings, shelf[0].mean_tenths), (2, Some(45)));
    })
    .await;
}
