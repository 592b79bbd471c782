//! The Tashan demo: the community of the seed study, 烟台市 › 芝罘区 › 岐山街道 ›
//! 塔山社区, with its 8 grids, 269 buildings and 3,260 residents, and a year of its
//! demand ledger (about 200 solved affairs and 800 answered consultations), its
//! visits, campaigns, instructions and Party year.

use fastrand::Rng;
use wangge_domain::AreaLevel;
use wangge_domain::now_millis;
use wangge_store::registry::tags;
use wangge_store::{Db, demands};

use crate::areas::{AreaCache, plan, plan_grids};
use crate::community::{Books, Place, Ready, TASHAN, build_rows, write_rows};
use crate::demands::{Setting, history};
use crate::people::{IdBook, IdOwnership, PhoneBook, TagIds};
use crate::visits::CareTags;

pub const DEMO_COMMUNITY_CODE: &str = "370602004011";
pub(crate) const CITY: (&str, &str) = ("370600000000", "烟台市");
pub(crate) const DISTRICT: (&str, &str) = ("370602000000", "芝罘区");
/// The demo's district as the six-digit region of its residents' ID numbers.
const DISTRICT_REGION: u32 = 370602;
const STREET: (&str, &str) = ("370602004000", "岐山街道");
const COMMUNITY_NAME: &str = "塔山社区";
/// Central Yantai, where Zhifu's old neighbourhoods are.
const CENTRE: (f64, f64) = (37.530, 121.390);
const SEED: u64 = 0x7461_7368_616e; // "tashan"

/// What [`load_demo`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSummary {
    pub community_code: String,
    pub community_name: String,
    pub grids: usize,
    pub buildings: usize,
    pub households: usize,
    pub residents: usize,
    pub organisations: usize,
    /// Items of the demand ledger: a year of history and the open ones.
    pub demands: usize,
    /// Home visits over the year.
    pub visits: usize,
    /// Door-to-door campaigns: two finished, one running.
    pub campaigns: usize,
    /// Instructions from the street over four months.
    pub instructions: usize,
    /// Members of the Party organisations (the community's own and in-service).
    pub party_members: usize,
    /// Their service records over the year.
    pub party_service: usize,
}

/// Loads the Tashan demo into an empty database (the caller checks emptiness; an
/// existing city, district or street of the same code is reused). Deterministic:
/// every run writes the same names, ID numbers, phones and households (record ids
/// differ, being time-ordered UUIDs). One transaction: all or nothing.
pub async fn load_demo(db: &Db) -> anyhow::Result<DemoSummary> {
    let catalogue = tags::ensure_standard(db).await?;
    let tag_ids = TagIds::from_catalogue(&catalogue)?;
    let tag = |code: &str| catalogue.iter().find(|t| t.code == code).map(|t| t.id.clone()).unwrap_or_default();
    let (elderly_alone, disabled, low_income) = (tag("elderly_alone"), tag("disabled"), tag("low_income"));
    let mut cache = AreaCache::default();
    for code in [CITY.0, DISTRICT.0, STREET.0] {
        cache.learn(db, code).await?;
    }
    anyhow::ensure!(
        cache.learn(db, DEMO_COMMUNITY_CODE).await?.is_none(),
        "the demo community {DEMO_COMMUNITY_CODE} is already loaded"
    );

    let mut areas = Vec::new();
    let city = cache.ensure(AreaLevel::City, CITY.0, CITY.1, None, &mut areas)?;
    let district = cache.ensure(AreaLevel::District, DISTRICT.0, DISTRICT.1, Some(&city), &mut areas)?;
    let street = cache.ensure(AreaLevel::Street, STREET.0, STREET.1, Some(&district), &mut areas)?;
    let mut community = plan(AreaLevel::Community, DEMO_COMMUNITY_CODE, COMMUNITY_NAME, Some(&street))?;
    let mut grids = plan_grids(&community, "塔山", TASHAN.grids)?;
    crate::community::set_boundaries(&mut community, &mut grids, CENTRE);

    let address_prefix = format!("{}{}{COMMUNITY_NAME}", DISTRICT.1, STREET.1);
    let place =
        Place { community: &community, grids: &grids, address_prefix: &address_prefix, stem: "塔山", centre: CENTRE };
    let mut ids = IdBook::new(IdOwnership::demo(DISTRICT_REGION));
    // Serial 0 of the phone ranges; generated communities take 1, 2, …
    let mut books = Books { ids: &mut ids, phones: PhoneBook::for_community(0), tag_ids: &tag_ids };
    let mut rng = Rng::with_seed(SEED);
    let rows = build_rows(&mut rng, &TASHAN, &place, &mut books)?;
    let setting = Setting {
        grids: &grids,
        buildings: &rows.buildings,
        households: &rows.households,
        residents: &rows.residents,
        organisations: &rows.organisations,
        posts: &rows.posts,
    };
    let past = history(&mut rng, &setting, now_millis());
    let property_staff: Vec<String> = rows
        .posts
        .iter()
        .filter(|p| p.post == wangge_domain::TeamPost::Property)
        .filter_map(|p| p.person_name.clone())
        .collect();
    let (categories, calendar) = (demands::categories(db).await?, demands::calendar(db).await?);
    let care = CareTags { elderly_alone: &elderly_alone, monthly: [&disabled, &low_income] };
    let today = time::OffsetDateTime::now_utc().to_offset(wangge_domain::demands::CHINA).date();
    let visits = crate::visits::history(&mut rng, &grids, &rows.households, &rows.residents, &rows.posts, &care, today);
    // A generator of its own, so that adding the Party year changed nothing drawn after it.
    let party = crate::party::year(
        &mut Rng::with_seed(SEED ^ 0x0070_6172_7479),
        &crate::party::Setting {
            community: &community,
            grids: &grids,
            residents: &rows.residents,
            organisations: &rows.organisations,
            posts: &rows.posts,
        },
        today,
    );
    let summary = DemoSummary {
        community_code: community.code.clone(),
        community_name: community.name.clone(),
        grids: grids.len(),
        buildings: rows.buildings.len(),
        households: rows.households.len(),
        residents: rows.residents.len(),
        organisations: rows.organisations.len(),
        demands: past.len(),
        visits: visits.len(),
        campaigns: 0,
        instructions: 0,
        party_members: party.members.len(),
        party_service: party.service.len(),
    };
    areas.push(community);
    areas.extend(grids);
    let ready = Ready::new(&db.vault, areas, rows);
    let mut tx = db.pool.begin().await?;
    write_rows(&mut tx, &db.vault, &ready).await?;
    demands::history::record_history(&mut tx, &db.vault, &categories, &calendar, &past).await?;
    wangge_store::visits::record_past(&mut tx, &db.vault, &visits).await?;
    wangge_store::party::past::record(&mut tx, &db.vault, &party).await?;
    tx.commit().await?;
    let departments = demo_units(db, &mut rng, &property_staff).await?;
    crate::visits::after_rounds(db, &mut rng, &visits, &ready.rows.residents, &elderly_alone, today).await?;
    let campaigns = crate::campaigns::demo(db, &mut rng, DEMO_COMMUNITY_CODE, today).await?;
    let instructions = crate::instructions::demo(db, &mut rng, DEMO_COMMUNITY_CODE, today).await?;
    crate::party_joint::demo(db, &mut rng, DEMO_COMMUNITY_CODE, today).await?;
    crate::activities::demo(db, &mut Rng::with_seed(SEED ^ 0x0061_6374), DEMO_COMMUNITY_CODE, today).await?;
    crate::surveys::demo(db, DEMO_COMMUNITY_CODE, today).await?;
    crate::notices::demo(db, DEMO_COMMUNITY_CODE, today).await?;
    crate::ventures::demo(db, DEMO_COMMUNITY_CODE, today).await?;
    Ok(DemoSummary { organisations: summary.organisations + departments, campaigns, instructions, ..summary })
}

/// The community's departments (社区综治办, 城建环卫办, 民政办, 党群服务中心) as
/// organisations handling demands (`store::units`, role `handler_department`), each
/// with two members without accounts, and the community's organisations in the roles
/// the modules give them — the property company with its grid property staff as
/// members. Returns how many departments it added.
async fn demo_units(db: &Db, rng: &mut Rng, property_staff: &[String]) -> anyhow::Result<usize> {
    use wangge_domain::{Gender, OrganisationKind as Kind, UnitRole};
    use wangge_store::registry::{areas, organisations};
    use wangge_store::units::{self, NewMember};
    const DEPARTMENTS: [(&str, &str); 4] = [
        ("塔山社区综治办", "矛盾调解、平安建设"),
        ("塔山社区城建环卫办", "环境卫生、市政设施"),
        ("塔山社区民政办", "低保、养老、助残"),
        ("塔山社区党群服务中心", "接待、回访"),
    ];
    let community = areas::get_by_code(db, DEMO_COMMUNITY_CODE).await?;
    let office_grid = areas::children(db, &community.id).await?.into_iter().next();
    let office_grid = office_grid.ok_or_else(|| anyhow::anyhow!("the demo community has no grid"))?;
    let filter = organisations::OrganisationFilter { under_path: Some(community.path.clone()), ..Default::default() };
    let page = wangge_store::PageRequest { page: 1, per_page: 500 };
    let existing = organisations::list(db, &filter, page).await?.items;
    for (i, org) in existing.iter().enumerate() {
        let roles: &[UnitRole] = match org.kind {
            Kind::PropertyCompany => &[UnitRole::PropertyCompany],
            Kind::SocialOrganisation => &[UnitRole::SocialOrganisation],
            Kind::GovernmentUnit => &[UnitRole::HandlerDepartment, UnitRole::Stationed, UnitRole::PartyRegistered],
            _ if i % 2 == 0 => &[UnitRole::Stationed, UnitRole::PartyRegistered],
            _ => &[UnitRole::Stationed],
        };
        for role in roles {
            units::hold(db, &org.id, *role, &community.id).await?;
        }
        if let Some(contact) = org.contact_name.clone() {
            units::join(db, &org.id, NewMember { account_id: None, name: contact, duty: "联络员".into() }).await?;
        }
        if org.kind == Kind::PropertyCompany {
            for name in property_staff {
                let member = NewMember { account_id: None, name: name.clone(), duty: "网格物业专员".into() };
                units::join(db, &org.id, member).await?;
            }
        }
    }
    for (name, duty) in DEPARTMENTS {
        let new = organisations::NewOrganisation {
            grid_id: office_grid.id.clone(),
            name: name.into(),
            kind: Kind::GovernmentUnit,
            address: Some("塔山社区党群服务中心".into()),
            contact_name: None,
            phone: None,
        };
        let department = organisations::create(db, new).await?;
        units::hold(db, &department.id, UnitRole::HandlerDepartment, &community.id).await?;
        if duty.contains("回访") {
            // The service centre calls reporters back (回访组): its people may see
            // a reporter's phone for the community's items.
            units::hold(db, &department.id, UnitRole::CallBack, &community.id).await?;
        }
        for head in [true, false] {
            let gender = if rng.bool() { Gender::Male } else { Gender::Female };
            let surname = crate::names::SURNAMES.pick(rng);
            let born = rng.i32(1970..=1995);
            let person = crate::names::full_name(rng, surname, born, gender);
            let duty = if head { format!("负责人（{duty}）") } else { duty.to_owned() };
            units::join(db, &department.id, NewMember { account_id: None, name: person, duty }).await?;
        }
    }
    // Residents' reports go straight to their building's grid member; property
    // matters to the property company; the hotline on the grids' public face.
    use wangge_store::demands::routing::{self, CommunitySettings, Route};
    let settings = CommunitySettings { auto_dispatch: true, hotline: Some("0535-6223456".into()) };
    routing::set_settings(db, &community.id, &settings).await?;
    routing::set_route(db, "property", wangge_domain::Level::Community, Some(Route::Unit(UnitRole::PropertyCompany)))
        .await?;
    // Each grid leader's duty phone, shown on the grid's public face with their
    // recorded consent.
    for (i, grid) in areas::children(db, &community.id).await?.iter().enumerate() {
        sqlx::query(
            "UPDATE grid_posts SET duty_phone = $1, duty_phone_consent_at = $2 WHERE grid_id = $3 AND post = 'leader'",
        )
        .bind(format!("0535-62234{:02}", 60 + i))
        .bind(wangge_domain::now_millis())
        .bind(&grid.id)
        .execute(&db.pool)
        .await?;
    }
    Ok(DEPARTMENTS.len())
}
