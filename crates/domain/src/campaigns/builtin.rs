//! The forms Wangge ships for the campaigns communities run again and again (the
//! seed's testing rounds, and the monthly gas check, the flood check, the arrivals
//! census and the vaccination drive of every street's calendar). They are written
//! as XLSForm rows and read through [`super::xlsform::read`], so a shipped form is
//! held to the same rules as an uploaded one, and a community can download one,
//! change it in Excel and upload it back.

use super::{Form, TargetKind, xlsform};

/// A shipped form and how a campaign of it is usually run.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// Stable name (`?template=gas_check`).
    pub code: &'static str,
    pub title_zh: &'static str,
    pub title_en: &'static str,
    pub target_kind: TargetKind,
    /// Days a campaign of it usually stays open.
    pub days_open: u16,
    /// Answers are health data: kept this many days after closing, then reduced to
    /// counts.
    pub retention_days: Option<u16>,
    /// `type | name | label zh | label en | required | relevant | constraint |
    /// save_to`, one question a line (trailing empty columns may be left out).
    survey: &'static str,
    /// `list | name | label zh | label en`, one choice a line.
    choices: &'static str,
}

const YES_NO: &str = "yes_no | yes | 是 | Yes
yes_no | no | 否 | No";

/// The shipped forms, in the order the new-campaign page offers them.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        code: "gas_check",
        title_zh: "燃气安全排查",
        title_en: "Gas safety check",
        target_kind: TargetKind::Household,
        days_open: 14,
        retention_days: None,
        survey: "select_one yes_no | uses_gas | 是否使用管道燃气或液化气 | Uses piped gas or LPG | yes | |
select_multiple appliances | kinds | 燃气设备（可多选） | Gas appliances (any) | yes | ${uses_gas} = 'yes' |
integer | hose_age | 燃气软管使用年限 | Age of the gas hose (years) | yes | ${uses_gas} = 'yes' | . >= 0 and . <= 50
select_one yes_no | alarm | 是否安装燃气报警器 | Gas alarm fitted | yes | ${uses_gas} = 'yes' |
date | checked_on | 检查日期 | Checked on | yes | ${uses_gas} = 'yes' | . <= today() | gas_checked_on
text | problem | 发现的隐患 | Hazard found | | ${hose_age} > 2 or ${alarm} = 'no' |
image | hazard_photo | 隐患照片 | Photo of the hazard | | ${hose_age} > 2 or ${alarm} = 'no' |",
        choices: "appliances | stove | 灶具 | Stove
appliances | water_heater | 燃气热水器 | Gas water heater
appliances | wall_boiler | 壁挂炉 | Wall boiler",
    },
    Builtin {
        code: "flood_check",
        title_zh: "汛期隐患排查",
        title_en: "Flood season check",
        target_kind: TargetKind::Household,
        days_open: 7,
        retention_days: None,
        survey: "select_one yes_no | basement | 是否住地下室或一楼 | Lives in a basement or on the ground floor | yes | |
select_one yes_no | leaks | 门窗、屋顶是否漏水 | Leaking doors, windows or roof | yes | |
select_one yes_no | needs_help | 暴雨时是否需要帮助转移 | Needs help to move out in a storm | yes | |
text | help_note | 需要什么帮助 | What help is needed | yes | ${needs_help} = 'yes' |
date | checked_on | 检查日期 | Checked on | yes | | . <= today() | flood_checked_on",
        choices: "",
    },
    Builtin {
        code: "arrivals_census",
        title_zh: "流动人口登记",
        title_en: "Census of arrivals",
        target_kind: TargetKind::Household,
        days_open: 30,
        retention_days: None,
        survey: "integer | newcomers | 近三个月新住进的人数 | People who moved in within three months | yes | | . >= 0 and . <= 20
select_one tenure | tenure | 居住方式 | How they live here | yes | ${newcomers} > 0 |
select_one yes_no | registered | 是否已办理居住登记 | Residence registered | yes | ${newcomers} > 0 |
text | where_from | 从哪里来 | Where from | | ${newcomers} > 0 |",
        choices: "tenure | rent | 租住 | Renting
tenure | relatives | 投亲靠友 | With relatives
tenure | work | 务工单位安排 | Housed by an employer",
    },
    Builtin {
        code: "vaccination",
        title_zh: "老年人疫苗接种摸排",
        title_en: "Vaccination drive for older people",
        target_kind: TargetKind::Person,
        days_open: 21,
        retention_days: Some(180),
        survey: "select_one vax | status | 接种情况 | Vaccination | yes | |
date | vaccinated_on | 最近一次接种日期 | Last vaccinated on | | ${status} = 'done' | . <= today() | vaccinated_on
select_one reason | why_not | 未接种原因 | Why not vaccinated | yes | ${status} = 'not_yet' |
select_one yes_no | wants_visit | 是否需要上门接种 | Wants a vaccination at home | yes | ${status} = 'not_yet' |",
        choices: "vax | done | 已接种 | Vaccinated
vax | not_yet | 未接种 | Not yet
reason | health | 身体原因 | Health reasons
reason | mobility | 行动不便 | Cannot get there
reason | unwilling | 暂不愿意 | Not willing yet",
    },
    Builtin {
        code: "testing_round",
        title_zh: "健康筛查轮次",
        title_en: "Testing round",
        target_kind: TargetKind::Person,
        days_open: 3,
        retention_days: Some(90),
        survey: "select_one tested | tested | 是否已检测 | Tested | yes | |
date | tested_on | 检测日期 | Tested on | yes | ${tested} = 'yes' | . <= today()
select_one reason | why_not | 未检测原因 | Why not tested | yes | ${tested} = 'no' |",
        choices: "tested | yes | 已检测 | Tested
tested | no | 未检测 | Not tested
reason | away | 外出 | Away
reason | bedridden | 卧床需上门 | Bedridden, needs a home visit
reason | refused | 拒绝 | Refused",
    },
];

fn rows(text: &str, header: &[&str]) -> Vec<(usize, Vec<String>)> {
    let mut out = vec![(1, header.iter().map(|h| (*h).to_owned()).collect())];
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        out.push((i + 2, line.split('|').map(|c| c.trim().to_owned()).collect()));
    }
    out
}

impl Builtin {
    /// The shipped form named `code`.
    pub fn find(code: &str) -> Option<&'static Builtin> {
        BUILTINS.iter().find(|b| b.code == code)
    }

    /// The form, read from its XLSForm rows.
    pub fn form(&self) -> Form {
        let survey = rows(
            self.survey,
            &[
                "type",
                "name",
                "label::Chinese (zh)",
                "label::English (en)",
                "required",
                "relevant",
                "constraint",
                "save_to",
            ],
        );
        let mut choice_text = YES_NO.to_owned();
        if !self.choices.is_empty() {
            choice_text.push('\n');
            choice_text.push_str(self.choices);
        }
        let choices = rows(&choice_text, &["list_name", "name", "label::Chinese (zh)", "label::English (en)"]);
        let settings = vec![
            (
                1,
                vec![
                    "form_title::Chinese (zh)".into(),
                    "form_title::English (en)".into(),
                    "form_id".into(),
                    "version".into(),
                ],
            ),
            (2, vec![self.title_zh.into(), self.title_en.into(), self.code.into(), "1".into()]),
        ];
        xlsform::read(&survey, Some(&choices), Some(&settings))
            .unwrap_or_else(|e| panic!("the shipped form {} does not read: {e:?}", self.code))
    }
}
