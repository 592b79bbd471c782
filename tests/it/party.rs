//! Party building over HTTP (issue 22, docs/party.md):
//!
//! - an in-service member without a resident account gets one opened with the
//!   confirmation of their registration (a taken name refused first), signs in,
//!   changes the first password, works on `/party/mine` and the portal without a
//!   household, loses the account when withdrawn and gets it back only from staff;
//! - the membership roll is open to `manage_party` and to named grants
//!   (`/party/access`), refused to the rest of `view_party` in their language;
//! - every Party page and API route: another community's caller (and a grid member
//!   of the next grid, for grid-bound records) gets the unknown-record answer, a
//!   role without the action 403, the allowed role succeeds; another community's
//!   ids in form fields are unknown ids; the public form with an unknown code.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde_json::{Value, json};
use wangge_domain::{AreaLevel, IdCardNumber, Phone, Role};
use wangge_store::Db;
use wangge_store::party::{self, service};
use wangge_store::registry::areas::{self, Area, NewArea};
use wangge_store::testing;

use crate::common::{Auth, Server, servers};

const B_COMMUNITY: &str = "370602004012";
const B_GRID: &str = "370602004012001";

fn birth() -> time::Date {
    time::Date::from_calendar_date(1985, time::Month::March, 3).unwrap()
}

/// A JSON object as an HTML form body.
fn form(body: &Value) -> String {
    let Value::Object(fields) = body else { return String::new() };
    fields
        .iter()
        .map(|(k, v)| {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            let encoded: String = text
                .bytes()
                .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
                .collect();
            format!("{k}={encoded}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// A session of a new account (no forced password change).
fn session(s: &Server, username: &str, role: Role, scope: &str) -> Auth {
    s.create_account(username, role, &[scope], "long-enough-pw");
    let (status, answer, auth) = s.login(username, "long-enough-pw");
    assert_eq!(status, 200, "{answer}");
    auth
}

async fn count_audit(db: &Db, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

async fn second_community(db: &Db, street: &Area) -> (Area, Area) {
    let community = areas::create(
        db,
        NewArea {
            parent_id: Some(street.id.clone()),
            level: AreaLevel::Community,
            code: B_COMMUNITY.into(),
            name: "第二社区".into(),
            boundary: None,
        },
    )
    .await
    .unwrap();
    let grid = areas::create(
        db,
        NewArea {
            parent_id: Some(community.id.clone()),
            level: AreaLevel::Grid,
            code: B_GRID.into(),
            name: "第二社区第一网格".into(),
            boundary: None,
        },
    )
    .await
    .unwrap();
    (community, grid)
}

/// The Party records of one community, made in the store.
struct Records {
    org: String,
    unit: String,
    /// Registered through the form with a phone, in the grid; registration pending.
    member: String,
    registration: String,
    /// A second registrant, pending: to refuse.
    registration2: String,
    /// A member with a resident account of their own (serve_party).
    serving: String,
    need: String,
    /// Two recorded service records of the serving member, with a photo.
    service: String,
    service2: String,
    photo: String,
}

async fn records(db: &Db, community: &Area, grid: &Area, seq: u16, account: &str) -> Records {
    let org = party::add_org(
        db,
        party::NewOrg {
            parent_id: None,
            area_id: community.id.clone(),
            kind: wangge_domain::party::OrgKind::GeneralBranch,
            name: format!("党总支{seq}"),
            secretary_name: None,
            committee: String::new(),
        },
    )
    .await
    .unwrap()
    .id;
    let unit = party::add_unit(
        db,
        party::NewUnit {
            community_id: community.id.clone(),
            name: format!("税务局{seq}"),
            party_org_name: "机关党支部".into(),
            contact_name: "联络员".into(),
            phone: None,
            resources: String::new(),
            declared_members: 3,
        },
    )
    .await
    .unwrap()
    .id;
    let register = |n: u16, name: &str, phone: Option<&str>| party::MemberForm {
        area_id: grid.id.clone(),
        name: name.into(),
        id_card: IdCardNumber::compose(370602, birth(), seq * 10 + n),
        phone: phone.map(|p| Phone::parse(p).unwrap()),
        unit_id: Some(unit.clone()),
        skills: String::new(),
    };
    let now = wangge_domain::now_millis();
    let (m, r) =
        party::register_member(db, register(1, "张在职", Some(&format!("1391234{seq:04}"))), now, "form", "表单")
            .await
            .unwrap();
    let (_, r2) = party::register_member(db, register(2, "李在职", None), now, "form", "表单").await.unwrap();
    let (serving, _) = party::register_member(db, register(3, "王服务", None), now, "form", "表单").await.unwrap();
    party::set_account(db, &serving.id, account).await.unwrap();
    let today = wangge_store::instructions::today();
    let need = service::add_need(
        db,
        service::NewNeed {
            area_id: grid.id.clone(),
            title: "助老".into(),
            detail: String::new(),
            source_kind: wangge_domain::party::NeedSource::Plan,
            source_id: None,
            field: None,
            needed_on: (today + time::Duration::days(5)).to_string(),
            slots: 3,
        },
        "社区",
        today,
    )
    .await
    .unwrap()
    .id;
    let png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    let served = |activity: &str| service::NewService {
        member_id: serving.id.clone(),
        need_id: None,
        activity: activity.into(),
        served_at: wangge_domain::now_millis() - 3_600_000,
        minutes: 60,
    };
    let first = service::record(db, served("清扫楼道"), &[png], "王服务", now).await.unwrap();
    let second = service::record(db, served("陪同就医"), &[], "王服务", now).await.unwrap();
    Records {
        org,
        unit,
        member: m.id,
        registration: r.id,
        registration2: r2.id,
        serving: serving.id,
        need,
        service: first.id,
        service2: second.id,
        photo: first.photos[0].clone(),
    }
}

/// The slip's first password, from the account page.
fn slip_password(page: &str) -> String {
    let at = page.find("id=\"slip-password\"><code>").unwrap_or_else(|| panic!("no slip: {page}"));
    let rest = &page[at + "id=\"slip-password\"><code>".len()..];
    rest[..rest.find("</code>").unwrap()].to_owned()
}

#[test]
fn an_in_service_member_gets_an_account_and_loses_it_when_withdrawn() {
    for s in servers() {
        let db = s.db.db.clone();
        let h = s.runtime.block_on(testing::hierarchy(&db));
        let secretary = session(&s, "dangwei", Role::PartySecretary, testing::COMMUNITY);
        let staff = session(&s, "shequ", Role::CommunityStaff, testing::COMMUNITY);

        // The member registers from their unit through the public form.
        let join = json!({"who": "member", "name": "赵在职", "id_card": IdCardNumber::compose(370602, birth(), 77).as_str(),
            "phone": "13912345678", "area_id": h.grid.id});
        let (status, page) = s.call_form(&Auth::None, &format!("/party/join/{}", testing::COMMUNITY), &form(&join));
        assert_eq!(status, 200, "{page}");
        let (_, regs) =
            s.call(&staff, "GET", &format!("/api/v1/party/registrations?area={}", testing::COMMUNITY), None);
        let reg = regs.as_array().unwrap().iter().find(|r| r["name"] == "赵在职").unwrap().clone();
        let (reg_id, member_id) = (text(&reg["id"]), text(&reg["member_id"]));

        // Staff see the offer: the name proposed from the phone's last four digits
        // (what its masked form shows); they may type another.
        let (status, units) = s.call_text(&staff, "GET", &format!("/party/units?area={}", testing::COMMUNITY), None);
        assert_eq!(status, 200);
        assert!(units.contains(&format!("open-account-{reg_id}")) && units.contains("value=\"dy5678\""), "{units}");
        assert!(!units.contains("13912345678"), "the whole phone is never on the page");

        // A taken name is refused before anything is decided.
        s.create_account("dy-taken", Role::GridMember, &[testing::GRID], "long-enough-pw");
        let confirm = format!("/party/registrations/{reg_id}/confirm");
        let (status, page) = s.call_form(&staff, &confirm, "open_account=1&username=dy-taken");
        assert!(status == 422 || status == 409, "{status} {page}");
        assert!(text(&page).contains("dy-taken"), "{page}");
        let (_, r) = s.call(&staff, "GET", &format!("/api/v1/party/registrations?area={}", testing::COMMUNITY), None);
        let still = r.as_array().unwrap().iter().find(|x| x["id"] == reg_id.as_str()).unwrap().clone();
        assert_eq!(still["state"], "pending", "nothing was decided: {still}");

        // Confirmed with the account: the slip shows the name, the address and the password once.
        let (status, page) = s.call_form(&staff, &confirm, "open_account=1&username=dy345678");
        let page = text(&page).replace("&#x2f;", "/");
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("id=\"slip-username\">dy345678<") && page.contains("/portal/login"), "{page}");
        let first = slip_password(&page);
        assert!(first.len() >= 12, "{first}");
        let opened = s.runtime.block_on(async {
            let m = party::member(&db, &member_id).await.unwrap();
            let account = wangge_store::security::accounts::get(&db, m.account_id.as_deref().unwrap()).await.unwrap();
            assert!(m.account_opened);
            assert_eq!(account.role, Role::Resident);
            assert!(account.household_id.is_none() && account.must_change_password);
            assert_eq!(account.scopes[0].code, testing::GRID, "scoped to the member's grid");
            assert_eq!(count_audit(&db, "party.account.open").await, 1);
            account
        });

        // Signing in: the first password must be changed before anything else.
        let (status, answer, member) = s.login("dy345678", &first);
        assert_eq!(status, 200, "{answer}");
        let (status, answer) = s.call(
            &member,
            "POST",
            "/api/v1/me/password",
            Some(&json!({"current_password": first, "new_password": "my-own-password-1"})),
        );
        assert!(status < 300, "{status} {answer}");
        // With the phone too.
        let (status, answer, member) = s.login("13912345678", "my-own-password-1");
        assert_eq!(status, 200, "{answer}");

        // Its pages: the member's own, and the portal without a household.
        for path in [
            "/party/mine",
            "/portal",
            "/portal/household",
            "/portal/requests",
            "/portal/requests/new",
            "/notifications",
        ] {
            let (status, page) = s.call_text(&member, "GET", path, None);
            assert_eq!(status, 200, "{path}: {page}");
        }
        let (_, portal) = s.call_text(&member, "GET", "/portal", None);
        assert!(portal.contains("id=\"task-party\""), "the portal leads a member to their service: {portal}");
        let (_, household) = s.call_text(&member, "GET", "/portal/household", None);
        assert!(household.contains("not-confirmed"), "{household}");

        // Claims a need and records service.
        let due = (wangge_store::instructions::today() + time::Duration::days(3)).to_string();
        let need = json!({"area": testing::COMMUNITY, "area_id": h.grid.id, "title": "陪老人买菜", "source_kind": "plan",
            "slots": "2", "needed_on": due});
        let (status, page) = s.call_form(&secretary, "/party/needs", &form(&need));
        assert_eq!(status, 303, "{page}");
        let (_, needs) = s.call(&staff, "GET", &format!("/api/v1/party/needs?area={}", testing::COMMUNITY), None);
        let need_id = text(&needs.as_array().unwrap().iter().find(|n| n["title"] == "陪老人买菜").unwrap()["id"]);
        let (status, page) =
            s.call_form(&member, &format!("/party/needs/{need_id}/claim"), &format!("member_id={member_id}"));
        assert_eq!(status, 303, "{page}");
        let record = json!({"member_id": member_id, "need_id": need_id, "activity": "陪老人买菜", "hours": "1.5",
            "served_at": format!("{}T09:00", wangge_store::instructions::today() - time::Duration::days(1))});
        let (status, page) = s.call_form(&member, "/party/mine/service", &form(&record));
        assert_eq!(status, 200, "{page}");
        assert!(text(&page).contains("mine-done"), "{page}");

        // Withdrawn: the account is disabled and its sessions end.
        let (status, page) = s.call_form(&secretary, &format!("/party/members/{member_id}"), "status=withdrawn");
        assert_eq!(status, 303, "{page}");
        let (status, _) = s.call(&member, "GET", "/api/v1/me", None);
        assert_eq!(status, 401, "the session ended");
        assert_eq!(s.login("dy345678", "my-own-password-1").0, 401);
        s.runtime.block_on(async {
            assert!(wangge_store::security::accounts::get(&db, &opened.id).await.unwrap().disabled);
            assert_eq!(count_audit(&db, "party.account.disable").await, 1);
        });

        // Active again: the account stays disabled until staff enable it, with a new first password.
        let (status, _) = s.call_form(&secretary, &format!("/party/members/{member_id}"), "status=active");
        assert_eq!(status, 303);
        assert_eq!(s.login("dy345678", "my-own-password-1").0, 401, "never enabled silently");
        let (_, page) = s.call_text(&secretary, "GET", &format!("/party/members/{member_id}"), None);
        assert!(page.contains("member-account-enable"), "{page}");
        let (status, page) = s.call_form(&staff, &format!("/party/members/{member_id}/account/enable"), "");
        let page = text(&page);
        assert_eq!(status, 200, "{page}");
        let again = slip_password(&page);
        assert_ne!(again, first);
        let (status, answer, _) = s.login("dy345678", &again);
        assert_eq!(status, 200, "{answer}");
        s.runtime.block_on(async { assert_eq!(count_audit(&db, "party.account.enable").await, 1) });

        // Moved to the next grid: the account opened for them follows.
        let (status, _) =
            s.call_form(&secretary, &format!("/party/members/{member_id}"), &format!("area_id={}", h.other_grid.id));
        assert_eq!(status, 303);
        s.runtime.block_on(async {
            let scopes = wangge_store::security::accounts::get(&db, &opened.id).await.unwrap().scopes;
            assert_eq!(scopes.iter().map(|x| x.code.as_str()).collect::<Vec<_>>(), [testing::OTHER_GRID]);
        });

        // A member with an account has no second one.
        let (status, page) = s.call_form(&staff, &format!("/party/members/{member_id}/account"), "username=dy-second");
        assert_eq!(status, 409, "{page}");

        // An account bound to a household (a resident's own) is not disabled.
        let resident_member = s.runtime.block_on(async {
            let form = party::MemberForm {
                area_id: h.grid.id.clone(),
                name: "钱居民".into(),
                id_card: IdCardNumber::compose(370602, birth(), 78),
                phone: None,
                unit_id: None,
                skills: String::new(),
            };
            let (m, r) = party::register_member(&db, form, wangge_domain::now_millis(), "staff", "社区").await.unwrap();
            (m.id, r.id)
        });
        let (resident_member, waiting) = resident_member;
        // Not before the registration is confirmed.
        let (status, page) =
            s.call_form(&staff, &format!("/party/members/{resident_member}/account"), "username=qian-jumin");
        assert_eq!(status, 422, "{page}");
        s.runtime.block_on(async {
            let confirm = wangge_domain::party::RegistrationStep::Confirm;
            party::step(&db, &waiting, confirm, None, "社区").await.unwrap();
        });
        let (status, page) =
            s.call_form(&staff, &format!("/party/members/{resident_member}/account"), "username=qian-jumin");
        assert_eq!(status, 200, "{page}");
        let account = s.runtime.block_on(async {
            let m = party::member(&db, &resident_member).await.unwrap();
            let id = m.account_id.unwrap();
            wangge_store::security::accounts::bind_household(&db, &id, &h.household.id).await.unwrap();
            id
        });
        let (status, _) = s.call_form(&secretary, &format!("/party/members/{resident_member}"), "status=transferred");
        assert_eq!(status, 303);
        s.runtime.block_on(async {
            assert!(
                !wangge_store::security::accounts::get(&db, &account).await.unwrap().disabled,
                "a household's account stays"
            );
        });
    }
}

#[test]
fn the_roll_is_open_to_who_keeps_it_and_to_named_grants() {
    for s in servers() {
        let db = s.db.db.clone();
        let (h, b, a_records) = s.runtime.block_on(async {
            let h = testing::hierarchy(&db).await;
            let b = second_community(&db, &h.street).await;
            let serving = wangge_store::security::accounts::create(
                &db,
                wangge_store::security::accounts::NewAccount {
                    username: "wang-fuwu".into(),
                    display_name: "王服务".into(),
                    role: Role::Resident,
                    scopes: vec![h.grid.id.clone()],
                    password: "long-enough-pw".into(),
                },
            )
            .await
            .unwrap();
            let r = records(&db, &h.community, &h.grid, 1, &serving.id).await;
            (h, b, r)
        });
        let secretary = session(&s, "dangwei", Role::PartySecretary, testing::COMMUNITY);
        let staff = session(&s, "shequ", Role::CommunityStaff, testing::COMMUNITY);
        let grid_member = session(&s, "wangge1", Role::GridMember, testing::GRID);
        let next_grid = session(&s, "wangge2", Role::GridMember, testing::OTHER_GRID);
        let other_secretary = session(&s, "dangwei-b", Role::CommunitySecretary, B_COMMUNITY);
        s.create_account("shequ-b", Role::CommunityStaff, &[B_COMMUNITY], "long-enough-pw");
        s.create_account("jiedao", Role::StreetOfficial, &[testing::STREET], "long-enough-pw");
        let member_page = format!("/party/members/{}", a_records.member);
        let list = format!("/api/v1/party/members?area={}", testing::COMMUNITY);

        // Who keeps the registry reads the roll.
        assert_eq!(s.call_text(&secretary, "GET", &member_page, None).0, 200);
        let (status, members) = s.call(&secretary, "GET", &list, None);
        assert_eq!(status, 200);
        assert!(members.as_array().unwrap().iter().any(|m| m["name"] == "张在职"));

        // The rest of view_party: their work, not the roll, said in their language.
        let (status, page) = s.call_text(&staff, "GET", &member_page, None);
        assert_eq!(status, 403);
        assert!(page.contains("党员名册仅对党组织书记"), "{page}");
        let (status, page) = s.call_text(&staff, "GET", &format!("{member_page}?lang=en"), None);
        assert_eq!(status, 403);
        assert!(page.contains("The membership roll is open to"), "{page}");
        let (status, answer) = s.call(&staff, "GET", &list, None);
        assert_eq!(status, 403);
        assert!(text(&answer["error"]["message"]).contains("党员名册"), "{answer}");
        let (status, home) = s.call_text(&staff, "GET", &format!("/party?area={}", testing::COMMUNITY), None);
        assert_eq!(status, 200);
        assert!(home.contains("party-roll-closed") && !home.contains(&a_records.member), "{home}");
        for path in ["/party/units", "/party/needs", "/party/service"] {
            let (status, page) = s.call_text(&staff, "GET", &format!("{path}?area={}", testing::COMMUNITY), None);
            assert_eq!(status, 200, "{path}: {page}");
        }
        let (_, service) = s.call_text(&grid_member, "GET", &format!("/party/service?area={}", testing::GRID), None);
        assert!(service.contains("王服务"), "service to confirm names the member: {service}");
        assert_eq!(s.call_text(&grid_member, "GET", &member_page, None).0, 403);

        // Grants: to an account of the community, by name, with a reason.
        let grant = |who: &Auth, area: &str, username: &str| {
            let body = json!({"area": area, "username": username, "reason": "核对党员信息"});
            s.call_form(who, "/party/access", &form(&body))
        };
        let (status, page) = grant(&secretary, testing::COMMUNITY, "shequ");
        assert_eq!(status, 303, "{page}");
        assert_eq!(s.call_text(&staff, "GET", &member_page, None).0, 200, "granted");
        let (status, members) = s.call(&staff, "GET", &list, None);
        assert_eq!(status, 200, "{members}");
        let (_, home) = s.call_text(&staff, "GET", &format!("/party?area={}", testing::COMMUNITY), None);
        assert!(home.contains(&a_records.member), "the list is shown to a grantee");
        let (status, page) = grant(&secretary, testing::COMMUNITY, "shequ");
        assert_eq!(status, 409, "one live grant: {page}");
        // Another community's account and an unknown name: the same words.
        let (status, theirs) = grant(&secretary, testing::COMMUNITY, "shequ-b");
        assert_eq!(status, 422, "{theirs}");
        let (status, nobody) = grant(&secretary, testing::COMMUNITY, "nobody-here");
        assert_eq!(status, 422);
        let said = |page: &Value, name: &str| {
            let t = text(page);
            let at = t.find("id=\"access-error\">").unwrap();
            t[at..at + t[at..].find("</p>").unwrap()].replace(name, "<name>")
        };
        assert_eq!(said(&theirs, "shequ-b"), said(&nobody, "nobody-here"));
        // A role outside Party work, and one that sees the roll already.
        assert_eq!(grant(&secretary, testing::COMMUNITY, "jiedao").0, 422);
        s.create_account("shuji2", Role::CommunitySecretary, &[testing::COMMUNITY], "long-enough-pw");
        assert_eq!(grant(&secretary, testing::COMMUNITY, "shuji2").0, 409);
        // Limited to the grantor's community; the page of grants too.
        assert_eq!(grant(&other_secretary, testing::COMMUNITY, "shequ").0, 403);
        assert_eq!(
            s.call_text(&other_secretary, "GET", &format!("/party/access?area={}", testing::COMMUNITY), None).0,
            403
        );
        assert_eq!(s.call_text(&staff, "GET", &format!("/party/access?area={}", testing::COMMUNITY), None).0, 403);
        assert_eq!(s.call_text(&other_secretary, "GET", &member_page, None).0, 404, "another community: unknown");

        // A grant opens the roll inside the grantee's own scope.
        assert_eq!(grant(&secretary, testing::COMMUNITY, "wangge1").0, 303);
        assert_eq!(grant(&secretary, testing::COMMUNITY, "wangge2").0, 303);
        assert_eq!(s.call_text(&grid_member, "GET", &member_page, None).0, 200);
        assert_eq!(s.call_text(&next_grid, "GET", &member_page, None).0, 404, "the next grid's member");
        let (status, theirs) = s.call(&next_grid, "GET", &format!("/api/v1/party/members/{}", a_records.member), None);
        assert_eq!(status, 404, "{theirs}");

        // Revoked: closed again; a second revoke is refused; both audited.
        let (_, access) = s.call_text(&secretary, "GET", &format!("/party/access?area={}", testing::COMMUNITY), None);
        let grant_id = s.runtime.block_on(async {
            let staff_id = wangge_store::security::accounts::get_by_username(&db, "shequ").await.unwrap().id;
            party::access::grants_of(&db, &h.community.id)
                .await
                .unwrap()
                .into_iter()
                .find(|g| g.account_id == staff_id && g.revoked_at.is_none())
                .unwrap()
                .id
        });
        assert!(access.contains(&format!("revoke-{grant_id}")), "{access}");
        let revoke = format!("/party/access/{grant_id}/revoke");
        assert_eq!(s.call_form(&other_secretary, &revoke, "").0, 404, "another community's grant is unknown");
        assert_eq!(s.call_form(&secretary, &revoke, "").0, 303);
        assert_eq!(s.call_text(&staff, "GET", &member_page, None).0, 403);
        assert_eq!(s.call_form(&secretary, &revoke, "").0, 409);
        s.runtime.block_on(async {
            assert_eq!(count_audit(&db, "party.roll.grant").await, 3);
            assert_eq!(count_audit(&db, "party.roll.revoke").await, 1);
        });
        let _ = b;
    }
}

/// One route's checks, gathered rather than stopped at the first failure.
struct Walk<'a> {
    s: &'a Server,
    seen: RefCell<BTreeSet<String>>,
    failures: RefCell<Vec<String>>,
}

impl Walk<'_> {
    /// Sends `method path` (a page's POST as a form, the API's as JSON) and
    /// expects `want`; `pattern` names the route for the coverage check.
    fn expect(&self, who: (&str, &Auth), method: &str, pattern: &str, path: &str, body: Option<Value>, want: u16) {
        self.seen.borrow_mut().insert(format!("{method} {pattern}"));
        let page = !pattern.starts_with("/api/");
        let (status, answer) = if method == "POST" && page {
            let (status, answer) = self.s.call_form(who.1, path, &body.as_ref().map(form).unwrap_or_default());
            (status, text(&answer))
        } else {
            self.s.call_text(who.1, method, path, body.as_ref())
        };
        if status != want {
            let short: String = answer.chars().take(300).collect();
            self.failures.borrow_mut().push(format!("{} {method} {path}: want {want}, got {status} {short}", who.0));
        }
    }
}

#[test]
fn every_party_route_keeps_to_its_community_grid_and_role() {
    for s in servers() {
        let db = s.db.db.clone();
        let (h, (b_community, b_grid)) = s.runtime.block_on(async {
            let h = testing::hierarchy(&db).await;
            let b = second_community(&db, &h.street).await;
            (h, b)
        });
        let resident_a = s.create_account("jumin-a", Role::Resident, &[testing::GRID], "long-enough-pw");
        let resident_b = s.create_account("jumin-b", Role::Resident, &[B_GRID], "long-enough-pw");
        let (a, b) = s.runtime.block_on(async {
            let b = (b_community.clone(), b_grid.clone());
            let ra = records(&db, &h.community, &h.grid, 1, &resident_a).await;
            let rb = records(&db, &b.0, &b.1, 2, &resident_b).await;
            (ra, rb)
        });
        let _ = b_community;
        let a_code = testing::COMMUNITY;
        // Allowed roles of community A, the same roles of community B, and roles without the action.
        let ps = ("party_secretary", &s.token(Role::PartySecretary, a_code));
        let staff = ("community_staff", &s.token(Role::CommunityStaff, a_code));
        let gm = ("grid_member", &s.token(Role::GridMember, testing::GRID));
        let street = ("street_official", &s.token(Role::StreetOfficial, testing::STREET));
        let aux = ("auxiliary", &s.token(Role::Auxiliary, testing::GRID));
        let ps_b = ("party_secretary of B", &s.token(Role::PartySecretary, B_COMMUNITY));
        let staff_b = ("community_staff of B", &s.token(Role::CommunityStaff, B_COMMUNITY));
        let gm_b = ("grid_member of B", &s.token(Role::GridMember, B_GRID));
        let gm_next = ("grid_member of the next grid", &s.token(Role::GridMember, testing::OTHER_GRID));
        // The next grid's member with the roll granted (a token carries no grant).
        let granted_next = session(&s, "wangge-next", Role::GridMember, testing::OTHER_GRID);
        s.runtime.block_on(party::access::grant_roll(&db, &h.community, "wangge-next", "核对", "书记")).unwrap();
        let granted_next = ("granted grid_member of the next grid", &granted_next);
        let (_, _, serve_a) = s.login("jumin-a", "long-enough-pw");
        let (_, _, serve_b) = s.login("jumin-b", "long-enough-pw");
        let serve_a = ("resident member of A", &serve_a);
        let serve_b = ("resident member of B", &serve_b);
        s.create_account("shequ-a", Role::CommunityStaff, &[a_code], "long-enough-pw");
        let grant_id =
            s.runtime.block_on(party::access::grant_roll(&db, &h.community, "shequ-a", "核对", "书记")).unwrap().id;

        let w = Walk { s: &s, seen: RefCell::new(BTreeSet::new()), failures: RefCell::new(Vec::new()) };
        let id_card = |n: u16| IdCardNumber::compose(370602, birth(), 500 + n).as_str().to_owned();
        let due = (wangge_store::instructions::today() + time::Duration::days(4)).to_string();
        let area = |code: &str| format!("?area={code}");

        // ---- pages: lists (another community's area is refused as outside one's area) ----
        for (pattern, allowed, denied) in [
            ("/party", gm, street),
            ("/party/units", gm, street),
            ("/party/needs", gm, street),
            ("/party/service", gm, street),
            ("/party/settings", ps, staff),
            ("/party/access", ps, staff),
        ] {
            let own = if allowed.0 == "grid_member" { testing::GRID } else { a_code };
            w.expect(allowed, "GET", pattern, &format!("{pattern}{}", area(own)), None, 200);
            w.expect(denied, "GET", pattern, &format!("{pattern}{}", area(a_code)), None, 403);
            w.expect(ps_b, "GET", pattern, &format!("{pattern}{}", area(a_code)), None, 403);
        }
        w.expect(serve_a, "GET", "/party/mine", "/party/mine", None, 200);
        w.expect(gm, "GET", "/party/mine", "/party/mine", None, 403);
        let (_, mine) = s.call_text(serve_b.1, "GET", "/party/mine", None);
        assert!(!mine.contains(&a.need), "a member of B sees B's needs only");

        // ---- pages about one record ----
        let member = format!("/party/members/{}", a.member);
        w.expect(ps_b, "GET", "/party/members/{id}", &member, None, 404);
        w.expect(granted_next, "GET", "/party/members/{id}", &member, None, 404);
        w.expect(staff, "GET", "/party/members/{id}", &member, None, 403);
        w.expect(ps, "GET", "/party/members/{id}", &member, None, 200);
        let change = json!({"post": "楼道长"});
        w.expect(ps_b, "POST", "/party/members/{id}", &member, Some(change.clone()), 404);
        w.expect(staff, "POST", "/party/members/{id}", &member, Some(change.clone()), 403);
        w.expect(ps, "POST", "/party/members/{id}", &member, Some(json!({"area_id": b_grid.id})), 404);
        w.expect(ps, "POST", "/party/members/{id}", &member, Some(json!({"org_id": b.org})), 404);
        w.expect(ps, "POST", "/party/members/{id}", &member, Some(change), 303);
        let reveal = format!("{member}/reveal");
        let why = json!({"field": "phone", "reason": "电话核实"});
        w.expect(ps_b, "POST", "/party/members/{id}/reveal", &reveal, Some(why.clone()), 404);
        w.expect(staff, "POST", "/party/members/{id}/reveal", &reveal, Some(why.clone()), 403);
        w.expect(ps, "POST", "/party/members/{id}/reveal", &reveal, Some(why), 200);

        let counter = |area_id: &str, unit_id: &str, n: u16| {
            json!({"area": a_code, "who": "member", "name": "柜台党员", "id_card": id_card(n), "area_id": area_id,
                "unit_id": unit_id})
        };
        w.expect(
            staff_b,
            "POST",
            "/party/registrations",
            "/party/registrations",
            Some(counter(&h.grid.id, "", 1)),
            403,
        );
        w.expect(gm, "POST", "/party/registrations", "/party/registrations", Some(counter(&h.grid.id, "", 1)), 403);
        w.expect(staff, "POST", "/party/registrations", "/party/registrations", Some(counter(&b_grid.id, "", 2)), 404);
        w.expect(
            staff,
            "POST",
            "/party/registrations",
            "/party/registrations",
            Some(counter(&h.grid.id, &b.unit, 3)),
            404,
        );
        w.expect(
            staff,
            "POST",
            "/party/registrations",
            "/party/registrations",
            Some(counter(&h.grid.id, &a.unit, 4)),
            303,
        );

        let receipt = format!("/party/registrations/{}", a.registration);
        w.expect(ps_b, "GET", "/party/registrations/{id}", &receipt, None, 404);
        w.expect(gm_next, "GET", "/party/registrations/{id}", &receipt, None, 404);
        w.expect(street, "GET", "/party/registrations/{id}", &receipt, None, 403);
        w.expect(gm, "GET", "/party/registrations/{id}", &receipt, None, 200);
        for (step, reg, want, body) in [
            ("refuse", &a.registration2, 303, Some(json!({"reason": "资料不全"}))),
            ("confirm", &a.registration, 303, None),
            ("withdraw", &a.registration, 303, None),
        ] {
            let pattern = format!("/party/registrations/{{id}}/{step}");
            let path = format!("/party/registrations/{reg}/{step}");
            w.expect(ps_b, "POST", &pattern, &path, body.clone(), 404);
            w.expect(gm, "POST", &pattern, &path, body.clone(), 403);
            w.expect(staff, "POST", &pattern, &path, body, want);
            if step == "confirm" {
                // Confirmed: an account may be opened for the member.
                let open = format!("{member}/account");
                w.expect(staff_b, "POST", "/party/members/{id}/account", &open, Some(json!({"username": "dy-b"})), 404);
                w.expect(gm, "POST", "/party/members/{id}/account", &open, Some(json!({"username": "dy-gm"})), 403);
                w.expect(staff, "POST", "/party/members/{id}/account", &open, Some(json!({"username": "dy-a"})), 200);
                let enable = format!("{member}/account/enable");
                w.expect(staff_b, "POST", "/party/members/{id}/account/enable", &enable, None, 404);
                w.expect(gm, "POST", "/party/members/{id}/account/enable", &enable, None, 403);
                w.expect(staff, "POST", "/party/members/{id}/account/enable", &enable, None, 409);
                // 亮身份 on paper, kept by those who keep the registry.
                let card = format!("{member}/card");
                let paper = json!({"commitment": "有事找我", "paper": "1"});
                w.expect(ps_b, "POST", "/party/members/{id}/card", &card, Some(paper.clone()), 404);
                w.expect(staff, "POST", "/party/members/{id}/card", &card, Some(paper.clone()), 403);
                w.expect(ps, "POST", "/party/members/{id}/card", &card, Some(paper), 303);
                let revoke = format!("{member}/card/revoke");
                w.expect(ps_b, "POST", "/party/members/{id}/card/revoke", &revoke, None, 404);
                w.expect(staff, "POST", "/party/members/{id}/card/revoke", &revoke, None, 403);
                w.expect(ps, "POST", "/party/members/{id}/card/revoke", &revoke, None, 303);
            }
        }

        // The public form: an unknown code is an unknown area; another community's ids are unknown ids.
        w.expect(("anyone", &Auth::None), "GET", "/party/join/{code}", &format!("/party/join/{a_code}"), None, 200);
        w.expect(("anyone", &Auth::None), "GET", "/party/join/{code}", "/party/join/370602999999", None, 404);
        let join = |area_id: &str, unit_id: &str, n: u16| json!({"who": "member", "name": "表单党员", "id_card": id_card(n), "area_id": area_id, "unit_id": unit_id});
        let join_a = format!("/party/join/{a_code}");
        let anyone = ("anyone", &Auth::None);
        w.expect(anyone, "POST", "/party/join/{code}", "/party/join/370602999999", Some(join("", "", 5)), 404);
        w.expect(anyone, "POST", "/party/join/{code}", &join_a, Some(join(&b_grid.id, "", 6)), 404);
        w.expect(anyone, "POST", "/party/join/{code}", &join_a, Some(join(&h.grid.id, &b.unit, 7)), 404);
        w.expect(anyone, "POST", "/party/join/{code}", &join_a, Some(join(&h.grid.id, &a.unit, 8)), 200);

        // Needs.
        let need = |area_id: &str| json!({"area": a_code, "area_id": area_id, "title": "走访", "source_kind": "plan", "slots": "2", "needed_on": due});
        w.expect(ps_b, "POST", "/party/needs", "/party/needs", Some(need(&h.grid.id)), 404);
        w.expect(staff, "POST", "/party/needs", "/party/needs", Some(need(&h.grid.id)), 403);
        w.expect(ps, "POST", "/party/needs", "/party/needs", Some(need(&b_grid.id)), 404);
        w.expect(ps, "POST", "/party/needs", "/party/needs", Some(need(&h.grid.id)), 303);
        let claim = format!("/party/needs/{}/claim", a.need);
        w.expect(serve_b, "POST", "/party/needs/{id}/claim", &claim, Some(json!({"member_id": b.serving})), 404);
        w.expect(serve_b, "POST", "/party/needs/{id}/claim", &claim, Some(json!({"member_id": a.serving})), 404);
        w.expect(gm, "POST", "/party/needs/{id}/claim", &claim, Some(json!({"member_id": a.serving})), 403);
        w.expect(serve_a, "POST", "/party/needs/{id}/claim", &claim, Some(json!({"member_id": a.serving})), 303);
        let record = |need_id: &str| {
            json!({"member_id": a.serving, "need_id": need_id, "activity": "走访", "hours": "1",
                "served_at": format!("{}T08:00", wangge_store::instructions::today() - time::Duration::days(1))})
        };
        w.expect(serve_a, "POST", "/party/mine/service", "/party/mine/service", Some(record(&b.need)), 404);
        w.expect(gm, "POST", "/party/mine/service", "/party/mine/service", Some(record(&a.need)), 403);
        w.expect(serve_a, "POST", "/party/mine/service", "/party/mine/service", Some(record(&a.need)), 200);
        // 亮身份: one's own card only.
        let card = |member: &str| json!({"member_id": member, "commitment": "有事找我", "agree": "1"});
        w.expect(serve_a, "POST", "/party/mine/card", "/party/mine/card", Some(card(&b.serving)), 404);
        w.expect(gm, "POST", "/party/mine/card", "/party/mine/card", Some(card(&a.serving)), 403);
        w.expect(serve_a, "POST", "/party/mine/card", "/party/mine/card", Some(card(&a.serving)), 200);
        let mine = |member: &str| Some(json!({"member_id": member}));
        w.expect(serve_a, "POST", "/party/mine/card/revoke", "/party/mine/card/revoke", mine(&b.serving), 404);
        w.expect(gm, "POST", "/party/mine/card/revoke", "/party/mine/card/revoke", mine(&a.serving), 403);
        w.expect(serve_a, "POST", "/party/mine/card/revoke", "/party/mine/card/revoke", mine(&a.serving), 200);

        // Service to confirm, its photo.
        for (step, id, body) in
            [("confirm", &a.service, json!({"rating": "5"})), ("reject", &a.service2, json!({"reason": "时间不符"}))]
        {
            let pattern = format!("/party/service/{{id}}/{step}");
            let path = format!("/party/service/{id}/{step}");
            w.expect(ps_b, "POST", &pattern, &path, Some(body.clone()), 404);
            w.expect(gm_next, "POST", &pattern, &path, Some(body.clone()), 404);
            w.expect(street, "POST", &pattern, &path, Some(body.clone()), 403);
            w.expect(gm, "POST", &pattern, &path, Some(body), 303);
        }
        let photo = format!("/party/photos/{}", a.photo);
        w.expect(ps_b, "GET", "/party/photos/{id}", &photo, None, 404);
        w.expect(gm_next, "GET", "/party/photos/{id}", &photo, None, 404);
        w.expect(serve_b, "GET", "/party/photos/{id}", &photo, None, 404);
        w.expect(aux, "GET", "/party/photos/{id}", &photo, None, 404);
        w.expect(gm, "GET", "/party/photos/{id}", &photo, None, 200);
        w.expect(serve_a, "GET", "/party/photos/{id}", &photo, None, 200);

        // Settings, organisations, members.
        let settings = json!({"area": a_code, "period_months": "6", "feedback_months": "3", "yearly_hours": "50",
            "threshold_percent": "95", "per_hour": "10", "per_activity": "2", "per_need": "5"});
        w.expect(ps_b, "POST", "/party/settings", "/party/settings", Some(settings.clone()), 403);
        w.expect(staff, "POST", "/party/settings", "/party/settings", Some(settings.clone()), 403);
        w.expect(ps, "POST", "/party/settings", "/party/settings", Some(settings), 303);
        let org = |area_id: &str, parent: &str| json!({"area": a_code, "area_id": area_id, "kind": "branch", "name": "第一支部", "parent_id": parent});
        w.expect(ps_b, "POST", "/party/orgs", "/party/orgs", Some(org(&h.grid.id, "")), 404);
        w.expect(staff, "POST", "/party/orgs", "/party/orgs", Some(org(&h.grid.id, "")), 403);
        w.expect(ps, "POST", "/party/orgs", "/party/orgs", Some(org(&b_grid.id, "")), 404);
        w.expect(ps, "POST", "/party/orgs", "/party/orgs", Some(org(&h.grid.id, &b.org)), 404);
        w.expect(ps, "POST", "/party/orgs", "/party/orgs", Some(org(&h.grid.id, &a.org)), 303);
        let add = |area_id: &str, n: u16| json!({"area": a_code, "area_id": area_id, "kind": "resident", "name": "新党员", "id_card": id_card(n)});
        w.expect(ps_b, "POST", "/party/members", "/party/members", Some(add(&h.grid.id, 10)), 404);
        w.expect(staff, "POST", "/party/members", "/party/members", Some(add(&h.grid.id, 11)), 403);
        w.expect(ps, "POST", "/party/members", "/party/members", Some(add(&b_grid.id, 12)), 404);
        w.expect(ps, "POST", "/party/members", "/party/members", Some(add(&h.grid.id, 13)), 303);

        // A unit's feedback.
        let feedback = format!("/party/units/{}/feedback", a.unit);
        w.expect(ps_b, "GET", "/party/units/{id}/feedback", &feedback, None, 404);
        w.expect(street, "GET", "/party/units/{id}/feedback", &feedback, None, 403);
        w.expect(gm, "GET", "/party/units/{id}/feedback", &feedback, None, 200);

        // Grants.
        let grant = json!({"area": a_code, "username": "wangge-next", "reason": "核对"});
        w.expect(ps_b, "POST", "/party/access", "/party/access", Some(grant.clone()), 403);
        w.expect(staff, "POST", "/party/access", "/party/access", Some(grant.clone()), 403);
        w.expect(ps, "POST", "/party/access", "/party/access", Some(grant), 409);
        let revoke = format!("/party/access/{grant_id}/revoke");
        w.expect(ps_b, "POST", "/party/access/{id}/revoke", &revoke, None, 404);
        w.expect(staff, "POST", "/party/access/{id}/revoke", &revoke, None, 403);
        w.expect(ps, "POST", "/party/access/{id}/revoke", &revoke, None, 303);

        // Organisational life: the community's general branch of A, a meeting of it with a photo.
        let ps_grid = ("party_secretary of the grid", &s.token(Role::PartySecretary, testing::GRID));
        let (meeting, meeting_photo) = s.runtime.block_on(async {
            let new = party::life::NewMeeting {
                org_id: a.org.clone(),
                kind: wangge_domain::party_life::MeetingKind::Committee,
                held_at: wangge_domain::now_millis() - 3_600_000,
                place: "党群服务中心".into(),
                topic: "研究工作".into(),
                minutes: "记录".into(),
                attendance: Vec::new(),
            };
            let png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
            let m = party::life::record(&db, new, &[png], "书记", wangge_domain::now_millis()).await.unwrap();
            (m.id.clone(), m.photos[0].clone())
        });
        w.expect(gm, "GET", "/party/life", &format!("/party/life{}", area(testing::GRID)), None, 200);
        w.expect(street, "GET", "/party/life", &format!("/party/life{}", area(a_code)), None, 403);
        w.expect(ps_b, "GET", "/party/life", &format!("/party/life{}", area(a_code)), None, 403);
        let life = format!("/party/orgs/{}/life", a.org);
        w.expect(ps_b, "GET", "/party/orgs/{id}/life", &life, None, 404);
        w.expect(street, "GET", "/party/orgs/{id}/life", &life, None, 403);
        w.expect(gm, "GET", "/party/orgs/{id}/life", &life, None, 200);
        let rules = json!({"committee": "3", "lecture": "default", "term_start": "2022-01-10", "term_years": "5"});
        w.expect(ps_b, "POST", "/party/orgs/{id}/life", &life, Some(rules.clone()), 404);
        w.expect(gm, "POST", "/party/orgs/{id}/life", &life, Some(rules.clone()), 403);
        w.expect(ps_grid, "POST", "/party/orgs/{id}/life", &life, Some(rules.clone()), 403);
        w.expect(ps, "POST", "/party/orgs/{id}/life", &life, Some(json!({"committee": "2"})), 422);
        w.expect(ps, "POST", "/party/orgs/{id}/life", &life, Some(rules), 303);
        let new = format!("/party/orgs/{}/meetings", a.org);
        w.expect(ps_b, "GET", "/party/orgs/{id}/meetings", &new, None, 404);
        w.expect(staff, "GET", "/party/orgs/{id}/meetings", &new, None, 403);
        w.expect(ps_grid, "GET", "/party/orgs/{id}/meetings", &new, None, 403);
        w.expect(ps, "GET", "/party/orgs/{id}/meetings", &new, None, 200);
        let held = format!("{}T19:00", wangge_store::instructions::today() - time::Duration::days(1));
        let meeting_form = json!({"kind": "committee", "held_at": held, "place": "党群服务中心", "topic": "研究工作"});
        w.expect(ps_b, "POST", "/party/orgs/{id}/meetings", &new, Some(meeting_form.clone()), 404);
        w.expect(staff, "POST", "/party/orgs/{id}/meetings", &new, Some(meeting_form.clone()), 403);
        w.expect(ps_grid, "POST", "/party/orgs/{id}/meetings", &new, Some(meeting_form.clone()), 403);
        // Another community's member in the attendance is an unknown member.
        let mut other_member = meeting_form.clone();
        other_member[format!("att_{}", b.member)] = json!("present");
        w.expect(ps, "POST", "/party/orgs/{id}/meetings", &new, Some(other_member), 404);
        let no_place = json!({"kind": "committee", "held_at": held, "place": " ", "topic": "研究工作"});
        w.expect(ps, "POST", "/party/orgs/{id}/meetings", &new, Some(no_place), 422);
        w.expect(ps, "POST", "/party/orgs/{id}/meetings", &new, Some(meeting_form), 303);
        let page = format!("/party/meetings/{meeting}");
        w.expect(ps_b, "GET", "/party/meetings/{id}", &page, None, 404);
        w.expect(street, "GET", "/party/meetings/{id}", &page, None, 403);
        w.expect(gm, "GET", "/party/meetings/{id}", &page, None, 200);
        let photo = format!("/party/meeting-photos/{meeting_photo}");
        w.expect(ps_b, "GET", "/party/meeting-photos/{id}", &photo, None, 404);
        w.expect(aux, "GET", "/party/meeting-photos/{id}", &photo, None, 403);
        w.expect(gm, "GET", "/party/meeting-photos/{id}", &photo, None, 200);

        // ---- joint meetings and the three lists ----
        let sec_b = ("community_secretary of B", &s.token(Role::CommunitySecretary, B_COMMUNITY));
        let now = wangge_domain::now_millis();
        let (joint, resolutions, resource, project, project_b) = s.runtime.block_on(async {
            let new = party::joint::NewJointMeeting {
                community_id: h.community.id.clone(),
                held_at: now - 3_600_000,
                place: "会议室".into(),
                title: "联席会议".into(),
                unit_ids: vec![a.unit.clone()],
                topics: vec![("议题一".into(), "决议一".into()), ("议题二".into(), "决议二".into())],
                ..Default::default()
            };
            let m = party::joint::record(&db, new, "书记", now).await.unwrap();
            let resource = party::projects::NewResource {
                area_id: h.community.id.clone(),
                unit_id: Some(a.unit.clone()),
                offered_by: String::new(),
                kind: wangge_domain::party_joint::ResourceKind::Skill,
                field: wangge_domain::party_joint::ServiceField::Health,
                title: "义诊".into(),
                detail: String::new(),
                amount_fen: None,
            };
            let resource = party::projects::add_resource(&db, resource, "书记").await.unwrap().id;
            let project = |area: &Area| party::projects::NewProject {
                area_id: area.id.clone(),
                title: "义诊进网格".into(),
                detail: String::new(),
                field: wangge_domain::party_joint::ServiceField::Health,
                owner_unit_id: None,
                owner_name: "物业".into(),
                deadline: "2099-01-01".into(),
            };
            let today = wangge_store::instructions::today();
            let pa = party::projects::add_project(&db, project(&h.grid), "书记", today).await.unwrap().id;
            let pb = party::projects::add_project(&db, project(&b_grid), "书记", today).await.unwrap().id;
            (m.id, m.resolutions.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), resource, pa, pb)
        });
        w.expect(gm, "GET", "/party/joint", &format!("/party/joint{}", area(testing::GRID)), None, 200);
        w.expect(street, "GET", "/party/joint", &format!("/party/joint{}", area(a_code)), None, 403);
        w.expect(ps_b, "GET", "/party/joint", &format!("/party/joint{}", area(a_code)), None, 403);
        w.expect(ps, "GET", "/party/joint/new", &format!("/party/joint/new{}", area(a_code)), None, 200);
        w.expect(ps_grid, "GET", "/party/joint/new", &format!("/party/joint/new{}", area(testing::GRID)), None, 403);
        w.expect(staff, "GET", "/party/joint/new", &format!("/party/joint/new{}", area(a_code)), None, 403);
        w.expect(ps_b, "GET", "/party/joint/new", &format!("/party/joint/new{}", area(a_code)), None, 403);
        let held = format!("{}T15:00", wangge_store::instructions::today() - time::Duration::days(1));
        let record = |units: &str, topic: &str| {
            json!({"area": a_code, "held_at": held, "place": "会议室", "title": "联席会议", "units": units,
                "topic_1": topic, "decision_1": "决议"})
        };
        w.expect(ps, "POST", "/party/joint/new", "/party/joint/new", Some(record(&a.unit, "议题")), 303);
        w.expect(ps, "POST", "/party/joint/new", "/party/joint/new", Some(record(&a.unit, "")), 422);
        w.expect(ps, "POST", "/party/joint/new", "/party/joint/new", Some(record(&b.unit, "议题")), 404);
        w.expect(ps_b, "POST", "/party/joint/new", "/party/joint/new", Some(record(&a.unit, "议题")), 403);
        w.expect(staff, "POST", "/party/joint/new", "/party/joint/new", Some(record(&a.unit, "议题")), 403);
        let page = format!("/party/joint/{joint}");
        w.expect(gm, "GET", "/party/joint/{id}", &page, None, 200);
        w.expect(street, "GET", "/party/joint/{id}", &page, None, 403);
        w.expect(ps_b, "GET", "/party/joint/{id}", &page, None, 404);
        let to_project = format!("/party/resolutions/{}/project", resolutions[0]);
        let project_form = |area: &Area| json!({"title": "项目", "area_id": area.id, "field": "health", "owner_name": "物业", "deadline": "2099-01-01"});
        let pattern = "/party/resolutions/{id}/project";
        w.expect(ps_b, "POST", pattern, &to_project, Some(project_form(&b_grid)), 404);
        w.expect(ps_grid, "POST", pattern, &to_project, Some(project_form(&h.grid)), 403);
        w.expect(staff, "POST", pattern, &to_project, Some(project_form(&h.grid)), 403);
        w.expect(ps, "POST", pattern, &to_project, Some(project_form(&b_grid)), 404);
        w.expect(ps, "POST", pattern, &to_project, Some(project_form(&h.grid)), 303);
        w.expect(ps, "POST", pattern, &to_project, Some(project_form(&h.grid)), 422);
        let to_instruction = format!("/party/resolutions/{}/instruction", resolutions[1]);
        let pattern = "/party/resolutions/{id}/instruction";
        let due_on = (wangge_store::instructions::today() + time::Duration::days(10)).to_string();
        let grids = |g: &Area| json!({"title": "指令", "grids": g.id, "due_on": due_on});
        w.expect(sec_b, "POST", pattern, &to_instruction, Some(grids(&b_grid)), 404);
        w.expect(gm, "POST", pattern, &to_instruction, Some(grids(&h.grid)), 403);
        w.expect(ps, "POST", pattern, &to_instruction, Some(grids(&b_grid)), 404);
        w.expect(ps, "POST", pattern, &to_instruction, Some(json!({"title": "指令", "due_on": due_on})), 422);
        w.expect(ps, "POST", pattern, &to_instruction, Some(grids(&h.grid)), 303);
        w.expect(ps, "POST", pattern, &to_instruction, Some(grids(&h.grid)), 422);
        // The meeting's page links the instruction only for those who may open it: a
        // Party secretary (no view_instructions) reads that one was sent.
        let (status, for_ps) = s.call_text(ps.1, "GET", &page, None);
        assert_eq!(status, 200, "{for_ps}");
        assert!(!for_ps.contains("/instructions/") && for_ps.contains("已下达指令"), "{for_ps}");
        let (status, for_staff) = s.call_text(staff.1, "GET", &page, None);
        assert_eq!(status, 200, "{for_staff}");
        assert!(for_staff.contains("/instructions/") && !for_staff.contains("已下达指令"), "{for_staff}");

        w.expect(gm, "GET", "/party/lists", &format!("/party/lists{}", area(testing::GRID)), None, 200);
        w.expect(street, "GET", "/party/lists", &format!("/party/lists{}", area(a_code)), None, 403);
        w.expect(ps_b, "GET", "/party/lists", &format!("/party/lists{}", area(a_code)), None, 403);
        let resource_form = |area_id: &str, unit: &str, kind: &str| json!({"area": a_code, "area_id": area_id, "kind": kind, "field": "health", "title": "资源", "unit_id": unit});
        let pattern = "/party/resources";
        w.expect(ps, "POST", pattern, pattern, Some(resource_form(&h.grid.id, &a.unit, "skill")), 303);
        w.expect(ps, "POST", pattern, pattern, Some(resource_form(&h.grid.id, &a.unit, "fund")), 422);
        w.expect(ps, "POST", pattern, pattern, Some(resource_form(&h.grid.id, &b.unit, "skill")), 404);
        w.expect(ps, "POST", pattern, pattern, Some(resource_form(&b_grid.id, &a.unit, "skill")), 404);
        w.expect(staff, "POST", pattern, pattern, Some(resource_form(&h.grid.id, &a.unit, "skill")), 403);
        let one = format!("/party/resources/{resource}");
        w.expect(gm, "GET", "/party/resources/{id}", &one, None, 200);
        w.expect(ps_b, "GET", "/party/resources/{id}", &one, None, 404);
        w.expect(street, "GET", "/party/resources/{id}", &one, None, 403);
        let link = format!("/party/resources/{resource}/link");
        w.expect(ps_b, "POST", "/party/resources/{id}/link", &link, Some(json!({"project": project_b})), 404);
        w.expect(ps, "POST", "/party/resources/{id}/link", &link, Some(json!({"project": project_b})), 404);
        w.expect(staff, "POST", "/party/resources/{id}/link", &link, Some(json!({"project": project})), 403);
        w.expect(ps, "POST", "/party/resources/{id}/link", &link, Some(json!({"project": project})), 303);
        let need = format!("/party/needs/{}", a.need);
        w.expect(gm, "GET", "/party/needs/{id}", &need, None, 200);
        w.expect(ps_b, "GET", "/party/needs/{id}", &need, None, 404);
        let field = format!("/party/needs/{}/field", a.need);
        w.expect(ps_b, "POST", "/party/needs/{id}/field", &field, Some(json!({"field": "health"})), 404);
        w.expect(gm, "POST", "/party/needs/{id}/field", &field, Some(json!({"field": "health"})), 403);
        w.expect(ps, "POST", "/party/needs/{id}/field", &field, Some(json!({"field": "nonsense"})), 422);
        w.expect(ps, "POST", "/party/needs/{id}/field", &field, Some(json!({"field": "health"})), 303);
        let link = format!("/party/needs/{}/link", a.need);
        w.expect(ps_b, "POST", "/party/needs/{id}/link", &link, Some(json!({"project": project_b})), 404);
        w.expect(ps, "POST", "/party/needs/{id}/link", &link, Some(json!({"project": project})), 303);
        let project_new = |area: &Area, deadline: &str| {
            json!({"area": a_code, "area_id": area.id, "title": "项目", "field": "health", "owner_name": "物业",
                "deadline": deadline})
        };
        let pattern = "/party/projects";
        w.expect(ps, "POST", pattern, pattern, Some(project_new(&h.grid, "2099-01-01")), 303);
        w.expect(ps, "POST", pattern, pattern, Some(project_new(&h.grid, "2020-01-01")), 422);
        w.expect(ps, "POST", pattern, pattern, Some(project_new(&b_grid, "2099-01-01")), 404);
        w.expect(staff, "POST", pattern, pattern, Some(project_new(&h.grid, "2099-01-01")), 403);
        let one = format!("/party/projects/{project}");
        w.expect(gm, "GET", "/party/projects/{id}", &one, None, 200);
        w.expect(street, "GET", "/party/projects/{id}", &one, None, 403);
        w.expect(ps_b, "GET", "/party/projects/{id}", &one, None, 404);
        let link = format!("/party/projects/{project}/link");
        w.expect(ps_b, "POST", "/party/projects/{id}/link", &link, Some(json!({"need_id": a.need})), 404);
        w.expect(ps, "POST", "/party/projects/{id}/link", &link, Some(json!({"need_id": b.need})), 404);
        w.expect(ps, "POST", "/party/projects/{id}/link", &link, Some(json!({"resource_id": resource})), 303);
        let step = format!("/party/projects/{project}/step");
        w.expect(ps_b, "POST", "/party/projects/{id}/step", &step, Some(json!({"step": "start"})), 404);
        w.expect(gm, "POST", "/party/projects/{id}/step", &step, Some(json!({"step": "start"})), 403);
        w.expect(ps, "POST", "/party/projects/{id}/step", &step, Some(json!({"step": "finish", "text": " "})), 422);
        w.expect(ps, "POST", "/party/projects/{id}/step", &step, Some(json!({"step": "finish", "text": "完成"})), 303);
        w.expect(serve_a, "GET", "/portal/projects", "/portal/projects", None, 200);
        let (_, theirs) = s.call_text(serve_b.1, "GET", "/portal/projects", None);
        assert!(!theirs.contains(&project), "a resident of B sees B's projects only");
        let rate = format!("/portal/projects/{project}/rate");
        w.expect(serve_b, "POST", "/portal/projects/{id}/rate", &rate, Some(json!({"score": "4"})), 404);
        w.expect(gm, "POST", "/portal/projects/{id}/rate", &rate, Some(json!({"score": "4"})), 303);
        w.expect(staff_b, "POST", "/portal/projects/{id}/rate", &rate, Some(json!({"score": "4"})), 404);
        w.expect(serve_a, "POST", "/portal/projects/{id}/rate", &rate, Some(json!({"comment": "好"})), 422);
        w.expect(serve_a, "POST", "/portal/projects/{id}/rate", &rate, Some(json!({"score": "4"})), 303);
        w.expect(serve_a, "POST", "/portal/projects/{id}/rate", &rate, Some(json!({"score": "5"})), 409);
        let withdraw = format!("/party/resources/{resource}/withdraw");
        w.expect(ps_b, "POST", "/party/resources/{id}/withdraw", &withdraw, None, 404);
        w.expect(staff, "POST", "/party/resources/{id}/withdraw", &withdraw, None, 403);
        w.expect(ps, "POST", "/party/resources/{id}/withdraw", &withdraw, None, 303);

        // ---- the API ----
        for (pattern, allowed, denied) in [
            ("/api/v1/party/members", ps, staff),
            ("/api/v1/party/units", gm, street),
            ("/api/v1/party/registrations", gm, street),
            ("/api/v1/party/needs", gm, street),
            ("/api/v1/party/service", gm, street),
            ("/api/v1/party/projects", gm, street),
            ("/api/v1/party/resources", gm, street),
            ("/api/v1/party/joint-meetings", gm, street),
        ] {
            let own = if allowed.0 == "grid_member" { testing::GRID } else { a_code };
            w.expect(allowed, "GET", pattern, &format!("{pattern}{}", area(own)), None, 200);
            w.expect(denied, "GET", pattern, &format!("{pattern}{}", area(a_code)), None, 403);
            w.expect(ps_b, "GET", pattern, &format!("{pattern}{}", area(a_code)), None, 403);
        }
        let one = format!("/api/v1/party/projects/{project}");
        w.expect(gm, "GET", "/api/v1/party/projects/{id}", &one, None, 200);
        w.expect(street, "GET", "/api/v1/party/projects/{id}", &one, None, 403);
        w.expect(ps_b, "GET", "/api/v1/party/projects/{id}", &one, None, 404);
        let (_, theirs) = s.call_text(gm_b.1, "GET", "/api/v1/party/projects", None);
        assert!(!theirs.contains(&project) && theirs.contains(&project_b), "{theirs}");
        // Lists without an area are one's own community's: none of A's.
        let (_, theirs) = s.call_text(gm_b.1, "GET", "/api/v1/party/registrations", None);
        assert!(!theirs.contains(&a.registration), "{theirs}");
        let one = format!("/api/v1/party/members/{}", a.serving);
        w.expect(ps_b, "GET", "/api/v1/party/members/{id}", &one, None, 404);
        w.expect(granted_next, "GET", "/api/v1/party/members/{id}", &one, None, 404);
        w.expect(gm, "GET", "/api/v1/party/members/{id}", &one, None, 403);
        w.expect(ps, "GET", "/api/v1/party/members/{id}", &one, None, 200);
        let step = "/api/v1/party/registrations/{id}/step";
        let counter_reg = s.runtime.block_on(async {
            let form = party::MemberForm {
                area_id: h.grid.id.clone(),
                name: "接口党员".into(),
                id_card: IdCardNumber::compose(370602, birth(), 600),
                phone: None,
                unit_id: None,
                skills: String::new(),
            };
            party::register_member(&db, form, wangge_domain::now_millis(), "staff", "社区").await.unwrap().1.id
        });
        let path = format!("/api/v1/party/registrations/{counter_reg}/step");
        w.expect(ps_b, "POST", step, &path, Some(json!({"step": "confirm"})), 404);
        w.expect(gm, "POST", step, &path, Some(json!({"step": "confirm"})), 403);
        w.expect(staff, "POST", step, &path, Some(json!({"step": "confirm"})), 200);
        let decide = "/api/v1/party/service/{id}/decide";
        let fresh = s.runtime.block_on(async {
            let new = service::NewService {
                member_id: a.serving.clone(),
                need_id: None,
                activity: "接口".into(),
                served_at: wangge_domain::now_millis() - 7_200_000,
                minutes: 30,
            };
            service::record(&db, new, &[], "王服务", wangge_domain::now_millis()).await.unwrap().id
        });
        let path = format!("/api/v1/party/service/{fresh}/decide");
        let body = json!({"confirm": true, "rating": 4});
        w.expect(ps_b, "POST", decide, &path, Some(body.clone()), 404);
        w.expect(gm_next, "POST", decide, &path, Some(body.clone()), 404);
        w.expect(aux, "POST", decide, &path, Some(body.clone()), 403);
        w.expect(gm, "POST", decide, &path, Some(body), 200);
        let feedback = format!("/api/v1/party/units/{}/feedback", a.unit);
        w.expect(ps_b, "GET", "/api/v1/party/units/{id}/feedback", &feedback, None, 404);
        w.expect(street, "GET", "/api/v1/party/units/{id}/feedback", &feedback, None, 403);
        w.expect(gm, "GET", "/api/v1/party/units/{id}/feedback", &feedback, None, 200);

        // Another community's record is answered exactly as an id that names none.
        for (who, method, path, id, body) in [
            (ps_b, "GET", format!("/party/members/{}", a.member), &a.member, None),
            (granted_next, "GET", format!("/api/v1/party/members/{}", a.serving), &a.serving, None),
            (gm_next, "GET", format!("/party/registrations/{}", a.registration), &a.registration, None),
            (ps_b, "GET", format!("/api/v1/party/units/{}/feedback", a.unit), &a.unit, None),
            (
                gm_next,
                "POST",
                format!("/api/v1/party/service/{}/decide", a.service),
                &a.service,
                Some(json!({"confirm": false, "reason": "走查"})),
            ),
            (ps_b, "GET", format!("/party/photos/{}", a.photo), &a.photo, None),
            (ps_b, "POST", format!("/party/access/{grant_id}/revoke"), &grant_id, None),
            (ps_b, "GET", format!("/party/orgs/{}/life", a.org), &a.org, None),
            (ps_b, "GET", format!("/party/meetings/{meeting}"), &meeting, None),
            (ps_b, "GET", format!("/party/meeting-photos/{meeting_photo}"), &meeting_photo, None),
            (serve_b, "POST", format!("/party/needs/{}/claim", a.need), &a.need, Some(json!({"member_id": b.serving}))),
        ] {
            let unknown = wangge_domain::new_id();
            let answers = [id.as_str(), unknown.as_str()].map(|x| {
                let at = path.replace(id.as_str(), x);
                let page = !at.starts_with("/api/");
                let (status, answer) = if method == "POST" && page {
                    let (status, answer) = s.call_form(who.1, &at, &body.as_ref().map(form).unwrap_or_default());
                    (status, text(&answer))
                } else {
                    s.call_text(who.1, method, &at, body.as_ref())
                };
                let answer = answer.replace(x, "<id>");
                (status, answer)
            });
            if answers[0].0 != 404 || answers[0] != answers[1] {
                w.failures
                    .borrow_mut()
                    .push(format!("{} {method} {path}: {:?} vs unknown {:?}", who.0, answers[0], answers[1]));
            }
        }

        let failures = w.failures.borrow();
        assert!(failures.is_empty(), "{} failed:\n{}", failures.len(), failures.join("\n"));
        // Every Party route of the table was walked here.
        let missing: Vec<String> = wangge_web::route_table()
            .routes()
            .iter()
            .filter(|r| {
                r.path.starts_with("/party")
                    || r.path.starts_with("/api/v1/party")
                    || r.path.starts_with("/portal/projects")
            })
            .map(|r| format!("{} {}", r.method, r.path))
            .filter(|r| !w.seen.borrow().contains(r))
            .collect();
        assert!(missing.is_empty(), "Party routes this test does not walk: {missing:?}");
    }
}
