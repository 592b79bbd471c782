//! Open311 GeoReport v2 against the running server, on every backend, with the
//! spec's field names.

use crate::common::{Auth, Server};
use serde_json::{Value, json};
use wangge_domain::Role;

/// City › … › grid and a building; returns the building id.
fn place(s: &Server) -> String {
    let grid = s.areas_down_to_grid().pop().unwrap();
    let secretary = s.token(Role::CommunitySecretary, "370602004011");
    let body = json!({"grid_id": grid["id"], "number": "7", "kind": "residential"});
    let (status, building) = s.call(&secretary, "POST", "/api/v1/buildings", Some(&body));
    assert_eq!(status, 201, "{building}");
    building["id"].as_str().unwrap().to_owned()
}

fn key(auth: &Auth) -> String {
    match auth {
        Auth::Bearer(secret) => secret.clone(),
        _ => unreachable!("tokens are bearer secrets"),
    }
}

fn form(s: &Server, path: &str, body: &str) -> (u16, Value) {
    s.call_form(&Auth::None, path, body)
}

fn get(s: &Server, path: &str) -> (u16, Value) {
    s.call(&Auth::None, "GET", path, None)
}

#[test]
fn services_requests_and_errors_follow_the_spec() {
    for s in crate::common::servers() {
        let building = place(&s);
        let (status, services) = get(&s, "/open311/v2/services.json");
        assert_eq!(status, 200);
        let env = services.as_array().unwrap().iter().find(|v| v["service_code"] == "environment").unwrap().clone();
        assert_eq!(env["service_name"], "环境卫生");
        for field in ["description", "metadata", "type", "keywords", "group"] {
            assert!(env.get(field).is_some(), "service field {field}");
        }
        let (status, xml) = s.call_text(&Auth::None, "GET", "/open311/v2/services.xml", None);
        assert_eq!(status, 200);
        assert!(xml.starts_with("<?xml") && xml.contains("<services><service><"), "{xml}");
        assert!(xml.contains("<service_code>environment</service_code><service_name>环境卫生</service_name>"), "{xml}");
        let (status, def) = get(&s, "/open311/v2/services/environment.json");
        assert_eq!(status, 200);
        assert_eq!(def["attributes"][0]["code"], "kind");
        assert_eq!(def["attributes"][0]["datatype"], "singlevaluelist");
        let (status, errors) = get(&s, "/open311/v2/services/nothing.json");
        assert_eq!(status, 404);
        assert_eq!(errors[0]["code"], 404, "{errors}");

        let member = key(&s.token(Role::GridMember, "370602004011001"));
        let post = format!(
            "api_key={member}&service_code=environment&address_id={building}&lat=37.53&long=121.39\
             &description=%E5%9E%83%E5%9C%BE%E6%BB%A1%E4%BA%86&first_name=%E4%B8%89&last_name=%E5%BC%A0&phone=13805350000"
        );
        let (status, created) = form(&s, "/open311/v2/requests.json", &post);
        assert_eq!(status, 200, "{created}");
        let id = created[0]["service_request_id"].as_str().unwrap().to_owned();
        assert!(created[0].get("service_notice").is_some() && created[0].get("account_id").is_some());

        let (status, errors) = form(&s, "/open311/v2/requests.json", "service_code=environment&lat=1&long=2");
        assert_eq!(status, 403, "no api_key: {errors}");
        assert_eq!(errors[0]["code"], 403);
        assert!(errors[0]["description"].as_str().unwrap().contains("api_key"));
        let (status, _) = form(&s, "/open311/v2/requests.json", "api_key=wrong&service_code=environment&lat=1&long=2");
        assert_eq!(status, 403);
        let (status, errors) = form(&s, "/open311/v2/requests.json", &format!("api_key={member}&lat=1&long=2"));
        assert_eq!(status, 400, "no service_code: {errors}");
        let (status, errors) =
            form(&s, "/open311/v2/requests.json", &format!("api_key={member}&service_code=environment"));
        assert_eq!(status, 400, "no location: {errors}");
        let (status, _) =
            form(&s, "/open311/v2/requests.json", &format!("api_key={member}&service_code=none&lat=1&long=2"));
        assert_eq!(status, 404);

        let (status, one) = get(&s, &format!("/open311/v2/requests/{id}.json?api_key={member}"));
        assert_eq!(status, 200, "{one}");
        let r = &one[0];
        assert_eq!((r["service_request_id"].as_str(), r["status"].as_str()), (Some(id.as_str()), Some("open")));
        assert_eq!((r["service_code"].as_str(), r["service_name"].as_str()), (Some("environment"), Some("环境卫生")));
        assert_eq!(r["description"], "垃圾满了");
        assert_eq!((r["lat"].as_f64(), r["long"].as_f64()), (Some(37.53), Some(121.39)));
        assert_eq!(r["agency_responsible"], "网格", "the grid holds it until dispatched");
        for field in
            ["status_notes", "requested_datetime", "updated_datetime", "expected_datetime", "address", "media_url"]
        {
            assert!(r.get(field).is_some(), "request field {field}");
        }
        assert!(r["expected_datetime"].as_str().unwrap().ends_with("+08:00"), "{r}");
        assert!(r.get("phone").is_none() && !one.to_string().contains("13805350000"), "no reporter in Open311");
        let (status, keyless) = get(&s, &format!("/open311/v2/requests/{id}.json"));
        assert_eq!(status, 200, "sanitation is public: read without an api_key: {keyless}");
        assert!(!keyless.to_string().contains("13805350000") && !keyless.to_string().contains("张"), "{keyless}");
        let other = key(&s.token(Role::GridMember, "370602004011"));
        let (status, _) = get(&s, &format!("/open311/v2/requests/{}.json?api_key={other}", wangge_domain::new_id()));
        assert_eq!(status, 404);

        // A photo on the item appears as media_url: a keyed link that works without
        // an api_key (as the spec's media_url must) and with nothing else.
        assert_eq!(r["media_url"], Value::Null, "no photo yet");
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
        s.runtime.block_on(wangge_store::demands::attachments::add(&s.db.db, &id, "垃圾.png", png)).unwrap();
        let (_, one) = get(&s, &format!("/open311/v2/requests/{id}.json?api_key={member}"));
        let media = one[0]["media_url"].as_str().expect("a media_url").to_owned();
        assert!(media.starts_with(&s.base) && media.contains("/open311/v2/media/"), "{media}");
        let mut photo = s.agent.get(&media).call().unwrap();
        assert_eq!(photo.status(), 200);
        assert_eq!(photo.headers().get("content-type").unwrap(), "image/png");
        assert_eq!(photo.body_mut().read_to_vec().unwrap(), png);
        let tampered = format!("{}0", &media[..media.len() - 1]);
        let tampered = if tampered == media { format!("{}1", &media[..media.len() - 1]) } else { tampered };
        assert_eq!(s.agent.get(&tampered).call().unwrap().status(), 404, "a wrong key opens nothing");
        let keyless = media.split('?').next().unwrap();
        assert_eq!(s.agent.get(keyless).call().unwrap().status(), 404);
        let (_, xml) =
            s.call_text(&Auth::None, "GET", &format!("/open311/v2/requests/{id}.xml?api_key={member}"), None);
        assert!(xml.contains("<media_url>http"), "{xml}");

        // Closing it through the API shows as closed with the last note.
        let secretary = s.token(Role::CommunitySecretary, "370602004011");
        for (step, body) in [
            ("accept", json!({})),
            ("dispatch", json!({"handler_kind": "property_company", "handler_name": "塔山物业"})),
            ("start", json!({})),
            ("report-done", json!({"note": "已清运"})),
            ("verify", json!({})),
            ("close", json!({})),
        ] {
            let (status, e) = s.call(&secretary, "POST", &format!("/api/v1/demands/{id}/{step}"), Some(&body));
            assert_eq!(status, 200, "{step}: {e}");
        }
        let (_, list) =
            get(&s, &format!("/open311/v2/requests.json?api_key={member}&status=closed&service_code=environment"));
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        assert_eq!((list[0]["status"].as_str(), list[0]["status_notes"].as_str()), (Some("closed"), Some("已清运")));
        assert_eq!(list[0]["agency_responsible"], "塔山物业");
        let (_, open) = get(&s, &format!("/open311/v2/requests.json?api_key={member}&status=open"));
        assert_eq!(open.as_array().unwrap().len(), 0);
        let (_, old) = get(&s, &format!("/open311/v2/requests.json?api_key={member}&end_date=2020-01-01T00:00:00Z"));
        assert_eq!(old.as_array().unwrap().len(), 0, "the 90 days before end_date hold nothing");
        let (status, errors) = get(&s, &format!("/open311/v2/requests.json?api_key={member}&start_date=yesterday"));
        assert_eq!(status, 400, "{errors}");
        let (_, by_id) = get(&s, &format!("/open311/v2/requests.json?api_key={member}&service_request_id={id}"));
        assert_eq!(by_id[0]["service_request_id"], id.as_str());
        let (status, xml) =
            s.call_text(&Auth::None, "GET", &format!("/open311/v2/requests.xml?api_key={member}"), None);
        assert_eq!(status, 200);
        assert!(xml.contains("<service_requests><request><"), "{xml}");
        assert!(xml.contains(&format!("<service_request_id>{id}</service_request_id>")), "{xml}");
        assert!(xml.contains("<status>closed</status>") && xml.contains("<zipcode/>"), "{xml}");
        let (status, xml) = s.call_text(&Auth::None, "GET", "/open311/v2/requests.xml", None);
        assert_eq!(status, 200, "reading needs no api_key: {xml}");
        assert!(xml.contains(&format!("<service_request_id>{id}</service_request_id>")), "{xml}");
        let (status, xml) = s.call_text(&Auth::None, "GET", "/open311/v2/requests.xml?api_key=wrong", None);
        assert_eq!(status, 403, "a wrong api_key is still refused");
        assert!(xml.contains("<errors><error><code>403</code><description>"), "{xml}");
    }
}

/// What anyone may read without a key: items of public categories only, with
/// category, status, dates and building; description and photo only for items
/// reported after their category became public; never the reporter; unknown and
/// private ids alike 404; pages of 100; at most 60 reads a minute per address.
#[test]
fn keyless_reads_show_public_categories_only() {
    for s in crate::common::servers() {
        let building = place(&s);
        let member = s.token(Role::GridMember, "370602004011001");
        let report = |category: &str, description: &str| {
            let body = json!({"building_id": building, "category": category, "title": description,
                "description": description, "reporter_name": "李四", "reporter_phone": "13905351111",
                "address": "7号楼2单元301室"});
            let (status, item) = s.call(&member, "POST", "/api/v1/demands", Some(&body));
            assert_eq!(status, 201, "{item}");
            item["id"].as_str().unwrap().to_owned()
        };
        let street = report("urban_management", "路灯不亮了");
        let elderly = report("elderly_disabled", "独居老人需要送餐");
        let before = report("property", "电梯坏了");
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
        for id in [&street, &before] {
            s.runtime.block_on(wangge_store::demands::attachments::add(&s.db.db, id, "p.png", png)).unwrap();
        }
        // An administrator makes property public now: what was reported before keeps
        // its words and photo to itself.
        let (_, categories) = s.get("/api/v1/demand-categories");
        let mut property = categories.as_array().unwrap().iter().find(|c| c["code"] == "property").unwrap().clone();
        assert_eq!(property["public"], false, "property is private by default");
        property["public"] = json!(true);
        let (status, saved) = s.send("POST", "/api/v1/demand-categories", &property);
        assert_eq!(status, 200, "{saved}");
        assert_eq!(saved["public"], true);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let after = report("property", "楼道灯坏了");

        let (status, list) = get(&s, "/open311/v2/requests.json");
        assert_eq!(status, 200, "{list}");
        let items = list.as_array().unwrap();
        let ids: Vec<&str> = items.iter().map(|r| r["service_request_id"].as_str().unwrap()).collect();
        assert!(ids.contains(&street.as_str()) && ids.contains(&before.as_str()) && ids.contains(&after.as_str()));
        assert!(!ids.contains(&elderly.as_str()), "care of the elderly is never listed without a key");
        let text = list.to_string();
        for private in ["李四", "13905351111", "351111", "2单元301室", "独居老人"] {
            assert!(!text.contains(private), "{private} shown without a key: {text}");
        }
        let one = |id: &str| items.iter().find(|r| r["service_request_id"] == id).unwrap().clone();
        let street_item = one(&street);
        assert_eq!(street_item["description"], "路灯不亮了");
        assert_eq!(street_item["address"], "7号楼", "an address at building level");
        assert!(street_item["media_url"].as_str().is_some_and(|m| m.contains("/open311/v2/media/")));
        for field in ["status", "service_code", "requested_datetime", "updated_datetime", "address_id"] {
            assert!(street_item.get(field).is_some(), "{field}");
        }
        let before_item = one(&before);
        assert_eq!((&before_item["description"], &before_item["media_url"]), (&Value::Null, &Value::Null));
        assert_eq!(one(&after)["description"], "楼道灯坏了", "reported after it became public");

        // One at a time: a private item and an unknown id are answered alike.
        assert_eq!(get(&s, &format!("/open311/v2/requests/{street}.json")).0, 200);
        let (status, private) = get(&s, &format!("/open311/v2/requests/{elderly}.json"));
        let unknown_id = wangge_domain::new_id();
        let (status_unknown, unknown) = get(&s, &format!("/open311/v2/requests/{unknown_id}.json"));
        assert_eq!((status, status_unknown), (404, 404), "{private} {unknown}");
        assert_eq!(
            private[0]["description"].as_str().unwrap().replace(&elderly, "<id>"),
            unknown[0]["description"].as_str().unwrap().replace(&unknown_id, "<id>")
        );
        let (_, by_ids) = get(&s, &format!("/open311/v2/requests.json?service_request_id={street},{elderly}"));
        assert_eq!(by_ids.as_array().unwrap().len(), 1, "{by_ids}");
        let (_, private_service) = get(&s, "/open311/v2/requests.json?service_code=elderly_disabled");
        assert_eq!(private_service, json!([]));
        // With a key, everything in its area as before.
        let key = key(&member);
        let (status, full) = get(&s, &format!("/open311/v2/requests/{elderly}.json?api_key={key}"));
        assert_eq!((status, full[0]["description"].as_str()), (200, Some("独居老人需要送餐")));

        // Paged, and throttled per address.
        assert_eq!(get(&s, "/open311/v2/requests.json?page=2").1, json!([]));
        assert_eq!(get(&s, "/open311/v2/requests.json?page=x").0, 400);
        let mut statuses = Vec::new();
        for _ in 0..wangge_web_open311_limit() {
            statuses.push(get(&s, "/open311/v2/requests.json").0);
        }
        assert_eq!(statuses.last(), Some(&429), "keyless reads are throttled: {statuses:?}");
        assert_eq!(get(&s, &format!("/open311/v2/requests.json?api_key={key}")).0, 200, "reads with a key are not");
    }
}

/// More keyless reads than one address may make in a minute.
fn wangge_web_open311_limit() -> usize {
    61
}

/// The administrator decides which categories are public on a page: one form per
/// category, the same rules as the API, a wrong value refused beside the category
/// it is about, and only platform administrators may.
#[test]
fn the_category_page_makes_a_category_public() {
    for s in crate::common::servers() {
        s.areas_down_to_grid();
        let admin = s.auth.borrow().clone();
        let (status, html) = s.call_text(&admin, "GET", "/demands/categories", None);
        assert_eq!(status, 200, "{html}");
        assert!(html.contains(r#"id="category-property""#) && html.contains("公开（Open311 免密钥可查）"), "{html}");
        let property = |s: &Server| {
            let (_, all) = s.get("/api/v1/demand-categories");
            all.as_array().unwrap().iter().find(|c| c["code"] == "property").unwrap().clone()
        };
        assert_eq!(property(&s)["public"], false);

        let form =
            "code=property&name_zh=物业服务&name_en=Property&level=community&accept_days=1&resolve_days=5&active=1";
        let (status, refused) =
            s.call_form(&admin, "/demands/categories", &form.replace("resolve_days=5", "resolve_days=400"));
        assert_eq!(status, 422, "{refused}");
        assert!(refused.as_str().unwrap().contains("办结时限（工作日）：是 400 天"), "{refused}");
        assert_eq!(property(&s)["public"], false, "nothing saved");

        assert_eq!(s.call_form(&admin, "/demands/categories", &format!("{form}&public=1")).0, 303);
        let saved = property(&s);
        assert_eq!((&saved["public"], &saved["name_zh"]), (&json!(true), &json!("物业服务")));
        assert!(saved["public_since"].as_i64().is_some());
        let (_, html) = s.call_text(&admin, "GET", "/demands/categories", None);
        assert!(html.contains("公开自"), "the page says since when");

        let secretary = s.token(Role::CommunitySecretary, "370602004011");
        assert_eq!(s.call_text(&secretary, "GET", "/demands/categories", None).0, 403);
        assert_eq!(s.call_form(&secretary, "/demands/categories", form).0, 403);
    }
}
