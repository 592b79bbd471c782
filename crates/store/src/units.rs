//! Units (单位): organisations of the registry ([`crate::registry::organisations`]) in the roles
//! the modules give them — the department a demand is dispatched to, the property
//! company, the units stationed in the area, those registered for Party work, the
//! social organisations that apply for projects. One organisation is one row
//! whatever roles it holds, so the demand, Party and participation modules speak of
//! the same unit; each role is held over the area the unit serves in it.
//!
//! A unit's people ([`Member`]) receive its notifications when they have an account
//! ([`crate::notifications::Audience::Unit`]). Nobody is deleted: leaving is dated.

use crate::Thing;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wangge_domain::{UnitRole, Vocabulary, msg, new_id, now_millis, text};

use crate::demands::vocab;
use crate::registry::areas;
use crate::registry::organisations::{self, Organisation};
use crate::{Db, StoreError, StoreResult};

/// A role a unit holds, over the area it serves.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Held {
    pub role: UnitRole,
    #[schema(format = Uuid)]
    pub area_id: String,
    pub path: String,
    pub created_at: i64,
}

/// A unit serving a place in a role.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Serving {
    pub organisation: Organisation,
    pub role: UnitRole,
    /// The area it serves in that role.
    pub path: String,
    /// How many current members have an account (and so receive its notifications):
    /// 0 means a dispatch to it reaches nobody in the system.
    pub reachable: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Member {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub organisation_id: String,
    #[schema(format = Uuid)]
    pub account_id: Option<String>,
    pub name: String,
    pub duty: String,
    pub joined_at: i64,
    pub left_at: Option<i64>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewMember {
    /// The member's account, when they have one (then they receive the unit's
    /// notifications).
    #[schema(format = Uuid)]
    pub account_id: Option<String>,
    pub name: String,
    /// What they do for the unit (联络员, 负责人, …).
    #[serde(default)]
    pub duty: String,
}

/// Gives `organisation_id` `role` over `area_id` (or moves the role to that area).
pub async fn hold(db: &Db, organisation_id: &str, role: UnitRole, area_id: &str) -> StoreResult<Held> {
    organisations::get(db, organisation_id).await?;
    let area = areas::get(db, area_id).await?;
    let now = now_millis();
    sqlx::query(
        "INSERT INTO unit_roles (organisation_id, role, area_id, path, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (organisation_id, role) DO UPDATE SET area_id = excluded.area_id, path = excluded.path",
    )
    .bind(organisation_id)
    .bind(role.code())
    .bind(&area.id)
    .bind(&area.path)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(Held { role, area_id: area.id, path: area.path, created_at: now })
}

/// Takes `role` away from the unit; whether it held it.
pub async fn release(db: &Db, organisation_id: &str, role: UnitRole) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM unit_roles WHERE organisation_id = $1 AND role = $2")
        .bind(organisation_id)
        .bind(role.code())
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The roles the unit holds.
pub async fn roles(db: &Db, organisation_id: &str) -> StoreResult<Vec<Held>> {
    let rows =
        sqlx::query("SELECT role, area_id, path, created_at FROM unit_roles WHERE organisation_id = $1 ORDER BY role")
            .bind(organisation_id)
            .fetch_all(&db.pool)
            .await?;
    rows.iter()
        .map(|r| {
            Ok(Held {
                role: vocab(r, "role")?,
                area_id: r.try_get("area_id")?,
                path: r.try_get("path")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// The units holding `role` over an area that covers `path` (a place's path): who a
/// grid's matter can be dispatched to, nearest area first.
pub async fn serving(db: &Db, role: UnitRole, path: &str) -> StoreResult<Vec<Serving>> {
    let rows = sqlx::query(
        "SELECT u.path AS served, o.id, o.grid_id, o.path, o.name, o.kind, o.address, o.contact_name, o.phone,
                o.created_at, o.updated_at,
                (SELECT COUNT(*) FROM unit_members m JOIN accounts a ON a.id = m.account_id
                  WHERE m.organisation_id = o.id AND m.left_at IS NULL AND a.disabled = 0) AS reachable
         FROM unit_roles u JOIN organisations o ON o.id = u.organisation_id
         WHERE u.role = $1 AND substr(CAST($2 AS TEXT), 1, length(u.path)) = u.path
         ORDER BY length(u.path) DESC, o.name",
    )
    .bind(role.code())
    .bind(path)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Serving {
                organisation: organisations::from_row(r)?,
                role,
                path: r.try_get("served")?,
                reachable: r.try_get("reachable")?,
            })
        })
        .collect()
}

fn member_from(r: &AnyRow) -> StoreResult<Member> {
    Ok(Member {
        id: r.try_get("id")?,
        organisation_id: r.try_get("organisation_id")?,
        account_id: r.try_get("account_id")?,
        name: r.try_get("name")?,
        duty: r.try_get("duty")?,
        joined_at: r.try_get("joined_at")?,
        left_at: r.try_get("left_at")?,
    })
}

const MEMBER_COLUMNS: &str = "id, organisation_id, account_id, name, duty, joined_at, left_at";

/// Adds a person to the unit.
pub async fn join(db: &Db, organisation_id: &str, new: NewMember) -> StoreResult<Member> {
    organisations::get(db, organisation_id).await?;
    let name = text::normalize(&new.name);
    if name.is_empty() {
        return Err(StoreError::Invalid(msg!("registry.error.name_empty").field("name")));
    }
    let account_id = new.account_id.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
    if let Some(a) = &account_id {
        crate::security::accounts::get(db, a).await?;
    }
    let member = Member {
        id: new_id(),
        organisation_id: organisation_id.to_owned(),
        account_id,
        name,
        duty: text::normalize(&new.duty),
        joined_at: now_millis(),
        left_at: None,
    };
    sqlx::query(
        "INSERT INTO unit_members (id, organisation_id, account_id, name, duty, joined_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&member.id)
    .bind(&member.organisation_id)
    .bind(&member.account_id)
    .bind(&member.name)
    .bind(&member.duty)
    .bind(member.joined_at)
    .execute(&db.pool)
    .await?;
    Ok(member)
}

/// The member's record.
pub async fn member(db: &Db, id: &str) -> StoreResult<Member> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM unit_members WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    member_from(&row.ok_or_else(|| StoreError::not_found(Thing::UnitMember, id))?)
}

/// Dates the member's leaving; they receive nothing more from the unit.
pub async fn leave(db: &Db, member_id: &str) -> StoreResult<Member> {
    sqlx::query("UPDATE unit_members SET left_at = $1 WHERE id = $2 AND left_at IS NULL")
        .bind(now_millis())
        .bind(member_id)
        .execute(&db.pool)
        .await?;
    member(db, member_id).await
}

/// The unit's current members, by name.
pub async fn members(db: &Db, organisation_id: &str) -> StoreResult<Vec<Member>> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM unit_members WHERE organisation_id = $1 AND left_at IS NULL ORDER BY name"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(organisation_id).fetch_all(&db.pool).await?;
    rows.iter().map(member_from).collect()
}

/// The units holding a role over `area_path` or an area under it (a community's
/// departments, its property company, its call-back desk), by name.
pub async fn in_area(db: &Db, area_path: &str) -> StoreResult<Vec<Organisation>> {
    let (lo, hi) = crate::subtree_bounds(area_path);
    let rows = sqlx::query(
        "SELECT o.id, o.grid_id, o.path, o.name, o.kind, o.address, o.contact_name, o.phone, o.created_at, o.updated_at
         FROM organisations o
         WHERE o.id IN (SELECT organisation_id FROM unit_roles WHERE path >= $1 AND path < $2)
         ORDER BY o.name",
    )
    .bind(lo)
    .bind(hi)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(organisations::from_row).collect()
}

/// The units an account currently belongs to, by name.
pub async fn of_account(db: &Db, account_id: &str) -> StoreResult<Vec<Organisation>> {
    let rows = sqlx::query(
        "SELECT o.id, o.grid_id, o.path, o.name, o.kind, o.address, o.contact_name, o.phone, o.created_at, o.updated_at
         FROM organisations o
         WHERE o.id IN (SELECT organisation_id FROM unit_members WHERE account_id = $1 AND left_at IS NULL)
         ORDER BY o.name",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(organisations::from_row).collect()
}

#[cfg(test)]
mod tests {
    use wangge_domain::{Module, OrganisationKind, Role, UnitRole};

    use super::*;
    use crate::notifications::{self, Audience, Notice};
    use crate::registry::organisations::NewOrganisation;
    use crate::security::accounts::{self, NewAccount};
    use crate::testing::{self, TestDb};

    async fn account(db: &Db, name: &str, role: Role, scope: &str) -> String {
        let new = NewAccount {
            username: name.into(),
            display_name: name.into(),
            role,
            scopes: vec![scope.into()],
            password: "correct horse battery".into(),
        };
        accounts::create(db, new).await.unwrap().id
    }

    fn notice(module: Module, subject: &str, path: &str, message: wangge_domain::Message) -> Notice {
        Notice {
            module,
            subject_id: Some(subject.into()),
            path: path.into(),
            link: Some(format!("/signups/{subject}")),
            message,
        }
    }

    /// A unit in a role serves the places under its area; a notice to it reaches
    /// its current members with an account, and no one who has left.
    #[tokio::test]
    async fn a_unit_serves_its_area_and_its_members_hear_of_it() {
        testing::all_at(async |t: &TestDb| {
            let db = &t.db;
            let h = testing::hierarchy(db).await;
            let new = NewOrganisation {
                grid_id: h.grid.id.clone(),
                name: "芝罘区市政维修所".into(),
                kind: OrganisationKind::GovernmentUnit,
                address: None,
                contact_name: None,
                phone: None,
            };
            let unit = organisations::create(db, new).await.unwrap();
            hold(db, &unit.id, UnitRole::HandlerDepartment, &h.community.id).await.unwrap();
            assert_eq!(roles(db, &unit.id).await.unwrap()[0].path, h.community.path);

            let served = serving(db, UnitRole::HandlerDepartment, &h.building.path).await.unwrap();
            assert_eq!(served.len(), 1);
            assert_eq!((served[0].organisation.id.as_str(), served[0].reachable), (unit.id.as_str(), 0));
            // Not a property company, and not serving the street above its community.
            assert!(serving(db, UnitRole::PropertyCompany, &h.building.path).await.unwrap().is_empty());
            assert!(serving(db, UnitRole::HandlerDepartment, &h.street.path).await.unwrap().is_empty());

            let fitter = account(db, "fitter", Role::Auxiliary, &h.community.id).await;
            let joined = join(
                db,
                &unit.id,
                NewMember { account_id: Some(fitter.clone()), name: "李师傅".into(), duty: "维修工".into() },
            )
            .await
            .unwrap();
            join(db, &unit.id, NewMember { account_id: None, name: "张主任".into(), duty: "负责人".into() })
                .await
                .unwrap();
            assert_eq!(members(db, &unit.id).await.unwrap().len(), 2);
            assert_eq!(serving(db, UnitRole::HandlerDepartment, &h.building.path).await.unwrap()[0].reachable, 1);
            assert_eq!(of_account(db, &fitter).await.unwrap()[0].id, unit.id);

            let to = Audience::Unit(unit.id.clone());
            let n = notice(
                Module::Registry,
                "o1",
                &h.building.path,
                wangge_domain::msg!("notice.text", text = "请核对本单位驻区信息"),
            );
            assert_eq!(notifications::notify(db, &to, &n).await.unwrap(), 1);
            leave(db, &joined.id).await.unwrap();
            assert_eq!(notifications::notify(db, &to, &n).await.unwrap(), 0, "a member who left hears nothing more");
            assert_eq!(notifications::mine(db, &fitter, 10).await.unwrap().len(), 1);
            assert!(members(db, &unit.id).await.unwrap().iter().all(|m| m.name != "李师傅"));
            assert!(release(db, &unit.id, UnitRole::HandlerDepartment).await.unwrap());
            assert!(serving(db, UnitRole::HandlerDepartment, &h.building.path).await.unwrap().is_empty());
        })
        .await;
    }

    /// A notice of another module than demands, to a role over a place: it reaches
    /// the enabled accounts of that role whose scope covers the place, and carries
    /// its module, subject and link instead of an item.
    #[tokio::test]
    async fn a_registry_notice_reaches_the_role_over_the_place() {
        testing::all_at(async |t: &TestDb| {
            let db = &t.db;
            let h = testing::hierarchy(db).await;
            let secretary = account(db, "secretary", Role::CommunitySecretary, &h.community.id).await;
            let mine_grid = account(db, "member1", Role::GridMember, &h.grid.id).await;
            let next_grid = account(db, "member2", Role::GridMember, &h.other_grid.id).await;
            let away = account(db, "member3", Role::GridMember, &h.grid.id).await;
            accounts::set_disabled(db, &away, true).await.unwrap();

            let said = wangge_domain::msg!("notice.signup", building = 3, unit = 1, room = 301, name = "王芳");
            let n = notice(Module::Registry, "s1", &h.household.path, said.clone());
            let to = Audience::Role { role: Role::GridMember, path: h.household.path.clone() };
            assert_eq!(notifications::notify(db, &to, &n).await.unwrap(), 1);
            let got = notifications::mine(db, &mine_grid, 10).await.unwrap();
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].module, Module::Registry);
            assert_eq!((got[0].subject_id.as_deref(), got[0].demand_id.as_deref()), (Some("s1"), None));
            assert_eq!(got[0].link.as_deref(), Some("/signups/s1"));
            assert_eq!(got[0].message, said, "stored as a message, said in each reader's language when read");
            assert!(notifications::mine(db, &next_grid, 10).await.unwrap().is_empty(), "the grid next door");
            assert!(notifications::mine(db, &away, 10).await.unwrap().is_empty(), "a disabled account");
            assert!(notifications::mine(db, &secretary, 10).await.unwrap().is_empty(), "another role");

            let to = Audience::Role { role: Role::CommunitySecretary, path: h.household.path.clone() };
            assert_eq!(notifications::notify(db, &to, &n).await.unwrap(), 1);
            assert_eq!(notifications::unread(db, &secretary).await.unwrap(), 1);
            assert_eq!(notifications::mark_read(db, &secretary).await.unwrap(), 1);
            assert_eq!(notifications::unread(db, &secretary).await.unwrap(), 0);
            // An id that names no account reaches nobody, without an error.
            let nobody = Audience::Account("维修班".into());
            assert_eq!(notifications::notify(db, &nobody, &n).await.unwrap(), 0);
        })
        .await;
    }
}
