//! Instructions over HTTP (issue 21): a street sends an instruction with a figures
//! table to its two communities; a receiver outside its subtree cannot be addressed
//! (and one in another city is an unknown id); both read it, each reports (a bad
//! cell named by its row and column, everything typed kept), the street returns
//! one with a reason, it is reported again and accepted, and a locked report cannot
//! change; the street's total equals the sum of the accepted reports, by hand. The
//! first community passes it down to its grid, whose member finds it in 今日; the
//! community fills its own figures from the grid's accepted report. The cockpit
//! counts what is open, late and on time.

use serde_json::{Value, json};
use wangge_domain::{AreaLevel, Role};
use wangge_store::registry::areas::{self, NewArea};
use wangge_store::testing;

use crate::common::servers;

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

fn cockpit_value(answer: &Value, key: &str) -> Value {
    answer["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no figure {key}: {answer}"))["value"]
        .clone()
}

#[test]
fn a_street_collects_figures_from_its_communities() {
    for s in servers() {
        let db = &s.db.db;
        let (h, second) = s.runtime.block_on(async {
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
            (h, second)
        });
        let street = s.token(Role::StreetOfficial, testing::STREET);
        let first_sec = s.token(Role::CommunitySecretary, testing::COMMUNITY);
        let second_sec = s.token(Role::CommunitySecretary, "370602004012");
        let member = s.token(Role::GridMember, testing::GRID);
        let due = (wangge_store::instructions::today() + time::Duration::days(5)).to_string();

        // Only below the sender; another city's area is an unknown id.
        let mut body = json!({"area_id": h.street.id, "title": "冬季独居老人走访情况", "body": "请各社区于周五前上报。",
            "due_on": due, "receivers": [h.district.id],
            "table": {"rows": ["独居老人", "残疾人"], "columns": ["应走访", "已走访"]}});
        let (status, refused) = s.call(&street, "POST", "/api/v1/instructions", Some(&body));
        assert_eq!(status, 404, "the district is above the street, out of its sight: {refused}");
        body["receivers"] = json!([h.community.id, h.street.id]);
        let (status, refused) = s.call(&street, "POST", "/api/v1/instructions", Some(&body));
        assert_eq!(status, 422, "{refused}");
        assert!(text(&refused["error"]["message"]).contains("不在本级的下级范围内"), "{refused}");
        let (status, _) = s.call(&first_sec, "POST", "/api/v1/instructions", Some(&body));
        assert_eq!(status, 404, "a community cannot send from the street");

        // Sent from the page, as a street official would.
        let form = format!(
            "area={}&title=%E5%86%AC%E5%AD%A3%E8%B5%B0%E8%AE%BF&body=&due_on={due}&receivers={}&receivers={}&rows=%E7%8B%AC%E5%B1%85%E8%80%81%E4%BA%BA%0A%E6%AE%8B%E7%96%BE%E4%BA%BA&columns=%E5%BA%94%E8%B5%B0%E8%AE%BF%2C%E5%B7%B2%E8%B5%B0%E8%AE%BF",
            h.street.id, h.community.id, second.id
        );
        let (status, page) = s.call_form(&street, "/instructions", &form);
        assert_eq!(status, 303, "{page}");
        let (_, lists) = s.call(&street, "GET", "/api/v1/instructions", None);
        let id = lists["sent"][0]["id"].as_str().expect("sent").to_owned();
        assert_eq!(lists["sent"][0]["receivers"], 2);
        let (_, detail) = s.call(&street, "GET", &format!("/api/v1/instructions/{id}"), None);
        assert_eq!(detail["instruction"]["table"]["columns"], json!(["应走访", "已走访"]));
        let receipt_of = |detail: &Value, area: &str| -> String {
            detail["receipts"].as_array().unwrap().iter().find(|r| r["area_id"] == area).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let (r1, r2) = (receipt_of(&detail, &h.community.id), receipt_of(&detail, &second.id));

        // Each community sees its own receipt only; the grid sees nothing yet.
        let (status, mine) = s.call(&first_sec, "GET", &format!("/api/v1/instructions/{id}"), None);
        assert_eq!(status, 200);
        assert_eq!(mine["receipts"].as_array().unwrap().len(), 1, "not the other community's: {mine}");
        let (status, _) = s.call_text(&member, "GET", &format!("/instructions/{id}"), None);
        assert_eq!(status, 404);
        let (status, _) = s.call_form(&second_sec, &format!("/instructions/receipts/{r1}/read"), "");
        assert_eq!(status, 404, "the other community's receipt is out of sight");

        // Both read it.
        for (who, r) in [(&first_sec, &r1), (&second_sec, &r2)] {
            let (status, _) = s.call_form(who, &format!("/instructions/receipts/{r}/read"), "");
            assert_eq!(status, 303);
        }
        let (_, page) = s.call_text(&street, "GET", &format!("/instructions/{id}"), None);
        assert_eq!(page.matches("已读</span>").count(), 2, "{page}");

        // A bad cell is named by its row and column, with what was typed kept.
        let report = |cells: [&str; 4], text: &str| {
            format!(
                "text={text}&cell.0.0={}&cell.0.1={}&cell.1.0={}&cell.1.1={}",
                cells[0], cells[1], cells[2], cells[3]
            )
        };
        let (status, page) = s.call_form(
            &first_sec,
            &format!("/instructions/receipts/{r1}/report"),
            &report(["12", "1O", "3", "3"], "ok"),
        );
        assert_eq!(status, 422);
        let page = text(&page);
        assert!(page.contains("“独居老人”行“已走访”列：“1O”") && page.contains("value=\"1O\""), "{page}");
        let (status, _) = s.call_form(
            &first_sec,
            &format!("/instructions/receipts/{r1}/report"),
            &report(["12", "10", "3", "0"], "ok"),
        );
        assert_eq!(status, 303);
        let body = json!({"text": "已完成", "figures": [[20, 18], [5, 5]]});
        let (status, answer) =
            s.call(&second_sec, "POST", &format!("/api/v1/instruction-receipts/{r2}/report"), Some(&body));
        assert_eq!(status, 200, "{answer}");

        // The street returns the first with a reason; reported again; accepted, both.
        let (status, _) = s.call_form(&street, &format!("/instructions/receipts/{r1}/return"), "reason=");
        assert_eq!(status, 422, "a return needs its reason");
        let (status, _) = s.call_form(&first_sec, &format!("/instructions/receipts/{r1}/accept"), "");
        assert_eq!(status, 403, "a receiver does not accept its own report");
        let (status, _) = s.call_form(
            &street,
            &format!("/instructions/receipts/{r1}/return"),
            "reason=%E6%AE%8B%E7%96%BE%E4%BA%BA%E5%B7%B2%E8%B5%B0%E8%AE%BF%E4%B8%BA0",
        );
        assert_eq!(status, 303);
        let (_, page) = s.call_text(&first_sec, "GET", &format!("/instructions/{id}"), None);
        assert!(page.contains("残疾人已走访为0") && page.contains("重新上报"), "{page}");
        let (status, _) = s.call_form(
            &first_sec,
            &format!("/instructions/receipts/{r1}/report"),
            &report(["12", "10", "3", "3"], "ok"),
        );
        assert_eq!(status, 303);
        for r in [&r1, &r2] {
            let (status, _) = s.call_form(&street, &format!("/instructions/receipts/{r}/accept"), "");
            assert_eq!(status, 303);
        }

        // Locked: nothing changes any more.
        let body = json!({"text": "改", "figures": [[1, 1], [1, 1]]});
        let (status, answer) =
            s.call(&first_sec, "POST", &format!("/api/v1/instruction-receipts/{r1}/report"), Some(&body));
        assert_eq!(status, 409, "{answer}");
        let (status, _) = s.call(
            &street,
            "POST",
            &format!("/api/v1/instruction-receipts/{r1}/return"),
            Some(&json!({"reason": "x"})),
        );
        assert_eq!(status, 409);
        let (_, detail) = s.call(&street, "GET", &format!("/api/v1/instructions/{id}"), None);
        let r = detail["receipts"].as_array().unwrap().iter().find(|r| r["id"] == r1.as_str()).unwrap().clone();
        assert_eq!(
            (r["figures"].clone(), r["state"].clone(), r["returns"].clone()),
            (json!([[12, 10], [3, 3]]), json!("accepted"), json!(1))
        );

        // The street's total, by hand: [[12 + 20, 10 + 18], [3 + 5, 3 + 5]].
        let (_, page) = s.call_text(&street, "GET", &format!("/instructions/{id}"), None);
        let total = page.split("id=\"total\"").nth(1).expect("the total");
        let cells: Vec<&str> = total.split("<td>").skip(1).map(|c| c.split('<').next().unwrap()).take(4).collect();
        assert_eq!(cells, ["32", "28", "8", "8"], "{total}");
        assert!(page.contains("已采纳的 2 份报告"), "{page}");

        // The first community passes a second instruction down to its grid; the grid
        // member finds it in 今日, reports, and the community fills its own from the sum.
        let mut body = json!({"area_id": h.street.id, "title": "燃气隐患台账", "body": "", "due_on": due,
            "receivers": [h.community.id], "table": {"rows": ["隐患户"], "columns": ["户数"]}});
        let (status, sent) = s.call(&street, "POST", "/api/v1/instructions", Some(&body));
        assert_eq!(status, 201, "{sent}");
        let second_id = sent["id"].as_str().unwrap().to_owned();
        let (_, detail) = s.call(&first_sec, "GET", &format!("/api/v1/instructions/{second_id}"), None);
        let mine = detail["receipts"][0]["id"].as_str().unwrap().to_owned();
        body = json!({"receivers": [h.grid.id]});
        let (status, passed) =
            s.call(&first_sec, "POST", &format!("/api/v1/instruction-receipts/{mine}/pass"), Some(&body));
        assert_eq!(status, 201, "{passed}");
        let grid_receipt = passed[0]["id"].as_str().unwrap().to_owned();
        let (_, today) = s.call_text(&member, "GET", "/today", None);
        let section = today.split("id=\"today-instructions_open\"").nth(1).expect("the section");
        assert!(section.contains("燃气隐患台账"), "{today}");
        let body = json!({"text": "三户软管老化", "figures": [[3]]});
        let (status, _) =
            s.call(&member, "POST", &format!("/api/v1/instruction-receipts/{grid_receipt}/report"), Some(&body));
        assert_eq!(status, 200);
        let (status, _) = s.call(&member, "POST", &format!("/api/v1/instruction-receipts/{grid_receipt}/accept"), None);
        assert_eq!(status, 403, "grid members do not review");
        let (status, _) =
            s.call(&first_sec, "POST", &format!("/api/v1/instruction-receipts/{grid_receipt}/accept"), None);
        assert_eq!(status, 200);
        let (_, page) = s.call_text(&first_sec, "GET", &format!("/instructions/{second_id}?fill=children"), None);
        assert!(
            page.contains("下级 1 份报告中已采纳 1 份")
                && page.contains("name=\"cell.0.0\" inputmode=\"numeric\" value=\"3\""),
            "{page}"
        );

        // The cockpit of the street: 3 receipts under it for the second instruction
        // (the community's, the grid's accepted) and two accepted before — open: the
        // community's second receipt; nothing late yet; on time: 3 of 3 reported.
        let (status, answer) = s.call(&street, "GET", "/api/v1/cockpit", None);
        assert_eq!(status, 200, "{answer}");
        assert_eq!(cockpit_value(&answer, "instructions.open")["count"], 1, "{answer}");
        assert_eq!(cockpit_value(&answer, "instructions.late")["count"], 0);
        let on_time = cockpit_value(&answer, "instructions.on_time");
        assert_eq!((on_time["part"].clone(), on_time["whole"].clone()), (json!(3), json!(3)), "{on_time}");
    }
}

/// A year of instructions does not fit one screen: each list pages on its own (20
/// cards), keeps the other's place, and finds instructions by words of the title;
/// the API pages and searches the same.
#[test]
fn the_lists_page_and_search_by_title() {
    for s in servers() {
        let db = &s.db.db;
        s.runtime.block_on(async {
            let h = testing::hierarchy(db).await;
            let today = wangge_store::instructions::today();
            for n in 1..=23 {
                let title = if n == 7 { "汛期隐患排查".to_owned() } else { format!("第{n}周走访") };
                let new = wangge_store::instructions::NewInstruction {
                    area_id: h.street.id.clone(),
                    title,
                    body: String::new(),
                    due_on: (today + time::Duration::days(5)).to_string(),
                    receivers: vec![h.community.id.clone()],
                    table: None,
                    campaign_id: None,
                };
                let sent = wangge_store::instructions::send(db, new, &[], None, "街道", today).await.unwrap();
                // A week apart, as they were sent over the months.
                let at = wangge_domain::now_millis() - (23 - n) * 7 * 86_400_000;
                sqlx::query("UPDATE instructions SET created_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(&sent.id)
                    .execute(&db.pool)
                    .await
                    .unwrap();
            }
        });
        let street = s.token(Role::StreetOfficial, testing::STREET);
        let secretary = s.token(Role::CommunitySecretary, testing::COMMUNITY);
        let cards = |page: &str, list: &str| {
            let start = page.find(&format!("id=\"instructions-{list}\"")).map_or(0, |at| at);
            let end = page[start..].find("</ul>").map_or(start, |at| start + at);
            page[start..end].matches("<li class=\"card").count()
        };

        let (status, page) = s.call_text(&street, "GET", "/instructions", None);
        assert_eq!(status, 200, "{page}");
        assert_eq!(cards(&page, "sent"), 20, "{page}");
        assert!(page.contains("（共 23 条）"), "{page}");
        assert!(page.contains("第23周走访") && !page.contains("第1周走访"), "newest first");
        let next =
            page.split("id=\"sent-next\" rel=\"next\" href=\"").nth(1).expect("a next page").split('"').next().unwrap();
        let next = next.replace("&amp;", "&").replace("&#x2f;", "/");
        assert_eq!(next, "/instructions?rpage=1&spage=2");
        let (_, second) = s.call_text(&street, "GET", &next, None);
        assert_eq!(cards(&second, "sent"), 3, "{second}");
        assert!(second.contains("第1周走访") && second.contains("id=\"sent-prev\""), "{second}");
        assert!(!second.contains("id=\"sent-next\""));

        // The community received them all: its own list pages the same way.
        let (_, page) = s.call_text(&secretary, "GET", "/instructions", None);
        assert_eq!(cards(&page, "received"), 20, "{page}");
        assert!(page.contains("id=\"received-next\""), "{page}");

        // Words of the title, kept in the pages' links; none found says so.
        let (_, found) = s.call_text(&street, "GET", "/instructions?q=%E6%B1%9B%E6%9C%9F", None);
        assert_eq!(cards(&found, "sent"), 1, "{found}");
        assert!(found.contains("汛期隐患排查") && found.contains("（共 1 条）"), "{found}");
        let (_, none) = s.call_text(&street, "GET", "/instructions?q=%E6%97%A0%E6%AD%A4", None);
        assert!(none.contains("没有标题含这些字的指令"), "{none}");

        let (status, lists) = s.call(&street, "GET", "/api/v1/instructions?per_page=5&page=5", None);
        assert_eq!(status, 200, "{lists}");
        assert_eq!((lists["sent_total"].as_i64(), lists["sent"].as_array().map(Vec::len)), (Some(23), Some(3)));
        let (_, lists) = s.call(&secretary, "GET", "/api/v1/instructions?q=%E6%B1%9B%E6%9C%9F", None);
        assert_eq!(lists["received_total"], 1, "{lists}");
        assert_eq!(lists["received"][0]["instruction"]["title"], "汛期隐患排查");
    }
}
