//! 今日 (today), a grid member's home, over real HTTP on every backend: their items by
//! deadline with the overdue first, the items waiting for their verification, the new
//! reports of their grid, one tap to act from a card, and the landing after login.

use crate::common::{Auth, Server};
use serde_json::{Value, json};
use wangge_domain::Role;

fn ok(response: (u16, Value)) -> Value {
    assert!(response.0 == 200 || response.0 == 201, "{} {}", response.0, response.1);
    response.1
}

fn new_item(s: &Server, who: &Auth, building: &Value, title: &str) -> String {
    let body = json!({"building_id": building["id"], "category": "public_facilities", "title": title,
        "description": "二单元", "reporter_name": "刘一", "reporter_phone": "13805351234"});
    ok(s.call(who, "POST", "/api/v1/demands", Some(&body)))["id"].as_str().unwrap().to_owned()
}

fn step(s: &Server, who: &Auth, id: &str, step: &str, body: Value) {
    ok(s.call(who, "POST", &format!("/api/v1/demands/{id}/{step}"), Some(&body)));
}

fn set_due(s: &Server, id: &str, due: i64) {
    s.runtime.block_on(async {
        sqlx::query("UPDATE demands SET resolve_due = $1 WHERE id = $2")
            .bind(due)
            .bind(id)
            .execute(&s.db.db.pool)
            .await
            .unwrap();
    });
}

#[test]
fn a_grid_members_day_lists_their_work_overdue_first_with_one_tap_to_act() {
    for s in crate::common::servers() {
        let made = s.areas_down_to_grid();
        let secretary = s.token(Role::CommunitySecretary, "370602004011");
        let body = json!({"grid_id": made[4]["id"], "number": "3", "kind": "residential"});
        let building = ok(s.call(&secretary, "POST", "/api/v1/buildings", Some(&body)));
        let member_id = s.create_account("zhangwangge", Role::GridMember, &["370602004011001"], "long-enough-password");
        let (_, _, member) = s.login("zhangwangge", "long-enough-password");

        let dispatch = json!({"handler_kind": "grid_member", "handler_id": member_id, "handler_name": "张网格"});
        let later = new_item(&s, &secretary, &building, "晾衣架松动");
        let overdue = new_item(&s, &secretary, &building, "楼道灯不亮");
        for id in [&later, &overdue] {
            step(&s, &secretary, id, "accept", json!({}));
            step(&s, &secretary, id, "dispatch", dispatch.clone());
        }
        let now = wangge_domain::now_millis();
        set_due(&s, &overdue, now - 2 * 86_400_000);
        set_due(&s, &later, now + 10 * 86_400_000);
        let done = new_item(&s, &secretary, &building, "垃圾桶破损");
        step(&s, &secretary, &done, "accept", json!({}));
        step(&s, &secretary, &done, "start", json!({}));
        step(&s, &secretary, &done, "report-done", json!({"note": "已更换"}));
        let fresh = new_item(&s, &secretary, &building, "电梯异响");

        let (status, page) = s.call_text(&member, "GET", "/today", None);
        assert_eq!(status, 200, "{page}");
        let page = page.replace("&#x2f;", "/");
        let mine = &page[page.find("id=\"today-mine\"").unwrap()..page.find("id=\"today-to_verify\"").unwrap()];
        let (a, b) = (mine.find("楼道灯不亮").unwrap(), mine.find("晾衣架松动").unwrap());
        assert!(a < b, "the overdue item leads");
        assert!(mine.contains("已超期 2 天"), "{mine}");
        assert!(mine.contains(&format!("/demands/{overdue}/steps/start")), "one tap starts the work");
        let verify =
            &page[page.find("id=\"today-to_verify\"").unwrap()..page.find("id=\"today-new_reports\"").unwrap()];
        assert!(verify.contains("垃圾桶破损") && verify.contains(&format!("/demands/{done}/steps/verify")));
        let new = &page[page.find("id=\"today-new_reports\"").unwrap()..];
        assert!(new.contains("电梯异响") && new.contains(&format!("/demands/{fresh}/steps/accept")));
        assert!(!new.contains("楼道灯不亮"), "an item once accepted is no longer new");

        // One tap: the step is taken and the answer returns to 今日.
        let (status, _) = s.call_form(&member, &format!("/demands/{overdue}/steps/start"), "back=today");
        assert_eq!(status, 303);
        let item = ok(s.call(&member, "GET", &format!("/api/v1/demands/{overdue}"), None));
        assert_eq!(item["demand"]["status"], "in_hand");
        let (status, _) = s.call_form(&member, &format!("/demands/{done}/steps/verify"), "back=today");
        assert_eq!(status, 303);
        let item = ok(s.call(&member, "GET", &format!("/api/v1/demands/{done}"), None));
        assert_eq!(item["demand"]["status"], "verified");

        // On the item page, the expected step is the primary button; the others wait.
        let (_, html) = s.call_text(&member, "GET", &format!("/demands/{overdue}"), None);
        let primary = html.find("step-primary\" id=\"step-report_done\"").expect(&html);
        let others = html.find("id=\"more-steps\"").expect("the other steps behind one tap");
        assert!(primary < others && html[others..].contains("id=\"step-escalate\""), "{html}");
        assert!(html.contains("已超期 2 天"), "the deadline in words: {html}");

        // The staff ledger reads its deadlines in words too.
        let (_, ledger) = s.call_text(&member, "GET", "/demands", None);
        assert!(ledger.contains("已超期 2 天") && ledger.contains("还剩"), "{ledger}");

        // "Report done" takes the after-photos: a multipart form with the photo inputs.
        let form = &html[primary..];
        let form = &form[..form.find("</form>").unwrap()];
        assert!(form.contains("multipart/form-data") && form.contains("name=\"photos\""), "{form}");
        use crate::demand_forms::{PNG, post_form};
        let path = format!("/demands/{overdue}/steps/start");
        let (status, _, _) = post_form(&s, &member, &path, &[("note", "")], &[("a.png", PNG)]);
        assert_eq!(status, 400, "photos go with report-done only");
        let path = format!("/demands/{overdue}/steps/report_done");
        let (status, _, body) = post_form(&s, &member, &path, &[("note", "灯已换好")], &[("after.png", PNG)]);
        assert_eq!(status, 303, "{body}");
        let item = ok(s.call(&member, "GET", &format!("/api/v1/demands/{overdue}"), None));
        assert_eq!(item["demand"]["status"], "reported_done", "{item}");
        let photos: i64 = s.runtime.block_on(async {
            sqlx::query_scalar("SELECT COUNT(*) FROM demand_attachments WHERE demand_id = $1 AND name = 'after.png'")
                .bind(&overdue)
                .fetch_one(&s.db.db.pool)
                .await
                .unwrap()
        });
        assert_eq!(photos, 1, "the after-photo kept with the item");

        // 今日 is where a grid member lands.
        assert_eq!(wangge_web::home_of(Role::GridMember), "/today");

        // In English, the deadline reads in words too.
        let (_, page) = s.call_text(&member, "GET", "/today?lang=en", None);
        assert!(page.contains("working days left") || page.contains("working day left"), "{page}");
    }
}
