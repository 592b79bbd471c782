//! Activities (社区活动, issue 25, module 8 with notices and surveys): a
//! community's events with a capacity, sign-up and a waiting list, check-in at
//! the door, and one question of satisfaction afterwards — the seed found 12 % of
//! residents unsatisfied with cultural activities that "deviate from the needs of
//! the masses", and this is where that figure is measured, per kind of activity.
//!
//! Pure rules, no I/O: the vocabularies, where a new sign-up lands
//! ([`place_for`]), who moves up when a place frees ([`promoted`]), when a
//! sign-up may be rated ([`may_rate`]) and what counts as unsatisfied
//! ([`unsatisfied`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::vocab::vocabulary;
use crate::{Message, Vocabulary, msg};

vocabulary!(
    /// What an activity is: the satisfaction figure is trended per kind.
    ActivityKind, "activity kind" {
    Culture = "culture", "文化活动", "Culture", ["文艺", "文化"];
    Sport = "sport", "体育健身", "Sport", ["健身", "体育"];
    Lecture = "lecture", "讲座培训", "Talks and training", ["讲座", "培训"];
    Volunteer = "volunteer", "志愿服务", "Volunteering", ["志愿"];
    Elderly = "elderly", "为老服务", "For the elderly", ["敬老", "助老"];
    Children = "children", "亲子活动", "Children and families", ["亲子", "儿童"];
    Festival = "festival", "节日活动", "Festivals", ["节日"];
});

vocabulary!(
    /// Where a sign-up stands.
    SignupState, "sign-up state" {
    Confirmed = "confirmed", "已报名", "Signed up", ["报名成功"];
    Waiting = "waiting", "候补", "On the waiting list", ["排队"];
    Cancelled = "cancelled", "已取消", "Cancelled", ["取消"];
});

vocabulary!(
    /// How someone signed up.
    SignupChannel, "sign-up channel" {
    Portal = "portal", "居民自助报名", "On the portal", ["网上报名"];
    Staff = "staff", "工作人员代报名", "By staff for the resident", ["代报名"];
    Door = "door", "现场登记", "At the door", ["现场"];
});

/// Where a new sign-up lands: a place while fewer than `capacity` are signed up
/// (no capacity: always), else the waiting list.
pub fn place_for(confirmed: i64, capacity: Option<i64>) -> SignupState {
    match capacity {
        Some(cap) if confirmed >= cap => SignupState::Waiting,
        _ => SignupState::Confirmed,
    }
}

/// Who moves up when places free: the first `free` of the waiting list, which is
/// given in the order people joined it.
pub fn promoted<T: Clone>(waiting: &[T], free: i64) -> Vec<T> {
    waiting.iter().take(usize::try_from(free.max(0)).unwrap_or(0)).cloned().collect()
}

/// Whether a sign-up may be rated now: the person was checked in, the activity is
/// over, and they have not rated it yet.
pub fn may_rate(checked_in: bool, ended: bool, rated: bool) -> Result<(), Message> {
    match (checked_in, ended, rated) {
        (_, _, true) => Err(msg!("activities.error.rated")),
        (false, _, _) => Err(msg!("activities.error.not_there")),
        (true, false, _) => Err(msg!("activities.error.not_over")),
        (true, true, false) => Ok(()),
    }
}

/// Unsatisfied: 1 or 2 of the five answers (不满意, 非常不满意), the seed's
/// questionnaire's reading of "unsatisfied".
pub fn unsatisfied(score: i64) -> bool {
    score <= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_then_the_waiting_list_in_order() {
        assert_eq!(place_for(0, Some(2)), SignupState::Confirmed);
        assert_eq!(place_for(1, Some(2)), SignupState::Confirmed);
        assert_eq!(place_for(2, Some(2)), SignupState::Waiting);
        assert_eq!(place_for(500, None), SignupState::Confirmed);
        assert_eq!(promoted(&["a", "b", "c"], 2), ["a", "b"]);
        assert!(promoted(&["a"], 0).is_empty());
        assert!(promoted(&["a"], -1).is_empty());
    }

    #[test]
    fn only_those_who_came_rate_once_it_is_over() {
        assert!(may_rate(true, true, false).is_ok());
        assert_eq!(may_rate(false, true, false).unwrap_err().key, "activities.error.not_there");
        assert_eq!(may_rate(true, false, false).unwrap_err().key, "activities.error.not_over");
        assert_eq!(may_rate(true, true, true).unwrap_err().key, "activities.error.rated");
        assert!(unsatisfied(1) && unsatisfied(2) && !unsatisfied(3));
    }
}
