//! The cockpit over HTTP (issue 18): each level's first page, the figures as the
//! viewer's scope allows (officials above the community see counts, no names, and
//! nothing of another street), the children side by side sorted by a GET parameter.

use serde_json::{Value, json};
use wangge_domain::{BuildingKind, Gender, Occupancy, ResidenceType, Role};
use wangge_store::registry::{areas, buildings, households, residents, tags};

use crate::common::{Auth, Server, servers};

/// The page, its escaped slashes and ampersands read back (minijinja escapes `/`).
fn page(s: &Server, who: &Auth, path: &str) -> (u16, String) {
    let (status, html) = s.call_text(who, "GET", path, None);
    (status, html.replace("&#x2f;", "/").replace("&amp;", "&"))
}

/// A person's name and care tags.
type Person<'a> = (&'a str, &'a [&'a str]);

/// Two streets; the first with two communities (one grid each), the second with one.
/// People: two in 塔山's grid (one an elderly person living alone, one disabled),
/// one in 大海阳's, one in the other street. Returns the areas made, by code.
fn town(s: &Server) -> Vec<(String, Value)> {
    let admin = s.login("admin", crate::common::ADMIN_PASSWORD).2;
    let mut made: Vec<(String, Value)> = Vec::new();
    let mut make = |parent: Option<&str>, level: &str, code: &str, name: &str| {
        let parent_id = parent.map(|p| made.iter().find(|(c, _)| c == p).unwrap().1["id"].clone());
        let body = json!({"parent_id": parent_id, "level": level, "code": code, "name": name});
        let (status, area) = s.call(&admin, "POST", "/api/v1/areas", Some(&body));
        assert_eq!(status, 201, "{area}");
        made.push((code.to_owned(), area));
    };
    make(None, "city", "370600000000", "烟台市");
    make(Some("370600000000"), "district", "370602000000", "芝罘区");
    make(Some("370602000000"), "street", "370602004000", "岐山街道");
    make(Some("370602004000"), "community", "370602004011", "塔山社区");
    make(Some("370602004011"), "grid", "370602004011001", "塔山一网格");
    make(Some("370602004000"), "community", "370602004012", "大海阳社区");
    make(Some("370602004012"), "grid", "370602004012001", "大海阳一网格");
    make(Some("370602000000"), "street", "370602005000", "只楚街道");
    make(Some("370602005000"), "community", "370602005011", "只楚社区");
    make(Some("370602005011"), "grid", "370602005011001", "只楚一网格");
    s.runtime.block_on(async {
        let db = &s.db.db;
        tags::ensure_standard(db).await.unwrap();
        let people: [(&str, &[Person]); 3] = [
            ("370602004011001", &[("塔山张大爷", &["elderly_alone"]), ("塔山李阿姨", &["disabled"])]),
            ("370602004012001", &[("海阳赵叔", &[])]),
            ("370602005011001", &[("只楚孙远", &["elderly_alone"])]),
        ];
        for (grid, names) in people {
            let grid = areas::get_by_code(db, grid).await.unwrap();
            let new = buildings::NewBuilding {
                grid_id: grid.id.clone(),
                number: "1".into(),
                address: None,
                kind: BuildingKind::Residential,
                floors: None,
                units: None,
                lat: None,
                lng: None,
            };
            let b = buildings::create(db, new).await.unwrap();
            let new = households::NewHousehold {
                building_id: b.id,
                unit: "1".into(),
                room: "101".into(),
                occupancy: Occupancy::OwnerOccupied,
            };
            let home = households::create(db, new).await.unwrap();
            for (name, tags) in names {
                let new = residents::NewResident {
                    household_id: home.id.clone(),
                    name: (*name).into(),
                    gender: Some(Gender::Male),
                    birth_date: Some("1945-01-01".into()),
                    residence_type: Some(ResidenceType::Registered),
                    tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                    ..Default::default()
                };
                residents::create(db, new).await.unwrap();
            }
        }
    });
    made
}

/// The figure shown with `key` on a cockpit page (its value's text).
fn figure(html: &str, key: &str) -> String {
    let marker = format!("data-key=\"{key}\"");
    let after = html.split(&marker).nth(1).unwrap_or_else(|| panic!("no figure {key}"));
    let dd = after.split("<dd>").nth(1).unwrap();
    let value = dd.split("</dd>").next().unwrap();
    let text = value.rsplit_once("\">").map_or(value, |(_, v)| v);
    text.split('<').next().unwrap().trim().to_owned()
}

#[test]
fn a_street_official_sees_counts_of_their_street_and_no_name() {
    for s in servers() {
        town(&s);
        s.create_account("jiedao", Role::StreetOfficial, &["370602004000"], "jiedao-password");
        let official = s.login("jiedao", "jiedao-password").2;
        let (status, html) = page(&s, &official, "/cockpit");
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("岐山街道"), "their street");
        assert_eq!(figure(&html, "registry.residents"), "3", "both communities, not the other street");
        assert_eq!(figure(&html, "registry.tag.elderly_alone"), "1");
        assert!(!html.contains("registry.tag.disabled"), "a sensitive tag's count is for those who see names");
        for name in ["张大爷", "李阿姨", "赵叔", "孙远", "只楚"] {
            assert!(!html.contains(name), "{name} must not be on a street official's cockpit");
        }
        assert!(!html.contains("/registry/residents"), "no list of people behind a figure");
        assert!(html.contains("塔山社区") && html.contains("大海阳社区"), "the communities side by side");
        assert!(html.contains("<svg") && html.contains("role=\"img\""), "charts drawn on the server");

        let (status, _) = page(&s, &official, "/cockpit?area=370602005000");
        assert_ne!(status, 200, "another street is out of reach");

        // The command room's big screen: the same figures, refreshing itself.
        let (status, screen) = page(&s, &official, "/cockpit?screen=1");
        assert_eq!(status, 200);
        assert!(screen.contains(r#"<meta http-equiv="refresh" content="60">"#), "refreshes without JavaScript");
        assert!(screen.contains("class=\"screen\"") && screen.contains("塔山社区"));
        assert!(!screen.contains("<script"), "no JavaScript");
        for name in ["张大爷", "只楚"] {
            assert!(!screen.contains(name), "{name} on the big screen");
        }

        // A community's cockpit from the street: still counts only.
        let (status, html) = page(&s, &official, "/cockpit?area=370602004011");
        assert_eq!(status, 200);
        assert_eq!(figure(&html, "registry.residents"), "2");
        assert!(!html.contains("张大爷"));
    }
}

#[test]
fn a_secretary_lands_on_the_cockpit_and_follows_a_figure_to_its_rows() {
    for s in servers() {
        town(&s);
        s.create_account("shuji", Role::CommunitySecretary, &["370602004011"], "shuji-password-1");
        let (status, answer) = s.call_form(&Auth::None, "/login", "username=shuji&password=shuji-password-1");
        assert_eq!(status, 303, "{answer}");
        assert_eq!(wangge_web::home_of(Role::CommunitySecretary), "/cockpit");
        assert_eq!(wangge_web::home_of(Role::StreetOfficial), "/cockpit");
        let secretary = s.login("shuji", "shuji-password-1").2;
        let (status, html) = page(&s, &secretary, "/cockpit?lang=en");
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("id=\"nav-cockpit\""), "the cockpit is in the navigation");
        assert_eq!(figure(&html, "registry.residents"), "2");
        assert_eq!(figure(&html, "registry.tag.disabled"), "1", "the community sees its sensitive counts");
        let area = s.runtime.block_on(areas::get_by_code(&s.db.db, "370602004011")).unwrap();
        let link = format!("/registry/residents?area={}&tag=elderly_alone", area.id);
        assert!(html.contains(&link), "the tag's count links to its people: {link}");
        assert!(html.contains("Response rate") && html.contains("Population pyramid"), "in English");
        let (status, list) = page(&s, &secretary, &link);
        assert_eq!(status, 200);
        assert!(list.contains("塔山张大爷") && !list.contains("塔山李阿姨"), "the rows behind the figure");
        let (status, _) = page(&s, &secretary, "/cockpit?area=370602004012");
        assert_ne!(status, 200, "the next community is not theirs");
    }
}

#[test]
fn children_sort_by_any_figure() {
    for s in servers() {
        town(&s);
        let admin = s.auth.borrow().clone();
        let (status, html) = page(&s, &admin, "/cockpit?area=370602004000&sort=registry.residents&dir=desc");
        assert_eq!(status, 200, "{html}");
        let table = html.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap();
        let (a, b) = (table.find("塔山社区").unwrap(), table.find("大海阳社区").unwrap());
        assert!(a < b, "two people before one");
        assert!(html.contains("aria-sort=\"descending\""));
        let (_, html) = page(&s, &admin, "/cockpit?area=370602004000&sort=registry.residents&dir=asc");
        let table = html.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap();
        assert!(table.find("大海阳社区").unwrap() < table.find("塔山社区").unwrap(), "one before two");
        assert!(html.contains("<tfoot>") && html.contains(">3</td>"), "the total of the street");
        // The deployment: administrators start from every city.
        let (status, html) = page(&s, &admin, "/cockpit");
        assert_eq!(status, 200);
        assert_eq!(figure(&html, "registry.residents"), "4");
        assert!(html.contains("烟台市"));
    }
}
