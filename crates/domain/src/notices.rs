//! Notices (通知公告): a text written in a community or a grid, reviewed, then
//! published at once or at a set time, to everyone in its area or to chosen grids,
//! buildings or tags; pinned, important (read tracking then lists who has not
//! read it), expiring. The states are one `match` ([`next`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::vocab::vocabulary;
use crate::{Message, Vocabulary};

vocabulary!(
    /// Where a notice stands.
    NoticeState, "notice state" {
    Draft = "draft", "草稿", "Draft", ["未提交"];
    Review = "review", "待审核", "In review", ["审核中"];
    Published = "published", "已发布", "Published", ["发布"];
    Withdrawn = "withdrawn", "已撤回", "Withdrawn", ["撤回"];
});

vocabulary!(
    /// What is done to a notice.
    NoticeStep, "notice step" {
    Submit = "submit", "提交审核", "Submit for review", [];
    Publish = "publish", "审核发布", "Approve and publish", [];
    Return = "return", "退回修改", "Return to the writer", [];
    Withdraw = "withdraw", "撤回", "Withdraw", [];
});

vocabulary!(
    /// Whom a notice is for, besides everyone in its area.
    TargetKind, "notice target" {
    Grid = "grid", "网格", "Grid", [];
    Building = "building", "楼栋", "Building", ["楼"];
    Tag = "tag", "标签", "Tag", [];
});

/// The state after `step`: a draft is submitted, a notice in review is published
/// or returned, a published one withdrawn. Everything else is refused.
pub fn next(state: NoticeState, step: NoticeStep) -> Result<NoticeState, Message> {
    use NoticeState::*;
    match (state, step) {
        (Draft, NoticeStep::Submit) => Ok(Review),
        (Review, NoticeStep::Publish) => Ok(Published),
        (Review, NoticeStep::Return) => Ok(Draft),
        (Published, NoticeStep::Withdraw) => Ok(Withdrawn),
        (state, step) => Err(Message::new("notices.error.step").term("state", state).term("step", step)),
    }
}

/// Whether a published notice is shown at `now` (Unix ms): its publish time has
/// come and it has not expired.
pub fn is_live(state: NoticeState, publish_at: Option<i64>, expires_at: Option<i64>, now: i64) -> bool {
    state == NoticeState::Published && publish_at.is_none_or(|t| t <= now) && expires_at.is_none_or(|t| t > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_states_are_one_match() {
        assert_eq!(next(NoticeState::Draft, NoticeStep::Submit), Ok(NoticeState::Review));
        assert_eq!(next(NoticeState::Review, NoticeStep::Publish), Ok(NoticeState::Published));
        assert_eq!(next(NoticeState::Review, NoticeStep::Return), Ok(NoticeState::Draft));
        assert_eq!(next(NoticeState::Published, NoticeStep::Withdraw), Ok(NoticeState::Withdrawn));
        assert!(next(NoticeState::Draft, NoticeStep::Publish).is_err(), "no publishing without review");
        assert!(next(NoticeState::Withdrawn, NoticeStep::Submit).is_err());
    }

    #[test]
    fn live_between_publish_time_and_expiry() {
        assert!(is_live(NoticeState::Published, Some(10), Some(20), 10));
        assert!(!is_live(NoticeState::Published, Some(10), Some(20), 9), "scheduled");
        assert!(!is_live(NoticeState::Published, Some(10), Some(20), 20), "expired");
        assert!(!is_live(NoticeState::Review, None, None, 10));
    }
}
