//! The demo's notices: a year of Tashan's notice board, about two a month — water
//! and power cuts, the vaccination days, the heating, the festivals, anti-fraud
//! warnings — for the whole community or one grid, each reviewed and published on
//! its day and expired after it; the newest still live, one of them pinned.
//! Written through `store::notices` (its review applies).

use time::{Date, Duration};
use wangge_domain::notices::NoticeStep;
use wangge_store::Db;
use wangge_store::notices::{self, NoticeInput};
use wangge_store::registry::areas;

fn at(day: Date, hour: i64) -> i64 {
    (day.midnight().assume_offset(wangge_domain::demands::CHINA).unix_timestamp() + hour * 3600) * 1000
}

/// Title, text, important.
const PLANS: [(&str, &str, bool); 8] = [
    ("停水通知", "因管网维修，周三上午 9 点至下午 3 点停水，请提前储水。", true),
    ("防范电信诈骗提醒", "近期冒充客服退款的诈骗多发，陌生来电要求转账一律挂断，可拨打 96110 咨询。", true),
    ("老年人免费体检安排", "65 岁以上老人请携带身份证到社区卫生服务站免费体检，每周二、四上午。", false),
    ("楼道杂物清理通知", "为消除消防隐患，请各户本周内清理楼道堆放的杂物，周六统一清运。", true),
    ("邻里节活动预告", "本月最后一个周六在文化广场举办邻里节百家宴，欢迎各家带一道拿手菜。", false),
    ("计划停电通知", "因线路检修，周五晚 22 点至次日 6 点部分楼栋停电，请关好电器。", true),
    ("供暖开栓提示", "供暖即将开始，请检查家中阀门，发现跑冒滴漏及时报修。", false),
    ("垃圾分类督导时间调整", "早间督导时间调整为 7:00–8:30，晚间为 18:00–19:30。", false),
];

/// Writes the year; answers how many notices.
pub(crate) async fn demo(db: &Db, community_code: &str, today: Date) -> anyhow::Result<usize> {
    let community = areas::get_by_code(db, community_code).await?;
    let grids = areas::children(db, &community.id).await?;
    let mut count = 0;
    let mut day = today - Duration::days(360);
    while day <= today {
        let (title, body, important) = PLANS[count % PLANS.len()];
        // Every third notice is one grid's own; the rest the whole community's.
        let area = if count % 3 == 2 { &grids[count % grids.len()] } else { &community };
        let newest = day + Duration::days(15) > today;
        let input = NoticeInput {
            title: title.into(),
            body: body.into(),
            important,
            pinned: newest && count % 2 == 0,
            publish_at: Some(at(day, 9)),
            expires_at: Some(at(day + Duration::days(30), 0)),
            targets: Vec::new(),
        };
        let n = notices::create(db, &area.id, &input, ("demo", "社区工作人员")).await?;
        notices::step(db, &n.id, NoticeStep::Submit, "社区工作人员").await?;
        notices::step(db, &n.id, NoticeStep::Publish, "社区书记").await?;
        count += 1;
        day += Duration::days(15);
    }
    Ok(count)
}
