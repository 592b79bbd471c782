//! Issue 16 over real HTTP on every backend: the tracking page (number and the
//! phone's last four digits, throttled; the private link), the rating there, no
//! rating form with a score chosen beforehand, staff recording a rating after a
//! call-back, the ledger's search and the rates' method.

use crate::common::{Auth, Server};
use serde_json::{Value, json};
use wangge_domain::Role;

/// The Tashan chain to a grid, with one building; returns the building and the
/// community's id.
fn place(s: &Server) -> (Value, String) {
    let made = s.areas_down_to_grid();
    let secretary = s.token(Role::CommunitySecretary, "370602004011");
    let body = json!({"grid_id": made[4]["id"], "number": "3", "kind": "residential"});
    let (status, building) = s.call(&secretary, "POST", "/api/v1/buildings", Some(&body));
    assert_eq!(status, 201, "{building}");
    (building, made[3]["id"].as_str().unwrap().to_owned())
}

fn ok(response: (u16, Value)) -> Value {
    assert!(response.0 == 200 || response.0 == 201, "{} {}", response.0, response.1);
    response.1
}

fn step(s: &Server, who: &Auth, id: &str, step: &str, body: Value) -> Value {
    ok(s.call(who, "POST", &format!("/api/v1/demands/{id}/{step}"), Some(&body)))
}

/// Takes an item round the loop to closed.
fn close(s: &Server, staff: &Auth, id: &str) {
    step(s, staff, id, "accept", json!({}));
    step(s, staff, id, "dispatch", json!({"handler_kind": "grid_member", "handler_name": "张网格"}));
    for st in ["start", "report-done", "verify", "close"] {
        step(s, staff, id, st, json!({"note": "好了"}));
    }
}

fn page(s: &Server, who: &Auth, path: &str) -> (u16, String) {
    s.call_text(who, "GET", path, None)
}

/// Where a redirect answer points.
fn location(s: &Server, path: &str, form: &str) -> (u16, Option<String>, String) {
    let url = format!("{}{path}", s.base);
    let request = http::Request::builder()
        .method("POST")
        .uri(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let mut resp = agent.run(request).unwrap();
    let to = resp.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    (resp.status().as_u16(), to, resp.body_mut().read_to_string().unwrap_or_default())
}

/// The HTML of the rating form (`<form id="…"` to its `</form>`).
fn form_html<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let at = html.find(&format!(" id=\"{id}\""))?;
    let start = html[..at].rfind("<form")?;
    let end = html[start..].find("</form>")? + start;
    Some(&html[start..end])
}

#[test]
fn a_report_is_followed_by_number_and_phone_digits_and_rated_there() {
    for s in crate::common::servers() {
        let (building, _) = place(&s);
        let secretary = s.token(Role::CommunitySecretary, "370602004011");
        let body = json!({"building_id": building["id"], "category": "environment", "title": "楼道灯不亮",
            "channel": "phone", "reporter_name": "刘一", "reporter_phone": "13805351234"});
        let item = ok(s.call(&secretary, "POST", "/api/v1/demands", Some(&body)));
        let id = item["id"].as_str().unwrap().to_owned();
        let no = item["tracking_no"].as_str().unwrap().to_owned();
        assert_eq!(no.len(), 8);
        assert!(wangge_domain::TrackingNumber::parse(&no).is_ok(), "a valid check digit: {no}");

        // The form, then the right digits: the private link.
        let (status, html) = page(&s, &Auth::None, "/track");
        assert_eq!(status, 200);
        assert!(html.contains("name=\"number\"") && html.contains("name=\"phone\""));
        let spaced = format!("{} {}", &no[..4], &no[4..]);
        let (status, to, _) = location(&s, "/track", &format!("number={}&phone=1234", spaced.replace(' ', "+")));
        assert_eq!(status, 303);
        let link = to.unwrap();
        assert!(link.starts_with(&format!("/track/{no}?k=")), "{link}");
        let (status, html) = page(&s, &Auth::None, &link);
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("楼道灯不亮") && html.contains("已收到，等待受理"), "{html}");
        assert!(!html.contains("13805351234") && !html.contains("刘一"), "no phone, no name on the public page");
        assert!(form_html(&html, "rate").is_none(), "not closed: nothing to rate yet");
        // The number alone, or a wrong key, opens nothing.
        assert_eq!(page(&s, &Auth::None, &format!("/track/{no}")).0, 404);
        assert_eq!(page(&s, &Auth::None, &format!("/track/{no}?k=wrong")).0, 404);

        // Closed: the rating request is there, no score chosen.
        close(&s, &secretary, &id);
        let (_, html) = page(&s, &Auth::None, &link);
        let form = form_html(&html, "rate").expect("the rating form");
        assert_eq!(form.matches("type=\"radio\" name=\"score\"").count(), 5);
        assert!(!form.contains("checked") && !form.contains("selected"), "{form}");
        // Without a score: refused, nothing recorded.
        let rate = link.replacen(&format!("/track/{no}"), &format!("/track/{no}/rate"), 1);
        let (status, _, _) = location(&s, &rate, "comment=");
        assert_eq!(status, 422);
        let (status, to, _) = location(&s, &rate, "score=4&comment=%E5%BE%88%E5%A5%BD");
        assert_eq!((status, to.as_deref()), (303, Some(link.as_str())));
        let rated = ok(s.call(&secretary, "GET", &format!("/api/v1/demands/{id}"), None))["demand"].clone();
        assert_eq!((rated["rating"].as_i64(), rated["rating_source"].as_str()), (Some(4), Some("resident")));
        assert_eq!(rated["status"], "rated");
        let (_, html) = page(&s, &Auth::None, &link);
        assert!(html.contains("id=\"track-rated\"") && form_html(&html, "rate").is_none());
        assert_eq!(location(&s, &rate, "score=1").0, 422, "rated once");

        // A mistyped number is said so and not counted; wrong digits are, six a day
        // per number: then even the right ones wait.
        let mut wrong_check = no.clone();
        let last = wrong_check.pop().unwrap();
        wrong_check.push(if last == '9' { '0' } else { char::from(last as u8 + 1) });
        let (status, _, html) = location(&s, "/track", &format!("number={wrong_check}&phone=1234"));
        assert_eq!(status, 422);
        assert!(html.contains("校验位"), "{html}");
        for n in 0..10 {
            let (status, _, html) = location(&s, "/track", &format!("number={no}&phone={:04}", 5000 + n));
            let expected = if n < 6 { 422 } else { 429 };
            assert_eq!(status, expected, "try {n}: {html}");
        }
        let (status, _, html) = location(&s, "/track", &format!("number={no}&phone=1234"));
        assert_eq!(status, 429, "throttled: {html}");
        assert!(html.contains("尝试次数太多"), "{html}");
        // The private link is not throttled: it carries its key.
        assert_eq!(page(&s, &Auth::None, &link).0, 200);
    }
}

#[test]
fn no_rating_form_has_a_score_chosen_and_staff_record_a_call_back_apart() {
    for s in crate::common::servers() {
        let (building, community) = place(&s);
        let secretary_id = s.create_account("wangjie", Role::CommunitySecretary, &["370602004011"], "long-enough-pw");
        let _ = secretary_id;
        let staff = s.login("wangjie", "long-enough-pw").2;
        let body = json!({"building_id": building["id"], "category": "environment", "title": "垃圾没人清",
            "reporter_phone": "13900005678"});
        let item = ok(s.call(&staff, "POST", "/api/v1/demands", Some(&body)));
        let id = item["id"].as_str().unwrap().to_owned();
        // The community gives 10 days to rate, from the next closing on.
        let days = |body: Value| s.call(&staff, "POST", &format!("/api/v1/areas/{community}/rating-days"), Some(&body));
        assert_eq!(days(json!({"days": 0})).0, 422);
        assert_eq!(ok(days(json!({"days": 10})))["days"], 10);
        close(&s, &staff, &id);
        let closed = ok(s.call(&staff, "GET", &format!("/api/v1/demands/{id}"), None))["demand"].clone();
        let window = closed["rating_due"].as_i64().unwrap() - closed["closed_at"].as_i64().unwrap();
        assert_eq!(window, 10 * 86_400_000, "the community's days to rate");

        // The staff item page: the call-back rating, no score chosen.
        let (status, html) = page(&s, &staff, &format!("/demands/{id}"));
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("id=\"demand-number\""), "the tracking number on the item page");
        let form = form_html(&html, "step-rate").expect("the call-back rating form");
        assert_eq!(form.matches("type=\"radio\" name=\"score\"").count(), 5, "{form}");
        assert!(!form.contains("checked") && !form.contains(" selected"), "{form}");
        assert!(!form.contains("<select"), "{form}");
        assert!(form.contains("name=\"called_by\"") && form.contains("name=\"called_at\""));

        // Recorded after a call-back: who called and when are kept.
        let (status, _) = s.call_form(
            &staff,
            &format!("/demands/{id}/steps/rate"),
            "score=4&called_by=%E7%BD%91%E6%A0%BC%E5%91%98%E5%B0%8F%E5%88%98&called_at=2026-01-01T10:00&note=",
        );
        assert_eq!(status, 303);
        let rated = ok(s.call(&staff, "GET", &format!("/api/v1/demands/{id}"), None))["demand"].clone();
        // The call-back time is before the item was closed (today): refused, not rated.
        assert_eq!(rated["rating"], Value::Null, "{rated}");
        let now = {
            let t = time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap());
            format!("{:04}-{:02}-{:02}T{:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
        };
        let (status, _) = s.call_form(
            &staff,
            &format!("/demands/{id}/steps/rate"),
            &format!("score=4&called_by=%E7%BD%91%E6%A0%BC%E5%91%98%E5%B0%8F%E5%88%98&called_at={now}&note="),
        );
        assert_eq!(status, 303);
        let rated = ok(s.call(&staff, "GET", &format!("/api/v1/demands/{id}"), None))["demand"].clone();
        assert_eq!((rated["rating"].as_i64(), rated["rating_source"].as_str()), (Some(4), Some("staff")), "{rated}");
        assert_eq!(rated["rating_called_by"], "网格员小刘");
        let (_, html) = page(&s, &staff, &format!("/demands/{id}"));
        assert!(html.contains("回访代录：网格员小刘"), "{html}");

        // The resident's portal form: no score chosen either.
        let resident_id = s.create_account("liuyi", Role::Resident, &["370602004011"], "long-enough-pw");
        let _ = resident_id;
        let resident = s.login("liuyi", "long-enough-pw").2;
        let body = json!({"building_id": building["id"], "category": "environment", "title": "路灯坏了",
            "reporter_phone": "13805351234"});
        let mine = ok(s.call(&resident, "POST", "/api/v1/demands", Some(&body)));
        let mine_id = mine["id"].as_str().unwrap().to_owned();
        close(&s, &staff, &mine_id);
        let (status, html) = page(&s, &resident, &format!("/portal/requests/{mine_id}"));
        assert_eq!(status, 200, "{html}");
        let form = form_html(&html, "rate").expect("the portal rating form");
        assert_eq!(form.matches("type=\"radio\" name=\"score\"").count(), 5);
        assert!(!form.contains("checked") && !form.contains("selected"), "{form}");
        assert!(
            html.contains("id=\"request-number\"") && html.contains("id=\"request-link\""),
            "number and link on the portal"
        );

        // The ledger: the rates' method says who rated, and what "not rated" means.
        let (status, html) = page(&s, &staff, "/demands?status=all");
        assert_eq!(status, 200);
        assert!(html.contains("回访代录 1 件，其中满意 1 件"), "{html}");
        assert!(html.contains("居民本人评价 0 件"), "{html}");
        assert!(html.contains("计为“未评价”"), "{html}");
        // Search: by number, by the phone's last four digits, by title words.
        let no = item["tracking_no"].as_str().unwrap();
        let found = |q: &str| {
            let (status, page) = s.call(&staff, "GET", &format!("/api/v1/demands?q={q}"), None);
            assert_eq!(status, 200, "{page}");
            page["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(found(no), vec![id.clone()]);
        assert_eq!(found("5678"), vec![id.clone()]);
        assert_eq!(found("%E8%B7%AF%E7%81%AF"), vec![mine_id.clone()]);
        let (_, html) = page(&s, &staff, &format!("/demands?q={no}"));
        assert!(html.contains(&format!("/demands/{id}")) && !html.contains(&format!("/demands/{mine_id}\"")), "{html}");
    }
}
