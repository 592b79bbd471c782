//! People: ages, ID card numbers, mobile numbers, care tags, political status and
//! ethnicity, each drawn with the shares a northern Chinese old neighbourhood has.

use fastrand::Rng;
use time::Date;
use wangge_domain::{Gender, IdCardNumber, Phone, PoliticalStatus, Relation, ResidenceType};
use wangge_store::registry::tags::Tag as CatalogueTag;

/// The day the synthetic population is "as of". Fixed rather than today, so a seed
/// gives the same people (and the same ages) whenever it is run.
pub(crate) const AS_OF: Date = time::macros::date!(2026 - 07 - 01);
const AS_OF_DAY: i32 = AS_OF.to_julian_day();
/// The earliest birth day an ID number may carry here (older people are not drawn).
const FIRST_DAY: i32 = time::macros::date!(1900 - 01 - 01).to_julian_day();
const DAYS: usize = (AS_OF_DAY - FIRST_DAY + 1) as usize;

/// A member of a household before names and numbers are given out. Small and `Copy`
/// so that composing households costs no allocation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Person {
    /// Julian day of birth.
    pub birth: i32,
    pub gender: Gender,
    pub relation: Relation,
    pub residence: ResidenceType,
    pub surname: &'static str,
    pub tags: Tags,
}

impl Person {
    pub(crate) fn new(rng: &mut Rng, age: i32, gender: Gender, relation: Relation, surname: &'static str) -> Self {
        Self {
            birth: birth_day_for_age(rng, age),
            gender,
            relation,
            residence: ResidenceType::Registered,
            surname,
            tags: Tags::NONE,
        }
    }

    /// Whole years on [`AS_OF`].
    pub(crate) fn age(&self) -> i32 {
        age_on_reference_day(self.birth)
    }
}

/// A birth day that makes someone exactly `age` on [`AS_OF`], on a random day of that year of life.
pub(crate) fn birth_day_for_age(rng: &mut Rng, age: i32) -> i32 {
    let age = age.clamp(0, 110);
    // ceil(age × 365.25): the first day of that year of life, in the same year
    // length that `age_on_reference_day` divides by.
    let whole_years = (age * 1461 + 3) / 4;
    (AS_OF_DAY - whole_years - rng.i32(0..365)).max(FIRST_DAY)
}

fn age_on_reference_day(birth: i32) -> i32 {
    (AS_OF_DAY - birth) * 4 / 1461
}

/// An age drawn from `lo..=hi` leaning towards `lo`: among the old, each year of
/// age has fewer people than the one before.
pub(crate) fn age_leaning_young(rng: &mut Rng, lo: i32, hi: i32) -> i32 {
    let a = rng.i32(lo..=hi);
    let b = rng.i32(lo..=hi);
    a.min(b)
}

pub(crate) fn other_gender(gender: Gender) -> Gender {
    match gender {
        Gender::Male => Gender::Female,
        Gender::Female => Gender::Male,
    }
}

pub(crate) fn gender_with_male_percent(rng: &mut Rng, male_percent: u32) -> Gender {
    if rng.u32(0..100) < male_percent { Gender::Male } else { Gender::Female }
}

/// Draws with a probability given in tenths of a percent (per mille).
pub(crate) fn chance(rng: &mut Rng, per_mille: u32) -> bool {
    rng.u32(0..1000) < per_mille
}

// ---------------------------------------------------------------------------------
// Care tags

/// The care tags of the standard catalogue (see `wangge_store::registry::tags::STANDARD_TAGS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tag {
    ElderlyAlone,
    EmptyNest,
    Disabled,
    LowIncome,
    Veteran,
    LeftBehindChild,
    SeriousIllness,
    SpecialHardship,
    CommunityCorrection,
    MentalDisorder,
    Pregnant,
    Volunteer,
}

impl Tag {
    pub(crate) const ALL: [Tag; 12] = [
        Tag::ElderlyAlone,
        Tag::EmptyNest,
        Tag::Disabled,
        Tag::LowIncome,
        Tag::Veteran,
        Tag::LeftBehindChild,
        Tag::SeriousIllness,
        Tag::SpecialHardship,
        Tag::CommunityCorrection,
        Tag::MentalDisorder,
        Tag::Pregnant,
        Tag::Volunteer,
    ];

    pub(crate) fn code(self) -> &'static str {
        match self {
            Tag::ElderlyAlone => "elderly_alone",
            Tag::EmptyNest => "empty_nest",
            Tag::Disabled => "disabled",
            Tag::LowIncome => "low_income",
            Tag::Veteran => "veteran",
            Tag::LeftBehindChild => "left_behind_child",
            Tag::SeriousIllness => "serious_illness",
            Tag::SpecialHardship => "special_hardship",
            Tag::CommunityCorrection => "community_correction",
            Tag::MentalDisorder => "mental_disorder",
            Tag::Pregnant => "pregnant",
            Tag::Volunteer => "volunteer",
        }
    }
}

/// A set of [`Tag`]s as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tags(u16);

impl Tags {
    pub(crate) const NONE: Tags = Tags(0);

    pub(crate) fn with(self, tag: Tag) -> Self {
        Tags(self.0 | 1 << tag as u16)
    }

    pub(crate) fn without(self, tag: Tag) -> Self {
        Tags(self.0 & !(1 << tag as u16))
    }

    pub(crate) fn has(self, tag: Tag) -> bool {
        self.0 & (1 << tag as u16) != 0
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The catalogue ids of the tags, in [`Tag`] order.
pub(crate) struct TagIds(Vec<String>);

impl TagIds {
    /// Finds every [`Tag`] in the catalogue (made by `tags::ensure_standard`).
    pub(crate) fn from_catalogue(catalogue: &[CatalogueTag]) -> anyhow::Result<Self> {
        let ids = Tag::ALL
            .iter()
            .map(|tag| {
                catalogue
                    .iter()
                    .find(|t| t.code == tag.code())
                    .map(|t| t.id.clone())
                    .ok_or_else(|| anyhow::anyhow!("the tag catalogue lacks '{}'", tag.code()))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self(ids))
    }

    /// The catalogue ids of `tags`; empty (and unallocated) for most people.
    pub(crate) fn ids_of(&self, tags: Tags) -> Vec<String> {
        if tags.is_empty() {
            return Vec::new();
        }
        Tag::ALL.iter().filter(|t| tags.has(**t)).map(|t| self.0[*t as usize].clone()).collect()
    }
}

/// Tags that fall on individuals rather than on households, by age and sex. The
/// shares follow the issue: disabled about 2–3%, veterans about 2% (men who served
/// in their youth), a few pregnant women, a few volunteers among the active retired.
pub(crate) fn individual_tags(rng: &mut Rng, person: &Person, political: PoliticalStatus) -> Tags {
    let age = person.age();
    let male = person.gender == Gender::Male;
    let mut tags = person.tags;
    let disabled_per_mille = match age {
        ..18 => 8,
        18..60 => 20,
        _ => 40,
    };
    if chance(rng, disabled_per_mille) {
        tags = tags.with(Tag::Disabled);
    }
    if male && age >= 40 && chance(rng, 55) {
        tags = tags.with(Tag::Veteran);
    }
    if age >= 40 && chance(rng, 10) {
        tags = tags.with(Tag::SeriousIllness);
    }
    if (18..=70).contains(&age) && chance(rng, 3) {
        tags = tags.with(Tag::MentalDisorder);
    }
    if (20..=60).contains(&age) && chance(rng, 1) {
        tags = tags.with(Tag::CommunityCorrection);
    }
    if !male && (22..=38).contains(&age) && chance(rng, 40) {
        tags = tags.with(Tag::Pregnant);
    }
    if tags.has(Tag::ElderlyAlone) && (tags.has(Tag::Disabled) || chance(rng, 30)) {
        tags = tags.with(Tag::SpecialHardship);
    }
    let volunteer_per_mille = if political == PoliticalStatus::PartyMember { 250 } else { 60 };
    if (40..=75).contains(&age) && chance(rng, volunteer_per_mille) {
        tags = tags.with(Tag::Volunteer);
    }
    tags
}

// ---------------------------------------------------------------------------------
// Political status and ethnicity

/// 政治面貌 by age: Party members are about 8–10% of residents and mostly older
/// (the generation that joined at work units); most pupils and students aged 14–28
/// are League members.
pub(crate) fn political_status(rng: &mut Rng, age: i32) -> PoliticalStatus {
    let party_per_mille = match age {
        ..18 => 0,
        18..23 => 5,
        23..29 => 30,
        29..36 => 60,
        36..51 => 85,
        51..66 => 120,
        _ => 150,
    };
    let ticket = rng.u32(0..1000);
    if ticket < party_per_mille {
        return PoliticalStatus::PartyMember;
    }
    if (20..=40).contains(&age) && ticket < party_per_mille + 10 {
        return PoliticalStatus::ProbationaryMember;
    }
    if age >= 30 && ticket >= 997 {
        return PoliticalStatus::OtherParty;
    }
    let league_per_mille = match age {
        14..19 => 600,
        19..29 => 450,
        _ => 0,
    };
    if rng.u32(0..1000) < league_per_mille {
        return PoliticalStatus::LeagueMember;
    }
    PoliticalStatus::Masses
}

/// A household's ethnicity: Yantai is almost wholly Han, with small Hui and Manchu
/// communities and a few Korean and Mongol families.
pub(crate) fn ethnicity(rng: &mut Rng) -> &'static str {
    match rng.u32(0..1000) {
        0..8 => "回族",
        8..14 => "满族",
        14..16 => "朝鲜族",
        16..17 => "蒙古族",
        _ => "汉族",
    }
}

/// Whether someone gives a mobile number: nearly every working-age adult does, most
/// older people do, many teenagers do, young children do not.
pub(crate) fn has_mobile(rng: &mut Rng, age: i32) -> bool {
    let per_mille = match age {
        ..14 => 0,
        14..18 => 500,
        18..70 => 970,
        70..80 => 800,
        _ => 500,
    };
    chance(rng, per_mille)
}

// ---------------------------------------------------------------------------------
// ID card numbers

/// Birth regions (the first six digits of an ID number) of people who came from
/// elsewhere in Shandong, none of them in Yantai, so they never meet the numbers of
/// Yantai's own registered residents.
pub(crate) const ORIGIN_REGIONS: [u32; 40] = [
    370102, 370103, 370104, 370105, 370112, 370202, 370203, 370211, 370212, 370213, 370214, 370302, 370303, 370402,
    370502, 370702, 370703, 370705, 370781, 370782, 370786, 370811, 370902, 371002, 371082, 371102, 371302, 371311,
    371402, 371502, 371602, 371702, 370883, 371321, 371322, 371324, 370724, 370725, 370983, 371083,
];

/// Blocks 1..=MAX_BLOCK of two sequence numbers per sex: sequence `4 * block + 2 *
/// slot + (1 for men)` runs from 004 to 995, so no number ends in the odd-looking 000.
pub(crate) const MAX_BLOCK: u16 = 248;
const SLOTS_PER_BLOCK: u8 = 2;

/// The (region, block) pairs whose ID numbers one community hands out: owner 0 for
/// local residents, owners 1–3 for people from three places elsewhere in Shandong.
///
/// No two communities of a database share a pair, so numbers are unique across the
/// whole database without any state shared between communities: each community is
/// generated, and stays unique, on its own.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IdOwnership {
    owners: [(u32, u16); 4],
}

impl IdOwnership {
    pub(crate) const LOCAL: usize = 0;
    pub(crate) const ORIGINS: usize = 3;

    /// The demo owns block 1 of its district and of the first three origin regions;
    /// generated communities start at block 2.
    pub(crate) fn demo(local_region: u32) -> Self {
        Self { owners: [(local_region, 1), (ORIGIN_REGIONS[0], 1), (ORIGIN_REGIONS[1], 1), (ORIGIN_REGIONS[2], 1)] }
    }

    /// The pairs of generated community `index` (0-based over the whole run), the
    /// `index_in_district`-th of its district `local_region`.
    pub(crate) fn generated(local_region: u32, index_in_district: usize, index: usize) -> anyhow::Result<Self> {
        let block = |n: usize| -> anyhow::Result<u16> {
            u16::try_from(n + 2).ok().filter(|b| *b <= MAX_BLOCK).ok_or_else(|| {
                anyhow::anyhow!(
                    "too many communities for distinct synthetic ID numbers (at most {})",
                    max_communities()
                )
            })
        };
        let mut owners = [(local_region, block(index_in_district)?); 4];
        for (j, owner) in owners.iter_mut().skip(1).enumerate() {
            let pair = index * Self::ORIGINS + j;
            *owner = (ORIGIN_REGIONS[pair % ORIGIN_REGIONS.len()], block(pair / ORIGIN_REGIONS.len())?);
        }
        Ok(Self { owners })
    }
}

/// How many communities `generate` can make before origin blocks run out.
pub(crate) fn max_communities() -> usize {
    ORIGIN_REGIONS.len() * usize::from(MAX_BLOCK - 1) / IdOwnership::ORIGINS
}

/// Hands out one community's ID numbers: for each owner, birth day and sex, two
/// sequence numbers; a third person born the same day gets the day before.
pub(crate) struct IdBook {
    ownership: IdOwnership,
    issued: Vec<u8>,
}

impl IdBook {
    pub(crate) fn new(ownership: IdOwnership) -> Self {
        Self { ownership, issued: vec![0; 4 * DAYS * 2] }
    }

    /// Starts over for another community, keeping the buffer.
    pub(crate) fn reset(&mut self, ownership: IdOwnership) {
        self.ownership = ownership;
        self.issued.fill(0);
    }

    /// A number for someone of `owner` (see [`IdOwnership`]) born on `birth`, with
    /// the birth day it carries (the day asked for, or a few days earlier).
    pub(crate) fn issue(&mut self, owner: usize, birth: i32, gender: Gender) -> (IdCardNumber, Date) {
        let (region, block) = self.ownership.owners[owner];
        let sex = usize::from(gender == Gender::Male);
        let mut day = birth.clamp(FIRST_DAY, AS_OF_DAY);
        loop {
            let at = (owner * DAYS + (day - FIRST_DAY) as usize) * 2 + sex;
            let slot = self.issued[at];
            if slot < SLOTS_PER_BLOCK {
                self.issued[at] = slot + 1;
                let sequence = 4 * block + 2 * u16::from(slot) + sex as u16;
                let date = Date::from_julian_day(day).expect("days lie in range");
                return (IdCardNumber::compose(region, date, sequence), date);
            }
            // Moving the birthday one day earlier changes nobody's age noticeably.
            day = if day > FIRST_DAY { day - 1 } else { AS_OF_DAY };
        }
    }
}

// ---------------------------------------------------------------------------------
// Mobile numbers

/// Prefixes of the three carriers' mobile ranges.
const MOBILE_PREFIXES: [&str; 30] = [
    "134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "182", "183", "187", "188",
    "130", "131", "132", "155", "156", "185", "186", "133", "153", "180", "181", "189", "177", "199",
];
/// Mobile numbers one community may hand out; community `n` owns serials
/// `n * PHONES_PER_COMMUNITY ..`.
pub(crate) const PHONES_PER_COMMUNITY: u64 = 10_000;
const SUFFIXES: u64 = 100_000_000;

/// Hands out distinct mobile numbers. The last eight digits are a serial owned by
/// the community put through a permutation of 0..10^8 ([`scramble`]), so numbers
/// look random yet never repeat in a database.
pub(crate) struct PhoneBook {
    next_serial: u64,
    end: u64,
}

impl PhoneBook {
    pub(crate) fn for_community(community_serial: u64) -> Self {
        let start = community_serial * PHONES_PER_COMMUNITY;
        assert!(start + PHONES_PER_COMMUNITY <= SUFFIXES, "community serial {community_serial} too large");
        Self { next_serial: start, end: start + PHONES_PER_COMMUNITY }
    }

    pub(crate) fn issue(&mut self, rng: &mut Rng) -> Phone {
        assert!(self.next_serial < self.end, "a community asked for more than {PHONES_PER_COMMUNITY} phone numbers");
        let suffix = scramble(self.next_serial);
        self.next_serial += 1;
        let prefix = MOBILE_PREFIXES[rng.usize(0..MOBILE_PREFIXES.len())];
        Phone::parse(&format!("{prefix}{suffix:08}")).expect("1[3-9] followed by nine digits is a mobile number")
    }
}

/// A permutation of 0..10^8 that hides the order of serials. Xor-shifts and odd
/// multipliers are invertible on 27-bit numbers (2^27 > 10^8); applying them again
/// while the result is 10^8 or more ("cycle walking") keeps it a permutation of the
/// smaller range.
fn scramble(serial: u64) -> u64 {
    const MASK: u64 = (1 << 27) - 1;
    let mut x = serial;
    loop {
        x ^= x >> 14;
        x = x.wrapping_mul(0x2c1b_3c6d) & MASK;
        x ^= x >> 12;
        x = x.wrapping_mul(0x297a_2d39) & MASK;
        x ^= x >> 15;
        if x < SUFFIXES {
            return x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn birth_days_give_the_asked_age() {
        let mut rng = Rng::with_seed(5);
        for age in 0..100 {
            for _ in 0..20 {
                let p = Person::new(&mut rng, age, Gender::Male, Relation::Head, "王");
                assert_eq!(p.age(), age);
            }
        }
    }

    #[test]
    fn id_numbers_are_unique_within_and_across_owners() {
        let mut book = IdBook::new(IdOwnership::demo(370602));
        let mut seen = HashSet::new();
        let birth = time::macros::date!(1960 - 05 - 09).to_julian_day();
        for owner in 0..4 {
            for i in 0..50 {
                let gender = if i % 2 == 0 { Gender::Male } else { Gender::Female };
                let (id, date) = book.issue(owner, birth, gender);
                let parsed = IdCardNumber::parse(id.as_str()).unwrap();
                assert_eq!(parsed.birth_date(), date);
                assert_eq!(parsed.gender(), gender);
                assert!(seen.insert(id.as_str().to_owned()), "{}", id.as_str());
            }
        }
    }

    #[test]
    fn generated_ownerships_never_share_a_pair() {
        let mut pairs = HashSet::new();
        for (_, block) in IdOwnership::demo(370602).owners.iter().skip(1) {
            assert_eq!(*block, 1);
        }
        for index in 0..max_communities() {
            let o = IdOwnership::generated(370602, 0, index).unwrap();
            for pair in &o.owners[1..] {
                assert!(pairs.insert(*pair), "{pair:?}");
            }
        }
        assert!(IdOwnership::generated(370602, 0, max_communities()).is_err());
    }

    #[test]
    fn scramble_is_a_permutation() {
        // A permutation of 0..10^8 maps a sample of inputs to as many distinct outputs
        // below 10^8; consecutive serials land far apart.
        let outputs: HashSet<u64> = (0..200_000).chain(99_900_000..SUFFIXES).map(scramble).collect();
        assert_eq!(outputs.len(), 300_000);
        assert!(outputs.iter().all(|x| *x < SUFFIXES));
        assert!(scramble(1).abs_diff(scramble(2)) > 1_000);
    }

    #[test]
    fn phone_numbers_are_distinct_across_communities() {
        let mut rng = Rng::with_seed(9);
        let mut seen = HashSet::new();
        for community in [0, 1, 2, 700] {
            let mut book = PhoneBook::for_community(community);
            for _ in 0..3_000 {
                let phone = book.issue(&mut rng);
                assert_eq!(phone.as_str().len(), 11);
                assert!(seen.insert(phone.as_str()[3..].to_owned()));
            }
        }
    }
}
