//! Home visits over HTTP (issue 19): a grid member's due list (API and page), the
//! one-screen form that settles it, what was found kept out of the audit log, and
//! households of another grid out of reach.

use serde_json::Value;
use wangge_domain::Role;
use wangge_store::testing;

use crate::common::servers;

#[test]
fn a_grid_members_visit_settles_the_due_list() {
    for s in servers() {
        let db = &s.db.db;
        let h = s.runtime.block_on(async {
            wangge_store::registry::tags::ensure_standard(db).await.unwrap();
            let h = testing::hierarchy(db).await;
            let new = wangge_store::registry::residents::NewResident {
                household_id: h.household.id.clone(),
                name: "王奶奶".into(),
                gender: Some(wangge_domain::Gender::Female),
                birth_date: Some("1941-02-03".into()),
                tags: vec!["elderly_alone".into()],
                ..Default::default()
            };
            let grandma = wangge_store::registry::residents::create(db, new).await.unwrap();
            (h, grandma.id)
        });
        let (h, grandma) = h;
        let member = s.token(Role::GridMember, testing::GRID);

        // Due today: the household (quarterly, never visited) and 王奶奶 (weekly at the door).
        let (status, due) = s.call(&member, "GET", "/api/v1/visits/due", None);
        assert_eq!(status, 200, "{due}");
        let who = |due: &Value| -> Vec<String> {
            due.as_array().unwrap().iter().map(|e| e["subject"]["name"].as_str().unwrap_or("户").to_owned()).collect()
        };
        assert_eq!(who(&due), vec!["户", "王奶奶"], "{due}");
        assert_eq!(due[1]["room"], "301");
        assert_eq!(due[1]["overdue_days"], 0);
        let (status, page) = s.call_text(&member, "GET", "/visits", None);
        assert_eq!(status, 200);
        let page = page.replace("&#x2f;", "/");
        assert!(page.contains("王奶奶") && page.contains("1 / 1 户"), "{page}");
        assert!(page.contains(&format!("/visits/new?household={}&amp;resident={grandma}", h.household.id)), "{page}");
        let (status, form) =
            s.call_text(&member, "GET", &format!("/visits/new?household={}&resident={grandma}", h.household.id), None);
        assert_eq!(status, 200);
        assert!(form.contains("301") && form.contains(&format!("value=\"{grandma}\" checked")), "{form}");

        // No channel chosen: the form again, with what is missing and what was typed.
        let today = time::OffsetDateTime::now_utc().date() - time::Duration::days(1);
        let base = format!("household_id={}&resident_id={grandma}&visited_on={today}", h.household.id);
        let (status, again) =
            s.call_form(&member, "/visits", &format!("{base}&outcome=met&findings=%E8%A1%80%E5%8E%8B"));
        assert_eq!(status, 422);
        let again = again.as_str().unwrap().to_owned();
        assert!(again.contains("请选择走访方式") && again.contains(">血压</textarea>"), "{again}");

        // A call to her settles the household's quarterly cadence, not her door visit.
        let (status, _) = s.call_form(
            &member,
            "/visits",
            &format!("{base}&channel=phone&outcome=met&findings=%E8%A1%80%E5%8E%8B%E5%81%8F%E9%AB%98"),
        );
        assert_eq!(status, 303);
        let (_, due) = s.call(&member, "GET", "/api/v1/visits/due", None);
        assert_eq!(who(&due), vec!["王奶奶"], "{due}");
        // At the door: nothing is due.
        let body = serde_json::json!({"household_id": h.household.id, "channel": "door", "outcome": "met",
            "visited_on": today.to_string(), "purpose": "例行走访"});
        let (status, visit) = s.call(&member, "POST", "/api/v1/visits", Some(&body));
        assert_eq!(status, 201, "{visit}");
        let (_, due) = s.call(&member, "GET", "/api/v1/visits/due", None);
        assert_eq!(due, serde_json::json!([]));
        let (_, page) = s.call_text(&member, "GET", "/visits", None);
        assert!(page.contains("今天没有到期的走访"), "{page}");

        let (status, visits) = s.call(&member, "GET", &format!("/api/v1/households/{}/visits", h.household.id), None);
        assert_eq!(status, 200);
        assert_eq!(visits.as_array().unwrap().len(), 2);
        assert_eq!(visits[1]["findings"], "血压偏高", "{visits}");
        let (_, coverage) = s.call(&member, "GET", "/api/v1/visits/coverage", None);
        assert_eq!((coverage["households"].as_u64(), coverage["not_visited"].as_u64()), (Some(1), Some(0)));

        // Audited, without what was found.
        let audited: Vec<String> = s
            .runtime
            .block_on(
                sqlx::query_scalar("SELECT COALESCE(after, '') FROM audit_log WHERE action = 'visit.record'")
                    .fetch_all(&db.pool),
            )
            .unwrap();
        assert_eq!(audited.len(), 2);
        assert!(audited.iter().all(|a| !a.contains("血压") && a.contains("\"channel\"")), "{audited:?}");

        // The grid next door reaches neither this household nor this grid's list.
        let next = s.token(Role::GridMember, testing::OTHER_GRID);
        let (status, _) = s.call(&next, "POST", "/api/v1/visits", Some(&body));
        assert_eq!(status, 404);
        let (status, _) = s.call(&next, "GET", &format!("/api/v1/visits/due?area={}", testing::GRID), None);
        assert_eq!(status, 403);
        let street = s.token(Role::StreetOfficial, testing::STREET);
        let (status, _) = s.call(&street, "GET", "/visits", None);
        assert_eq!(status, 403, "officials above the community do not visit");
    }
}
