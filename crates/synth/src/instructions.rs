//! The demo's instructions: four months of what 岐山街道 sent to 塔山社区 — a
//! monthly figures report, a fire-safety check, a flood-season instruction and a
//! notice without figures — each read, reported and mostly accepted (one returned
//! once and reported again, one reported late), the two with figures tables passed
//! down to the community's grids, whose accepted reports add up to the community's;
//! the newest still waiting: one read and not reported, one not read yet.

use fastrand::Rng;
use time::{Date, Duration};
use wangge_domain::instructions::{Figures, ReceiptState, Table};
use wangge_store::Db;
use wangge_store::instructions::{self, PastInstruction, PastReceipt};
use wangge_store::registry::areas::{self, Area};

/// Milliseconds of `day` at `hour`, China time.
fn at(day: Date, hour: i64) -> i64 {
    (day.midnight().assume_offset(wangge_domain::demands::CHINA).unix_timestamp() + hour * 3600) * 1000
}

struct Plan {
    title: &'static str,
    body: &'static str,
    /// Days before today it was sent, and days given to report.
    sent_ago: i64,
    days: i64,
    rows: &'static [&'static str],
    columns: &'static [&'static str],
    /// Passed down to the grids (their figures add up to the community's).
    passed: bool,
    /// How the community's receipt ended.
    end: End,
}

#[derive(Clone, Copy, PartialEq)]
enum End {
    Accepted,
    /// Returned once (with this reason), reported again, accepted.
    ReturnedOnce(&'static str),
    /// Reported two days after the due day, then accepted.
    Late,
    Read,
    Unread,
}

const PLANS: &[Plan] = &[
    Plan {
        title: "{m}月重点人群走访情况月报",
        body: "请于月底前上报本月独居老人、残疾人、低保户的应走访和已走访人数。",
        sent_ago: 118,
        days: 7,
        rows: &["独居老人", "残疾人", "低保户"],
        columns: &["应走访", "已走访"],
        passed: true,
        end: End::Accepted,
    },
    Plan {
        title: "高层住宅消防通道排查",
        body: "对辖区高层住宅楼道、消防通道堆物情况进行一次排查，上报发现和已清理数量，附现场照片。",
        sent_ago: 96,
        days: 10,
        rows: &["楼道堆物", "占用消防通道", "电动车楼内充电"],
        columns: &["发现", "已清理"],
        passed: false,
        end: End::ReturnedOnce("“电动车楼内充电”已清理数大于发现数，请核实后重报。"),
    },
    Plan {
        title: "{m}月重点人群走访情况月报",
        body: "请于月底前上报本月独居老人、残疾人、低保户的应走访和已走访人数。",
        sent_ago: 88,
        days: 7,
        rows: &["独居老人", "残疾人", "低保户"],
        columns: &["应走访", "已走访"],
        passed: true,
        end: End::Late,
    },
    Plan {
        title: "关于做好节假日期间安全稳定工作的通知",
        body: "节假日期间请落实值班值守，发现矛盾纠纷及时化解并报告。",
        sent_ago: 70,
        days: 5,
        rows: &[],
        columns: &[],
        passed: false,
        end: End::Accepted,
    },
    Plan {
        title: "{m}月重点人群走访情况月报",
        body: "请于月底前上报本月独居老人、残疾人、低保户的应走访和已走访人数。",
        sent_ago: 57,
        days: 7,
        rows: &["独居老人", "残疾人", "低保户"],
        columns: &["应走访", "已走访"],
        passed: true,
        end: End::Accepted,
    },
    Plan {
        title: "{m}月重点人群走访情况月报",
        body: "请于月底前上报本月独居老人、残疾人、低保户的应走访和已走访人数。",
        sent_ago: 27,
        days: 7,
        rows: &["独居老人", "残疾人", "低保户"],
        columns: &["应走访", "已走访"],
        passed: true,
        end: End::Accepted,
    },
    Plan {
        title: "冬季燃气安全隐患统计",
        body: "结合冬季燃气安全排查，统计发现的隐患户数和已整改户数。",
        sent_ago: 4,
        days: 10,
        rows: &["软管老化", "未装报警器"],
        columns: &["隐患户", "已整改"],
        passed: false,
        end: End::Read,
    },
    Plan {
        title: "关于开展冬季困难群众走访慰问的通知",
        body: "请摸清困难群众底数，于下周五前上报拟慰问名单人数。",
        sent_ago: 1,
        days: 8,
        rows: &["低保户", "特困人员"],
        columns: &["拟慰问"],
        passed: false,
        end: End::Unread,
    },
];

/// Figures a grid might report: "to visit" a few dozen, "visited" most of them.
fn figures(rng: &mut Rng, table: &Table) -> Figures {
    table
        .rows
        .iter()
        .map(|_| {
            let first = rng.i64(3..=30);
            let mut row = vec![first];
            for _ in 1..table.columns.len() {
                row.push(first - rng.i64(0..=first.min(3)));
            }
            row
        })
        .collect()
}

/// Writes the demo's instructions; answers how many.
pub(crate) async fn demo(db: &Db, rng: &mut Rng, community_code: &str, today: Date) -> anyhow::Result<usize> {
    let community = areas::get_by_code(db, community_code).await?;
    let street = areas::get(db, community.parent_id.as_deref().unwrap_or_default()).await?;
    let grids: Vec<Area> = areas::children(db, &community.id).await?;
    let mut past = Vec::new();
    for plan in PLANS {
        let sent = today - Duration::days(plan.sent_ago);
        let due = sent + Duration::days(plan.days);
        let table = (!plan.rows.is_empty()).then(|| Table {
            rows: plan.rows.iter().map(|r| (*r).to_owned()).collect(),
            columns: plan.columns.iter().map(|c| (*c).to_owned()).collect(),
        });
        let read_at = at(sent, 9) + rng.i64(0..3) * 3_600_000;
        let reported_on = match plan.end {
            End::Late => due + Duration::days(2),
            _ => (sent + Duration::days(rng.i64(2..plan.days))).min(today),
        };
        let mut receipts = vec![PastReceipt {
            area_id: community.id.clone(),
            parent: None,
            state: ReceiptState::Sent,
            read_at: None,
            reported_at: None,
            report_text: None,
            figures: None,
            returns: 0,
            returned_reason: None,
            accepted_at: None,
            by_name: "塔山社区".into(),
            reviewer_name: "岐山街道".into(),
        }];
        // The grids report first (the day before the community), and are accepted.
        let mut grid_figures: Vec<Figures> = Vec::new();
        if plan.passed
            && let Some(t) = &table
        {
            for g in &grids {
                let f = figures(rng, t);
                grid_figures.push(f.clone());
                let reported = at(reported_on - Duration::days(1), 16);
                receipts.push(PastReceipt {
                    area_id: g.id.clone(),
                    parent: Some(0),
                    state: ReceiptState::Accepted,
                    read_at: Some(read_at + 3_600_000),
                    reported_at: Some(reported),
                    report_text: Some(format!("{}已按要求走访核实。", g.name)),
                    figures: Some(f),
                    returns: 0,
                    returned_reason: None,
                    accepted_at: Some(reported + 2 * 3_600_000),
                    by_name: format!("{}网格员", g.name),
                    reviewer_name: "塔山社区".into(),
                });
            }
        }
        let own = match (&table, plan.passed) {
            (Some(t), true) => Some(t.sum(grid_figures.iter())),
            (Some(t), false) => Some(figures(rng, t)),
            (None, _) => None,
        };
        let c = &mut receipts[0];
        match plan.end {
            End::Unread => {}
            End::Read => {
                c.state = ReceiptState::Read;
                c.read_at = Some(read_at);
            }
            End::Accepted | End::Late | End::ReturnedOnce(_) => {
                let reported = at(reported_on, 17);
                c.state = ReceiptState::Accepted;
                c.read_at = Some(read_at);
                c.reported_at = Some(reported);
                c.report_text = Some(
                    if table.is_some() {
                        "已汇总上报。"
                    } else {
                        "已落实值班值守，期间无重大矛盾纠纷。"
                    }
                    .into(),
                );
                c.figures = own;
                c.accepted_at = Some(reported + 20 * 3_600_000);
                if let End::ReturnedOnce(why) = plan.end {
                    c.returns = 1;
                    c.returned_reason = Some(why.into());
                }
            }
        }
        past.push(PastInstruction {
            area_id: street.id.clone(),
            // A monthly report is named after the month it was sent in.
            title: plan.title.replace("{m}", &u8::from(sent.month()).to_string()),
            body: plan.body.into(),
            due_on: due,
            table,
            sent_by_name: "岐山街道".into(),
            created_at: at(sent, 8),
            receipts,
        });
    }
    instructions::record_past(db, &past).await?;
    Ok(past.len())
}
