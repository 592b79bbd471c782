//! "One core, many parties" (一核多元, issue 23): joint meetings (联席会议) of the
//! community's Party organisation with the units in its area, their resolutions,
//! and the three lists — resources the units offer, the community's needs, and
//! the projects that meet needs with resources ("grid collects, branch
//! dispatches, parties take, residents rate").
//!
//! Pure rules, no I/O: the vocabularies, a project's states as one `match`
//! ([`project_next`]), when a resource fits a need ([`fits`]) and the residents'
//! mean rating ([`mean_rating`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::vocab::vocabulary;
use crate::{Message, Vocabulary, msg};

vocabulary!(
    /// What a need is about and what a resource serves: the field both lists
    /// share, which is how they are matched.
    ServiceField, "service field" {
    Health = "health", "医疗健康", "Health", ["义诊", "医疗"];
    Legal = "legal", "法律服务", "Legal advice", ["法律咨询", "普法"];
    Repair = "repair", "维修便民", "Repairs", ["维修", "便民服务"];
    Education = "education", "教育辅导", "Tutoring and education", ["教育", "课业辅导"];
    Elderly = "elderly", "养老助老", "Care for the elderly", ["助老", "为老服务"];
    Culture = "culture", "文体活动", "Culture and sport", ["文化", "文体"];
    Environment = "environment", "环境整治", "Environment", ["环境", "人居环境"];
    Safety = "safety", "平安建设", "Safety", ["安全", "平安"];
    Employment = "employment", "就业帮扶", "Jobs", ["就业"];
    Other = "other", "其他", "Other", [];
});

vocabulary!(
    /// What a unit offers: people's skills, a space, or money.
    ResourceKind, "resource kind" {
    Skill = "skill", "技能服务", "Skills", ["技能", "服务"];
    Space = "space", "场地设施", "Space", ["场地", "阵地"];
    Fund = "fund", "资金物资", "Funds and goods", ["资金", "物资"];
});

vocabulary!(
    /// Where a project stands.
    ProjectState, "project state" {
    Planned = "planned", "待实施", "Planned", ["未开始"];
    Doing = "doing", "实施中", "Under way", ["进行中"];
    Done = "done", "已完成", "Done", ["完成"];
    Dropped = "dropped", "已终止", "Dropped", ["终止"];
});

vocabulary!(
    /// What the owner of a project does to it.
    ProjectStep, "project step" {
    Start = "start", "开始实施", "Start", [];
    Finish = "finish", "完成并公示结果", "Finish and publish the result", ["完成"];
    Drop = "drop", "终止", "Drop", [];
});

vocabulary!(
    /// What became of a joint meeting's resolution.
    Outcome, "resolution outcome" {
    Noted = "noted", "记录在案", "Noted", [];
    Project = "project", "转为项目", "Became a project", ["项目"];
    Instruction = "instruction", "转为指令", "Became an instruction", ["指令"];
});

/// The state after `step`: planned → under way → done (with its result) or
/// dropped (with the reason); a project not started may be finished at once
/// (a one-day clean-up) or dropped. Done and dropped are final.
pub fn project_next(state: ProjectState, step: ProjectStep) -> Result<ProjectState, Message> {
    use ProjectState::*;
    match (state, step) {
        (Planned, ProjectStep::Start) => Ok(Doing),
        (Planned | Doing, ProjectStep::Finish) => Ok(Done),
        (Planned | Doing, ProjectStep::Drop) => Ok(Dropped),
        (Done | Dropped, _) => Err(Message::new("party.joint.error.final").term("state", state)),
        (Doing, ProjectStep::Start) => Err(Message::new("party.joint.error.not_from").term("state", state)),
    }
}

/// Whether a resource fits a need: the same field, and their places overlap —
/// a resource of the whole community reaches every grid, one of a grid reaches
/// that grid and the community's own needs, not another grid's.
pub fn fits(resource_field: ServiceField, resource_path: &str, need_field: ServiceField, need_path: &str) -> bool {
    resource_field == need_field && (need_path.starts_with(resource_path) || resource_path.starts_with(need_path))
}

/// The residents' mean rating from the sum of stars and how many rated, to one
/// decimal; none before anyone rated (no rating is assumed).
pub fn mean_rating(sum: i64, count: i64) -> Option<f64> {
    (count > 0).then(|| (sum as f64 / count as f64 * 10.0).round() / 10.0)
}

/// A rating a resident gives: 1 to 5 stars, chosen (never preset).
pub fn stars(value: Option<i64>) -> Result<i64, Message> {
    match value {
        Some(n @ 1..=5) => Ok(n),
        _ => Err(msg!("party.joint.error.stars")),
    }
}

/// The counts of projects by state, for the cockpit and the lists' heading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ByState {
    pub planned: i64,
    pub doing: i64,
    pub done: i64,
    pub dropped: i64,
    /// Planned or under way past their deadline (China time, read on the day).
    pub overdue: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_goes_forward_only() {
        use ProjectState::*;
        assert_eq!(project_next(Planned, ProjectStep::Start), Ok(Doing));
        assert_eq!(project_next(Planned, ProjectStep::Finish), Ok(Done));
        assert_eq!(project_next(Doing, ProjectStep::Finish), Ok(Done));
        assert_eq!(project_next(Doing, ProjectStep::Drop), Ok(Dropped));
        assert!(project_next(Doing, ProjectStep::Start).is_err());
        for step in ProjectStep::all() {
            assert!(project_next(Done, *step).is_err());
            assert!(project_next(Dropped, *step).is_err());
        }
    }

    #[test]
    fn a_resource_fits_by_field_and_place() {
        let community = "/1/2/3/";
        let grid_a = "/1/2/3/4/";
        let grid_b = "/1/2/3/5/";
        use ServiceField::*;
        assert!(fits(Health, community, Health, grid_a));
        assert!(fits(Health, grid_a, Health, grid_a));
        assert!(fits(Health, grid_a, Health, community));
        assert!(!fits(Health, grid_a, Health, grid_b));
        assert!(!fits(Health, community, Legal, grid_a));
    }

    #[test]
    fn ratings_are_chosen_and_averaged_honestly() {
        assert_eq!(mean_rating(0, 0), None);
        assert_eq!(mean_rating(14, 3), Some(4.7));
        assert_eq!(stars(Some(5)), Ok(5));
        assert!(stars(None).is_err());
        assert!(stars(Some(0)).is_err());
        assert!(stars(Some(6)).is_err());
    }
}
