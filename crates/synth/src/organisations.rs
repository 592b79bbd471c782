//! Organisations in a community (驻区单位): its property company, social
//! organisations, enterprises stationed in the area, a kindergarten or school, a
//! clinic and the police post, each placed in one of the grids.

use fastrand::Rng;
use wangge_domain::{Gender, OrganisationKind, new_id};
use wangge_store::bulk::OrganisationRow;

use crate::community::Place;
use crate::names::{SURNAMES, full_name};

/// Trade names of small Yantai firms.
const TRADE_NAMES: [&str; 16] = [
    "鑫源", "宏达", "福瑞", "海润", "金山", "顺通", "华宇", "德隆", "恒信", "嘉和", "万通", "瑞丰", "同福", "永盛",
    "胶东", "港城",
];

/// Kinds of enterprise stationed in an old neighbourhood; `{S}` is the community's
/// stem (塔山), `{T}` a trade name.
const ENTERPRISES: [&str; 10] = [
    "{S}便民超市",
    "烟台{T}商贸有限公司",
    "烟台{T}餐饮有限公司",
    "{S}农贸市场",
    "中国邮政储蓄银行烟台{S}支行",
    "烟台{T}建筑工程有限公司",
    "{S}大药房",
    "烟台{T}汽车维修有限公司",
    "{S}理发店",
    "烟台{T}家政服务有限公司",
];

const SOCIAL_EXTRAS: [&str; 4] = ["{S}社区书画社", "{S}社区秧歌队", "{S}社区人民调解委员会", "{S}社区爱心助老服务队"];

/// Where each organisation can be: the grid it stands in and its address.
pub(crate) struct Site {
    pub grid: usize,
    pub address: String,
}

pub(crate) fn organisations(rng: &mut Rng, place: &Place<'_>, sites: &[Site]) -> Vec<OrganisationRow> {
    let mut list: Vec<(OrganisationKind, String)> = vec![
        (OrganisationKind::PropertyCompany, "烟台{S}物业管理有限公司".to_owned()),
        (OrganisationKind::SocialOrganisation, "{S}社区志愿者协会".to_owned()),
        (OrganisationKind::SocialOrganisation, "红心网格服务队".to_owned()),
        (OrganisationKind::SocialOrganisation, "{S}社区老年协会".to_owned()),
        (OrganisationKind::School, "{S}幼儿园".to_owned()),
        (OrganisationKind::Medical, "{S}社区卫生服务站".to_owned()),
        (OrganisationKind::GovernmentUnit, "{S}社区警务室".to_owned()),
    ];
    list.push((OrganisationKind::SocialOrganisation, SOCIAL_EXTRAS[rng.usize(0..SOCIAL_EXTRAS.len())].to_owned()));
    if rng.bool() {
        list.push((OrganisationKind::School, "{S}小学".to_owned()));
    }
    let mut enterprises = ENTERPRISES.to_vec();
    rng.shuffle(&mut enterprises);
    let enterprise_count = rng.usize(4..=7);
    for pattern in &enterprises[..enterprise_count] {
        let trade = TRADE_NAMES[rng.usize(0..TRADE_NAMES.len())];
        list.push((OrganisationKind::Enterprise, pattern.replace("{T}", trade)));
    }
    list.into_iter()
        .map(|(kind, pattern)| organisation(rng, place, sites, kind, &pattern.replace("{S}", place.stem)))
        .collect()
}

fn organisation(
    rng: &mut Rng,
    place: &Place<'_>,
    sites: &[Site],
    kind: OrganisationKind,
    name: &str,
) -> OrganisationRow {
    let site = &sites[rng.usize(0..sites.len())];
    let gender = if rng.bool() { Gender::Male } else { Gender::Female };
    let surname = SURNAMES.pick(rng);
    let birth_year = rng.i32(1966..=1996);
    let contact = full_name(rng, surname, birth_year, gender);
    OrganisationRow {
        id: new_id(),
        grid_id: place.grids[site.grid].id.clone(),
        path: place.grids[site.grid].path.clone(),
        name: name.to_owned(),
        kind,
        address: Some(site.address.clone()),
        contact_name: Some(contact),
        // Yantai landlines: area code 0535 and seven digits beginning with 6.
        phone: Some(format!("0535-6{:06}", rng.u32(0..1_000_000))),
    }
}
