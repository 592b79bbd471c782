//! The demo's Party year (党建引领, 双报到): a general branch on the community with a
//! branch on each grid; the community's own members (retired and resident Party
//! members of the registry, the grid teams' 党员联系户 among them) on their grid's
//! branch; six units registered with the community half-year by half-year, and the
//! working-age Party members living in Tashan who report in from them (在职党员);
//! a year of the needs list, claims and service records, most confirmed by the
//! grid's member, the last week's still waiting; the quarterly feedback reports of
//! the finished quarters sent.
//!
//! Shaped so that the figures say something: some members reach the yearly 50
//! hours, some fall short and a few did nothing; one unit declares more members
//! than have registered (below the 95 % threshold); a few registrations of this
//! half-year wait for staff, one was refused with its reason.

use std::collections::HashMap;

use fastrand::Rng;
use time::{Date, Duration};
use wangge_domain::party::{
    MemberKind, MemberStatus, NeedSource, OrgKind, Period, PointRules, RegistrationState, ServiceState,
};
use wangge_domain::{Gender, OrganisationKind, Phone, PoliticalStatus, ResidentStatus, TeamPost, new_id};
use wangge_store::bulk::{GridPostRow, OrganisationRow, ResidentRow};
use wangge_store::party::past::{
    PastClaim, PastMember, PastNeed, PastOrg, PastParty, PastRegistration, PastService, PastUnit,
};
use wangge_store::registry::areas::Area;

use crate::names::{SURNAMES, full_name};

/// The registration period (half-years) and the feedback period (quarters): the
/// defaults, which the demo keeps.
const REGISTRATION_MONTHS: u8 = 6;
const FEEDBACK_MONTHS: u8 = 3;
/// Members of the community's own roll (retired and resident), at most.
const OWN_MEMBERS: usize = 172;

/// The six units: a registry organisation of the community's kind (its name and
/// contact), or one from outside (name, its Party organisation); what it offers;
/// the skills its members bring.
struct UnitPlan {
    registry_kind: Option<OrganisationKind>,
    name: &'static str,
    party_org: &'static str,
    resources: &'static str,
    skills: &'static [&'static str],
    /// Its members reporting in, each as keen as this (percent of the yearly hours
    /// over the year: 0 did nothing), and how many more it declared.
    keen: &'static [i64],
    undeclared: i64,
}

const UNITS: [UnitPlan; 6] = [
    UnitPlan {
        registry_kind: None,
        name: "芝罘区住房和城乡建设局",
        party_org: "中共芝罘区住房和城乡建设局机关委员会",
        resources: "老旧小区改造政策解读；房屋安全隐患排查；会议室一间可借用",
        skills: &["房屋安全检查", "政策宣讲", "工程监理"],
        keen: &[140, 130, 150, 125, 135, 60, 145, 130, 20, 140, 125, 150],
        undeclared: 0,
    },
    UnitPlan {
        registry_kind: None,
        name: "国网烟台市芝罘区供电公司",
        party_org: "中共国网烟台市芝罘区供电公司委员会",
        resources: "居民用电安全检查；楼道线路义务维修；应急照明设备",
        skills: &["电工", "用电安全检查", "家电维修"],
        keen: &[140, 130, 150, 125, 135, 145, 130, 140, 125, 150],
        undeclared: 0,
    },
    UnitPlan {
        registry_kind: Some(OrganisationKind::Medical),
        name: "",
        party_org: "中共芝罘区岐山街道社区卫生服务中心支部委员会",
        resources: "每月义诊一次；健康讲座；慢病老人上门随访",
        skills: &["义诊", "健康讲座", "护理"],
        keen: &[150, 130, 140, 125, 135, 145, 130, 140],
        // Declares 9, 8 report in: below the threshold.
        undeclared: 1,
    },
    UnitPlan {
        registry_kind: Some(OrganisationKind::GovernmentUnit),
        name: "",
        party_org: "中共烟台市公安局芝罘分局岐山派出所支部委员会",
        resources: "反诈宣传；法治讲座；夜间治安巡逻",
        skills: &["反诈宣传", "法律咨询", "治安巡逻"],
        keen: &[130, 140, 125, 150, 135, 145],
        undeclared: 0,
    },
    UnitPlan {
        registry_kind: None,
        name: "国家税务总局烟台市芝罘区税务局岐山税务所",
        party_org: "中共国家税务总局烟台市芝罘区税务局岐山税务所支部委员会",
        resources: "个税年度汇算辅导；小微企业办税指导",
        skills: &["个税申报辅导", "财务咨询"],
        keen: &[140, 40, 130, 0, 125, 70],
        undeclared: 0,
    },
    UnitPlan {
        registry_kind: Some(OrganisationKind::School),
        name: "",
        party_org: "中共塔山幼儿园支部委员会",
        resources: "周末亲子活动场地；假期儿童托管志愿者",
        skills: &["儿童托管", "亲子活动", "课业辅导"],
        keen: &[135, 125, 140, 150, 60, 130],
        undeclared: 0,
    },
];

/// What a need of the list is, by where it came from.
const PLAN_NEEDS: [&str; 14] = [
    "楼道小广告清理",
    "垃圾分类桶边督导",
    "文明养犬劝导",
    "反诈宣传进楼院",
    "义诊进社区",
    "老年人智能手机教学",
    "独居老人结对探访",
    "防汛物资检查",
    "冬季供暖安全巡查",
    "暑期青少年课业辅导",
    "重阳节敬老助餐",
    "春节走访慰问困难党员",
    "社区环境卫生大扫除",
    "消防安全宣传",
];
const DEMAND_NEEDS: [&str; 4] =
    ["楼道堆物清理（居民反映）", "单元门禁维修协调", "小区路灯报修跟进", "绿化带杂物清理（居民反映）"];
/// The field of a need of the lists above, by its words (the three lists match
/// resources by it).
fn field_of(title: &str) -> wangge_domain::party_joint::ServiceField {
    use wangge_domain::party_joint::ServiceField::*;
    let has = |words: &[&str]| words.iter().any(|w| title.contains(w));
    if has(&["义诊", "就医"]) {
        Health
    } else if has(&["老人", "老年", "敬老", "慰问"]) {
        Elderly
    } else if has(&["反诈", "防汛", "安全", "消防"]) {
        Safety
    } else if has(&["课业", "教学"]) {
        Education
    } else if has(&["维修", "报修"]) {
        Repair
    } else {
        Environment
    }
}

const VISIT_NEEDS: [&str; 3] = ["为独居老人代购生活用品", "帮助行动不便老人办理高龄补贴", "陪同残疾居民就医"];
/// Service not on a need of the list.
const FREE_ACTIVITIES: [&str; 8] = [
    "楼道清洁",
    "平安巡逻",
    "政策宣传",
    "助老陪护",
    "垃圾分类督导",
    "文明交通劝导",
    "社区环境整治",
    "关爱儿童课业辅导",
];

/// What members promise on their public card.
const COMMITMENTS: [&str; 6] = [
    "楼里有事，随时找我",
    "每周帮独居老人代买一次菜",
    "义务修理小家电",
    "带头做好垃圾分类",
    "调解邻里矛盾，有话好好说",
    "手机、电脑不会用，我来教",
];

/// Milliseconds of `day` at `hour`, China time.
fn at(day: Date, hour: i64) -> i64 {
    (day.midnight().assume_offset(wangge_domain::demands::CHINA).unix_timestamp() + hour * 3600) * 1000
}

/// The people the demo's Party year is drawn from.
pub(crate) struct Setting<'a> {
    pub community: &'a Area,
    pub grids: &'a [Area],
    pub residents: &'a [ResidentRow],
    pub organisations: &'a [OrganisationRow],
    pub posts: &'a [GridPostRow],
}

/// A member while the year is drawn: where they serve and how keen they are.
struct Drawn {
    grid: Option<usize>,
    in_service: bool,
    /// Of the yearly 50 hours, in percent, over the days they were on the roll.
    keenness: i64,
    since: Date,
}

/// Draws the Party year of the demo community up to `today` (China).
pub(crate) fn year(rng: &mut Rng, s: &Setting<'_>, today: Date) -> PastParty {
    let start = today - Duration::days(364);
    let settled = at(start - Duration::days(40), 9);
    let grid_of = |path: &str| s.grids.iter().position(|g| path.starts_with(&g.path));
    let person = |rng: &mut Rng, born: std::ops::RangeInclusive<i32>| {
        let gender = if rng.bool() { Gender::Male } else { Gender::Female };
        let (surname, year) = (SURNAMES.pick(rng), rng.i32(born));
        full_name(rng, surname, year, gender)
    };
    let office = format!("{}党群服务中心", s.community.name);
    let secretary = person(rng, 1972..=1985);
    let staff = person(rng, 1988..=1998);
    let committee = format!(
        "书记 {secretary}；副书记 {}；组织委员 {}；宣传委员 {}；纪检委员 {}",
        person(rng, 1975..=1990),
        person(rng, 1980..=1995),
        person(rng, 1980..=1995),
        person(rng, 1970..=1990)
    );
    let general = PastOrg {
        id: new_id(),
        parent_id: None,
        area_id: s.community.id.clone(),
        path: s.community.path.clone(),
        kind: OrgKind::GeneralBranch,
        name: format!("中共{}总支部委员会", s.community.name),
        secretary_name: Some(secretary.clone()),
        committee,
        created_at: settled,
        term_start: Some(crate::party_life::term_start(true, today)),
        term_years: wangge_domain::party_life::DEFAULT_TERM_YEARS,
    };

    // The community's own members: the grid teams' Party members first, then the
    // registry's Party members of 60 and over (retired), then younger ones who are
    // not in work (resident members); the working-age rest report in from units.
    let posted: HashMap<&str, &GridPostRow> = s
        .posts
        .iter()
        .filter(|p| p.post == TeamPost::PartyMember)
        .filter_map(|p| p.resident_id.as_deref().map(|r| (r, p)))
        .collect();
    let mut party: Vec<&ResidentRow> = s
        .residents
        .iter()
        .filter(|r| r.political_status == PoliticalStatus::PartyMember && r.status == ResidentStatus::Active)
        .filter(|r| r.id_card.is_some() && grid_of(&r.path).is_some())
        .collect();
    rng.shuffle(&mut party);
    party.sort_by_key(|r| !posted.contains_key(r.id.as_str()));
    let age = |r: &ResidentRow| today.year() - r.birth_date[..4].parse::<i32>().unwrap_or(today.year());
    let working: usize = UNITS.iter().map(|u| u.keen.len()).sum();
    let (mut own, mut in_service) = (Vec::new(), Vec::new());
    for r in party {
        let a = age(r);
        if (23..=55).contains(&a) && in_service.len() < working && !posted.contains_key(r.id.as_str()) {
            in_service.push(r);
        } else if own.len() < OWN_MEMBERS && a >= 18 {
            own.push(r);
        }
    }

    // A branch on every grid, its secretary and committee from its own members.
    let mut branches = Vec::new();
    for (i, grid) in s.grids.iter().enumerate() {
        let mine: Vec<&&ResidentRow> =
            own.iter().filter(|r| grid_of(&r.path) == Some(i) && !posted.contains_key(r.id.as_str())).collect();
        let names: Vec<String> = mine.iter().take(3).map(|r| r.name.clone()).collect();
        let committee = match names.as_slice() {
            [a, b, c, ..] => format!("书记 {a}；组织委员 {b}；宣传委员 {c}"),
            [a, ..] => format!("书记 {a}"),
            [] => String::new(),
        };
        branches.push(PastOrg {
            id: new_id(),
            parent_id: Some(general.id.clone()),
            area_id: grid.id.clone(),
            path: grid.path.clone(),
            kind: OrgKind::Branch,
            name: format!("中共{}党支部", grid.name),
            secretary_name: names.first().cloned(),
            committee,
            created_at: settled,
            term_start: Some(crate::party_life::term_start(false, today)),
            term_years: wangge_domain::party_life::DEFAULT_TERM_YEARS,
        });
    }

    let mut members = Vec::new();
    let mut drawn = Vec::new();
    let mut by_grid_rank: HashMap<usize, usize> = HashMap::new();
    for r in &own {
        let g = grid_of(&r.path).expect("members were chosen with a grid");
        let rank = by_grid_rank.entry(g).or_default();
        // The same order as the branch's committee above.
        let post = if posted.contains_key(r.id.as_str()) {
            "党员联系户".to_owned()
        } else {
            *rank += 1;
            match *rank {
                1 => "支部书记".to_owned(),
                2 => "组织委员".to_owned(),
                3 => "宣传委员".to_owned(),
                _ => String::new(),
            }
        };
        let a = age(r);
        let kind = if a >= 60 { MemberKind::Retired } else { MemberKind::Resident };
        // Most retired members serve now and then; the branch's committee more.
        let keenness = match (post.is_empty(), rng.u8(0..10)) {
            (false, _) => rng.i64(40..=90),
            (true, 0..=3) => 0,
            (true, 4..=7) => rng.i64(5..=30),
            _ => rng.i64(30..=70),
        };
        members.push(member(rng, r, Some(&branches[g].id), None, kind, post, String::new(), &s.grids[g], settled));
        drawn.push(Drawn { grid: Some(g), in_service: false, keenness, since: start });
    }
    // One retired member's relationship moved out with their children in the spring.
    if let Some(i) = members.iter().position(|m| m.kind == MemberKind::Retired && m.post.is_empty()) {
        members[i].status = MemberStatus::Transferred;
        members[i].status_at = Some(at(start + Duration::days(150), 10));
    }

    // The units, and the members reporting in from each.
    let mut units = Vec::new();
    let mut unit_of = Vec::new();
    let mut queue = in_service.into_iter();
    for plan in &UNITS {
        let registry = plan.registry_kind.and_then(|k| s.organisations.iter().find(|o| o.kind == k));
        let name = registry.map_or(plan.name.to_owned(), |o| o.name.clone());
        let contact = registry.and_then(|o| o.contact_name.clone()).unwrap_or_else(|| person(rng, 1975..=1992));
        let phone =
            registry.and_then(|o| o.phone.clone()).unwrap_or_else(|| format!("0535-66{:05}", rng.u32(0..100_000)));
        let taken: Vec<&ResidentRow> = queue.by_ref().take(plan.keen.len()).collect();
        let unit = PastUnit {
            id: new_id(),
            organisation_id: registry.map(|o| o.id.clone()),
            name,
            party_org_name: plan.party_org.to_owned(),
            contact_name: contact,
            phone: Phone::parse(&phone).ok(),
            resources: plan.resources.to_owned(),
            declared_members: taken.len() as i64 + plan.undeclared,
            created_at: settled,
        };
        for (n, r) in taken.into_iter().enumerate() {
            let g = grid_of(&r.path).expect("members were chosen with a grid");
            let skills = plan.skills[rng.usize(0..plan.skills.len())].to_owned();
            // The last of a large unit joined in the spring.
            let since = if n == 11 { start + Duration::days(150) } else { start };
            let added = if since == start { settled } else { at(since, 10) };
            let m =
                member(rng, r, None, Some(&unit.id), MemberKind::InService, String::new(), skills, &s.grids[g], added);
            let keenness = plan.keen[n];
            members.push(m);
            drawn.push(Drawn { grid: Some(g), in_service: true, keenness, since });
            unit_of.push((members.len() - 1, units.len()));
        }
        units.push(unit);
    }

    // The newest four came in the last days: three wait for staff, one was refused.
    let arrivals: Vec<usize> = (0..4).map(|n| unit_of[(n * 7 + 3) % unit_of.len()].0).collect();
    for (n, &i) in arrivals.iter().enumerate() {
        drawn[i].since = today - Duration::days(n as i64 + 1);
        drawn[i].keenness = 0;
        members[i].added_at = at(drawn[i].since, 19);
    }

    // Registrations, half-year by half-year since joining: units at each period's
    // start, members within its first weeks, confirmed by the staff in days. This
    // half-year: the newest three still wait, one was refused.
    let current = Period::containing(today, REGISTRATION_MONTHS);
    let mut registrations = Vec::new();
    let mut period = Period::containing(start, REGISTRATION_MONTHS);
    while period <= current {
        let opened = period.start().max(start);
        for u in &units {
            let requested = at(opened + Duration::days(rng.i64(1..=6)).min(today - opened), 9);
            registrations.push(PastRegistration {
                member_id: None,
                unit_id: Some(u.id.clone()),
                path: s.community.path.clone(),
                period: period.label(),
                state: RegistrationState::Confirmed,
                source: "form",
                reason: None,
                requested_at: requested,
                decided_at: Some(requested + 86_400_000),
                decided_by_name: Some(staff.clone()),
            });
        }
        for &(i, _) in &unit_of {
            let (m, d) = (&members[i], &drawn[i]);
            if d.since >= period.end() {
                continue;
            }
            let day = d.since.max(opened) + Duration::days(rng.i64(0..=20));
            let day = day.min(today);
            let requested = at(day, rng.i64(8..=20));
            registrations.push(PastRegistration {
                member_id: Some(m.id.clone()),
                unit_id: None,
                path: m.path.clone(),
                period: period.label(),
                state: RegistrationState::Confirmed,
                source: if rng.u8(0..4) == 0 { "staff" } else { "form" },
                reason: None,
                requested_at: requested,
                decided_at: Some(requested + rng.i64(1..=3) * 86_400_000),
                decided_by_name: Some(staff.clone()),
            });
        }
        period = Period::containing(period.end(), REGISTRATION_MONTHS);
    }
    for (n, &i) in arrivals.iter().enumerate() {
        let id = members[i].id.as_str();
        let Some(r) = registrations.iter_mut().find(|r| r.member_id.as_deref() == Some(id)) else { continue };
        r.requested_at = members[i].added_at;
        if n < 3 {
            (r.state, r.source, r.decided_at, r.decided_by_name) = (RegistrationState::Pending, "form", None, None);
        } else {
            r.state = RegistrationState::Refused;
            r.reason = Some("身份证号与单位报送的党员名单不符，请核对后重新报到".into());
            r.decided_at = Some(r.requested_at + 86_400_000);
        }
    }

    // The needs list: a year of it, about two a month per grid and three for the
    // whole community, each published three weeks ahead; and the month ahead.
    let mut needs = Vec::new();
    let mut need_grid = Vec::new();
    let mut day = start;
    while day <= today + Duration::days(30) {
        let whole = rng.u8(0..10) < 3;
        let grid = (!whole).then(|| rng.usize(0..s.grids.len()));
        let (source, title) = match rng.u8(0..10) {
            0..=5 => (NeedSource::Plan, PLAN_NEEDS[rng.usize(0..PLAN_NEEDS.len())]),
            6..=7 => (NeedSource::Demand, DEMAND_NEEDS[rng.usize(0..DEMAND_NEEDS.len())]),
            _ => (NeedSource::Visit, VISIT_NEEDS[rng.usize(0..VISIT_NEEDS.len())]),
        };
        let area = grid.map_or(s.community, |g| &s.grids[g]);
        needs.push(PastNeed {
            id: new_id(),
            grid_id: grid.map(|g| s.grids[g].id.clone()),
            path: area.path.clone(),
            title: title.to_owned(),
            detail: format!("{}，请认领的党员按时到场，服务后如实填写时长。", area.name),
            source_kind: source,
            field: Some(field_of(title)),
            needed_on: wangge_domain::format_date(day),
            slots: if source == NeedSource::Visit { rng.i64(1..=2) } else { rng.i64(2..=6) },
            created_by_name: if whole { secretary.clone() } else { staff.clone() },
            created_at: at((day - Duration::days(21)).min(today - Duration::days(1)), 10),
        });
        need_grid.push((grid, day));
        day += Duration::days(rng.i64(1..=2));
    }

    // Who claims what: members of the need's grid (any for the community's), the
    // keen first. Claimed needs of the past were served on their day.
    let grid_member: HashMap<usize, String> = s
        .grids
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let p = s.posts.iter().find(|p| p.grid_id == g.id && p.post == TeamPost::Member)?;
            Some((i, p.person_name.clone()?))
        })
        .collect();
    let confirmer =
        |g: Option<usize>| g.and_then(|g| grid_member.get(&g).cloned()).unwrap_or_else(|| secretary.clone());
    let mut claims = Vec::new();
    let mut service = Vec::new();
    let mut served = vec![0_i64; members.len()];
    let active =
        |d: &Drawn, m: &PastMember, on: Date| m.status == MemberStatus::Active && d.keenness > 0 && d.since <= on;
    for (n, need) in needs.iter().enumerate() {
        let (grid, on) = need_grid[n];
        let mut candidates: Vec<usize> = (0..members.len())
            .filter(|&i| active(&drawn[i], &members[i], on - Duration::days(21)))
            .filter(|&i| grid.is_none() || drawn[i].grid == grid)
            .collect();
        rng.shuffle(&mut candidates);
        candidates.sort_by_key(|&i| std::cmp::Reverse(drawn[i].keenness / 25));
        let future = on >= today;
        let wanted = if future { rng.i64(0..=need.slots) } else { rng.i64(1..=need.slots) };
        for &i in candidates.iter().take(wanted as usize) {
            claims.push(PastClaim {
                need_id: need.id.clone(),
                member_id: members[i].id.clone(),
                path: members[i].path.clone(),
                created_at: need.created_at + rng.i64(1..=10) * 86_400_000,
            });
            if !future {
                let by = confirmer(drawn[i].grid);
                let minutes = rng.i64(2..=6) * 30;
                let record = serve(rng, &members[i], Some(&need.id), &need.title, on, minutes, today, by);
                served[i] += record.counted();
                service.push(record);
            }
        }
    }
    // Then their own service, until each reaches their share of the year.
    for i in 0..members.len() {
        let d = &drawn[i];
        if members[i].status != MemberStatus::Active || d.keenness == 0 {
            continue;
        }
        let days = (today - d.since).whole_days().max(1);
        let target = 3000 * d.keenness / 100 * days / 365;
        let mut guard = 0;
        while served[i] < target && guard < 60 {
            guard += 1;
            let on = d.since + Duration::days(rng.i64(0..days));
            let minutes = if d.in_service { rng.i64(3..=8) * 30 } else { rng.i64(2..=5) * 30 };
            let activity = FREE_ACTIVITIES[rng.usize(0..FREE_ACTIVITIES.len())];
            let record = serve(rng, &members[i], None, activity, on, minutes, today, confirmer(d.grid));
            served[i] += record.counted();
            service.push(record);
        }
    }
    service.sort_by_key(|s| s.served_at);

    // The feedback of every finished quarter since the units came was sent on the
    // day after.
    let mut feedback_runs = Vec::new();
    let mut quarter = Period::containing(start, FEEDBACK_MONTHS);
    while quarter.end() <= today {
        for u in &units {
            feedback_runs.push((u.id.clone(), quarter.label(), at(quarter.end(), 9)));
        }
        quarter = Period::containing(quarter.end(), FEEDBACK_MONTHS);
    }

    let mut orgs = vec![general];
    orgs.extend(branches);
    // Organisational life on a generator of its own: the year above stays as drawn.
    let (meetings, life_alerts) = crate::party_life::year(&mut Rng::with_seed(0x6c69_6665), &orgs, &members, today);
    // 亮身份: the branches' committees, the 党员联系户 and every fourth in-service
    // member consented on paper in the spring — on every grid but the last, whose
    // branch has not collected its forms yet.
    let last_grid = s.grids.last().map(|g| g.id.clone());
    let cards = members
        .iter()
        .enumerate()
        .filter(|(_, m)| m.status == MemberStatus::Active && m.grid_id != last_grid)
        .filter(|(i, m)| !m.post.is_empty() || (m.kind == MemberKind::InService && i % 4 == 0))
        .map(|(i, m)| {
            let commitment = COMMITMENTS[i % COMMITMENTS.len()].to_owned();
            (m.id.clone(), commitment, at(start + Duration::days(100 + (i % 30) as i64), 10))
        })
        .collect();
    PastParty {
        cards,
        community_id: s.community.id.clone(),
        community_path: s.community.path.clone(),
        office,
        orgs,
        units,
        members,
        registrations,
        needs,
        claims,
        service,
        feedback_runs,
        meetings,
        life_alerts,
    }
}

/// A member's service on `on`: the last week's still waiting for the grid's member,
/// one in sixty of the rest not accepted, the others confirmed and rated.
#[allow(clippy::too_many_arguments)]
fn serve(
    rng: &mut Rng,
    m: &PastMember,
    need: Option<&str>,
    activity: &str,
    on: Date,
    minutes: i64,
    today: Date,
    by: String,
) -> PastService {
    let served_at = at(on, if rng.bool() { 9 } else { 14 });
    let state = match ((today - on).whole_days() < 6, rng.u8(0..60)) {
        (true, _) => ServiceState::Recorded,
        (false, 0) => ServiceState::Rejected,
        _ => ServiceState::Confirmed,
    };
    let confirmed = state == ServiceState::Confirmed;
    PastService {
        member_id: m.id.clone(),
        need_id: need.map(str::to_owned),
        path: m.path.clone(),
        activity: activity.to_owned(),
        served_at,
        minutes,
        state,
        rating: confirmed.then(|| match rng.u8(0..10) {
            0 => 3,
            1..=3 => 4,
            _ => 5,
        }),
        points: if confirmed { PointRules::default().points(minutes, need.is_some()) } else { 0 },
        reason: (state == ServiceState::Rejected).then(|| "时长与签到记录不符，请核对后重新填写".to_owned()),
        recorded_by_name: m.name.clone(),
        confirmed_by_name: (state != ServiceState::Recorded).then_some(by),
        decided_at: (state != ServiceState::Recorded).then(|| served_at + 86_400_000),
    }
}

/// Minutes a record counts towards its member's share: confirmed ones only.
trait Counted {
    fn counted(&self) -> i64;
}

impl Counted for PastService {
    fn counted(&self) -> i64 {
        if self.state == ServiceState::Confirmed { self.minutes } else { 0 }
    }
}

#[allow(clippy::too_many_arguments)]
fn member(
    rng: &mut Rng,
    r: &ResidentRow,
    org_id: Option<&String>,
    unit_id: Option<&String>,
    kind: MemberKind,
    post: String,
    skills: String,
    grid: &Area,
    added_at: i64,
) -> PastMember {
    let born: i32 = r.birth_date[..4].parse().unwrap_or(1960);
    let joined = Date::from_calendar_date(born + rng.i32(20..=35), time::Month::July, rng.u8(1..=28))
        .ok()
        .filter(|d| *d < wangge_domain::party::china_day(added_at));
    PastMember {
        id: new_id(),
        org_id: org_id.cloned(),
        unit_id: unit_id.cloned(),
        resident_id: Some(r.id.clone()),
        grid_id: Some(grid.id.clone()),
        path: grid.path.clone(),
        kind,
        name: r.name.clone(),
        post,
        skills,
        joined_on: joined.map(wangge_domain::format_date),
        status: MemberStatus::Active,
        id_card: r.id_card.clone().expect("members were chosen with an ID number"),
        phone: r.phone.clone(),
        added_at,
        status_at: None,
    }
}
