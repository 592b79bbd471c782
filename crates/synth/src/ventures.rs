//! The demo's micro venture capital (微创投): last year's call of Tashan, 72,000
//! yuan, eight applications scored by three judges, the six projects the seed
//! names or implies funded (civilised dog-raising, garbage sorting, the grid's
//! meeting room, the Party's centenary in the stairwells, a neighbourhood help
//! point, a smartphone class for the elderly) and two not, each funded project
//! granted, spent (one over its grant by a recorded decision), evaluated at
//! mid-term and at the end, and rated by residents on the portal.
//!
//! Written through `store::ventures` (its rules apply) at the days of the year
//! behind `today`.

use time::{Date, Duration};
use wangge_domain::Vocabulary;
use wangge_domain::ventures::{Criterion, Stage};
use wangge_store::Db;
use wangge_store::registry::areas;
use wangge_store::ventures::{self, NewApplication, NewCall, NewSpending};

fn at(day: Date, hour: i64) -> i64 {
    (day.midnight().assume_offset(wangge_domain::demands::CHINA).unix_timestamp() + hour * 3600) * 1000
}

/// Title, applicant, contact, need, plan, yuan asked, the three judges' mark for
/// every criterion, and the result written at the end.
type Plan = (&'static str, &'static str, &'static str, &'static str, &'static str, i64, [i64; 3], &'static str);

const PLANS: [Plan; 8] = [
    (
        "文明养犬 和谐邻里",
        "塔山社区养犬人自律会",
        "刘女士 139****2201",
        "小区犬只增多，不拴绳、随地便溺引发邻里纠纷，居民反映集中。",
        "签订文明养犬公约，设置宠物便溺收集点 6 处，组织养犬人巡查队每周两次巡查，开展犬只免疫登记。",
        12_000,
        [9, 9, 9],
        "签订文明养犬公约 126 户，设便溺收集点 6 处，犬只免疫登记 148 只，养犬纠纷由每月 9 起降到 2 起。",
    ),
    (
        "垃圾分类 绿色家园",
        "塔山环保志愿队",
        "孙先生 138****5512",
        "垃圾分类知晓率低，混投现象普遍。",
        "招募楼栋督导员 40 名，早晚定时定点督导，开展积分兑换，每季度评选“绿色家庭”。",
        15_000,
        [9, 9, 8],
        "督导员 42 名坚持早晚值守，分类准确率由 38% 提高到 81%，评选绿色家庭 60 户。",
    ),
    (
        "网格议事厅建设",
        "第三网格居民议事会",
        "赵大爷 137****0918",
        "网格内公共事务缺少商量的地方，小事拖成大事。",
        "在单元架空层建设网格议事厅，每月 5 日固定议事，议定事项公示、跟踪、反馈。",
        10_000,
        [8, 8, 8],
        "议事厅每月议事一次，议定停车、楼道堆物等事项 23 件，办结 21 件。",
    ),
    (
        "红色记忆·百年党史进楼院",
        "塔山社区老党员宣讲团",
        "王老师 135****6630",
        "建党一百周年，居民特别是青少年希望了解身边的党史故事。",
        "老党员走进 8 个网格楼院开展党史宣讲 16 场，制作楼道红色文化墙。",
        8_000,
        [8, 8, 7],
        "宣讲 18 场、听众 1100 余人次，建成楼道红色文化墙 8 处。",
    ),
    (
        "邻里守望互助站",
        "塔山社区志愿者协会",
        "陈女士 136****3347",
        "独居、空巢老人多，日常小事无人搭把手。",
        "设立互助站，建立志愿者与独居老人结对，提供代购、陪诊、小修小补，建立时间银行。",
        15_000,
        [8, 7, 8],
        "结对独居老人 46 户，服务 1320 人次，时间银行登记志愿服务 2600 小时。",
    ),
    (
        "银龄智能手机课堂",
        "芝罘区启航社会工作服务中心",
        "周社工 0535-66****12",
        "老年人不会用手机挂号、缴费、防诈骗，子女不在身边。",
        "每周一次手机课堂，分初级、进阶两个班，编写大字版操作手册，开展防诈骗情景演练。",
        12_000,
        [7, 8, 8],
        "开课 40 次，结业老人 186 名，编写大字版手册 1 本，学员无一人被骗。",
    ),
    (
        "社区篮球场照明改造",
        "塔山青年篮球队",
        "吴先生 150****7781",
        "篮球场夜间无照明，下班后无法使用。",
        "安装 LED 照明 8 盏，制定使用公约。",
        20_000,
        [7, 6, 6],
        "",
    ),
    (
        "楼顶空中花园",
        "第五网格园艺爱好者",
        "郑女士 152****4406",
        "楼顶闲置，希望种花种菜。",
        "在 2 栋楼顶建设种植箱 30 个。",
        9_000,
        [5, 6, 5],
        "",
    ),
];

const JUDGES: [&str; 3] = ["街道社会组织服务中心 张老师", "烟台大学社会工作系 李老师", "居民代表 王大姐"];

/// Writes the call; answers how many projects were funded.
pub(crate) async fn demo(db: &Db, community_code: &str, today: Date) -> anyhow::Result<usize> {
    let community = areas::get_by_code(db, community_code).await?;
    let opened = today - Duration::days(330);
    let call = ventures::create_call(
        db,
        NewCall {
            community_id: community.id.clone(),
            title: "塔山社区公益微创投".into(),
            intro: "支持居民自组织和社会组织解决身边的小事、难事，每个项目 5000 元至 2 万元。".into(),
            budget_fen: 7_200_000,
            closes_on: (opened + Duration::days(30)).to_string(),
            weights: None,
        },
        "塔山社区居委会",
        at(opened, 9),
    )
    .await?;
    let mut ids = Vec::new();
    for (i, p) in PLANS.iter().enumerate() {
        let new = NewApplication {
            unit_id: None,
            applicant: p.1.into(),
            contact: p.2.into(),
            title: p.0.into(),
            need: p.3.into(),
            plan: p.4.into(),
            requested_fen: p.5 * 100,
        };
        ids.push(ventures::apply(db, &call.id, new, at(opened + Duration::days(5 + i as i64 * 2), 10)).await?.id);
    }
    let review = opened + Duration::days(35);
    ventures::advance(db, &call.id, at(review, 9)).await?;
    for (id, p) in ids.iter().zip(PLANS.iter()) {
        for (judge, mark) in JUDGES.iter().zip(p.6) {
            let marks: Vec<(Criterion, i64)> = Criterion::all().iter().map(|c| (*c, mark)).collect();
            ventures::score(db, id, judge, &marks, at(review, 14)).await?;
        }
    }
    let published = review + Duration::days(7);
    ventures::advance(db, &call.id, at(published, 9)).await?;
    let mut funded = 0;
    for (n, (id, p)) in ids.iter().zip(PLANS.iter()).enumerate() {
        let x = ventures::application(db, id).await?;
        if x.amount_fen == 0 {
            continue;
        }
        funded += 1;
        let granted = published + Duration::days(10);
        ventures::grant(db, id, at(granted, 10)).await?;
        let lines = [(40, "物料和宣传品", 20), (35, "活动组织和场地布置", 80), (20, "志愿者保险和交通", 150)];
        for (share, what, after) in lines {
            let new = NewSpending {
                spent_on: (granted + Duration::days(after)).to_string(),
                amount_fen: x.amount_fen * share / 100,
                what: what.into(),
                decision: None,
            };
            ventures::spend(db, id, new, "社区财务 林会计", at(granted + Duration::days(after), 16)).await?;
        }
        if n == 0 {
            // The dog-raising project's signs cost more: decided, and recorded.
            let new = NewSpending {
                spent_on: (granted + Duration::days(160)).to_string(),
                amount_fen: x.amount_fen * 5 / 100 + 30_000,
                what: "文明养犬宣传牌追加制作".into(),
                decision: Some("社区两委会议决定从社区公益金追加 300 元（会议纪要第 17 号）".into()),
            };
            ventures::spend(db, id, new, "社区财务 林会计", at(granted + Duration::days(160), 16)).await?;
        }
        let mid = granted + Duration::days(100);
        ventures::evaluate(
            db,
            id,
            Stage::Midterm,
            80 + (n as i64 % 3) * 4,
            "按计划推进，台账齐全。",
            "街道评估组",
            at(mid, 15),
        )
        .await?;
        let end = granted + Duration::days(200);
        ventures::evaluate(db, id, Stage::Final, 86 + (n as i64 % 4) * 2, p.7, "街道评估组", at(end, 15)).await?;
    }
    ventures::advance(db, &call.id, at(today - Duration::days(20), 9)).await?;

    // Residents rate the finished projects on the portal: the demo's resident accounts.
    let accounts: Vec<String> =
        sqlx::query_scalar("SELECT id FROM accounts WHERE username LIKE 'jm%' ORDER BY username LIMIT 18")
            .fetch_all(&db.pool)
            .await?;
    let stars = [5, 4, 5, 5, 3, 4, 5, 4, 5, 5, 4, 2, 5, 4, 5];
    let comments = ["狗绳拴上了，楼下干净多了", "督导员天天在，辛苦了", "", "希望多办几期", "", "老人学会了视频通话"];
    for (n, id) in ids.iter().enumerate() {
        let x = ventures::application(db, id).await?;
        if x.state != wangge_domain::ventures::ApplicationState::Finished {
            continue;
        }
        for (i, account) in accounts.iter().enumerate().filter(|(i, _)| (i + n) % 3 != 0) {
            let score = stars[(i + n) % stars.len()];
            let comment = comments[(i * 7 + n) % comments.len()];
            ventures::rate(db, id, account, Some(score), comment, at(today - Duration::days(15), 20)).await?;
        }
    }
    Ok(funded)
}
