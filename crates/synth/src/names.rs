//! Chinese personal names: a weighted surname and a given name of one or two
//! characters drawn from the characters parents chose in the person's generation.
//!
//! Given names follow fashions closely enough that a name alone suggests an age
//! (淑兰 and 桂英 were born before 1960, 子涵 and 梓轩 after 2000); drawing from
//! the wrong pool is what makes synthetic data look synthetic.

use fastrand::Rng;
use wangge_domain::Gender;

/// A table of choices with cumulative weights, searched by bisection.
pub(crate) struct Weighted<T: 'static> {
    items: &'static [(T, u32)],
}

impl<T: Copy> Weighted<T> {
    /// `items` carry cumulative weights (see [`cumulative`]).
    pub(crate) const fn new(items: &'static [(T, u32)]) -> Self {
        Self { items }
    }

    pub(crate) fn pick(&self, rng: &mut Rng) -> T {
        let total = self.items[self.items.len() - 1].1;
        let ticket = rng.u32(0..total);
        let at = self.items.partition_point(|(_, upto)| *upto <= ticket);
        self.items[at].0
    }
}

/// Turns plain weights into running totals, at compile time.
pub(crate) const fn cumulative<T: Copy, const N: usize>(mut items: [(T, u32); N]) -> [(T, u32); N] {
    let mut i = 1;
    while i < N {
        items[i].1 += items[i - 1].1;
        i += 1;
    }
    items
}

/// Surnames with weights per 10,000 people, shaped like Shandong's coast: 王 张 李
/// 刘 lead as everywhere in the north, and 孙 于 姜 曲 鞠 丛 毕 隋 are far more
/// common in Yantai than in the national tables.
const SURNAME_WEIGHTS: [(&str, u32); 92] = cumulative([
    ("王", 900),
    ("张", 820),
    ("李", 780),
    ("刘", 700),
    ("孙", 330),
    ("于", 300),
    ("姜", 240),
    ("杨", 240),
    ("赵", 230),
    ("陈", 220),
    ("徐", 180),
    ("高", 180),
    ("曲", 150),
    ("马", 140),
    ("郭", 140),
    ("宋", 140),
    ("林", 120),
    ("周", 120),
    ("韩", 120),
    ("朱", 120),
    ("董", 100),
    ("吴", 80),
    ("黄", 80),
    ("胡", 80),
    ("梁", 80),
    ("郑", 80),
    ("曹", 80),
    ("鞠", 80),
    ("丛", 70),
    ("毕", 70),
    ("冯", 70),
    ("许", 70),
    ("吕", 70),
    ("崔", 60),
    ("魏", 60),
    ("隋", 60),
    ("何", 50),
    ("唐", 50),
    ("程", 50),
    ("田", 50),
    ("杜", 50),
    ("任", 50),
    ("修", 40),
    ("宫", 40),
    ("柳", 40),
    ("邹", 40),
    ("苏", 40),
    ("贾", 40),
    ("侯", 40),
    ("孟", 40),
    ("薛", 40),
    ("袁", 40),
    ("罗", 40),
    ("谢", 40),
    ("初", 35),
    ("牟", 35),
    ("衣", 30),
    ("战", 30),
    ("孔", 30),
    ("邢", 30),
    ("秦", 30),
    ("邵", 30),
    ("史", 30),
    ("蒋", 30),
    ("潘", 30),
    ("白", 30),
    ("尹", 30),
    ("范", 30),
    ("石", 30),
    ("彭", 30),
    ("邓", 30),
    ("傅", 30),
    ("沈", 30),
    ("栾", 25),
    ("慕", 20),
    ("滕", 20),
    ("谭", 20),
    ("萧", 20),
    ("曾", 20),
    ("叶", 20),
    ("方", 20),
    ("夏", 20),
    ("卢", 20),
    ("姚", 20),
    ("纪", 20),
    ("车", 15),
    ("矫", 15),
    ("臧", 15),
    ("解", 15),
    ("迟", 15),
    ("辛", 15),
    ("欧阳", 5),
]);

pub(crate) static SURNAMES: Weighted<&str> = Weighted::new(&SURNAME_WEIGHTS);

/// The characters of one generation and sex: what tends to come first in a
/// two-character name, what tends to come last (and alone), and how often a name has
/// two characters rather than one.
struct Pool {
    first: &'static [&'static str],
    last: &'static [&'static str],
    two_char_percent: u32,
}

/// Born before 1960.
const ELDER_MALE: Pool = Pool {
    first: &[
        "国", "建", "德", "福", "振", "永", "志", "玉", "文", "学", "洪", "庆", "长", "宝", "树", "春", "立", "连",
        "增", "守",
    ],
    last: &[
        "华", "明", "军", "山", "林", "昌", "成", "发", "祥", "贵", "生", "才", "良", "忠", "胜", "田", "喜", "海",
        "平", "民", "义", "德", "福",
    ],
    two_char_percent: 60,
};
const ELDER_FEMALE: Pool = Pool {
    first: &["淑", "秀", "桂", "凤", "玉", "素", "翠", "金", "春", "美", "月", "爱", "兰", "香"],
    last: &["兰", "英", "珍", "芳", "琴", "梅", "荣", "霞", "云", "花", "香", "芬", "华", "莲", "娥", "凤", "秀"],
    two_char_percent: 65,
};
/// Born 1960–1979.
const MIDDLE_MALE: Pool = Pool {
    first: &["建", "志", "海", "国", "永", "卫", "红", "晓", "立", "新", "文", "春", "金", "德", "宏", "军"],
    last: &[
        "军", "伟", "强", "勇", "刚", "斌", "涛", "峰", "波", "辉", "明", "东", "华", "平", "林", "杰", "生", "亮",
        "民",
    ],
    two_char_percent: 45,
};
const MIDDLE_FEMALE: Pool = Pool {
    first: &["丽", "红", "海", "晓", "秀", "玉", "春", "金", "美", "亚", "雪", "艳", "丹"],
    last: &["红", "艳", "燕", "玲", "静", "霞", "敏", "娟", "萍", "梅", "芳", "华", "英", "丽", "云", "颖"],
    two_char_percent: 45,
};
/// Born 1980–1999.
const YOUNG_MALE: Pool = Pool {
    first: &["晓", "文", "子", "俊", "志", "家", "鹏", "建", "海", "宇", "天", "嘉", "明", "新"],
    last: &[
        "磊", "鹏", "超", "浩", "杰", "帅", "鑫", "宇", "晨", "阳", "飞", "龙", "博", "凯", "健", "亮", "强", "斌",
        "伟", "涛",
    ],
    two_char_percent: 60,
};
const YOUNG_FEMALE: Pool = Pool {
    first: &["晓", "雪", "丹", "佳", "文", "欣", "梦", "静", "婷", "思", "雅", "金"],
    last: &["婷", "静", "娜", "晶", "雪", "倩", "丹", "莉", "琳", "璐", "佳", "蕾", "萌", "悦", "颖", "慧", "雯", "洁"],
    two_char_percent: 60,
};
/// Born 2000 or later.
const CHILD_MALE: Pool = Pool {
    first: &["子", "浩", "宇", "梓", "睿", "俊", "一", "嘉", "家", "博", "思", "皓", "锦", "明"],
    last: &["轩", "涵", "泽", "豪", "晨", "铭", "航", "宇", "辰", "然", "阳", "博", "杰", "诚", "睿", "霖"],
    two_char_percent: 85,
};
const CHILD_FEMALE: Pool = Pool {
    first: &["子", "欣", "梓", "雨", "诗", "语", "可", "思", "佳", "依", "若", "一", "紫", "梦"],
    last: &["涵", "怡", "萱", "琪", "馨", "彤", "玥", "悦", "菲", "妍", "琳", "雯", "婷", "然", "桐"],
    two_char_percent: 85,
};

fn pool(birth_year: i32, gender: Gender) -> &'static Pool {
    let (male, female) = match birth_year {
        ..1960 => (&ELDER_MALE, &ELDER_FEMALE),
        1960..1980 => (&MIDDLE_MALE, &MIDDLE_FEMALE),
        1980..2000 => (&YOUNG_MALE, &YOUNG_FEMALE),
        _ => (&CHILD_MALE, &CHILD_FEMALE),
    };
    if gender == Gender::Male { male } else { female }
}

fn pick_from<'a>(rng: &mut Rng, chars: &[&'a str]) -> &'a str {
    chars[rng.usize(0..chars.len())]
}

/// Appends a given name of the person's generation and sex to `out`.
pub(crate) fn push_given_name(rng: &mut Rng, birth_year: i32, gender: Gender, out: &mut String) {
    let pool = pool(birth_year, gender);
    let last = pick_from(rng, pool.last);
    if rng.u32(0..100) < pool.two_char_percent {
        let mut first = pick_from(rng, pool.first);
        // "华华" reads as a nickname; one redraw keeps such names rare, not absent.
        if first == last {
            first = pick_from(rng, pool.first);
        }
        out.push_str(first);
    }
    out.push_str(last);
}

/// A full name: `surname` followed by a given name of the person's generation.
pub(crate) fn full_name(rng: &mut Rng, surname: &str, birth_year: i32, gender: Gender) -> String {
    let mut name = String::with_capacity(surname.len() + 6);
    name.push_str(surname);
    push_given_name(rng, birth_year, gender, &mut name);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_have_two_to_four_characters_and_common_surnames_lead() {
        let mut rng = Rng::with_seed(1);
        let mut wang = 0;
        for i in 0..10_000 {
            let surname = SURNAMES.pick(&mut rng);
            wang += usize::from(surname == "王");
            let gender = if i % 2 == 0 { Gender::Male } else { Gender::Female };
            let name = full_name(&mut rng, surname, 1930 + i % 90, gender);
            assert!((2..=4).contains(&name.chars().count()), "{name}");
        }
        assert!((700..1300).contains(&wang), "王 should be about 9% of people, got {wang} in 10,000");
    }

    #[test]
    fn weighted_pick_reaches_first_and_last_items() {
        static ITEMS: [(char, u32); 3] = cumulative([('a', 1), ('b', 1), ('c', 1)]);
        let table = Weighted::new(&ITEMS);
        let mut rng = Rng::with_seed(3);
        let seen: std::collections::BTreeSet<char> = (0..100).map(|_| table.pick(&mut rng)).collect();
        assert_eq!(seen.into_iter().collect::<String>(), "abc");
    }
}
