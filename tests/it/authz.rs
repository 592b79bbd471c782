//! Every route, every role, in scope and out of scope.
//!
//! Walks `wangge_web::route_table()` — the table the server enforces, built from the
//! same declarations as the router — and for each route and role sends a real
//! request about a record inside the caller's scope and one about a record in
//! another city. It asserts that the role matrix (`Role::may`) is what the server
//! does, and that scope refuses what lies outside. A route can only be declared with
//! an access rule; one added to axum by hand is refused by the server (a unit test of
//! `wangge_web::routes` shows it).

use crate::common::{Auth, Server};
use serde_json::{Value, json};
use wangge_domain::{AreaLevel, BuildingKind, IdCardNumber, Occupancy, Role, Vocabulary};
use wangge_store::registry::areas::{self, Area, NewArea};
use wangge_store::registry::buildings::{self, NewBuilding};
use wangge_store::registry::households::{self, NewHousehold};
use wangge_store::registry::organisations::{self, NewOrganisation};
use wangge_store::registry::residents::{self, NewResident};
use wangge_web::auth::Access;

/// The records of one city's chain, city down to resident.
struct Chain {
    city: Area,
    district: Area,
    street: Area,
    community: Area,
    grid: Area,
    building: String,
    household: String,
    resident: String,
    organisation: String,
    /// A resident's sign-up waiting for the grid member.
    signup: String,
    /// A confirmed resident's account, bound to the household, signing in by phone.
    resident_account: String,
    /// A checked import of the community's ledger, waiting for confirmation.
    import: String,
    /// A demand reported at the building.
    demand: String,
    /// Another open demand there: what a duplicate is merged into.
    demand2: String,
    /// A webhook (not scoped: administrators manage them for the deployment).
    webhook: String,
    /// A photo attached to the demand.
    attachment: String,
    /// A post of the grid's team.
    team_post: String,
    /// A visit to the household, with what was found.
    visit: String,
    /// A correction of the resident proposed at the visit.
    correction: String,
    /// A gas-safety campaign over the community, running.
    campaign: String,
    /// Its target: the household.
    campaign_target: String,
    /// A registry conflict of that target's answer, open.
    campaign_conflict: String,
    /// That campaign saved as a monthly template.
    campaign_template: String,
    /// A photo sent for that target's photo question.
    campaign_photo: String,
    /// A photo of that visit.
    visit_photo: String,
    /// An instruction from the street to the community, with a figures table and a file.
    instruction: String,
    /// The community's receipt of it.
    instruction_receipt: String,
    /// The instruction's file.
    instruction_file: String,
    /// The community's Party general branch.
    party_org: String,
    /// An in-service member living in the grid, of `party_unit`.
    party_member: String,
    /// A unit registered with the community.
    party_unit: String,
    /// The member's registration, pending.
    party_registration: String,
    /// A need of the grid, a week ahead.
    party_need: String,
    /// The member's service on that need, recorded, with a photo.
    party_service: String,
    party_photo: String,
    /// The community's roll granted to a grid member of the grid.
    party_grant: String,
    /// A committee meeting of the general branch, with a photo.
    party_meeting: String,
    party_meeting_photo: String,
    /// A joint meeting of the community with the unit, and its one resolution.
    party_joint: String,
    party_resolution: String,
    /// A resource of the unit on the community, and a project on the grid.
    party_resource: String,
    party_project: String,
    /// A notice of the community for everyone, published.
    notice: String,
    /// Its attachment (a PDF).
    notice_file: String,
    /// The seed's questionnaire over the community, anonymous, open.
    survey: String,
    /// An activity of the community tomorrow, and the resident's sign-up for it.
    activity: String,
    activity_signup: String,
    /// A photo of that activity.
    activity_photo: String,
    /// A micro venture call of the community, open, with one application.
    venture_call: String,
    venture_application: String,
    venture_photo: String,
}

fn chain(s: &Server, city_code: &str, seq: u16) -> Chain {
    s.runtime.block_on(async {
        let db = &s.db.db;
        let mut parent: Option<Area> = None;
        let mut made = Vec::new();
        let prefix = &city_code[..4];
        for (level, code) in [
            (AreaLevel::City, format!("{prefix}00000000")),
            (AreaLevel::District, format!("{prefix}02000000")),
            (AreaLevel::Street, format!("{prefix}02004000")),
            (AreaLevel::Community, format!("{prefix}02004011")),
            (AreaLevel::Grid, format!("{prefix}02004011001")),
        ] {
            let new = NewArea {
                parent_id: parent.as_ref().map(|p| p.id.clone()),
                level,
                code: code.clone(),
                name: code,
                boundary: None,
            };
            let area = areas::create(db, new).await.unwrap();
            parent = Some(area.clone());
            made.push(area);
        }
        let grid = made[4].clone();
        let building = buildings::create(
            db,
            NewBuilding {
                grid_id: grid.id.clone(),
                number: "1".into(),
                address: None,
                kind: BuildingKind::Residential,
                floors: None,
                units: None,
                lat: None,
                lng: None,
            },
        )
        .await
        .unwrap()
        .id;
        let household = households::create(
            db,
            NewHousehold {
                building_id: building.clone(),
                unit: "1".into(),
                room: "101".into(),
                occupancy: Occupancy::Rented,
            },
        )
        .await
        .unwrap()
        .id;
        let birth = time::Date::from_calendar_date(1950, time::Month::June, 1).unwrap();
        let resident = residents::create(
            db,
            NewResident {
                household_id: household.clone(),
                name: "测试".into(),
                id_card: Some(IdCardNumber::compose(370602, birth, seq).as_str().into()),
                phone: Some(format!("1380000{seq:04}")),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        let organisation = organisations::create(
            db,
            NewOrganisation {
                grid_id: grid.id.clone(),
                name: "物业".into(),
                kind: wangge_domain::OrganisationKind::PropertyCompany,
                address: None,
                contact_name: None,
                phone: None,
            },
        )
        .await
        .unwrap()
        .id;
        let request = wangge_store::security::signups::SignupRequest {
            name: "测试".into(),
            id_card: IdCardNumber::compose(370602, birth, seq),
            phone: wangge_domain::Phone::parse(&format!("1370000{seq:04}")).unwrap(),
            password: "signup-password".into(),
        };
        let signup = match wangge_store::security::signups::request(db, request).await.unwrap() {
            wangge_store::security::signups::SignupOutcome::Queued(id) => id,
            other => panic!("the sign-up should wait for the grid member: {other:?}"),
        };
        let resident_account = wangge_store::security::accounts::create(
            db,
            wangge_store::security::accounts::NewAccount {
                username: format!("bound{seq}"),
                display_name: "测试".into(),
                role: Role::Resident,
                scopes: vec![],
                password: "bound-password".into(),
            },
        )
        .await
        .unwrap()
        .id;
        wangge_store::security::accounts::bind_household(db, &resident_account, &household).await.unwrap();
        let phone = wangge_domain::Phone::parse(&format!("1360000{seq:04}")).unwrap();
        wangge_store::security::recovery::set_phone(db, &resident_account, &phone).await.unwrap();
        let csv = format!(
            "姓名,身份证号,楼栋,房号\n新邻居,{},1,102\n",
            IdCardNumber::compose(370602, birth, seq + 500).as_str()
        );
        let new = wangge_store::registry::import_jobs::NewJob {
            account_id: "walk",
            community_id: &made[3].id,
            path: &made[3].path,
            file_name: "ledger.csv",
            content: csv.as_bytes(),
        };
        let import = wangge_store::registry::import_jobs::create(db, new).await.unwrap().id;
        let new = wangge_store::demands::NewDemand {
            building_id: Some(building.clone()),
            category: "environment".into(),
            title: "楼道堆物".into(),
            ..Default::default()
        };
        let by = wangge_store::demands::Actor { id: None, name: "test".into(), role: Role::GridMember };
        let demand = wangge_store::demands::create(db, new.clone(), &by, None).await.unwrap().id;
        let demand2 = wangge_store::demands::create(db, new, &by, None).await.unwrap().id;
        let photo = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0];
        let attachment = wangge_store::demands::attachments::add(db, &demand, "photo.jpg", &photo).await.unwrap().id;
        let hook = wangge_store::webhooks::NewWebhook {
            name: "w".into(),
            url: "http://127.0.0.1:9/unreachable".into(),
            format: None,
            secret: None,
            area: None,
            modules: vec![],
        };
        let webhook = wangge_store::webhooks::create(db, hook, &made[0].path).await.unwrap().id;
        let post = wangge_store::team::NewPost {
            post: Some("member".into()),
            person_name: "网格员".into(),
            phone: Some(format!("1390000{seq:04}")),
            building_ids: vec![building.clone()],
            ..Default::default()
        };
        let team_post = wangge_store::team::add(db, &made[4].id, &post).await.unwrap().id;
        let yesterday = time::OffsetDateTime::now_utc().date() - time::Duration::days(1);
        let new = wangge_store::visits::NewVisit {
            household_id: household.clone(),
            resident_id: Some(resident.clone()),
            channel: wangge_domain::VisitChannel::Door,
            outcome: wangge_domain::VisitOutcome::Met,
            visited_on: yesterday.to_string(),
            purpose: "例行走访".into(),
            findings: "血压偏高".into(),
            paper: false,
            location: String::new(),
        };
        let visit = wangge_store::visits::record(db, new, None, "网格员").await.unwrap().id;
        let png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        let visit_photo =
            wangge_store::visits::photos::add(db, &visit, &[("门口.png".to_owned(), png)]).await.unwrap().remove(0).id;
        let changes =
            wangge_store::visits::corrections::Changes { notes: Some("走访更正".into()), ..Default::default() };
        let correction =
            wangge_store::visits::corrections::propose(db, &visit, &resident, changes, "", (None, "网格员"))
                .await
                .unwrap()
                .id;
        let today = wangge_store::campaigns::today();
        let new = wangge_store::campaigns::NewCampaign {
            area_id: made[3].id.clone(),
            title: "燃气安全排查".into(),
            target_kind: wangge_domain::campaigns::TargetKind::Household,
            filter: Default::default(),
            opens_on: today.to_string(),
            closes_on: (today + time::Duration::days(7)).to_string(),
            retention_days: None,
            form: wangge_domain::campaigns::builtin::Builtin::find("gas_check").unwrap().form(),
        };
        let campaign = wangge_store::campaigns::start(db, new, None, "社区").await.unwrap().id;
        let campaign_target =
            wangge_store::campaigns::lines(db, &campaign, "/", wangge_store::campaigns::Which::Every, 1)
                .await
                .unwrap()
                .remove(0)
                .target
                .id;
        // The office enters a gas check after the form was opened: the answer's day
        // is held as a conflict.
        let line = wangge_store::campaigns::line(db, &campaign_target).await.unwrap();
        let day = today.to_string();
        wangge_store::campaigns::write_back::set(
            db,
            &line.target.household_id,
            &line.target.path,
            wangge_domain::campaigns::Fact::GasCheckedOn,
            &(today - time::Duration::days(1)).to_string(),
            "燃气公司",
        )
        .await
        .unwrap();
        let answers =
            [("uses_gas", "yes"), ("kinds", "stove"), ("hose_age", "1"), ("alarm", "yes"), ("checked_on", &day)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        let answered =
            wangge_store::campaigns::answer(db, &campaign_target, &answers, 1, Some(0), None, "网格员", today)
                .await
                .unwrap();
        let campaign_conflict = answered.conflicts[0].id.clone();
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        let campaign_photo =
            wangge_store::campaigns::photos::add(db, &campaign_target, "hazard_photo", "p.png", &png).await.unwrap().id;
        let saved = wangge_store::campaigns::get(db, &campaign).await.unwrap();
        let campaign_template = wangge_store::campaigns::templates::save(
            db,
            &saved,
            wangge_domain::campaigns::Repeat::Monthly,
            Some(today + time::Duration::days(30)),
            today,
            "社区",
        )
        .await
        .unwrap()
        .id;
        let sent = wangge_store::instructions::send(
            db,
            wangge_store::instructions::NewInstruction {
                area_id: made[2].id.clone(),
                title: "冬季走访情况".into(),
                body: "请上报".into(),
                due_on: (today + time::Duration::days(7)).to_string(),
                receivers: vec![made[3].id.clone()],
                table: Some(wangge_domain::instructions::Table {
                    rows: vec!["独居老人".into()],
                    columns: vec!["已走访".into()],
                }),
                campaign_id: None,
            },
            &[wangge_store::instructions::NewFile { name: "通知.pdf".into(), data: b"%PDF-1.4 walk".to_vec() }],
            None,
            "街道",
            today,
        )
        .await
        .unwrap();
        let instruction_receipt = wangge_store::instructions::receipts(db, &sent.id).await.unwrap().remove(0).id;
        let instruction_file = wangge_store::instructions::files(db, &sent.id, None).await.unwrap().remove(0).id;
        let instruction = sent.id;
        use wangge_store::party::{self, service};
        let party_org = party::add_org(
            db,
            party::NewOrg {
                parent_id: None,
                area_id: made[3].id.clone(),
                kind: wangge_domain::party::OrgKind::GeneralBranch,
                name: "党总支".into(),
                secretary_name: None,
                committee: String::new(),
            },
        )
        .await
        .unwrap()
        .id;
        let unit = party::NewUnit {
            community_id: made[3].id.clone(),
            name: "税务局".into(),
            party_org_name: "税务局党支部".into(),
            contact_name: "联络员".into(),
            phone: None,
            resources: String::new(),
            declared_members: 5,
        };
        let party_unit = party::add_unit(db, unit).await.unwrap().id;
        let form = party::MemberForm {
            area_id: made[4].id.clone(),
            name: "在职党员".into(),
            id_card: IdCardNumber::compose(
                370602,
                time::Date::from_calendar_date(1980, time::Month::May, 5).unwrap(),
                900 + seq,
            ),
            phone: None,
            unit_id: Some(party_unit.clone()),
            skills: String::new(),
        };
        let (member, registration) =
            party::register_member(db, form, wangge_domain::now_millis(), "form", "公开表单").await.unwrap();
        let need = service::NewNeed {
            area_id: made[4].id.clone(),
            title: "助老".into(),
            detail: String::new(),
            source_kind: wangge_domain::party::NeedSource::Plan,
            source_id: None,
            field: None,
            needed_on: (today + time::Duration::days(7)).to_string(),
            slots: 3,
        };
        let party_need = service::add_need(db, need, "社区", today).await.unwrap().id;
        service::claim(db, &party_need, &member.id).await.unwrap();
        let served = service::NewService {
            member_id: member.id.clone(),
            need_id: Some(party_need.clone()),
            activity: String::new(),
            served_at: wangge_domain::now_millis() - 3_600_000,
            minutes: 60,
        };
        let png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        let record = service::record(db, served, &[png], "在职党员", wangge_domain::now_millis()).await.unwrap();
        let (party_member, party_registration, party_service) = (member.id, registration.id, record.id.clone());
        let party_photo = record.photos[0].clone();
        let roll_reader = wangge_store::security::accounts::create(
            db,
            wangge_store::security::accounts::NewAccount {
                username: format!("roll{seq}"),
                display_name: "网格员".into(),
                role: Role::GridMember,
                scopes: vec![made[4].id.clone()],
                password: "roll-reader-password".into(),
            },
        )
        .await
        .unwrap();
        let party_grant =
            party::access::grant_roll(db, &made[3], &roll_reader.username, "走查", "书记").await.unwrap().id;
        let meeting = party::life::NewMeeting {
            org_id: party_org.clone(),
            kind: wangge_domain::party_life::MeetingKind::Committee,
            held_at: wangge_domain::now_millis() - 3_600_000,
            place: "党群服务中心".into(),
            topic: "研究工作".into(),
            minutes: String::new(),
            attendance: Vec::new(),
        };
        let png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        let meeting = party::life::record(db, meeting, &[png], "书记", wangge_domain::now_millis()).await.unwrap();
        let (party_meeting, party_meeting_photo) = (meeting.id.clone(), meeting.photos[0].clone());
        let joint = party::joint::NewJointMeeting {
            community_id: made[3].id.clone(),
            held_at: wangge_domain::now_millis() - 3_600_000,
            place: "党群服务中心".into(),
            title: "联席会议".into(),
            unit_ids: vec![party_unit.clone()],
            topics: vec![("议题".into(), "决议".into())],
            ..Default::default()
        };
        let joint = party::joint::record(db, joint, "书记", wangge_domain::now_millis()).await.unwrap();
        let (party_joint, party_resolution) = (joint.id.clone(), joint.resolutions[0].id.clone());
        let resource = party::projects::NewResource {
            area_id: made[3].id.clone(),
            unit_id: Some(party_unit.clone()),
            offered_by: String::new(),
            kind: wangge_domain::party_joint::ResourceKind::Skill,
            field: wangge_domain::party_joint::ServiceField::Health,
            title: "义诊".into(),
            detail: String::new(),
            amount_fen: None,
        };
        let party_resource = party::projects::add_resource(db, resource, "书记").await.unwrap().id;
        let project = party::projects::NewProject {
            area_id: made[4].id.clone(),
            title: "义诊进网格".into(),
            detail: String::new(),
            field: wangge_domain::party_joint::ServiceField::Health,
            owner_unit_id: None,
            owner_name: "物业".into(),
            deadline: "2099-01-01".into(),
        };
        let party_project =
            party::projects::add_project(db, project, "书记", wangge_store::instructions::today()).await.unwrap().id;
        let notice = wangge_store::notices::NoticeInput {
            title: "停水通知".into(),
            body: "明天停水".into(),
            important: true,
            ..Default::default()
        };
        let notice = wangge_store::notices::create(db, &made[3].id, &notice, ("x", "书记")).await.unwrap().id;
        let notice_file =
            wangge_store::notices::add_file(db, &notice, "通知.pdf", b"%PDF-1.4 a notice").await.unwrap().id;
        for step in [wangge_domain::notices::NoticeStep::Submit, wangge_domain::notices::NoticeStep::Publish] {
            wangge_store::notices::step(db, &notice, step, "书记").await.unwrap();
        }
        let form = wangge_domain::surveys::seed_questionnaire();
        let survey = wangge_store::surveys::create(db, &made[3].id, "问卷", "", &form, true, "书记").await.unwrap().id;
        wangge_store::surveys::set_open(db, &survey, true).await.unwrap();
        let tomorrow = wangge_domain::now_millis() + 86_400_000;
        let new = wangge_store::activities::NewActivity {
            area_id: made[3].id.clone(),
            kind: wangge_domain::activities::ActivityKind::Culture,
            title: "广场舞".into(),
            detail: String::new(),
            place: "文化广场".into(),
            starts_at: tomorrow,
            ends_at: tomorrow + 7_200_000,
            capacity: Some(30),
        };
        let activity = wangge_store::activities::create(db, new, "书记").await.unwrap().id;
        let who = wangge_store::activities::Who {
            resident_id: Some(resident.clone()),
            account_id: None,
            name: "居民".into(),
        };
        let staff = wangge_domain::activities::SignupChannel::Staff;
        let now = wangge_domain::now_millis();
        let activity_signup =
            wangge_store::activities::sign_up(db, &activity, &who, staff, "网格员", now).await.unwrap().id;
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
        let activity_photo =
            wangge_store::activities::add_photo(db, &activity, "合影.png", &png, "网格员", now).await.unwrap().id;
        let call = wangge_store::ventures::NewCall {
            community_id: made[3].id.clone(),
            title: "微创投".into(),
            intro: String::new(),
            budget_fen: 5_000_000,
            closes_on: "2099-01-01".into(),
            weights: None,
        };
        let venture_call = wangge_store::ventures::create_call(db, call, "书记", now).await.unwrap().id;
        let application = wangge_store::ventures::NewApplication {
            applicant: "志愿队".into(),
            title: "文明养犬".into(),
            need: "纠纷多".into(),
            plan: "巡查".into(),
            requested_fen: 1_000_000,
            ..Default::default()
        };
        let venture_application = wangge_store::ventures::apply(db, &venture_call, application, now).await.unwrap().id;
        let venture_photo =
            wangge_store::ventures::add_photo(db, &venture_application, "现场", &png, "社工", now).await.unwrap().id;
        let [city, district, street, community, grid]: [Area; 5] = made.try_into().unwrap();
        Chain {
            city,
            district,
            street,
            community,
            grid,
            building,
            household,
            resident,
            organisation,
            signup,
            resident_account,
            import,
            demand,
            demand2,
            webhook,
            attachment,
            team_post,
            visit,
            correction,
            campaign,
            campaign_target,
            campaign_conflict,
            campaign_template,
            campaign_photo,
            visit_photo,
            instruction,
            instruction_receipt,
            instruction_file,
            party_org,
            party_member,
            party_unit,
            party_registration,
            party_need,
            party_service,
            party_photo,
            party_grant,
            party_meeting,
            party_meeting_photo,
            party_joint,
            party_resolution,
            party_resource,
            party_project,
            notice,
            notice_file,
            survey,
            activity,
            activity_signup,
            activity_photo,
            venture_call,
            venture_application,
            venture_photo,
        }
    })
}

/// The node a role's account is scoped to, in its natural place.
fn scope_of(role: Role, c: &Chain) -> &Area {
    match role {
        Role::PlatformAdmin | Role::CityOfficial => &c.city,
        Role::DistrictOfficial => &c.district,
        Role::StreetOfficial => &c.street,
        Role::CommunitySecretary | Role::CommunityStaff | Role::PartySecretary | Role::Resident => &c.community,
        Role::GridLeader | Role::GridMember | Role::Auxiliary => &c.grid,
    }
}

/// An area just below `area` in the chain (a grid below a grid: none such, the grid).
fn below(area: &Area, c: &Chain) -> String {
    [&c.city, &c.district, &c.street, &c.community, &c.grid]
        .windows(2)
        .find(|w| w[0].id == area.id)
        .map_or_else(|| c.grid.id.clone(), |w| w[1].id.clone())
}

/// The path with `{id}` filled for the record the route is about, and a body.
fn request_for(method: &str, pattern: &str, c: &Chain, list_area: &Area, spare: &Spare) -> (String, Option<Value>) {
    let id = |kind: &str| -> String {
        match kind {
            "areas" => c.grid.id.clone(),
            "buildings" => c.building.clone(),
            "households" => c.household.clone(),
            "residents" => c.resident.clone(),
            "organisations" | "units" => c.organisation.clone(),
            // No membership in the chain: an id that names none (404 to who may).
            "unit-members" => c.organisation.clone(),
            "accounts" => spare.account.clone(),
            "tokens" => spare.token.clone(),
            "signups" => c.signup.clone(),
            "recovery" => c.resident_account.clone(),
            "import" => c.import.clone(),
            "report" => c.building.clone(),
            "portal" | "reported" => c.demand.clone(),
            "demands" | "me" => c.demand.clone(),
            "webhooks" => c.webhook.clone(),
            "demand-attachments" => c.attachment.clone(),
            "team" => c.team_post.clone(),
            "visits" => c.visit.clone(),
            "corrections" => c.correction.clone(),
            "campaigns" => c.campaign.clone(),
            "campaign-targets" => c.campaign_target.clone(),
            "campaign-conflicts" => c.campaign_conflict.clone(),
            "campaign-templates" => c.campaign_template.clone(),
            "campaign-photos" => c.campaign_photo.clone(),
            "instructions" => c.instruction.clone(),
            "instruction-receipts" => c.instruction_receipt.clone(),
            "instruction-files" => c.instruction_file.clone(),
            "party-members" => c.party_member.clone(),
            "party-units" => c.party_unit.clone(),
            "party-registrations" => c.party_registration.clone(),
            "party-needs" => c.party_need.clone(),
            "party-service" => c.party_service.clone(),
            "party-photos" => c.party_photo.clone(),
            "party-grants" => c.party_grant.clone(),
            "party-orgs" => c.party_org.clone(),
            "party-meetings" => c.party_meeting.clone(),
            "party-meeting-photos" => c.party_meeting_photo.clone(),
            "party-joint" => c.party_joint.clone(),
            "party-resolutions" => c.party_resolution.clone(),
            "party-resources" => c.party_resource.clone(),
            "party-projects" => c.party_project.clone(),
            "notices" => c.notice.clone(),
            "notice-files" => c.notice_file.clone(),
            "surveys" | "s" => c.survey.clone(),
            "activities" | "a" => c.activity.clone(),
            "activity-signups" => c.activity_signup.clone(),
            "activity-photos" => c.activity_photo.clone(),
            "ventures" => c.venture_call.clone(),
            "venture-applications" => c.venture_application.clone(),
            "venture-photos" => c.venture_photo.clone(),
            _ => String::new(),
        }
    };
    let rest = ["/registry/", "/admin/", "/api/v1/", "/"].iter().find_map(|prefix| pattern.strip_prefix(prefix));
    let kind = rest.unwrap_or("").split('/').next().unwrap_or("");
    // The door pages of a campaign name a target, not the campaign.
    let kind = if pattern.starts_with("/campaigns/targets/") {
        "campaign-targets"
    } else if pattern.starts_with("/campaigns/conflicts/") {
        "campaign-conflicts"
    } else if pattern.starts_with("/campaigns/templates/") {
        "campaign-templates"
    } else if pattern.starts_with("/campaigns/photos/") {
        "campaign-photos"
    } else if pattern.starts_with("/instructions/receipts/") {
        "instruction-receipts"
    } else if pattern.starts_with("/instructions/files/") {
        "instruction-files"
    } else if pattern.starts_with("/portal/projects/") {
        "party-projects"
    } else if pattern.starts_with("/notices/files/") || pattern.starts_with("/portal/notice-files/") {
        "notice-files"
    } else if pattern.starts_with("/portal/notices/") {
        "notices"
    } else if pattern.starts_with("/portal/surveys/") {
        "surveys"
    } else if pattern.starts_with("/activities/signups/") {
        "activity-signups"
    } else if pattern.starts_with("/activities/photos/") || pattern.starts_with("/portal/activity-photos/") {
        "activity-photos"
    } else if pattern.starts_with("/portal/activities/") {
        "activities"
    } else if pattern.starts_with("/ventures/photos/") || pattern.starts_with("/portal/venture-photos/") {
        "venture-photos"
    } else if pattern.starts_with("/ventures/applications/") || pattern.starts_with("/portal/ventures/") {
        "venture-applications"
    } else if let Some(rest) = pattern.strip_prefix("/party/").or_else(|| pattern.strip_prefix("/api/v1/party/")) {
        match rest.split('/').next().unwrap_or("") {
            "members" => "party-members",
            "units" => "party-units",
            "registrations" => "party-registrations",
            "needs" => "party-needs",
            "service" => "party-service",
            "photos" => "party-photos",
            "access" => "party-grants",
            "orgs" => "party-orgs",
            "meetings" => "party-meetings",
            "meeting-photos" => "party-meeting-photos",
            "joint" if pattern.contains("{id}") => "party-joint",
            "resolutions" => "party-resolutions",
            "resources" => "party-resources",
            "projects" => "party-projects",
            _ => "party",
        }
    } else {
        kind
    };
    let mut path = pattern
        .replace("{id}", &id(kind))
        .replace("{code}", &c.grid.code)
        .replace("{step}", "progress")
        .replace("{photo}", if pattern.starts_with("/visits/") { &c.visit_photo } else { &c.attachment });
    let list_of_scoped = matches!(
        kind,
        "areas"
            | "buildings"
            | "households"
            | "residents"
            | "organisations"
            | "demands"
            | "visits"
            | "cockpit"
            | "corrections"
            | "campaigns"
            | "campaign-templates"
            | "instructions"
            | "party"
            | "party-members"
            | "party-units"
            | "party-registrations"
            | "party-needs"
            | "party-service"
            | "party-grants"
            | "party-resources"
            | "party-projects"
    );
    let list_of_scoped = list_of_scoped && (pattern == "/registry/residents" || !pattern.starts_with("/registry"));
    if pattern == "/visits/new" {
        path.push_str(&format!("?household={}", c.household));
    } else if method == "GET" && !pattern.contains("{id}") && list_of_scoped {
        path.push_str(&format!("?area={}", list_area.code));
    }
    if pattern == "/registry/export" {
        path.push_str(&format!("?community={}", c.community.id));
    }
    let birth = time::Date::from_calendar_date(1980, time::Month::May, 5).unwrap();
    let body = match (method, pattern) {
        ("POST", "/api/v1/session") => Some(json!({"username": "nobody", "password": "wrong-password"})),
        ("POST", "/api/v1/me/password") => Some(json!({"current_password": "x", "new_password": "y"})),
        ("POST", "/api/v1/areas") => Some(
            json!({"parent_id": c.community.id, "level": "grid", "code": format!("{}009", c.community.code), "name": "新网格"}),
        ),
        ("PATCH", "/api/v1/areas/{id}") => Some(json!({"name": "改名"})),
        ("POST", "/api/v1/buildings") => {
            Some(json!({"grid_id": c.grid.id, "number": format!("B{}", spare.counter()), "kind": "bungalow"}))
        }
        ("PATCH", "/api/v1/buildings/{id}") => Some(json!({"floors": 7})),
        ("POST", "/api/v1/households") => {
            Some(json!({"building_id": c.building, "room": format!("{}", spare.counter()), "occupancy": "vacant"}))
        }
        ("PATCH", "/api/v1/households/{id}") => Some(json!({"occupancy": "rented"})),
        ("POST", "/api/v1/residents") => Some(json!({"household_id": c.household, "name": "新人",
            "id_card": IdCardNumber::compose(370602, birth, spare.counter() as u16).as_str()})),
        ("PATCH", "/api/v1/residents/{id}") => Some(json!({"notes": "改"})),
        ("POST", "/api/v1/residents/{id}/move-out") => Some(json!({})),
        ("POST", "/api/v1/residents/{id}/move-in") | ("POST", "/api/v1/residents/{id}/move-house") => {
            Some(json!({"household_id": c.household}))
        }
        ("POST", "/api/v1/residents/{id}/reveal") => Some(json!({"field": "phone", "reason": "电话回访"})),
        ("POST", "/api/v1/organisations") => {
            Some(json!({"grid_id": c.grid.id, "name": "新组织", "kind": "enterprise"}))
        }
        ("PATCH", "/api/v1/organisations/{id}") => Some(json!({"name": "改名"})),
        ("POST", "/api/v1/tags") => {
            Some(json!({"code": format!("t{}", spare.counter()), "name_zh": "标签", "name_en": "tag"}))
        }
        ("POST", "/api/v1/accounts") => Some(json!({"username": format!("u{}", spare.counter()), "display_name": "x",
            "role": "grid_member", "scopes": [c.grid.code], "password": "long-enough-pw"})),
        ("POST", "/api/v1/accounts/{id}/reset-password") => Some(json!({"password": "another-long-pw"})),
        ("POST", "/api/v1/households/{id}/bind-account") => Some(json!({"username": "spare"})),
        ("POST", "/api/v1/access-grants") => {
            Some(json!({"area": list_area.code, "reason": "核实信访件当事人", "hours": 1}))
        }
        ("POST", "/api/v1/tokens") => Some(json!({"name": "t", "role": "grid_member", "scope": c.grid.code})),
        ("POST", "/api/v1/demands") => Some(json!({"building_id": c.building, "household_id": c.household,
            "resident_id": c.resident, "category": "environment", "title": "路灯不亮"})),
        ("POST", "/api/v1/demands/{id}/merge") => Some(json!({"note": "重复", "into": c.demand2})),
        ("POST", "/api/v1/demands/{id}/dispatch") => {
            Some(json!({"handler_kind": "property_company", "handler_id": c.organisation, "handler_name": "物业"}))
        }
        ("POST", "/api/v1/units/{id}/members") => Some(json!({"name": "新人", "duty": "联络员"})),
        ("POST", "/api/v1/demand-categories") => Some(json!({"code": "walk", "name_zh": "测试", "name_en": "Test",
            "level": "grid", "accept_days": 1, "resolve_days": 2})),
        ("POST", "/api/v1/holidays") => Some(json!({"day": "2030-01-02", "kind": "holiday"})),
        ("POST", "/api/v1/webhooks") => Some(json!({"name": "w", "url": "http://127.0.0.1:9/unreachable"})),
        ("POST", p) if p.starts_with("/api/v1/demands/") => Some(json!({"note": "走查", "score": 4})),
        ("POST", "/api/v1/instructions") => Some(json!({"area_id": list_area.id, "title": "走查", "body": "",
            "due_on": (time::OffsetDateTime::now_utc().date() + time::Duration::days(3)).to_string(),
            "receivers": [below(list_area, c)]})),
        ("POST", "/instructions") => Some(json!({"area": list_area.id, "title": "走查",
            "due_on": (time::OffsetDateTime::now_utc().date() + time::Duration::days(3)).to_string(),
            "receivers": below(list_area, c)})),
        ("POST", "/api/v1/instruction-receipts/{id}/report") | ("POST", "/instructions/receipts/{id}/report") => {
            Some(json!({"text": "走查"}))
        }
        ("POST", "/api/v1/instruction-receipts/{id}/return") | ("POST", "/instructions/receipts/{id}/return") => {
            Some(json!({"reason": "走查"}))
        }
        ("POST", "/api/v1/instruction-receipts/{id}/pass") => Some(json!({"receivers": [c.grid.id]})),
        ("POST", "/instructions/receipts/{id}/pass") => Some(json!({"receivers": c.grid.id})),
        ("POST", "/party/orgs") => Some(json!({"area": list_area.code, "area_id": c.grid.id, "kind": "branch",
            "name": format!("支部{}", spare.counter()), "parent_id": c.party_org})),
        ("POST", "/party/members") => Some(json!({"area": list_area.code, "area_id": c.grid.id, "kind": "resident",
            "name": "党员", "id_card": IdCardNumber::compose(370602, birth, spare.counter() as u16).as_str()})),
        ("POST", "/party/members/{id}") => Some(json!({"post": "楼道长"})),
        ("POST", "/party/members/{id}/reveal") => Some(json!({"field": "phone", "reason": "核实"})),
        ("POST", "/party/registrations") => Some(json!({"area": list_area.code, "who": "member", "name": "党员",
            "area_id": c.grid.id, "id_card": IdCardNumber::compose(370602, birth, spare.counter() as u16).as_str()})),
        ("POST", "/party/registrations/{id}/refuse") | ("POST", "/party/service/{id}/reject") => {
            Some(json!({"reason": "走查"}))
        }
        ("POST", "/api/v1/party/registrations/{id}/step") => Some(json!({"step": "confirm"})),
        ("POST", "/api/v1/party/service/{id}/decide") => Some(json!({"confirm": true, "rating": 5})),
        ("POST", "/party/needs") => Some(json!({"area": list_area.code, "area_id": c.grid.id, "title": "走查",
            "source_kind": "plan", "slots": "2",
            "needed_on": (time::OffsetDateTime::now_utc().date() + time::Duration::days(3)).to_string()})),
        ("POST", "/party/needs/{id}/claim") => Some(json!({"member_id": c.party_member})),
        ("POST", "/party/mine/service") => Some(json!({"member_id": c.party_member, "hours": "1",
            "served_at": "2026-01-05T09:00"})),
        ("POST", "/party/mine/card") => Some(json!({"member_id": c.party_member, "commitment": "走查", "agree": "1"})),
        ("POST", "/party/mine/card/revoke") => Some(json!({"member_id": c.party_member})),
        ("POST", "/notices") => Some(json!({"area_id": c.grid.id, "title": "停电通知", "body": "周三停电"})),
        ("POST", "/activities") => Some(json!({"area_id": c.grid.id, "kind": "sport", "title": "健步走",
            "place": "小区广场", "day": "2099-05-01", "starts": "08:00", "ends": "09:00"})),
        ("POST", "/activities/{id}/signups") => Some(json!({"resident_id": c.resident, "channel": "staff"})),
        ("POST", "/portal/activities/{id}/signup") => Some(json!({"resident_id": c.resident})),
        ("POST", "/portal/activities/{id}/rate") => Some(json!({"score": "4"})),
        ("POST", "/ventures") => Some(json!({"community_id": c.community.id, "title": "微创投", "budget": "50000",
            "closes_on": "2099-01-01", "w_need": "20", "w_fit": "15", "w_participation": "15", "w_feasibility": "15",
            "w_novelty": "10", "w_sustainability": "15", "w_budget": "10"})),
        ("POST", "/ventures/{id}/applications") => Some(json!({"title": "垃圾分类", "applicant": "环保队",
            "unit_id": c.organisation,
            "need": "混投", "plan": "督导", "requested": "8000"})),
        ("POST", "/ventures/applications/{id}/scores") => Some(json!({"judge": "张老师", "s_need": "8", "s_fit": "8",
            "s_participation": "8", "s_feasibility": "8", "s_novelty": "8", "s_sustainability": "8", "s_budget": "8"})),
        ("POST", "/ventures/applications/{id}/spending") => Some(json!({"spent_on": "2026-06-01", "amount": "100",
            "what": "物料"})),
        ("POST", "/ventures/applications/{id}/evaluation") => Some(json!({"stage": "midterm", "score": "80",
            "text": "顺利"})),
        ("POST", "/portal/ventures/{id}/rate") => Some(json!({"score": "4"})),
        ("POST", "/notices/{id}") => Some(json!({"title": "改", "body": "改"})),
        ("POST", "/notices/{id}/step") => Some(json!({"step": "submit"})),
        ("POST", "/surveys") => Some(json!({"area_id": c.grid.id, "title": "满意度"})),
        ("POST", "/surveys/{id}/questions") => Some(json!({"kind": "single", "label": "满意吗", "choices": "是\n否"})),
        ("POST", "/surveys/{id}/state") => Some(json!({"open": "1"})),
        ("POST", "/surveys/{id}/quotas") => Some(json!({"grid_id": c.grid.id, "quota": "50"})),
        ("POST", "/surveys/{id}/enter") => Some(json!({"resident_id": c.resident, "channel": "paper",
            "a_know_party": "yes", "a_party_role": "none", "a_visits": "often", "a_culture": "very"})),
        ("POST", "/s/{id}") => Some(json!({"a_know_party": "no"})),
        ("POST", "/portal/surveys/{id}") => Some(json!({"a_know_party": "no", "a_party_role": "partly",
            "a_visits": "rarely", "a_culture": "neutral"})),
        ("POST", "/party/members/{id}/card") => Some(json!({"commitment": "走查", "paper": "1"})),
        ("POST", "/party/members/{id}/account") => Some(json!({"username": format!("dy{}", spare.counter())})),
        ("POST", "/party/access") => Some(json!({"area": list_area.code, "username": "spare", "reason": "走查"})),
        ("POST", "/party/settings") => Some(json!({"area": list_area.code, "period_months": "6",
            "feedback_months": "3", "yearly_hours": "50", "threshold_percent": "95", "per_hour": "10",
            "per_activity": "2", "per_need": "5"})),
        ("POST", "/party/orgs/{id}/life") => Some(json!({"committee": "default", "term_start": "2024-03-01",
            "term_years": "5"})),
        ("POST", "/party/orgs/{id}/meetings") => Some(json!({"kind": "committee", "held_at": "2026-01-05T19:00",
            "place": "党群服务中心", "topic": "走查"})),
        ("POST", "/party/joint/new") => Some(json!({"area": list_area.code, "held_at": "2026-01-05T19:00",
            "place": "会议室", "title": "走查", "units": c.party_unit, "topic_1": "议题", "decision_1": "决议"})),
        ("POST", "/party/resolutions/{id}/project") => Some(json!({"title": "走查", "area_id": c.grid.id,
            "field": "health", "owner_name": "物业", "deadline": (time::OffsetDateTime::now_utc().date() + time::Duration::days(30)).to_string()})),
        ("POST", "/party/resolutions/{id}/instruction") => Some(json!({"title": "走查", "grids": c.grid.id,
            "due_on": (time::OffsetDateTime::now_utc().date() + time::Duration::days(30)).to_string()})),
        ("POST", "/party/resources") => Some(json!({"area": list_area.code, "area_id": c.grid.id, "kind": "skill",
            "field": "health", "title": "走查", "unit_id": c.party_unit})),
        ("POST", "/party/needs/{id}/field") => Some(json!({"field": "health"})),
        ("POST", "/party/needs/{id}/link") | ("POST", "/party/resources/{id}/link") => {
            Some(json!({"project": c.party_project}))
        }
        ("POST", "/party/projects") => Some(json!({"area": list_area.code, "area_id": c.grid.id, "title": "走查",
            "field": "health", "owner_name": "物业", "deadline": (time::OffsetDateTime::now_utc().date() + time::Duration::days(30)).to_string()})),
        ("POST", "/party/projects/{id}/link") => {
            Some(json!({"need_id": c.party_need, "resource_id": c.party_resource}))
        }
        ("POST", "/party/projects/{id}/step") => Some(json!({"step": "start"})),
        ("POST", "/portal/projects/{id}/rate") => Some(json!({"score": "4"})),
        ("POST", "/party/join/{code}") => Some(json!({"who": "unit", "name": "走查单位", "party_org_name": "党支部",
            "contact_name": "联络员", "declared_members": "3"})),
        // Pages: sent as HTML forms.
        ("POST", "/registry/access") => Some(json!({"area": list_area.code, "reason": "核实信访件当事人", "hours": 1})),
        ("POST", "/admin/accounts") => Some(json!({"username": format!("p{}", spare.counter()), "display_name": "x",
            "role": "grid_member", "scopes": c.grid.code, "password": "long-enough-pw"})),
        ("POST", "/registry/buildings/{id}/households") => {
            Some(json!({"unit": "2", "room": format!("{}", spare.counter()), "occupancy": "vacant"}))
        }
        ("POST", "/admin/accounts/{id}/reset-password") => Some(json!({"password": "another-long-pw"})),
        ("POST", "/registry/areas/{id}/team") => Some(json!({"post": "volunteer", "person_name": "志愿者"})),
        ("POST", "/registry/team/{id}") => Some(json!({"person_name": "网格员", "duties": "走访"})),
        ("POST", "/api/v1/visits") | ("POST", "/visits") => {
            let yesterday = time::OffsetDateTime::now_utc().date() - time::Duration::days(1);
            Some(json!({"household_id": c.household, "channel": "door", "outcome": "met",
                "visited_on": yesterday.to_string(), "purpose": "例行走访"}))
        }
        ("PATCH", "/api/v1/visits/{id}") => {
            let yesterday = time::OffsetDateTime::now_utc().date() - time::Duration::days(1);
            Some(json!({"channel": "door", "outcome": "met", "visited_on": yesterday.to_string()}))
        }
        ("POST", "/api/v1/visits/{id}/demand") => {
            Some(json!({"becomes": "demand", "category": "environment", "title": "走查"}))
        }
        ("POST", "/api/v1/visits/{id}/corrections") => {
            Some(json!({"resident_id": c.resident, "changes": {"notes": "走查"}}))
        }
        ("POST", "/visits/spells") => {
            Some(json!({"area": list_area.code, "kind": "cold", "from": "2030-01-01", "to": "2030-01-03"}))
        }
        ("POST", "/visits/settings") => Some(json!({"area": list_area.code, "lock_days": "7"})),
        ("POST", "/api/v1/visits/spells") => {
            Some(json!({"area": list_area.code, "kind": "heat", "from": "2030-07-01", "to": "2030-07-03"}))
        }
        ("PUT", "/api/v1/visits/cadences/{id}") => Some(json!({"every_days": 7, "channels": ["door"]})),
        ("POST", "/visits/adjustments") => Some(json!({"household_id": c.household, "how": "suspend",
            "from": "2030-01-01", "reason": "住院"})),
        ("POST", "/api/v1/campaigns") | ("POST", "/campaigns") => {
            let today = wangge_store::campaigns::today();
            let template = if pattern.starts_with("/api/") { "gas_check" } else { "builtin:gas_check" };
            // The API names the area by id, the page's form by code.
            let mut body = json!({"template": template, "title": "走查排查",
                "target_kind": "household", "opens_on": today.to_string(),
                "closes_on": (today + time::Duration::days(3)).to_string()});
            if pattern.starts_with("/api/") {
                body["area_id"] = json!(list_area.id);
            } else {
                body["area"] = json!(list_area.code);
            }
            Some(body)
        }
        ("POST", "/api/v1/campaign-targets/{id}/answers") => Some(json!({"version": 1, "answers": {"uses_gas": "no"}})),
        ("POST", "/api/v1/campaign-targets/{id}/mark") | ("POST", "/campaigns/targets/{id}/mark") => {
            Some(json!({"status": "not_home"}))
        }
        ("POST", "/campaigns/{id}/template") => {
            let first = wangge_store::campaigns::today() + time::Duration::days(40);
            Some(json!({"every": "monthly", "first_on": first.to_string()}))
        }
        ("POST", "/api/v1/campaign-conflicts/{id}") | ("POST", "/campaigns/conflicts/{id}") => {
            Some(json!({"keep": "answer"}))
        }
        ("POST", "/campaigns/targets/{id}") => {
            Some(json!({"version": "1", "page": "0", "go": "next", "a.uses_gas": "no"}))
        }
        ("POST", "/admin/tokens") => Some(json!({"name": "t", "role": "grid_member", "scope": c.grid.code})),
        ("POST", "/portal/signup") => {
            Some(json!({"name": "某人", "id_card": "1", "phone": "13500000000", "password": "x"}))
        }
        ("POST", "/registry/recovery/{id}") => Some(json!({"seen": "1"})),
        ("POST", _) if is_page(pattern) => Some(json!({"notes": "walk", "note": "walk", "score": 4})),
        ("POST" | "PATCH", _) => Some(json!({})),
        _ => None,
    };
    (path, body)
}

struct Spare {
    account: String,
    token: String,
    n: std::cell::Cell<u32>,
}

impl Spare {
    fn counter(&self) -> u32 {
        self.n.set(self.n.get() + 1);
        self.n.get() + 100
    }
}

fn credential(s: &Server, role: Role, scope: &Area) -> Auth {
    if role == Role::Resident {
        let name = format!("resident{}", &scope.code[..4]);
        s.create_account(&name, role, &[&scope.code], "resident-password");
        return s.login(&name, "resident-password").2;
    }
    s.token(role, &scope.code)
}

/// The same request about a record in the other chain.
fn out_of_scope(path: &str, c: &Chain, other: &Chain) -> String {
    let mut p = path.to_owned();
    for (mine, theirs) in [
        (&c.grid.id, &other.grid.id),
        (&c.building, &other.building),
        (&c.household, &other.household),
        (&c.resident, &other.resident),
        (&c.organisation, &other.organisation),
        (&c.grid.code, &other.grid.code),
        (&c.community.code, &other.community.code),
        (&c.street.code, &other.street.code),
        (&c.district.code, &other.district.code),
        (&c.city.code, &other.city.code),
        (&c.community.id, &other.community.id),
        (&c.street.id, &other.street.id),
        (&c.district.id, &other.district.id),
        (&c.city.id, &other.city.id),
        (&c.signup, &other.signup),
        (&c.resident_account, &other.resident_account),
        (&c.import, &other.import),
        (&c.demand, &other.demand),
        (&c.demand2, &other.demand2),
        (&c.attachment, &other.attachment),
        (&c.team_post, &other.team_post),
        (&c.visit, &other.visit),
        (&c.correction, &other.correction),
        (&c.campaign, &other.campaign),
        (&c.campaign_target, &other.campaign_target),
        (&c.campaign_conflict, &other.campaign_conflict),
        (&c.campaign_template, &other.campaign_template),
        (&c.campaign_photo, &other.campaign_photo),
        (&c.visit_photo, &other.visit_photo),
        (&c.instruction, &other.instruction),
        (&c.instruction_receipt, &other.instruction_receipt),
        (&c.instruction_file, &other.instruction_file),
        (&c.party_org, &other.party_org),
        (&c.party_member, &other.party_member),
        (&c.party_unit, &other.party_unit),
        (&c.party_registration, &other.party_registration),
        (&c.party_need, &other.party_need),
        (&c.party_service, &other.party_service),
        (&c.party_photo, &other.party_photo),
        (&c.party_grant, &other.party_grant),
        (&c.party_meeting, &other.party_meeting),
        (&c.party_meeting_photo, &other.party_meeting_photo),
        (&c.party_joint, &other.party_joint),
        (&c.party_resolution, &other.party_resolution),
        (&c.party_resource, &other.party_resource),
        (&c.party_project, &other.party_project),
        (&c.notice, &other.notice),
        (&c.notice_file, &other.notice_file),
        (&c.survey, &other.survey),
        (&c.activity, &other.activity),
        (&c.activity_signup, &other.activity_signup),
        (&c.activity_photo, &other.activity_photo),
        (&c.venture_call, &other.venture_call),
        (&c.venture_application, &other.venture_application),
        (&c.venture_photo, &other.venture_photo),
    ] {
        p = p.replace(mine.as_str(), theirs.as_str());
    }
    p
}

fn is_page(pattern: &str) -> bool {
    !pattern.starts_with("/api/")
}

/// A JSON object as an HTML form body.
fn form_body(body: Option<&Value>) -> String {
    let Some(Value::Object(fields)) = body else { return String::new() };
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

/// A token to revoke, so that revoking one does not disturb the walk.
fn spare_token(s: &Server, scope: &Area) -> String {
    s.runtime.block_on(async {
        let new = wangge_store::security::accounts::NewApiToken {
            name: "spare".into(),
            role: Role::GridMember,
            scope: scope.code.clone(),
            expires_in_days: None,
        };
        wangge_store::security::accounts::issue_token(&s.db.db, new, None).await.unwrap().0.id
    })
}

/// The other chain's record of the same kind as `id`, when `id` is one of this
/// chain's records (not a code: area codes are public statistical codes).
fn counterpart(id: &str, c: &Chain, other: &Chain) -> Option<String> {
    [
        (&c.grid.id, &other.grid.id),
        (&c.community.id, &other.community.id),
        (&c.street.id, &other.street.id),
        (&c.district.id, &other.district.id),
        (&c.city.id, &other.city.id),
        (&c.building, &other.building),
        (&c.household, &other.household),
        (&c.resident, &other.resident),
        (&c.organisation, &other.organisation),
        (&c.signup, &other.signup),
        (&c.resident_account, &other.resident_account),
        (&c.import, &other.import),
        (&c.demand, &other.demand),
        (&c.demand2, &other.demand2),
        (&c.attachment, &other.attachment),
        (&c.team_post, &other.team_post),
        (&c.visit, &other.visit),
        (&c.correction, &other.correction),
        (&c.campaign, &other.campaign),
        (&c.campaign_target, &other.campaign_target),
        (&c.campaign_conflict, &other.campaign_conflict),
        (&c.campaign_template, &other.campaign_template),
        (&c.campaign_photo, &other.campaign_photo),
        (&c.visit_photo, &other.visit_photo),
        (&c.instruction, &other.instruction),
        (&c.instruction_receipt, &other.instruction_receipt),
        (&c.instruction_file, &other.instruction_file),
        (&c.party_org, &other.party_org),
        (&c.party_member, &other.party_member),
        (&c.party_unit, &other.party_unit),
        (&c.party_registration, &other.party_registration),
        (&c.party_need, &other.party_need),
        (&c.party_service, &other.party_service),
        (&c.party_photo, &other.party_photo),
        (&c.party_grant, &other.party_grant),
        (&c.party_meeting, &other.party_meeting),
        (&c.party_meeting_photo, &other.party_meeting_photo),
        (&c.party_joint, &other.party_joint),
        (&c.party_resolution, &other.party_resolution),
        (&c.party_resource, &other.party_resource),
        (&c.party_project, &other.party_project),
        (&c.notice, &other.notice),
        (&c.notice_file, &other.notice_file),
        (&c.survey, &other.survey),
        (&c.activity, &other.activity),
        (&c.activity_signup, &other.activity_signup),
        (&c.activity_photo, &other.activity_photo),
        (&c.venture_call, &other.venture_call),
        (&c.venture_application, &other.venture_application),
        (&c.venture_photo, &other.venture_photo),
    ]
    .into_iter()
    .find(|(mine, _)| mine.as_str() == id)
    .map(|(_, theirs)| theirs.clone())
}

/// Refused by authentication or authorization (not by validation or by a missing record).
fn refused(status: u16, answer: &Value) -> bool {
    status == 403 || (status == 401 && answer["error"]["code"] == "unauthenticated")
}

/// Routes whose records belong to a place, so that scope applies.
fn is_scoped(pattern: &str) -> bool {
    [
        "/api/v1/areas",
        "/api/v1/buildings",
        "/api/v1/households",
        "/api/v1/residents",
        "/api/v1/organisations",
        "/api/v1/access-grants",
        "/api/v1/demands",
        "/api/v1/demand-attachments",
        "/registry/areas",
        "/registry/buildings",
        "/registry/residents",
        "/registry/signups/",
        "/registry/recovery/",
        "/registry/access",
        "/registry/import/",
        "/registry/households/",
        "/registry/team/",
        "/registry/units/",
        "/registry/unit-members/",
        "/api/v1/units/",
        "/api/v1/unit-members/",
        "/demands/{id}",
        "/registry/export",
        "/api/v1/visits",
        "/visits",
        "/api/v1/cockpit",
        "/cockpit/map",
        "/cockpit/report",
        "/api/v1/corrections",
        "/corrections",
        "/api/v1/campaigns",
        "/api/v1/campaign-targets/",
        "/api/v1/campaign-conflicts/",
        "/api/v1/campaign-templates",
        "/api/v1/campaign-photos/",
        "/campaigns",
        "/api/v1/instructions",
        "/api/v1/instruction-receipts/",
        "/instructions",
        "/api/v1/party",
        "/party/",
        "/notices/{id}",
        "/portal/notices/{id}",
        "/notices/files/",
        "/portal/notice-files/",
        "/activities/{id}",
        "/activities/signups/",
        "/activities/photos/",
        "/portal/activity-photos/",
        "/portal/activities/{id}",
        "/ventures/{id}",
        "/ventures/applications/",
        "/portal/ventures/",
        "/ventures/photos/",
        "/portal/venture-photos/",
        "/surveys/{id}",
        "/portal/surveys/{id}",
    ]
    .iter()
    .any(|p| pattern.starts_with(p) || pattern == "/cockpit" || pattern == "/party")
        // The public registration form names a public area code; a member's own page
        // is their own, wherever they are.
        && !pattern.starts_with("/party/join/")
        && pattern != "/party/mine"
        // The blank ledger template names no record: the same file for everyone.
        && pattern != "/registry/import/template"
}

#[test]
fn every_route_every_role_in_and_out_of_scope() {
    for s in crate::common::servers() {
        s.runtime.block_on(wangge_store::registry::tags::ensure_standard(&s.db.db)).unwrap();
        let a = chain(&s, "370600000000", 11);
        let b = chain(&s, "370700000000", 13);
        let account = s.create_account("spare", Role::GridMember, &[&a.grid.code], "spare-password");
        let spare = Spare { account, token: String::new(), n: std::cell::Cell::new(0) };
        let mut failures = Vec::new();
        let mut checked = 0;
        let mut references = std::collections::BTreeSet::new();
        let table = wangge_web::route_table();
        for &role in Role::all() {
            let who = credential(&s, role, scope_of(role, &a));
            for route in table.routes() {
                let (method, pattern, access) = (route.method.as_str(), route.path.as_str(), &route.access);
                if (pattern.ends_with("/session") && method == "DELETE") || pattern == "/logout" {
                    continue; // logging out would end the resident's session for the rest of the walk
                }
                if pattern.starts_with("/open311/") {
                    continue; // Open311 authenticates by the api_key in the request: tests/it/open311.rs
                }
                let spare = Spare {
                    token: if pattern.starts_with("/api/v1/tokens/") {
                        spare_token(&s, &a.grid)
                    } else {
                        String::new()
                    },
                    account: spare.account.clone(),
                    n: std::cell::Cell::new(spare.n.get() + 1000 * (checked + 1)),
                };
                let (path, body) = request_for(method, pattern, &a, scope_of(role, &a), &spare);
                let allowed = match access {
                    Access::Public | Access::Authenticated => true,
                    Access::Role(action) => role.may(*action),
                    // The roll by role; a grant by name opens it to others
                    // (tests/it/party.rs), and the walk grants none.
                    Access::PartyRoll => role.may(wangge_domain::Action::ManageParty),
                };
                let form = is_page(pattern) && method == "POST";
                let (status, answer) = if form {
                    s.call_form(&who, &path, &form_body(body.as_ref()))
                } else {
                    s.call(&who, method, &path, body.as_ref())
                };
                checked += 1;
                // A page whose template names a variable its handler did not pass
                // fails here (debug builds render with undefined variables refused).
                if status >= 500 {
                    failures.push(format!("{} {method} {path}: failed with {status} {answer}", role.code()));
                }
                // Who may call a reporter back is decided per item (its handler, its
                // dispatcher, the call-back desk: tests/it/callback.rs); the route
                // only keeps out the roles that see no items.
                let per_item = pattern.ends_with("/call-back") && allowed && status == 403;
                // Who acts on an instruction's receipt is decided per receipt too: the
                // people of its own area confirm and report, those of the area that
                // addressed it return and accept (tests/it/instructions.rs).
                let per_item = per_item
                    || ((pattern.starts_with("/api/v1/instruction-receipts/")
                        || pattern.starts_with("/instructions/receipts/"))
                        && allowed
                        && status == 403);
                if allowed == refused(status, &answer) && !per_item {
                    let want = if allowed { "allowed" } else { "refused" };
                    failures.push(format!("{} {method} {path}: expected {want}, got {status} {answer}", role.code()));
                }
                // The same request about the other city's records must be refused,
                // except for administrators, who work across the deployment.
                if is_scoped(pattern) && allowed && role != Role::PlatformAdmin {
                    let outside = out_of_scope(&path, &a, &b);
                    let body = body
                        .as_ref()
                        .map(|v| serde_json::from_str::<Value>(&out_of_scope(&v.to_string(), &a, &b)).unwrap());
                    let (status, answer) = if form {
                        s.call_form(&who, &outside, &form_body(body.as_ref()))
                    } else {
                        s.call(&who, method, &outside, body.as_ref())
                    };
                    checked += 1;
                    if !(status == 403 || status == 404) {
                        failures.push(format!(
                            "{} {method} {outside} (other city): expected 403/404, got {status} {answer}",
                            role.code()
                        ));
                    }
                }
                // Each id the request names — in its path or in its body — one at a
                // time: another city's record must be answered exactly as an id that
                // does not exist (404, the same words), so no request can probe ids.
                if allowed && role != Role::PlatformAdmin && pattern != "/api/v1/households/{id}/bind-account" {
                    let mut variants: Vec<(String, String, Option<Value>, String)> = Vec::new();
                    for segment in path.split(['/', '?', '&', '=']) {
                        if let Some(theirs) = counterpart(segment, &a, &b) {
                            let swap = |id: &str| path.replace(segment, id);
                            variants.push(("path".into(), swap(&theirs), body.clone(), theirs));
                        }
                    }
                    if let Some(Value::Object(fields)) = &body {
                        for (field, value) in fields {
                            if let Some(theirs) = value.as_str().and_then(|v| counterpart(v, &a, &b)) {
                                let mut changed = fields.clone();
                                changed.insert(field.clone(), json!(theirs));
                                variants.push((field.clone(), path.clone(), Some(Value::Object(changed)), theirs));
                            }
                        }
                    }
                    for (field, outside, changed, theirs) in variants {
                        let unknown = wangge_domain::new_id();
                        let answers = [&theirs, &unknown].map(|id| {
                            let at = outside.replace(&theirs, id);
                            let body = changed
                                .as_ref()
                                .map(|v| serde_json::from_str::<Value>(&v.to_string().replace(&theirs, id)).unwrap());
                            let (status, answer) = if form {
                                s.call_form(&who, &at, &form_body(body.as_ref()))
                            } else {
                                s.call(&who, method, &at, body.as_ref())
                            };
                            (status, answer.to_string().replace(id, "<id>"))
                        });
                        checked += 2;
                        references.insert(format!("{method} {pattern} {field}"));
                        if answers[0].0 != 404 || answers[0] != answers[1] {
                            failures.push(format!(
                                "{} {method} {pattern} with another city's {field}: {:?}; with an unknown id: {:?}",
                                role.code(),
                                answers[0],
                                answers[1]
                            ));
                        }
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{} of {checked} checks failed:\n{}", failures.len(), failures.join("\n"));
        for reference in [
            "POST /api/v1/demands resident_id",
            "POST /api/v1/demands household_id",
            "POST /api/v1/demands building_id",
            "POST /api/v1/demands/{id}/merge into",
            "POST /api/v1/demands/{id}/dispatch handler_id",
            "POST /api/v1/residents household_id",
            "POST /api/v1/residents/{id}/move-in household_id",
            "POST /api/v1/households building_id",
            "POST /api/v1/buildings grid_id",
            "POST /api/v1/organisations grid_id",
            "GET /api/v1/demand-attachments/{id} path",
        ] {
            assert!(references.contains(reference), "the walk tried {reference} out of scope: {references:?}");
        }
        assert!(
            checked as usize > table.routes().len() * Role::all().len(),
            "the walk covered every route for every role"
        );
    }
}
