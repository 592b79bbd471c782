//! The grid team (网格队伍, module 7): the roster of each grid's "1 + X + N" —
//! keeping it (add, edit, end a post) and reading it. The store side is
//! `wangge_store::team`; the templates are `templates/team/`, the strings
//! `locales/team.yml`. The JSON read is `GET /api/v1/areas/{id}/posts` (registry).

pub(crate) mod import;
pub(crate) mod pages;
pub(crate) mod public;
pub(crate) mod units;

use wangge_domain::Action;

use crate::shared::auth::Principal;

/// Whether `p` keeps the team of the grid at `grid_path` (and so sees its private
/// phones): the right role, and the grid inside their own scope (not only a grant).
pub(crate) fn manages(p: &Principal, grid_path: &str) -> bool {
    p.role.may(Action::ManageTeam) && p.can_change(grid_path)
}

/// Every route of the grid team.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    pages::routes().merge(units::routes())
}
