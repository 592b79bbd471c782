//! The demo's survey: the seed's own questionnaire
//! (`wangge_domain::surveys::seed_questionnaire`), anonymous, answered by 200
//! residents of the community — at the door, on paper, by phone and on the portal
//! — so that its results give the seed's published figures exactly: 58.5 % know
//! the Party members serving them, 18.5 % see no leading role, 29 % are rarely
//! visited, 12 % are unsatisfied with cultural activities.

use std::collections::BTreeMap;

use time::Date;
use wangge_domain::surveys::{Channel, seed_questionnaire};
use wangge_store::Db;
use wangge_store::registry::areas;
use wangge_store::surveys;

/// How many answered.
pub const RESPONDENTS: usize = 200;

/// The answer of respondent `i` (0..200) to each question: a different
/// permutation of the respondents per question (multipliers prime to 200), so that
/// the answers are spread over grids and ages while each count is exact.
fn answers_of(i: usize) -> BTreeMap<String, String> {
    let at = |m: usize| (i * m + 7) % RESPONDENTS;
    let pick = |m: usize, cuts: &[(usize, &str)]| cuts.iter().find(|(n, _)| at(m) < *n).map_or("", |c| c.1).to_owned();
    let mut a = BTreeMap::new();
    a.insert("know_party".into(), pick(37, &[(117, "yes"), (200, "no")]));
    a.insert("party_role".into(), pick(53, &[(37, "none"), (120, "partly"), (200, "leading")]));
    a.insert("visits".into(), pick(71, &[(58, "rarely"), (140, "sometimes"), (200, "often")]));
    let culture = pick(83, &[(24, "unsatisfied"), (80, "neutral"), (150, "satisfied"), (200, "very")]);
    if culture == "unsatisfied" && i.is_multiple_of(2) {
        a.insert("wish".into(), ["戏曲演出", "书法班", "广场舞比赛", "老年合唱团"][i % 4].to_owned());
    }
    a.insert("culture".into(), culture);
    a
}

/// Writes the survey and its answers; returns the survey's id.
pub(crate) async fn demo(db: &Db, community_code: &str, today: Date) -> anyhow::Result<String> {
    let community = areas::get_by_code(db, community_code).await?;
    let form = seed_questionnaire();
    let intro = "为了解居民对党员亮身份、入户走访和文化活动的看法，请您抽空填写。问卷不记名。";
    let survey = surveys::create(db, &community.id, &form.title.zh, intro, &form, true, "塔山社区").await?;
    surveys::set_open(db, &survey.id, true).await?;
    // Adults of the community, spread over its grids: every k-th of them by place and name.
    let (lo, hi) = wangge_store::subtree_bounds(&community.path);
    let adults: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM residents WHERE status = 'active' AND path >= $1 AND path < $2 AND birth_date <= $3
         ORDER BY path, name, birth_date, id",
    )
    .bind(lo)
    .bind(hi)
    .bind((today - time::Duration::days(18 * 366)).to_string())
    .fetch_all(&db.pool)
    .await?;
    anyhow::ensure!(adults.len() >= RESPONDENTS, "the demo has {} adults", adults.len());
    let step = adults.len() / RESPONDENTS;
    let channels = [Channel::Doorstep, Channel::Paper, Channel::Doorstep, Channel::Phone, Channel::Paper];
    for i in 0..RESPONDENTS {
        let mut who = surveys::respondent_of_resident(db, &adults[i * step]).await?;
        who.entered_by = Some("网格员".into());
        let day = (today - time::Duration::days((i % 20) as i64)).to_string();
        let answered =
            surveys::answer(db, &survey.id, &who, channels[i % channels.len()], &answers_of(i), &day).await?;
        answered.map_err(|e| anyhow::anyhow!("demo answer {i}: {e:?}"))?;
    }
    Ok(survey.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wangge_domain::surveys::{SEED_FIGURES, tally};

    #[test]
    fn the_answers_give_the_seeds_figures() {
        let form = seed_questionnaire();
        let all: Vec<_> = (0..RESPONDENTS).map(answers_of).collect();
        for a in &all {
            assert!(form.check(a, "2026-01-01").is_ok(), "{a:?}");
        }
        let t = tally(&form, &all);
        for (q, choice, per_mille) in SEED_FIGURES {
            let found = t.iter().find(|t| t.question == q).unwrap();
            assert_eq!(found.per_mille(choice), Some(per_mille), "{q}");
        }
    }
}
