//! The demo's "one core, many parties" (一核多元): the six units' resources on the
//! three lists, two joint meetings of the year (spring and autumn) and what their
//! resolutions became — two projects finished and rated by residents, one under
//! way using the housing bureau's fund, one planned, one instruction to the grids,
//! one resolution noted — so that `/party/lists`, `/party/joint`, the portal's
//! projects and the cockpit's figures are alive at first start.
//!
//! Written through the store's own functions (its checks apply), then dated back:
//! the meetings, the projects' starts, ends and deadlines to the year behind
//! `today`.

use fastrand::Rng;
use time::{Date, Duration};
use wangge_domain::party_joint::{ProjectStep, ResourceKind, ServiceField};
use wangge_domain::{Role, format_date, new_id, now_millis};
use wangge_store::Db;
use wangge_store::party::joint::{self, NewJointMeeting};
use wangge_store::party::projects::{self, NewProject, NewResource};
use wangge_store::registry::areas;
use wangge_store::security::accounts::{self, NewAccount};

fn at(day: Date, hour: i64) -> i64 {
    (day.midnight().assume_offset(wangge_domain::demands::CHINA).unix_timestamp() + hour * 3600) * 1000
}

/// A resource: the unit whose Party organisation's name holds `unit`, kind,
/// field, title, amount in fen (funds), on the grid of that index (else the
/// community).
type ResourcePlan = (&'static str, ResourceKind, ServiceField, &'static str, Option<i64>, Option<usize>);

const RESOURCES: [ResourcePlan; 10] = [
    ("卫生服务", ResourceKind::Skill, ServiceField::Health, "全科医生每月义诊", None, None),
    ("卫生服务", ResourceKind::Skill, ServiceField::Health, "慢病老人上门随访", None, None),
    ("派出所", ResourceKind::Skill, ServiceField::Safety, "反诈宣传进楼院", None, None),
    ("派出所", ResourceKind::Skill, ServiceField::Legal, "法治讲座与法律咨询", None, None),
    ("税务所", ResourceKind::Skill, ServiceField::Legal, "个税年度汇算辅导", None, None),
    ("幼儿园", ResourceKind::Space, ServiceField::Education, "周末亲子活动场地", None, Some(2)),
    ("住房和城乡建设", ResourceKind::Skill, ServiceField::Repair, "房屋安全隐患排查", None, None),
    ("住房和城乡建设", ResourceKind::Fund, ServiceField::Environment, "老旧小区微改造共建资金", Some(2_000_000), None),
    ("供电公司", ResourceKind::Skill, ServiceField::Safety, "居民用电安全检查", None, None),
    ("供电公司", ResourceKind::Skill, ServiceField::Repair, "楼道线路义务维修", None, Some(4)),
];

/// Writes the demo's joint meetings, resources, projects and ratings; answers how
/// many projects.
pub(crate) async fn demo(db: &Db, rng: &mut Rng, community_code: &str, today: Date) -> anyhow::Result<usize> {
    let community = areas::get_by_code(db, community_code).await?;
    let grids = areas::children(db, &community.id).await?;
    let units = wangge_store::party::units_under(db, &community.path).await?;
    let unit = |word: &str| {
        units
            .iter()
            .find(|u| u.party_org_name.contains(word) || u.name.contains(word))
            .map(|u| u.id.clone())
            .ok_or_else(|| anyhow::anyhow!("the demo has no unit of {word}"))
    };
    let secretary = "党委书记";
    let mut resources = Vec::new();
    for (word, kind, field, title, amount, grid) in RESOURCES {
        let area = grid.and_then(|g| grids.get(g)).unwrap_or(&community);
        let new = NewResource {
            area_id: area.id.clone(),
            unit_id: Some(unit(word)?),
            offered_by: String::new(),
            kind,
            field,
            title: title.to_owned(),
            detail: String::new(),
            amount_fen: amount,
        };
        resources.push(projects::add_resource(db, new, secretary).await?);
    }
    let resource = |title: &str| resources.iter().find(|r| r.title == title).map(|r| r.id.clone());

    let now = now_millis();
    let spring = today - Duration::days(230);
    let autumn = today - Duration::days(45);
    let meeting = |day: Date, title: &str, units: Vec<String>, topics: &[(&str, &str)]| NewJointMeeting {
        community_id: community.id.clone(),
        held_at: at(day, 15),
        place: "塔山社区党群服务中心二楼会议室".into(),
        title: title.to_owned(),
        others: "塔山物业公司、塔山小学".into(),
        minutes: format!(
            "{title}由社区党委书记主持，各共建单位党组织负责人参加。会议通报了上次会议决议落实情况，\
             逐项讨论了议题，形成决议如下，由牵头单位按期落实，社区党委跟踪督办。"
        ),
        unit_ids: units,
        topics: topics.iter().map(|(t, d)| ((*t).to_owned(), (*d).to_owned())).collect(),
    };
    let all_units: Vec<String> = units.iter().map(|u| u.id.clone()).collect();
    let first = joint::record(
        db,
        meeting(
            spring,
            "塔山社区2026年春季党建联席会议",
            all_units.clone(),
            &[
                ("老年人慢病健康管理", "社区卫生服务站牵头，每月进网格义诊一次，为慢病老人建立随访台账。"),
                ("电动车飞线充电隐患", "供电公司牵头，对第五网格老旧楼院开展用电安全检查并整改飞线。"),
                ("反诈宣传进楼院", "派出所结合日常工作开展，纳入平时宣传，不单独立项。"),
            ],
        ),
        secretary,
        now,
    )
    .await?;
    let second = joint::record(
        db,
        meeting(
            autumn,
            "塔山社区2026年秋季党建联席会议",
            all_units,
            &[
                ("老旧楼院照明改造", "住房和城乡建设局提供共建资金，年底前完成第二、第三网格楼道照明改造。"),
                ("冬季独居老人关爱", "各网格入冬前完成独居老人走访，摸清取暖和用电情况，按期上报。"),
                ("个税年度汇算辅导", "税务所明年汇算期前进社区集中辅导两次。"),
            ],
        ),
        secretary,
        now,
    )
    .await?;

    // What the resolutions became.
    let project = |area: &str, title: &str, field: ServiceField, owner: &str| -> anyhow::Result<NewProject> {
        Ok(NewProject {
            area_id: area.to_owned(),
            title: title.to_owned(),
            detail: String::new(),
            field,
            owner_unit_id: Some(unit(owner)?),
            owner_name: String::new(),
            deadline: format_date(today + Duration::days(365)),
        })
    };
    let grid = |i: usize| grids.get(i).unwrap_or(&community).id.clone();
    let health = projects::from_resolution(
        db,
        &first.resolutions[0].id,
        project(&community.id, "健康进网格·慢病老人随访", ServiceField::Health, "卫生服务")?,
        secretary,
        today,
    )
    .await?;
    let power = projects::from_resolution(
        db,
        &first.resolutions[1].id,
        project(&grid(4), "老旧楼院用电安全整治", ServiceField::Safety, "供电公司")?,
        secretary,
        today,
    )
    .await?;
    let lights = projects::from_resolution(
        db,
        &second.resolutions[0].id,
        project(&community.id, "楼道照明改造", ServiceField::Environment, "住房和城乡建设")?,
        secretary,
        today,
    )
    .await?;
    let tax = projects::from_resolution(
        db,
        &second.resolutions[2].id,
        project(&community.id, "个税汇算进社区", ServiceField::Legal, "税务所")?,
        secretary,
        today,
    )
    .await?;
    let instruction = wangge_store::instructions::send(
        db,
        wangge_store::instructions::NewInstruction {
            area_id: community.id.clone(),
            title: "冬季独居老人关爱走访".into(),
            body: second.resolutions[1].decision.clone(),
            due_on: format_date(today + Duration::days(20)),
            receivers: grids.iter().map(|g| g.id.clone()).collect(),
            ..Default::default()
        },
        &[],
        None,
        secretary,
        today,
    )
    .await?;
    joint::mark_instruction(db, &second.resolutions[1].id, &instruction.id).await?;

    // The tax office's project answers a need the needs list did not have yet.
    let legal = wangge_store::party::service::NewNeed {
        area_id: community.id.clone(),
        title: "个体户和退休居民个税汇算答疑".into(),
        detail: "居民走访中反映不会在手机上办理个税年度汇算。".into(),
        source_kind: wangge_domain::party::NeedSource::Visit,
        source_id: None,
        field: Some(ServiceField::Legal),
        needed_on: format_date(today + Duration::days(75)),
        slots: 4,
    };
    wangge_store::party::service::add_need(db, legal, "社区工作人员", today).await?;

    // Needs and resources linked: each project the resources of its owner that fit,
    // and the needs of the year that fit them.
    let from = today - Duration::days(365);
    for (p, titles) in [
        (&health, &["全科医生每月义诊", "慢病老人上门随访"][..]),
        (&power, &["居民用电安全检查"][..]),
        (&lights, &["老旧小区微改造共建资金", "楼道线路义务维修"][..]),
        (&tax, &["个税年度汇算辅导"][..]),
    ] {
        for t in titles {
            let id = resource(t).ok_or_else(|| anyhow::anyhow!("no resource {t}"))?;
            projects::link(db, &p.id, None, Some(&id)).await?;
            let r = projects::resource(db, &id).await?;
            for n in projects::needs_for(db, &r, from).await?.iter().take(2) {
                projects::link(db, &p.id, Some(&n.id), None).await?;
            }
        }
    }
    projects::step(db, &health.id, ProjectStep::Start, "").await?;
    projects::step(
        db,
        &health.id,
        ProjectStep::Finish,
        "义诊 7 次，服务居民 412 人次；为 86 名慢病老人建立随访台账，每月上门随访。",
    )
    .await?;
    projects::step(db, &power.id, ProjectStep::Start, "").await?;
    projects::step(
        db,
        &power.id,
        ProjectStep::Finish,
        "检查楼院 14 个、住户 326 户，拆除飞线 23 处，新装集中充电桩 2 处。",
    )
    .await?;
    projects::step(db, &lights.id, ProjectStep::Start, "").await?;

    // Dated back: deadlines, starts and ends in the year behind today.
    let dates = [
        (
            &health.id,
            spring + Duration::days(120),
            Some(spring + Duration::days(10)),
            Some(spring + Duration::days(110)),
        ),
        (&power.id, spring + Duration::days(60), Some(spring + Duration::days(7)), Some(spring + Duration::days(52))),
        (&lights.id, today + Duration::days(27), Some(autumn + Duration::days(14)), None),
        (&tax.id, today + Duration::days(100), None, None),
    ];
    for (id, deadline, started, ended) in dates {
        let created = if started.is_some_and(|s| s < autumn) { at(spring, 17) } else { at(autumn, 17) };
        sqlx::query(
            "UPDATE party_projects SET deadline = $1, started_at = $2, ended_at = $3, created_at = $4, updated_at = $5
             WHERE id = $6",
        )
        .bind(format_date(deadline))
        .bind(started.map(|d| at(d, 9)))
        .bind(ended.map(|d| at(d, 18)))
        .bind(created)
        .bind(ended.or(started).map_or(created, |d| at(d, 18)))
        .bind(id)
        .execute(&db.pool)
        .await?;
    }

    // Residents who rated on the portal: accounts of their own, on their grids.
    let stars = [5, 5, 4, 5, 4, 5, 3, 5, 4, 5, 5, 4, 2, 5, 4, 5, 5, 4];
    let comments = ["医生很耐心，量血压很方便", "希望每月都来", "飞线拆了，心里踏实了", "", "", "充电桩再多一点就好了"];
    for (i, s) in stars.iter().enumerate() {
        let g = &grids[i % grids.len()];
        let account = accounts::create(
            db,
            NewAccount {
                username: format!("jm{:03}", i + 1),
                display_name: format!("居民{}", i + 1),
                role: Role::Resident,
                scopes: vec![g.id.clone()],
                password: format!("{}{}", new_id(), rng.u64(..)),
            },
        )
        .await?;
        for p in [&health, &power] {
            if p.id == power.id && i % 3 == 2 {
                continue;
            }
            let comment = comments[(i + usize::from(p.id == power.id) * 2) % comments.len()];
            projects::rate(db, &p.id, &account.id, Some(*s - i64::from(p.id == power.id && i % 4 == 1)), comment)
                .await?;
        }
    }
    Ok(4)
}
