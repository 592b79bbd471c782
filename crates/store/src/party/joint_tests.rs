//! Joint meetings and the three lists against hand-computed values, on both engines.

use time::macros::date;
use wangge_domain::party::NeedSource;
use wangge_domain::party_joint::{ByState, Outcome, ProjectState, ProjectStep, ResourceKind, ServiceField};
use wangge_domain::{Role, now_millis};

use super::joint::{self, NewJointMeeting};
use super::projects::{self, NewProject, NewResource};
use super::service::{self, NewNeed};
use super::*;
use crate::security::accounts::{self, NewAccount};
use crate::testing::{self, TestDb};

fn key(r: &StoreResult<impl std::fmt::Debug>) -> String {
    match r {
        Err(StoreError::Conflict(m)) | Err(StoreError::Invalid(m)) => m.key.to_string(),
        Err(StoreError::NotFound { .. }) => "not found".into(),
        other => format!("not refused: {other:?}"),
    }
}

fn unit(community_id: &str, name: &str) -> NewUnit {
    NewUnit {
        community_id: community_id.to_owned(),
        name: name.to_owned(),
        party_org_name: format!("{name}党支部"),
        contact_name: "联络员".into(),
        phone: None,
        resources: String::new(),
        declared_members: 2,
    }
}

/// A community with two units; a joint meeting with two resolutions; resources
/// of the health station on the community (health), of the tax office on grid 1
/// (legal) and on grid 2 (health); needs on grid 1 (health), grid 2 (legal), the
/// community (health) and one with no field. Hand-matched: the community's
/// health resource fits the grid 1 and community health needs; grid 2's health
/// resource fits the community's health need only (not grid 1's); grid 1's legal
/// resource fits nothing (the legal need is grid 2's).
#[tokio::test]
async fn joint_meeting_resolution_project_matched_and_rated() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let today = date!(2026 - 05 - 01);
        let health = add_unit(db, unit(&h.community.id, "塔山社区卫生服务站")).await.unwrap();
        let tax = add_unit(db, unit(&h.community.id, "芝罘区税务局")).await.unwrap();

        // The meeting: no unit, no topic, a decision missing, the future: refused.
        let meeting = |units: Vec<String>, topics: Vec<(String, String)>, held_at: i64| NewJointMeeting {
            community_id: h.community.id.clone(),
            held_at,
            place: "社区党群服务中心".into(),
            title: "2026年第二季度联席会议".into(),
            others: "物业公司".into(),
            minutes: "会议讨论了两个议题。".into(),
            unit_ids: units,
            topics,
        };
        let now = now_millis();
        let topics = vec![
            ("老年人慢病随访".to_owned(), "卫生服务站每月进网格义诊一次".to_owned()),
            (String::new(), String::new()),
            ("楼道堆物清理".to_owned(), "各网格两周内完成清理".to_owned()),
        ];
        let both = vec![health.id.clone(), tax.id.clone()];
        assert_eq!(
            key(&joint::record(db, meeting(vec![], topics.clone(), now), "书记", now).await),
            "party.joint.error.no_unit"
        );
        assert_eq!(
            key(&joint::record(db, meeting(both.clone(), vec![], now), "书记", now).await),
            "party.joint.error.no_topic"
        );
        let half = vec![("议题".to_owned(), String::new())];
        assert_eq!(
            key(&joint::record(db, meeting(both.clone(), half, now), "书记", now).await),
            "party.joint.error.decision"
        );
        assert_eq!(
            key(&joint::record(db, meeting(both.clone(), topics.clone(), now + 3_600_000), "书记", now).await),
            "party.life.error.future"
        );
        let m = joint::record(db, meeting(both, topics, now - 1000), "书记", now).await.unwrap();
        assert_eq!(m.units.len(), 2);
        assert_eq!(m.resolutions.len(), 2, "the empty row is skipped");
        assert_eq!(m.resolutions[1].position, 2);
        assert!(m.resolutions.iter().all(|r| r.outcome == Outcome::Noted));
        // The grid's viewer sees the community's meetings; the other community's list is empty.
        assert_eq!(joint::meetings_under(db, &h.grid.path, 10).await.unwrap().len(), 1);

        // Resources.
        let resource = |area: &str, unit: &str, field: ServiceField, title: &str| NewResource {
            area_id: area.to_owned(),
            unit_id: Some(unit.to_owned()),
            offered_by: String::new(),
            kind: ResourceKind::Skill,
            field,
            title: title.to_owned(),
            detail: String::new(),
            amount_fen: None,
        };
        let doctors = projects::add_resource(
            db,
            resource(&h.community.id, &health.id, ServiceField::Health, "全科医生义诊"),
            "书记",
        )
        .await
        .unwrap();
        let lawyers =
            projects::add_resource(db, resource(&h.grid.id, &tax.id, ServiceField::Legal, "税法咨询"), "书记")
                .await
                .unwrap();
        let nurses = projects::add_resource(
            db,
            resource(&h.other_grid.id, &health.id, ServiceField::Health, "护士上门"),
            "书记",
        )
        .await
        .unwrap();
        let fund = NewResource {
            kind: ResourceKind::Fund,
            amount_fen: None,
            ..resource(&h.community.id, &tax.id, ServiceField::Environment, "共建资金")
        };
        assert_eq!(key(&projects::add_resource(db, fund.clone(), "书记").await), "party.joint.error.amount");
        let fund = projects::add_resource(db, NewResource { amount_fen: Some(500_000), ..fund }, "书记").await.unwrap();
        assert_eq!(fund.amount_fen, Some(500_000));
        assert_eq!(fund.offered_by, "芝罘区税务局");

        // Needs.
        let need = |area: &str, field: Option<ServiceField>, title: &str| NewNeed {
            area_id: area.to_owned(),
            title: title.to_owned(),
            detail: String::new(),
            source_kind: NeedSource::Plan,
            source_id: None,
            field,
            needed_on: "2026-05-20".into(),
            slots: 2,
        };
        let n1 = service::add_need(db, need(&h.grid.id, Some(ServiceField::Health), "独居老人量血压"), "社工", today)
            .await
            .unwrap();
        let n2 = service::add_need(db, need(&h.other_grid.id, Some(ServiceField::Legal), "个体户报税"), "社工", today)
            .await
            .unwrap();
        let n3 = service::add_need(db, need(&h.community.id, Some(ServiceField::Health), "健康讲座"), "社工", today)
            .await
            .unwrap();
        let n4 = service::add_need(db, need(&h.grid.id, None, "没说领域"), "社工", today).await.unwrap();
        let titles = |v: Vec<projects::Resource>| v.into_iter().map(|r| r.title).collect::<Vec<_>>();
        assert_eq!(titles(projects::resources_for(db, &n1).await.unwrap()), ["全科医生义诊"]);
        assert!(projects::resources_for(db, &n2).await.unwrap().is_empty());
        let mut for_n3 = titles(projects::resources_for(db, &n3).await.unwrap());
        for_n3.sort();
        assert_eq!(for_n3, ["全科医生义诊", "护士上门"]);
        assert!(projects::resources_for(db, &n4).await.unwrap().is_empty());
        let need_titles = |v: Vec<service::Need>| v.into_iter().map(|n| n.title).collect::<Vec<_>>();
        assert_eq!(
            need_titles(projects::needs_for(db, &doctors, today).await.unwrap()),
            ["独居老人量血压", "健康讲座"]
        );
        assert_eq!(need_titles(projects::needs_for(db, &nurses, today).await.unwrap()), ["健康讲座"]);
        assert!(projects::needs_for(db, &lawyers, today).await.unwrap().is_empty());
        // Saying the field of n4 makes it fit.
        let n4 = service::set_need_field(db, &n4.id, Some(ServiceField::Health)).await.unwrap();
        assert_eq!(titles(projects::resources_for(db, &n4).await.unwrap()), ["全科医生义诊"]);
        // A withdrawn resource fits nothing.
        let nurses = projects::withdraw_resource(db, &nurses.id).await.unwrap();
        assert!(nurses.withdrawn);
        assert_eq!(titles(projects::resources_for(db, &n3).await.unwrap()), ["全科医生义诊"]);

        // The first resolution becomes a project; a second time is refused.
        let new_project = |deadline: &str| NewProject {
            area_id: h.grid.id.clone(),
            title: "网格义诊进楼院".into(),
            detail: String::new(),
            field: ServiceField::Health,
            owner_unit_id: Some(health.id.clone()),
            owner_name: String::new(),
            deadline: deadline.into(),
        };
        let r1 = &m.resolutions[0];
        assert_eq!(
            key(&projects::from_resolution(db, &r1.id, new_project("2026-04-30"), "书记", today).await),
            "party.joint.error.deadline_past"
        );
        let p = projects::from_resolution(db, &r1.id, new_project("2026-06-30"), "书记", today).await.unwrap();
        assert_eq!(
            (p.state, p.owner_name.as_str(), p.meeting_id.as_deref()),
            (ProjectState::Planned, "塔山社区卫生服务站", Some(m.id.as_str()))
        );
        let r1 = joint::resolution(db, &r1.id).await.unwrap();
        assert_eq!((r1.outcome, r1.project_id.as_deref()), (Outcome::Project, Some(p.id.as_str())));
        assert_eq!(
            key(&projects::from_resolution(db, &r1.id, new_project("2026-06-30"), "书记", today).await),
            "party.joint.error.decided"
        );
        assert_eq!(key(&joint::mark_instruction(db, &r1.id, "x").await), "party.joint.error.decided");

        // Linked to a need and a resource (twice is once); a withdrawn resource is refused.
        projects::link(db, &p.id, Some(&n1.id), Some(&doctors.id)).await.unwrap();
        let p = projects::link(db, &p.id, Some(&n1.id), Some(&doctors.id)).await.unwrap();
        assert_eq!((p.needs.len(), p.resources.len()), (1, 1));
        assert_eq!(key(&projects::link(db, &p.id, None, Some(&nurses.id)).await), "party.joint.error.withdrawn");

        // Rated only when done; finishing needs a result.
        let resident = accounts::create(
            db,
            NewAccount {
                username: "jumin01".into(),
                display_name: "居民甲".into(),
                role: Role::Resident,
                scopes: vec![h.grid.id.clone()],
                password: "correct horse battery".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(key(&projects::rate(db, &p.id, &resident.id, Some(5), "").await), "party.joint.error.not_done");
        let p = projects::step(db, &p.id, ProjectStep::Start, "").await.unwrap();
        assert_eq!(p.state, ProjectState::Doing);
        assert_eq!(key(&projects::step(db, &p.id, ProjectStep::Finish, " ").await), "party.joint.error.result");
        let p = projects::step(db, &p.id, ProjectStep::Finish, "义诊4次，服务老人126人次").await.unwrap();
        assert_eq!((p.state, p.result.as_deref()), (ProjectState::Done, Some("义诊4次，服务老人126人次")));
        assert_eq!(key(&projects::step(db, &p.id, ProjectStep::Drop, "晚了").await), "party.joint.error.final");
        assert_eq!(key(&projects::rate(db, &p.id, &resident.id, None, "").await), "party.joint.error.stars");
        let p = projects::rate(db, &p.id, &resident.id, Some(4), "医生很耐心").await.unwrap();
        assert_eq!((p.ratings, p.stars, p.mean()), (1, 4, Some(4.0)));
        assert_eq!(key(&projects::rate(db, &p.id, &resident.id, Some(5), "").await), "party.joint.error.rated");
        assert_eq!(projects::comments(db, &p.id).await.unwrap(), [(4, "医生很耐心".to_owned())]);

        // The second resolution becomes an instruction.
        let r2 = joint::mark_instruction(db, &m.resolutions[1].id, &fake_instruction(db, &h).await).await.unwrap();
        assert_eq!(r2.outcome, Outcome::Instruction);

        // By state: one done; a planned project past its deadline is overdue, a dropped one is not.
        let late = projects::add_project(
            db,
            NewProject { title: "楼道照明".into(), ..new_project("2026-05-10") },
            "书记",
            today,
        )
        .await
        .unwrap();
        let gone = projects::add_project(
            db,
            NewProject { title: "停车棚".into(), ..new_project("2026-05-10") },
            "书记",
            today,
        )
        .await
        .unwrap();
        assert_eq!(key(&projects::step(db, &gone.id, ProjectStep::Drop, "").await), "party.joint.error.reason");
        projects::step(db, &gone.id, ProjectStep::Drop, "经费未落实").await.unwrap();
        let counts = projects::by_state(db, &h.community.path, date!(2026 - 05 - 11)).await.unwrap();
        assert_eq!(counts, ByState { planned: 1, doing: 0, done: 1, dropped: 1, overdue: 1 });
        let counts = projects::by_state(db, &h.other_grid.path, date!(2026 - 05 - 11)).await.unwrap();
        assert_eq!(counts, ByState::default());
        assert_eq!(
            projects::projects_under(db, &h.grid.path, Some(ProjectState::Planned), 10).await.unwrap()[0].id,
            late.id
        );
    })
    .await;
}

/// An instruction from the community to grid 1, as the web layer sends one.
async fn fake_instruction(db: &Db, h: &testing::Hierarchy) -> String {
    let new = crate::instructions::NewInstruction {
        area_id: h.community.id.clone(),
        title: "楼道堆物清理".into(),
        body: "各网格两周内完成清理".into(),
        due_on: "2099-06-01".into(),
        receivers: vec![h.grid.id.clone()],
        ..Default::default()
    };
    crate::instructions::send(db, new, &[], None, "书记", crate::instructions::today()).await.unwrap().id
}
