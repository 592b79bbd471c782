//! A year of the demo community's demands (民情诉求台账): about 200 solved affairs
//! and 800 answered consultations, as the seed study's paper ledger records, plus
//! items still open in every state and a handful overdue.
//!
//! Each item is a timeline of steps replayed through the store's state machine
//! ([`wangge_store::demands::history`]), so that deadlines, the three rates and the
//! timelines come out as if the year had happened in the system. The draws are
//! deterministic from the seed; times are counted back from now.

use fastrand::Rng;
use wangge_domain::{Channel, DemandKind, HandlerKind, OrganisationKind, Role, Step, TeamPost, new_id};
use wangge_store::bulk::{BuildingRow, GridPostRow, HouseholdRow, OrganisationRow, ResidentRow};
use wangge_store::demands::history::{PastDemand, PastStep};
use wangge_store::demands::{Actor, StepInput};
use wangge_store::registry::areas::Area;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const CHINA: i64 = 8 * HOUR;

/// How many of each the demo's year holds.
pub(crate) const SOLVED: usize = 210;
pub(crate) const CONSULTATIONS: usize = 800;
const REJECTED: usize = 16;
const OPEN: usize = 70;
const OVERDUE: usize = 7;

/// The community's rows the history refers to.
pub(crate) struct Setting<'a> {
    pub grids: &'a [Area],
    pub buildings: &'a [BuildingRow],
    pub households: &'a [HouseholdRow],
    pub residents: &'a [ResidentRow],
    pub organisations: &'a [OrganisationRow],
    pub posts: &'a [GridPostRow],
}

/// (category, kind, title, what the handler did)
const AFFAIRS: &[(&str, DemandKind, &str, &str)] = &[
    ("environment", DemandKind::Report, "楼道堆放杂物，影响通行", "已通知住户清理，楼道已清空"),
    ("environment", DemandKind::Complaint, "垃圾桶满溢，清运不及时", "已联系环卫公司加密清运频次"),
    ("environment", DemandKind::Report, "绿化带内有建筑垃圾", "已组织志愿者清理并外运"),
    ("environment", DemandKind::Suggestion, "建议增设分类垃圾投放点", "已在楼前增设一组分类垃圾桶"),
    ("public_facilities", DemandKind::Report, "楼道声控灯不亮", "已更换灯泡和声控开关"),
    ("public_facilities", DemandKind::Report, "单元门门禁损坏", "已维修门禁，恢复正常"),
    ("public_facilities", DemandKind::HelpRequest, "健身器材松动，存在危险", "已加固器材并张贴使用提示"),
    ("public_facilities", DemandKind::Suggestion, "建议楼前增设休息座椅", "已协调安装两张座椅"),
    ("neighbour_dispute", DemandKind::Complaint, "楼上漏水殃及我家", "已上门调解，楼上住户已修好防水"),
    ("neighbour_dispute", DemandKind::Complaint, "邻居深夜噪音扰民", "已上门沟通，双方达成谅解"),
    ("neighbour_dispute", DemandKind::HelpRequest, "公共区域被邻居占用", "已调解，占用物品已搬离"),
    ("property", DemandKind::Complaint, "物业维修响应慢", "已督促物业当日上门维修"),
    ("property", DemandKind::Report, "地下车库积水", "物业已清淤疏通排水"),
    ("property", DemandKind::Complaint, "小区门岗无人值守", "物业已恢复门岗值守"),
    ("safety_hazard", DemandKind::Report, "消防通道被车辆堵塞", "已联系车主挪车并设置禁停标识"),
    ("safety_hazard", DemandKind::Report, "楼道电动车充电，飞线隐患", "已劝导拆除飞线，引导到充电桩充电"),
    ("safety_hazard", DemandKind::Report, "外墙瓷砖松动有坠落风险", "已拉警戒线并安排维修加固"),
    ("elderly_disabled", DemandKind::HelpRequest, "独居老人需要助餐服务", "已对接长者食堂，每日送餐上门"),
    ("elderly_disabled", DemandKind::HelpRequest, "残疾人出行需要坡道", "已在单元口加装无障碍坡道"),
    ("elderly_disabled", DemandKind::HelpRequest, "高龄老人需要上门体检", "已协调社区卫生服务站上门体检"),
    ("epidemic", DemandKind::HelpRequest, "居家老人需要上门接种疫苗", "已安排医护上门接种"),
    ("social_security", DemandKind::HelpRequest, "困难家庭申请临时救助", "已协助提交材料，救助金已发放"),
    ("social_security", DemandKind::HelpRequest, "失业人员需要就业帮扶", "已推荐两个就业岗位，已上岗"),
    ("urban_management", DemandKind::Complaint, "路边占道经营", "街道执法队已劝离并规范经营"),
    ("urban_management", DemandKind::Report, "井盖破损", "已协调产权单位更换井盖"),
    ("other", DemandKind::Suggestion, "建议开展邻里节活动", "已纳入本季度社区活动计划"),
];

/// (consultation, answer)
const QUESTIONS: &[(&str, &str)] = &[
    ("城乡居民医保怎么缴费", "可通过烟台医保公众号或到社区服务大厅缴纳，每年9月至12月集中缴费"),
    ("高龄补贴需要什么条件", "年满80周岁的本市户籍老人可申请，携带身份证、户口本到社区办理"),
    ("居住证如何办理", "在本地居住满半年，携带身份证和居住证明到派出所或社区代办点办理"),
    ("养老保险待遇资格认证怎么做", "可在手机“掌上12333”刷脸认证，行动不便的可预约网格员上门"),
    ("公租房申请条件", "家庭人均收入和住房面积符合标准可申请，社区受理后报街道审核"),
    ("新生儿落户需要什么材料", "出生医学证明、父母户口本和结婚证，到户籍派出所办理"),
    ("残疾证如何办理", "到区残联指定医院评定后，携带材料到社区提交申请"),
    ("低保申请条件和流程", "家庭人均收入低于本市低保标准可申请，社区入户核查后公示"),
    ("退休手续怎么办", "到达退休年龄前一个月，由单位或本人到社保中心办理"),
    ("老旧小区改造包括哪些内容", "包括屋面防水、外墙保温、管网更新等，具体方案将在楼前公示征求意见"),
    ("楼下能否安装电动车充电桩", "可以，社区正统一规划充电设施，请到社区登记需求"),
    ("孩子入学需要哪些证明", "户口本、房产证或租赁备案证明，按教育局划片入学"),
    ("独生子女父母奖励怎么领", "符合条件的退休人员携带独生子女证到社区申报"),
    ("灵活就业人员社保怎么交", "可到社保中心或通过网上服务大厅以灵活就业身份参保"),
    ("志愿服务时长怎么记录", "在“志愿山东”平台注册后，活动组织方会录入服务时长"),
    ("垃圾分类投放时间", "每天早7点至9点、晚6点至8点定时投放，其他时间投放到误时投放点"),
];

const PROGRESS: &[&str] = &[
    "已电话联系居民，约定上门时间",
    "网格员已到现场查看，拍照留存",
    "已联系相关单位，正在协调",
    "材料已备齐，等待施工",
    "已上门与当事人沟通",
];
const REJECT_REASONS: &[&str] = &[
    "不属于社区职责范围，已告知居民拨打12345反映",
    "属于私人物业纠纷，已建议通过法律途径解决",
    "反映内容无法核实，已电话回访说明",
];
const COMMENTS_GOOD: &[&str] = &["很及时，谢谢网格员", "办得好，满意", "态度很好", "问题解决了，感谢社区", ""];
const COMMENTS_BAD: &[&str] = &["拖得太久了", "问题没有彻底解决", "没人回电话"];
const DEPARTMENTS: &[&str] = &["社区民政办", "社区综治办", "社区环境卫生办", "社区党群服务中心"];
const STREET_DEPARTMENTS: &[&str] = &["岐山街道综合执法队", "岐山街道城建办"];

fn actor(name: &str, role: Role) -> Actor {
    Actor { id: None, name: name.to_owned(), role }
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(..items.len())]
}

/// The people who work the items in one grid.
struct Team {
    member: Actor,
    leader: Actor,
    property: Option<String>,
}

/// A timeline in the making: each step a little after the one before, never later
/// than a minute ago.
struct Clock {
    at: i64,
    latest: i64,
}

impl Clock {
    fn after(&mut self, rng: &mut Rng, min: i64, max: i64) -> i64 {
        self.at = (self.at + rng.i64(min..=max)).min(self.latest).max(self.at);
        self.at
    }
}

pub(crate) fn history(rng: &mut Rng, s: &Setting<'_>, now: i64) -> Vec<PastDemand> {
    let secretary = actor("刘春燕", Role::CommunitySecretary);
    let staff = actor("孙丽", Role::CommunityStaff);
    let street = actor("岐山街道 赵志刚", Role::StreetOfficial);
    let teams: Vec<Team> = s
        .grids
        .iter()
        .map(|g| {
            let named = |post: TeamPost| {
                s.posts.iter().find(|p| p.grid_id == g.id && p.post == post).and_then(|p| p.person_name.clone())
            };
            let property = s
                .organisations
                .iter()
                .find(|o| o.grid_id == g.id && o.kind == OrganisationKind::PropertyCompany)
                .map(|o| o.name.clone())
                .or(named(TeamPost::Property).map(|n| format!("物业 {n}")));
            Team {
                member: actor(&named(TeamPost::Member).unwrap_or_else(|| "网格员".into()), Role::GridMember),
                leader: actor(&named(TeamPost::Leader).unwrap_or_else(|| "网格长".into()), Role::GridLeader),
                property,
            }
        })
        .collect();
    let others: Vec<&OrganisationRow> =
        s.organisations.iter().filter(|o| o.kind != OrganisationKind::PropertyCompany).collect();
    let midnight = (now + CHINA) / DAY * DAY - CHINA;
    let mut items = Vec::new();
    let plan = [
        (Kind::Solved, SOLVED),
        (Kind::Consultation, CONSULTATIONS),
        (Kind::Rejected, REJECTED),
        (Kind::Open, OPEN),
        (Kind::Overdue, OVERDUE),
    ];
    for (kind, count) in plan {
        for n in 0..count {
            let days_ago = match kind {
                Kind::Solved | Kind::Consultation | Kind::Rejected => rng.i64(14..=364),
                Kind::Open => rng.i64(0..=1),
                Kind::Overdue => rng.i64(20..=40),
            };
            let created = (midnight - days_ago * DAY + rng.i64(8 * HOUR..20 * HOUR)).min(now - 30 * MINUTE);
            let mut clock = Clock { at: created, latest: now - MINUTE };
            let building = pick(rng, s.buildings);
            let grid = s.grids.iter().position(|g| g.id == building.grid_id).unwrap_or(0);
            let team = &teams[grid];
            // A resident of the building, or someone who gives no name.
            let homes: Vec<&HouseholdRow> = s.households.iter().filter(|h| h.building_id == building.id).collect();
            let reporter = (!homes.is_empty() && rng.u32(0..100) < 78)
                .then(|| {
                    let home = pick(rng, &homes);
                    s.residents.iter().find(|r| r.household_id.as_deref() == Some(home.id.as_str()))
                })
                .flatten();
            let (title, category, demand_kind, done) = if kind == Kind::Consultation {
                let (q, a) = *pick(rng, QUESTIONS);
                (q.to_owned(), "policy", DemandKind::Consultation, a)
            } else {
                let (category, k, title, done) = *pick(rng, AFFAIRS);
                (format!("{}号楼{title}", building.number), category, k, done)
            };
            let channel = *pick(
                rng,
                if kind == Kind::Consultation {
                    &[Channel::Phone, Channel::Phone, Channel::Portal, Channel::Visit, Channel::Portal, Channel::Api]
                } else {
                    &[
                        Channel::Portal,
                        Channel::BuildingQr,
                        Channel::BuildingQr,
                        Channel::GridMember,
                        Channel::GridMember,
                        Channel::Phone,
                        Channel::Phone,
                        Channel::Visit,
                        Channel::Instruction,
                        Channel::Open311,
                        Channel::Api,
                    ]
                },
            );
            let submitted_by = match channel {
                Channel::GridMember | Channel::Visit => team.member.clone(),
                Channel::Instruction => street.clone(),
                Channel::Phone => staff.clone(),
                _ => actor(reporter.map_or("居民", |r| r.name.as_str()), Role::Resident),
            };
            let mut steps = Vec::new();
            let mut step = |step: Step, at: i64, by: &Actor, input: StepInput| {
                steps.push(PastStep { step, at, by: by.clone(), input });
            };
            let note = |text: &str| StepInput { note: text.to_owned(), ..Default::default() };
            // About one in twenty is taken in late.
            let late = rng.u32(0..100) < 5;
            let accept_after = if late { (2 * DAY, 5 * DAY) } else { (10 * MINUTE, 6 * HOUR) };
            // Who rates: reporters on the portal or the tracking page (the poster's
            // reporters get its link; a quarter of the others follow theirs too), else
            // the office records the rating from its call-back (who called and when
            // default to the recording staff member and the time of the rating).
            let by_resident = matches!(channel, Channel::Portal | Channel::BuildingQr) || rng.u32(0..100) < 25;
            let rater = match channel {
                Channel::Portal => submitted_by.clone(),
                _ if by_resident => actor(reporter.map_or("居民", |r| r.name.as_str()), Role::Resident),
                _ => staff.clone(),
            };
            match kind {
                Kind::Consultation => {
                    let at = clock.after(rng, accept_after.0, accept_after.1);
                    step(Step::Answer, at, &staff, note(done));
                    if rng.u32(0..100) < 40 {
                        let score = if rng.u32(0..100) < 88 { rng.u8(4..=5) } else { 3 };
                        let at = clock.after(rng, HOUR, 2 * DAY);
                        let comment = if score >= 4 { pick(rng, COMMENTS_GOOD) } else { pick(rng, COMMENTS_BAD) };
                        step(Step::Rate, at, &rater, StepInput { score: Some(score), ..note(comment) });
                        if score <= 3 {
                            let at = clock.after(rng, HOUR, DAY);
                            step(Step::Escalate, at, &staff, note("居民对答复不满意，请街道政策专员解答"));
                            let at = clock.after(rng, HOUR, 2 * DAY);
                            step(Step::Answer, at, &street, note(&format!("街道专员再次答复：{done}")));
                            let at = clock.after(rng, HOUR, DAY);
                            let (score, comment) =
                                if rng.bool() { (4, "解释清楚了") } else { (3, "还是没有解决实际困难") };
                            step(Step::Rate, at, &rater, StepInput { score: Some(score), ..note(comment) });
                        }
                    }
                }
                Kind::Rejected => {
                    let at = clock.after(rng, 10 * MINUTE, 5 * HOUR);
                    step(Step::Reject, at, &secretary, note(pick::<&str>(rng, REJECT_REASONS)));
                }
                Kind::Solved | Kind::Open | Kind::Overdue => {
                    // How far the item gets: the solved all the way; the open ones
                    // stop in a state of their own (spread over every open state).
                    let stop = match kind {
                        Kind::Solved => 99,
                        Kind::Overdue => [0, 3, 3, 3, 4, 3, 2][n % 7],
                        _ => n % 8,
                    };
                    let escalated = kind == Kind::Solved && n % 25 == 7;
                    let level_street = category == "urban_management";
                    let handler = |rng: &mut Rng| -> (HandlerKind, String) {
                        match (category, rng.u32(0..10)) {
                            ("property" | "public_facilities", 0..=6) if team.property.is_some() => {
                                (HandlerKind::PropertyCompany, team.property.clone().unwrap_or_default())
                            }
                            ("urban_management", _) => {
                                (HandlerKind::StreetDepartment, (*pick(rng, STREET_DEPARTMENTS)).to_owned())
                            }
                            ("elderly_disabled" | "social_security" | "epidemic", 0..=5) => {
                                (HandlerKind::CommunityDepartment, (*pick(rng, DEPARTMENTS)).to_owned())
                            }
                            (_, 0) if !others.is_empty() => {
                                (HandlerKind::Organisation, pick(rng, &others).name.clone())
                            }
                            _ => (HandlerKind::GridMember, team.member.name.clone()),
                        }
                    };
                    if stop == 0 {
                        // Still waiting to be accepted.
                    } else {
                        let at = clock.after(rng, accept_after.0, accept_after.1);
                        let accepter = if level_street { &street } else { &team.member };
                        step(Step::Accept, at, accepter, StepInput::default());
                        let dispatcher = if level_street { &street } else { &secretary };
                        if escalated && !level_street {
                            if matches!(category, "environment" | "neighbour_dispute") {
                                let at = clock.after(rng, HOUR, DAY);
                                let why = "涉及多个产权单位，网格无法协调，上报社区";
                                step(Step::Escalate, at, &team.leader, note(why));
                            }
                            let at = clock.after(rng, HOUR, DAY);
                            step(Step::Escalate, at, &secretary, note("需要街道协调相关部门，上报街道"));
                            let at = clock.after(rng, 2 * HOUR, 2 * DAY);
                            step(Step::HandBack, at, &street, note("街道已协调相关单位，交社区组织落实"));
                        }
                        let mut rounds = 0;
                        loop {
                            rounds += 1;
                            if stop >= 2 {
                                let (hk, name) = handler(rng);
                                let at = clock.after(rng, 20 * MINUTE, 8 * HOUR);
                                let input = StepInput {
                                    handler_kind: Some(hk),
                                    handler_name: Some(name),
                                    ..Default::default()
                                };
                                step(Step::Dispatch, at, dispatcher, input);
                            }
                            if stop >= 3 {
                                let at = clock.after(rng, 30 * MINUTE, 20 * HOUR);
                                step(Step::Start, at, &team.member, StepInput::default());
                                for _ in 0..rng.usize(1..=2) {
                                    let at = clock.after(rng, 2 * HOUR, 30 * HOUR);
                                    step(Step::Progress, at, &team.member, note(pick::<&str>(rng, PROGRESS)));
                                }
                            }
                            if stop >= 4 {
                                let at = clock.after(rng, 2 * HOUR, 2 * DAY);
                                step(Step::ReportDone, at, &team.member, note(done));
                            }
                            if stop >= 5 {
                                let at = clock.after(rng, HOUR, DAY);
                                step(Step::Verify, at, &team.member, note("已到现场核查，情况属实"));
                            }
                            if stop >= 6 {
                                let at = clock.after(rng, 30 * MINUTE, 10 * HOUR);
                                step(Step::Close, at, dispatcher, StepInput::default());
                            }
                            // Open items: "closed" waits for the rating; 7 reopened.
                            let rate = stop >= 7 && (kind == Kind::Open || rng.u32(0..100) < 82);
                            if !rate {
                                break;
                            }
                            // A first rating of 1–3 reopens the item; the second is final.
                            let score = match (kind, rounds) {
                                (Kind::Open, _) => rng.u8(1..=3),
                                (_, 1) if rng.u32(0..100) < 22 => rng.u8(1..=3),
                                (_, 1) => rng.u8(4..=5),
                                // Redone: half are content now.
                                _ if rng.bool() => rng.u8(4..=5),
                                _ => rng.u8(2..=3),
                            };
                            let unhappy = score <= 3 && rounds == 1;
                            let at = clock.after(rng, 2 * HOUR, 3 * DAY);
                            let comment = if score >= 4 { pick(rng, COMMENTS_GOOD) } else { pick(rng, COMMENTS_BAD) };
                            step(Step::Rate, at, &rater, StepInput { score: Some(score), ..note(comment) });
                            if !unhappy || kind == Kind::Open {
                                break;
                            }
                        }
                    }
                }
            }
            items.push(PastDemand {
                id: new_id(),
                path: building.path.clone(),
                area_id: building.grid_id.clone(),
                building_id: Some(building.id.clone()),
                household_id: reporter.and_then(|r| r.household_id.clone()),
                resident_id: reporter.map(|r| r.id.clone()),
                category: category.to_owned(),
                kind: demand_kind,
                channel,
                description: format!("{title}。{}", building.address.clone().unwrap_or_default()),
                title,
                address: building.address.clone(),
                reporter_name: reporter.map(|r| r.name.clone()),
                reporter_phone: reporter.and_then(|r| r.phone.as_ref().map(|p| p.as_str().to_owned())),
                created_at: created,
                submitted_by,
                steps,
            });
        }
    }
    items.sort_by_key(|i| i.created_at);
    items
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Solved,
    Consultation,
    Rejected,
    Open,
    Overdue,
}
