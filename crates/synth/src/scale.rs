//! Many Tashan-shaped communities under one city, for benchmarks and load tests:
//! Yantai's districts (and made-up ones past them), about 12 streets a district and
//! 10 communities a street, as the 7 million people of a real city would need.

use std::time::{Duration, Instant};

use fastrand::Rng;
use sqlx::AnyConnection;
use wangge_domain::AreaLevel;
use wangge_store::areas::Area;
use wangge_store::{Db, Vault, bulk, tags};

use crate::areas::{AreaCache, create, create_grids};
use crate::community::{Books, Place, Rows, Shape, build_rows, write_rows};
use crate::demo::CITY;
use crate::people::{IdBook, IdOwnership, PhoneBook, TagIds, max_communities};

#[derive(Clone, Debug)]
pub struct GenerateOptions {
    pub communities: usize,
    pub seed: u64,
}

/// What [`generate`] wrote.
#[derive(Clone, Debug, Default)]
pub struct GenerateSummary {
    pub communities: usize,
    pub grids: usize,
    pub buildings: usize,
    pub households: usize,
    pub residents: usize,
    pub elapsed: Duration,
}

const STREETS_PER_DISTRICT: usize = 12;
const COMMUNITIES_PER_STREET: usize = 10;
const COMMUNITIES_PER_DISTRICT: usize = STREETS_PER_DISTRICT * COMMUNITIES_PER_STREET;
/// Communities written per transaction: each commit waits for the disk (about 50 ms
/// here), so 16 communities (about 50,000 residents) share one.
const COMMUNITIES_PER_COMMIT: usize = 16;

/// Generates `communities` Tashan-shaped communities under 烟台市, calling
/// `progress(done, total)` after every commit. Each community is drawn from its own
/// generator seeded by `seed` and its index, so it comes out the same however many
/// are generated. ID card and phone numbers stay unique across the database, also
/// alongside the demo; running twice on one database fails on the first community
/// code already taken.
///
/// When the residents table starts empty its indexes are dropped for the load and
/// rebuilt afterwards (also after a failure): building an index once over sorted
/// keys is far cheaper than keeping the unique ID card index up to date row by row.
pub async fn generate(
    db: &Db,
    options: &GenerateOptions,
    mut progress: impl FnMut(usize, usize),
) -> anyhow::Result<GenerateSummary> {
    let started = Instant::now();
    anyhow::ensure!(
        options.communities <= max_communities(),
        "at most {} communities can be generated with distinct ID numbers",
        max_communities()
    );
    let tag_ids = TagIds::from_catalogue(&tags::ensure_standard(db).await?)?;
    let fresh = sqlx::query("SELECT 1 FROM residents LIMIT 1").fetch_optional(&db.pool).await?.is_none();
    if fresh {
        bulk::drop_resident_indexes(db).await?;
    }
    let mut summary = GenerateSummary::default();
    let outcome = generate_all(db, options, &tag_ids, &mut summary, &mut progress).await;
    let rebuilt = if fresh { bulk::create_resident_indexes(db).await.map_err(anyhow::Error::from) } else { Ok(()) };
    outcome.and(rebuilt)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

async fn generate_all(
    db: &Db,
    options: &GenerateOptions,
    tag_ids: &TagIds,
    summary: &mut GenerateSummary,
    progress: &mut impl FnMut(usize, usize),
) -> anyhow::Result<()> {
    let total = options.communities;
    let mut cache = AreaCache::default();
    let mut ids = IdBook::new(IdOwnership::demo(0));
    let mut done = 0;
    while done < total {
        let batch = done..(done + COMMUNITIES_PER_COMMIT).min(total);
        // Areas made by earlier runs (or the demo) are looked up before the
        // transaction opens, so a one-connection pool does not wait on itself.
        cache.learn(db, CITY.0).await?;
        for index in batch.clone() {
            let at = Location::of(index);
            cache.learn(db, &at.district_code()).await?;
            cache.learn(db, &at.street_code()).await?;
        }
        let mut tx = db.pool.begin().await?;
        let city = cache.ensure(&mut tx, AreaLevel::City, CITY.0, CITY.1, None).await?;
        let run = Run { city: &city, seed: options.seed, tag_ids, vault: &db.vault };
        for index in batch.clone() {
            let rows = generate_one(&mut tx, &mut cache, &run, index, &mut ids).await?;
            summary.add(&rows);
        }
        tx.commit().await?;
        done = batch.end;
        progress(done, total);
    }
    Ok(())
}

/// What every community of one batch shares.
struct Run<'a> {
    city: &'a Area,
    seed: u64,
    tag_ids: &'a TagIds,
    /// The database's key, which seals ID card numbers and phones.
    vault: &'a Vault,
}

async fn generate_one(
    conn: &mut AnyConnection,
    cache: &mut AreaCache,
    run: &Run<'_>,
    index: usize,
    ids: &mut IdBook,
) -> anyhow::Result<Rows> {
    let Run { city, seed, tag_ids, vault } = *run;
    let at = Location::of(index);
    let district =
        cache.ensure(conn, AreaLevel::District, &at.district_code(), &at.district_name(), Some(city)).await?;
    let street = cache.ensure(conn, AreaLevel::Street, &at.street_code(), &at.street_name(), Some(&district)).await?;
    let mut rng = Rng::with_seed(community_seed(seed, index));
    let shape = Shape::like_tashan(&mut rng);
    let stem = at.community_stem();
    let name = format!("{stem}社区");
    let community = create(conn, AreaLevel::Community, &at.community_code(), &name, Some(&street)).await?;
    let grids = create_grids(conn, &community, &stem, shape.grids).await?;

    let address_prefix = format!("{}{}{name}", district.name, street.name);
    let place = Place {
        community: &community,
        grids: &grids,
        address_prefix: &address_prefix,
        stem: &stem,
        centre: at.centre(),
    };
    ids.reset(IdOwnership::generated(at.district_region(), at.index_in_district(), index)?);
    // Phone serial 0 is the demo's.
    let mut books = Books { ids, phones: PhoneBook::for_community(index as u64 + 1), tag_ids };
    let rows = build_rows(&mut rng, &shape, &place, &mut books)?;
    write_rows(conn, vault, &grids, &rows).await?;
    Ok(rows)
}

impl GenerateSummary {
    fn add(&mut self, rows: &Rows) {
        self.communities += 1;
        self.grids += rows.grids;
        self.buildings += rows.buildings.len();
        self.households += rows.households.len();
        self.residents += rows.residents.len();
    }
}

/// A seed per community from the run's seed and the community's index (SplitMix64's
/// finaliser), so neighbouring indexes give unrelated sequences.
fn community_seed(seed: u64, index: usize) -> u64 {
    let mut z = seed ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

// -- where community `index` lies -----------------------------------------------------------

/// Yantai's county-level divisions with their division codes.
const DISTRICTS: [(u32, &str); 13] = [
    (370602, "芝罘区"),
    (370611, "福山区"),
    (370612, "牟平区"),
    (370613, "莱山区"),
    (370614, "蓬莱区"),
    (370671, "烟台经济技术开发区"),
    (370672, "烟台高新技术产业开发区"),
    (370681, "龙口市"),
    (370682, "莱阳市"),
    (370683, "莱州市"),
    (370685, "招远市"),
    (370686, "栖霞市"),
    (370687, "海阳市"),
];
/// Past Yantai's real districts: made-up ones, coded 370621 upwards (unused codes).
const EXTRA_DISTRICT_STEMS: [&str; 12] =
    ["东城", "西城", "南山", "北海", "滨海", "新城", "港城", "金山", "银湖", "松岭", "昆嵛", "养马岛"];
const FIRST_EXTRA_DISTRICT: u32 = 370621;

/// Street names; the demo's 岐山 is fourth, as its code 370602004 says.
const STREET_STEMS: [&str; 48] = [
    "向阳",
    "东山",
    "毓璜顶",
    "岐山",
    "通伸",
    "凤凰台",
    "奇山",
    "白石",
    "芝罘岛",
    "幸福",
    "世回尧",
    "黄务",
    "清洋",
    "门楼",
    "高疃",
    "福新",
    "东厅",
    "回里",
    "大季家",
    "古现",
    "八角",
    "潮水",
    "刘家沟",
    "解宋",
    "北沟",
    "北马",
    "南山",
    "徐福",
    "兰高",
    "新嘉",
    "东江",
    "诸由观",
    "城厢",
    "文昌",
    "沙河",
    "朱桥",
    "金城",
    "罗峰",
    "温泉",
    "龙港",
    "梦芝",
    "泉山",
    "翠屏",
    "庄园",
    "松山",
    "蛇窝泊",
    "凤城",
    "方圆",
];
const COMMUNITY_FIRST: [&str; 23] = [
    "东", "西", "南", "北", "新", "福", "安", "康", "和", "华", "金", "青", "松", "柳", "桃", "杏", "槐", "枣", "兴",
    "裕", "平", "文", "胜",
];
const COMMUNITY_SECOND: [&str; 17] =
    ["山", "海", "港", "湾", "河", "泉", "园", "林", "苑", "庄", "村", "城", "岭", "坊", "里", "台", "峰"];

struct Location {
    index: usize,
    district: usize,
    street: usize,
    community: usize,
}

impl Location {
    fn of(index: usize) -> Self {
        Self {
            index,
            district: index / COMMUNITIES_PER_DISTRICT,
            street: index % COMMUNITIES_PER_DISTRICT / COMMUNITIES_PER_STREET,
            community: index % COMMUNITIES_PER_STREET,
        }
    }

    fn district_region(&self) -> u32 {
        match DISTRICTS.get(self.district) {
            Some((code, _)) => *code,
            None => FIRST_EXTRA_DISTRICT + (self.district - DISTRICTS.len()) as u32,
        }
    }

    fn district_name(&self) -> String {
        match DISTRICTS.get(self.district) {
            Some((_, name)) => (*name).to_owned(),
            None => {
                let extra = self.district - DISTRICTS.len();
                let stem = EXTRA_DISTRICT_STEMS[extra % EXTRA_DISTRICT_STEMS.len()];
                let round = extra / EXTRA_DISTRICT_STEMS.len();
                if round == 0 {
                    format!("{stem}区")
                } else {
                    format!("{stem}{}区", crate::areas::chinese_numeral(round + 1))
                }
            }
        }
    }

    fn index_in_district(&self) -> usize {
        self.index % COMMUNITIES_PER_DISTRICT
    }

    fn district_code(&self) -> String {
        format!("{}000000", self.district_region())
    }

    fn street_code(&self) -> String {
        format!("{}{:03}000", self.district_region(), self.street + 1)
    }

    fn street_name(&self) -> String {
        let stem = STREET_STEMS[(self.district * STREETS_PER_DISTRICT + self.street) % STREET_STEMS.len()];
        format!("{stem}街道")
    }

    /// Community numbers 001–010 of each street: the demo's 011 is never taken.
    fn community_code(&self) -> String {
        format!("{}{:03}{:03}", self.district_region(), self.street + 1, self.community + 1)
    }

    fn community_stem(&self) -> String {
        let i = self.index;
        let first = COMMUNITY_FIRST[i % COMMUNITY_FIRST.len()];
        let second = COMMUNITY_SECOND[i / COMMUNITY_FIRST.len() % COMMUNITY_SECOND.len()];
        format!("{first}{second}")
    }

    /// Districts spread over the Yantai coast, streets and communities a kilometre or so apart.
    fn centre(&self) -> (f64, f64) {
        let lat = 37.40
            + (self.district % 4) as f64 * 0.06
            + (self.street % 4) as f64 * 0.012
            + (self.community % 3) as f64 * 0.004;
        let lng = 121.00
            + (self.district / 4) as f64 * 0.10
            + (self.street / 4) as f64 * 0.015
            + (self.community / 3) as f64 * 0.005;
        (lat, lng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wangge_domain::AreaCode;

    #[test]
    fn locations_nest_and_stay_clear_of_the_demo() {
        let mut codes = std::collections::HashSet::new();
        for index in [0, 1, 9, 10, 119, 120, 1_559, 1_560, 3_000] {
            let at = Location::of(index);
            let district = AreaCode::parse(&at.district_code(), AreaLevel::District).unwrap();
            let street = AreaCode::parse(&at.street_code(), AreaLevel::Street).unwrap();
            let community = AreaCode::parse(&at.community_code(), AreaLevel::Community).unwrap();
            street.check_under(AreaLevel::Street, &district).unwrap();
            community.check_under(AreaLevel::Community, &street).unwrap();
            assert_ne!(community.as_str(), crate::DEMO_COMMUNITY_CODE);
            assert!(codes.insert(community.as_str().to_owned()));
        }
        assert_eq!(Location::of(3).street_code(), "370602001000");
        assert_eq!(Location::of(30).street_name(), "岐山街道");
        assert_eq!(Location::of(30).street_code(), "370602004000");
    }
}
