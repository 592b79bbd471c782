//! Micro venture capital (微创投, issue 25, module 8): a community's call with a
//! budget → applications on a template from residents' groups and social
//! organisations → named judges score each criterion → ranking, grade and amount
//! → public notice → grant → spending against the grant → mid-term and final
//! evaluation → the public library with residents' ratings. Tashan funded six
//! such projects (civilised dog-raising, garbage sorting, grid building, the
//! Party's centenary…).
//!
//! Pure rules, no I/O: the criteria and their default weights (the seven of
//! Chinese practice), a judge's weighted total, the mean over judges, the grade,
//! and the amounts given in rank order within the budget ([`allocate`]); money is
//! integer fen, scores integer tenths of a point, so every figure is exact.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::vocab::vocabulary;
use crate::{Message, Vocabulary, msg};

vocabulary!(
    /// What judges score, each 0–10. The seven of 微创投 practice.
    Criterion, "criterion" {
    Need = "need", "需求迫切性", "Need", ["需求"];
    Fit = "fit", "在地性", "Local fit", ["本土性"];
    Participation = "participation", "居民参与度", "Residents' participation", ["参与"];
    Feasibility = "feasibility", "可行性", "Feasibility", ["可操作性"];
    Novelty = "novelty", "创新性", "Novelty", ["创新"];
    Sustainability = "sustainability", "可持续性", "Sustainability", ["持续"];
    Budget = "budget", "预算合理性", "Budget", ["预算"];
});

vocabulary!(
    /// Where a call stands.
    CallState, "call state" {
    Open = "open", "征集中", "Taking applications", ["申报"];
    Review = "review", "评审中", "Under review", ["评审"];
    Published = "published", "已公示", "Results published", ["公示"];
    Closed = "closed", "已结项", "Closed", ["结项"];
});

vocabulary!(
    /// Where an application stands.
    ApplicationState, "application state" {
    Submitted = "submitted", "已申报", "Submitted", ["申报"];
    Funded = "funded", "拟资助", "To be funded", ["入选"];
    Declined = "declined", "未入选", "Not funded", ["落选"];
    Granted = "granted", "已拨付", "Granted", ["立项"];
    Midterm = "midterm", "已中期评估", "Mid-term evaluated", ["中期"];
    Finished = "finished", "已结项", "Finished", ["结项"];
});

vocabulary!(
    /// The two evaluations of a granted project.
    Stage, "evaluation stage" {
    Midterm = "midterm", "中期评估", "Mid-term evaluation", ["中期"];
    Final = "final", "结项评估", "Final evaluation", ["结项", "末期"];
});

vocabulary!(
    /// The grade a score earns.
    Grade, "grade" {
    A = "a", "优秀（A）", "A (excellent)", [];
    B = "b", "良好（B）", "B (good)", [];
    C = "c", "合格（C）", "C (fair)", [];
    Below = "below", "未达标", "Below the bar", [];
});

/// A criterion with its weight in percent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Weight {
    pub criterion: Criterion,
    pub percent: i64,
}

/// The default weights: need 20, fit 15, participation 15, feasibility 15,
/// novelty 10, sustainability 15, budget 10 (100 in all).
pub fn default_weights() -> Vec<Weight> {
    use Criterion::*;
    [(Need, 20), (Fit, 15), (Participation, 15), (Feasibility, 15), (Novelty, 10), (Sustainability, 15), (Budget, 10)]
        .into_iter()
        .map(|(criterion, percent)| Weight { criterion, percent })
        .collect()
}

/// Weights are each 0–100, name each criterion once, and add up to 100.
pub fn check_weights(weights: &[Weight]) -> Result<(), Message> {
    let mut seen = Vec::new();
    for w in weights {
        if !(0..=100).contains(&w.percent) || seen.contains(&w.criterion) {
            return Err(msg!("ventures.error.weights"));
        }
        seen.push(w.criterion);
    }
    let sum: i64 = weights.iter().map(|w| w.percent).sum();
    if sum != 100 || weights.is_empty() {
        return Err(msg!("ventures.error.weights_sum", sum = sum));
    }
    Ok(())
}

/// One judge's total in tenths of a point (0–1000 = 0–100 points): Σ weight % ×
/// score (0–10) over the criteria the call weighs. A criterion left unscored is a
/// refusal, not a zero.
pub fn judge_total(weights: &[Weight], scores: &[(Criterion, i64)]) -> Result<i64, Message> {
    let mut total = 0;
    for w in weights {
        let Some(&(_, score)) = scores.iter().find(|(c, _)| *c == w.criterion) else {
            return Err(Message::new("ventures.error.unscored").term("criterion", w.criterion));
        };
        if !(0..=10).contains(&score) {
            return Err(Message::new("ventures.error.score").term("criterion", w.criterion));
        }
        total += w.percent * score;
    }
    Ok(total)
}

/// The application's score: the mean of its judges' totals, in tenths, rounded
/// half up. None without judges.
pub fn mean_total(totals: &[i64]) -> Option<i64> {
    let n = totals.len() as i64;
    (n > 0).then(|| (2 * totals.iter().sum::<i64>() + n) / (2 * n))
}

/// The grade of a score in tenths: A from 85 points, B from 75, C from 60.
pub fn grade(score_tenths: i64) -> Grade {
    match score_tenths {
        850.. => Grade::A,
        750.. => Grade::B,
        600.. => Grade::C,
        _ => Grade::Below,
    }
}

/// The most a grade may be given, in fen: A 20,000 yuan, B 15,000, C 8,000.
pub fn cap_fen(g: Grade) -> i64 {
    match g {
        Grade::A => 2_000_000,
        Grade::B => 1_500_000,
        Grade::C => 800_000,
        Grade::Below => 0,
    }
}

/// The least a project is given (5,000 yuan): less would not carry one.
pub const MIN_FEN: i64 = 500_000;

/// An application as ranking sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub score_tenths: i64,
    pub requested_fen: i64,
    /// Submission order breaks ties: the earlier first.
    pub submitted_at: i64,
}

/// What ranking gives one application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allotment {
    pub id: String,
    pub rank: i64,
    pub grade: Grade,
    /// 0: not funded.
    pub amount_fen: i64,
}

/// Ranks by score (ties: the earlier submission first) and funds in that order:
/// each graded C or better gets what it asked, up to its grade's cap, while the
/// budget lasts; one that no longer fits gets what is left if that is at least
/// [`MIN_FEN`], else nothing, and ranking goes on (a smaller request further down
/// may still fit).
pub fn allocate(budget_fen: i64, entries: &[Entry]) -> Vec<Allotment> {
    let mut order: Vec<&Entry> = entries.iter().collect();
    order.sort_by(|a, b| b.score_tenths.cmp(&a.score_tenths).then(a.submitted_at.cmp(&b.submitted_at)));
    let mut left = budget_fen;
    order
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let g = grade(e.score_tenths);
            let want = e.requested_fen.min(cap_fen(g));
            let amount = if g == Grade::Below || want < MIN_FEN {
                0
            } else if want <= left {
                want
            } else if left >= MIN_FEN {
                left
            } else {
                0
            };
            left -= amount;
            Allotment { id: e.id.clone(), rank: i as i64 + 1, grade: g, amount_fen: amount }
        })
        .collect()
}

/// Whether spending `amount_fen` more keeps within the grant: spent + amount ≤
/// granted, unless a decision is recorded for going over.
pub fn within_grant(granted_fen: i64, spent_fen: i64, amount_fen: i64, decision: Option<&str>) -> Result<(), Message> {
    if amount_fen <= 0 {
        return Err(msg!("ventures.error.amount"));
    }
    if spent_fen + amount_fen > granted_fen && decision.is_none_or(|d| d.trim().is_empty()) {
        return Err(msg!("ventures.error.over_grant", left = yuan(granted_fen - spent_fen), amount = yuan(amount_fen)));
    }
    Ok(())
}

/// Fen as yuan with two decimals: `1234567` → `12345.67`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// Yuan as typed (`12000`, `12000.5`, `12,000.50`) to fen; refuses more than two
/// decimals and anything not a non-negative amount.
pub fn parse_yuan(text: &str) -> Option<i64> {
    let t: String = text.trim().chars().filter(|c| *c != ',' && *c != '，' && *c != '元').collect();
    let (whole, part) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || part.len() > 2 {
        return None;
    }
    if !part.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let cents = format!("{part:0<2}");
    whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(cents.parse::<i64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Criterion::*;

    fn all(score: i64) -> Vec<(Criterion, i64)> {
        Criterion::all().iter().map(|c| (*c, score)).collect()
    }

    #[test]
    fn the_default_weights_add_up() {
        assert_eq!(check_weights(&default_weights()), Ok(()));
        let mut w = default_weights();
        w[0].percent = 25;
        assert_eq!(check_weights(&w).unwrap_err().key, "ventures.error.weights_sum");
        w[0].percent = 20;
        w.push(Weight { criterion: Need, percent: 0 });
        assert_eq!(check_weights(&w).unwrap_err().key, "ventures.error.weights");
    }

    /// Judge 1: need 9, fit 8, participation 9, feasibility 8, novelty 7,
    /// sustainability 8, budget 9 → 20×9 + 15×8 + 15×9 + 15×8 + 10×7 + 15×8 + 10×9
    /// = 180 + 120 + 135 + 120 + 70 + 120 + 90 = 835 tenths (83.5 points).
    #[test]
    fn a_judges_total_by_hand() {
        let w = default_weights();
        let scores =
            [(Need, 9), (Fit, 8), (Participation, 9), (Feasibility, 8), (Novelty, 7), (Sustainability, 8), (Budget, 9)];
        assert_eq!(judge_total(&w, &scores), Ok(835));
        assert_eq!(judge_total(&w, &all(10)), Ok(1000));
        assert_eq!(judge_total(&w, &scores[..6]).unwrap_err().key, "ventures.error.unscored");
        assert_eq!(judge_total(&w, &all(11)).unwrap_err().key, "ventures.error.score");
        // (835 + 900 + 780) / 3 = 838.33 → 838; (835 + 836) / 2 = 835.5 → 836.
        assert_eq!(mean_total(&[835, 900, 780]), Some(838));
        assert_eq!(mean_total(&[835, 836]), Some(836));
        assert_eq!(mean_total(&[]), None);
        assert_eq!(
            [grade(850), grade(849), grade(750), grade(600), grade(599)],
            [Grade::A, Grade::B, Grade::B, Grade::C, Grade::Below]
        );
    }

    /// A budget of 50,000 yuan. In rank order: a (91.0, A, asks 25,000 → capped
    /// at 20,000), b (86.0, A, asks 18,000), then c and d both 80.0 (B): c was
    /// submitted first and asks 15,000 — 12,000 is left, it gets 12,000; d then
    /// finds nothing left. e (62.0, C, asks 6,000) finds nothing either; f (55.0)
    /// is below the bar. Given: 20,000 + 18,000 + 12,000 = 50,000.
    #[test]
    fn amounts_in_rank_order_within_the_budget() {
        let e = |id: &str, score: i64, yuan: i64, at: i64| Entry {
            id: id.into(),
            score_tenths: score,
            requested_fen: yuan * 100,
            submitted_at: at,
        };
        let entries = [
            e("d", 800, 10_000, 4),
            e("f", 550, 5_000, 6),
            e("a", 910, 25_000, 1),
            e("c", 800, 15_000, 3),
            e("e", 620, 6_000, 5),
            e("b", 860, 18_000, 2),
        ];
        let got: Vec<(String, i64, Grade, i64)> =
            allocate(5_000_000, &entries).into_iter().map(|a| (a.id, a.rank, a.grade, a.amount_fen / 100)).collect();
        let want = [
            ("a", 1, Grade::A, 20_000),
            ("b", 2, Grade::A, 18_000),
            ("c", 3, Grade::B, 12_000),
            ("d", 4, Grade::B, 0),
            ("e", 5, Grade::C, 0),
            ("f", 6, Grade::Below, 0),
        ];
        let want: Vec<(String, i64, Grade, i64)> =
            want.iter().map(|(i, r, g, y)| (i.to_string(), *r, *g, *y)).collect();
        assert_eq!(got, want);
        // With 70,000: c gets its 15,000, d its 10,000, e its 6,000; 1,000 stays unspent.
        let more: Vec<i64> = allocate(7_000_000, &entries).iter().map(|a| a.amount_fen / 100).collect();
        assert_eq!(more, [20_000, 18_000, 15_000, 10_000, 6_000, 0]);
    }

    #[test]
    fn spending_keeps_within_the_grant_unless_decided() {
        assert_eq!(within_grant(1_000_000, 900_000, 100_000, None), Ok(()));
        let over = within_grant(1_000_000, 900_000, 100_001, None).unwrap_err();
        assert_eq!(over.key, "ventures.error.over_grant");
        assert_eq!(within_grant(1_000_000, 900_000, 100_001, Some("  ")).unwrap_err().key, "ventures.error.over_grant");
        assert_eq!(within_grant(1_000_000, 900_000, 200_000, Some("社区两委会2026-05-06决定追加")), Ok(()));
        assert_eq!(within_grant(1_000_000, 0, 0, None).unwrap_err().key, "ventures.error.amount");
    }

    #[test]
    fn yuan_both_ways() {
        assert_eq!(yuan(1_234_567), "12345.67");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(parse_yuan("12,000"), Some(1_200_000));
        assert_eq!(parse_yuan("12000.5元"), Some(1_200_050));
        assert_eq!(parse_yuan("0.05"), Some(5));
        for bad in ["", "-5", "1.234", "abc", "1.x", ".5"] {
            assert_eq!(parse_yuan(bad), None, "{bad}");
        }
    }
}
