//! Who lives together: households of an ageing old neighbourhood, with relations and
//! ages that fit (a mother is 21–38 years older than her child, a spouse is near the
//! head's age, grandchildren take their father's surname).

use fastrand::Rng;
use wangge_domain::{Gender, Relation, ResidenceType};

use crate::names::{SURNAMES, Weighted, cumulative};
use crate::people::{Person, Tag, age_leaning_young, gender_with_male_percent, other_gender};

/// The shapes of household this community has, in the shares that make most
/// residents 50–69 (the seed's finding) while leaving children and young adults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// One person of 70 or more: 独居老人.
    ElderlyAlone,
    SingleAdult,
    /// A couple of 60 or more whose children have left: 空巢老人.
    EmptyNest,
    /// A couple in their 50s and early 60s whose children have left.
    MiddleCouple,
    YoungCouple,
    /// Parents and one to three children.
    Nuclear,
    /// Grandparents, a grown child with spouse, and grandchildren.
    ThreeGenerations,
    /// A middle-aged couple with a child and one or two of their old parents.
    WithParents,
    /// Grandparents raising grandchildren whose parents work elsewhere: 留守儿童.
    LeftBehind,
    /// A family from elsewhere renting the flat.
    Renters,
    /// Young workers sharing a rented flat.
    Sharers,
}

const OWNER_FAMILIES: [(Family, u32); 9] = cumulative([
    (Family::ElderlyAlone, 10),
    (Family::SingleAdult, 4),
    (Family::EmptyNest, 26),
    (Family::MiddleCouple, 14),
    (Family::YoungCouple, 2),
    (Family::Nuclear, 14),
    (Family::ThreeGenerations, 12),
    (Family::WithParents, 10),
    (Family::LeftBehind, 3),
]);
const RENTER_FAMILIES: [(Family, u32); 2] = cumulative([(Family::Renters, 65), (Family::Sharers, 35)]);

/// One household's members, head first, and what is needed to add a child later.
pub(crate) struct Household {
    pub family: Family,
    pub members: Vec<Person>,
    /// Age of the mother of the youngest generation, for children added later.
    mother_age: i32,
    /// Surname the youngest generation carries.
    child_surname: &'static str,
}

impl Household {
    /// A household of a kind drawn for an owner-occupied (`rented == false`) or rented flat.
    pub(crate) fn draw(rng: &mut Rng, rented: bool) -> Self {
        let family =
            if rented { Weighted::new(&RENTER_FAMILIES).pick(rng) } else { Weighted::new(&OWNER_FAMILIES).pick(rng) };
        let mut household = Household { family, members: Vec::with_capacity(6), mother_age: 0, child_surname: "" };
        household.fill(rng);
        let residence = residence_of(rng, family);
        for member in &mut household.members {
            member.residence = residence;
        }
        household
    }

    pub(crate) fn len(&self) -> usize {
        self.members.len()
    }

    fn fill(&mut self, rng: &mut Rng) {
        match self.family {
            Family::ElderlyAlone => self.elderly_alone(rng),
            Family::SingleAdult => {
                let (age, gender) = (rng.i32(40..=69), gender_with_male_percent(rng, 50));
                self.head(rng, age, gender);
            }
            Family::EmptyNest => self.empty_nest(rng),
            Family::MiddleCouple => {
                let age = rng.i32(50..=64);
                self.couple(rng, age);
            }
            Family::YoungCouple => {
                let age = rng.i32(24..=34);
                self.couple(rng, age);
            }
            Family::Nuclear => self.nuclear(rng),
            Family::ThreeGenerations => self.three_generations(rng),
            Family::WithParents => self.with_parents(rng),
            Family::LeftBehind => self.left_behind(rng),
            Family::Renters => self.rented_family(rng),
            Family::Sharers => self.rented_shared(rng),
        }
    }

    /// Whether [`Household::add_child`] makes sense: families with a generation of children.
    pub(crate) fn can_grow(&self) -> bool {
        matches!(self.family, Family::Nuclear | Family::ThreeGenerations | Family::WithParents) && self.len() < 7
    }

    /// Adds one more child of the youngest generation (or grandchild of the head).
    pub(crate) fn add_child(&mut self, rng: &mut Rng) {
        let relation = if self.family == Family::ThreeGenerations { Relation::Grandchild } else { Relation::Child };
        let residence = self.members[0].residence;
        let mut child = self.child(rng, relation);
        child.residence = residence;
        self.members.push(child);
    }

    /// Adds an unrelated lodger of working age, registered as the household is. The
    /// old people of the household then no longer live alone.
    pub(crate) fn add_lodger(&mut self, rng: &mut Rng) {
        for member in &mut self.members {
            member.tags = member.tags.without(Tag::ElderlyAlone).without(Tag::EmptyNest);
        }
        let (age, gender, surname) = (rng.i32(20..=45), gender_with_male_percent(rng, 60), SURNAMES.pick(rng));
        let mut lodger = Person::new(rng, age, gender, Relation::Tenant, surname);
        lodger.residence = self.members[0].residence;
        self.members.push(lodger);
    }

    /// Whether the last member may leave without the household losing its shape:
    /// a child, grandchild, tenant or parent of the head, in a household of three or more.
    pub(crate) fn can_shrink(&self) -> bool {
        self.len() >= 3
            && matches!(
                self.members[self.len() - 1].relation,
                Relation::Child | Relation::Grandchild | Relation::Tenant | Relation::Parent
            )
    }

    pub(crate) fn remove_last(&mut self) {
        self.members.pop();
    }

    // -- the members ------------------------------------------------------------------

    fn push(&mut self, rng: &mut Rng, age: i32, gender: Gender, relation: Relation, surname: &'static str) {
        self.members.push(Person::new(rng, age, gender, relation, surname));
    }

    fn head(&mut self, rng: &mut Rng, age: i32, gender: Gender) -> &'static str {
        let surname = SURNAMES.pick(rng);
        self.push(rng, age, gender, Relation::Head, surname);
        surname
    }

    /// A spouse of the other sex: wives are mostly a little younger than husbands.
    fn spouse_of(&mut self, rng: &mut Rng, head_age: i32, head_gender: Gender) -> i32 {
        let gap = rng.i32(-1..=5);
        let age = if head_gender == Gender::Male { head_age - gap } else { head_age + gap };
        let age = age.max(20);
        let surname = SURNAMES.pick(rng);
        self.push(rng, age, other_gender(head_gender), Relation::Spouse, surname);
        age
    }

    /// A married couple with a male head (as most ledgers still record), setting the
    /// wife's age and the husband's surname for the children to come.
    fn couple(&mut self, rng: &mut Rng, head_age: i32) -> i32 {
        let head_gender = gender_with_male_percent(rng, 85);
        let surname = self.head(rng, head_age, head_gender);
        let spouse_age = self.spouse_of(rng, head_age, head_gender);
        let (mother_age, father_surname) =
            if head_gender == Gender::Male { (spouse_age, surname) } else { (head_age, self.members[1].surname) };
        self.mother_age = mother_age;
        self.child_surname = father_surname;
        mother_age
    }

    /// A child whose age fits its mother's: born when she was 21–38, at most 32 now
    /// (older children have mostly left home).
    fn child(&self, rng: &mut Rng, relation: Relation) -> Person {
        let oldest = (self.mother_age - 21).clamp(0, 32);
        let youngest = (self.mother_age - 38).clamp(0, oldest);
        let gender = gender_with_male_percent(rng, 52);
        let age = rng.i32(youngest..=oldest);
        Person::new(rng, age, gender, relation, self.child_surname)
    }

    fn children(&mut self, rng: &mut Rng, relation: Relation) {
        let count = match rng.u32(0..100) {
            0..55 => 1,
            55..92 => 2,
            _ => 3,
        };
        for _ in 0..count {
            let child = self.child(rng, relation);
            self.members.push(child);
        }
    }

    fn elderly_alone(&mut self, rng: &mut Rng) {
        // Women outlive their husbands, so most who live alone are widows.
        let gender = gender_with_male_percent(rng, 35);
        let age = age_leaning_young(rng, 70, 95);
        self.head(rng, age, gender);
        self.members[0].tags = self.members[0].tags.with(Tag::ElderlyAlone);
    }

    fn empty_nest(&mut self, rng: &mut Rng) {
        let age = age_leaning_young(rng, 60, 88);
        self.couple(rng, age);
        for member in &mut self.members {
            member.birth = member.birth.min(crate::people::birth_day_for_age(rng, 60));
            member.tags = member.tags.with(Tag::EmptyNest);
        }
    }

    fn nuclear(&mut self, rng: &mut Rng) {
        let age = rng.i32(42..=62);
        self.couple(rng, age);
        self.children(rng, Relation::Child);
    }

    fn three_generations(&mut self, rng: &mut Rng) {
        let head_age = rng.i32(58..=80);
        let elder_mother_age = self.couple(rng, head_age);
        let head_surname = self.members[0].surname;
        // The grown child: a son with his wife, or a daughter with her husband.
        let child_age = (elder_mother_age - rng.i32(22..=34)).max(25);
        let son = rng.u32(0..100) < 70;
        let (child_gender, child_surname) =
            if son { (Gender::Male, head_surname) } else { (Gender::Female, self.child_surname) };
        self.push(rng, child_age, child_gender, Relation::Child, child_surname);
        let in_law_age = if son { child_age - rng.i32(-1..=4) } else { child_age + rng.i32(-1..=4) };
        let in_law_surname = SURNAMES.pick(rng);
        self.push(rng, in_law_age.max(20), other_gender(child_gender), Relation::ChildInLaw, in_law_surname);
        self.mother_age = if son { in_law_age } else { child_age };
        self.child_surname = if son { child_surname } else { in_law_surname };
        self.children(rng, Relation::Grandchild);
    }

    fn with_parents(&mut self, rng: &mut Rng) {
        let head_age = rng.i32(46..=62);
        self.couple(rng, head_age);
        let child = self.child(rng, Relation::Child);
        self.members.push(child);
        let parent_surname = self.members[0].surname;
        let father_age = (head_age + rng.i32(24..=32)).min(98);
        if rng.u32(0..100) < 40 {
            self.push(rng, father_age, Gender::Male, Relation::Parent, parent_surname);
        }
        let mother_surname = SURNAMES.pick(rng);
        let mother_age = (father_age - rng.i32(0..=4)).min(96);
        self.push(rng, mother_age, Gender::Female, Relation::Parent, mother_surname);
    }

    fn left_behind(&mut self, rng: &mut Rng) {
        let head_age = rng.i32(55..=74);
        if rng.u32(0..100) < 80 {
            self.couple(rng, head_age);
        } else {
            let gender = gender_with_male_percent(rng, 30);
            let surname = self.head(rng, head_age, gender);
            self.child_surname = surname;
        }
        for _ in 0..rng.usize(1..=2) {
            let gender = gender_with_male_percent(rng, 52);
            let surname = self.child_surname;
            let age = rng.i32(3..=15);
            self.push(rng, age, gender, Relation::Grandchild, surname);
            let last = self.members.len() - 1;
            self.members[last].tags = self.members[last].tags.with(Tag::LeftBehindChild);
        }
    }

    fn rented_family(&mut self, rng: &mut Rng) {
        let age = rng.i32(24..=48);
        self.couple(rng, age);
        if rng.u32(0..100) < 60 {
            let child = self.child(rng, Relation::Child);
            self.members.push(child);
        }
    }

    fn rented_shared(&mut self, rng: &mut Rng) {
        let sharers = rng.usize(1..=3);
        for i in 0..sharers {
            let gender = gender_with_male_percent(rng, 60);
            let relation = if i == 0 { Relation::Head } else { Relation::Tenant };
            let surname = SURNAMES.pick(rng);
            let age = rng.i32(20..=40);
            self.push(rng, age, gender, relation, surname);
        }
    }
}

/// 人员类型 of a whole household: owners are mostly registered here, some live here
/// while registered elsewhere in the city (人户分离); most renters come from elsewhere.
fn residence_of(rng: &mut Rng, family: Family) -> ResidenceType {
    let ticket = rng.u32(0..100);
    match family {
        Family::Renters | Family::Sharers if ticket < 80 => ResidenceType::Floating,
        Family::Renters | Family::Sharers => ResidenceType::Permanent,
        _ if ticket < 90 => ResidenceType::Registered,
        _ => ResidenceType::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_have_consistent_relations_and_ages() {
        let mut rng = Rng::with_seed(11);
        for i in 0..5_000 {
            let h = Household::draw(&mut rng, i % 10 == 0);
            assert_eq!(h.members[0].relation, Relation::Head, "{:?}", h.family);
            let head_age = h.members[0].age();
            for m in &h.members {
                match m.relation {
                    Relation::Child if h.family != Family::ThreeGenerations => {
                        assert!(m.age() + 20 <= head_age + 6, "{:?}: child {} head {head_age}", h.family, m.age())
                    }
                    Relation::Grandchild => assert!(m.age() + 36 <= head_age, "{:?}", h.family),
                    Relation::Parent => assert!(m.age() > head_age + 15, "{:?}", h.family),
                    _ => {}
                }
                if m.tags.has(Tag::ElderlyAlone) {
                    assert!(m.age() >= 70 && h.len() == 1);
                }
                if m.tags.has(Tag::EmptyNest) {
                    assert!(m.age() >= 60 && h.len() == 2);
                }
            }
        }
    }
}
