//! The permission matrix: which role may do what. Scope (where) is checked apart
//! from this, against the hierarchy path of the record; this table says only what.
//!
//! It is the one place the rules live: the web layer maps every route to an
//! [`Action`] and asks [`Role::may`]; docs/security.md shows the same table, and a
//! test keeps the two equal.

use crate::Role;

/// Everything a route can do, named by what it touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The hierarchy: areas, grids and their posts.
    ViewAreas,
    ManageAreas,
    /// Figures (counts) of an area: what officials above the community see.
    ViewFigures,
    ViewBuildings,
    EditBuildings,
    /// Residents by name, households, organisations, history.
    /// Residents and households with names and room numbers hidden: what officials
    /// above the community may see of the roll without a grant.
    ViewPseudonymised,
    /// Take time-limited access to names under an area, for a stated reason
    /// ("break the glass"); the grant turns the pseudonymised view into the real one.
    RequestAccess,
    ViewRegistry,
    EditRegistry,
    /// Show one ID card number or phone in full, with a stated reason.
    RevealPersonal,
    /// Download a community's whole ledger with full ID numbers and phones (audited).
    ExportRegistry,
    ManageTags,
    ManageAccounts,
    ViewAudit,
    /// Bring a demand in (a resident's report, a call taken, an instruction from above).
    SubmitDemand,
    /// The demand ledger and each item's timeline.
    ViewDemands,
    /// Work on an item: accept, start, note progress, report done, verify, escalate,
    /// answer a consultation.
    HandleDemand,
    /// Decide what happens to an item: dispatch, reject, merge, hand back, close.
    DispatchDemand,
    /// Rate a closed item: the resident, or staff recording a call-back (回访).
    RateDemand,
    /// The catalogue of demand categories and the holiday calendar.
    ManageCategories,
    /// Outgoing webhooks and their delivery log.
    ManageWebhooks,
}

impl Action {
    pub const ALL: [Action; 21] = [
        Action::ViewAreas,
        Action::ManageAreas,
        Action::ViewFigures,
        Action::ViewBuildings,
        Action::EditBuildings,
        Action::ViewPseudonymised,
        Action::RequestAccess,
        Action::ViewRegistry,
        Action::EditRegistry,
        Action::RevealPersonal,
        Action::ExportRegistry,
        Action::ManageTags,
        Action::ManageAccounts,
        Action::ViewAudit,
        Action::SubmitDemand,
        Action::ViewDemands,
        Action::HandleDemand,
        Action::DispatchDemand,
        Action::RateDemand,
        Action::ManageCategories,
        Action::ManageWebhooks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ViewAreas => "view_areas",
            Action::ManageAreas => "manage_areas",
            Action::ViewFigures => "view_figures",
            Action::ViewBuildings => "view_buildings",
            Action::EditBuildings => "edit_buildings",
            Action::ViewPseudonymised => "view_pseudonymised",
            Action::RequestAccess => "request_access",
            Action::ViewRegistry => "view_registry",
            Action::EditRegistry => "edit_registry",
            Action::RevealPersonal => "reveal_personal",
            Action::ExportRegistry => "export_registry",
            Action::ManageTags => "manage_tags",
            Action::ManageAccounts => "manage_accounts",
            Action::ViewAudit => "view_audit",
            Action::SubmitDemand => "submit_demand",
            Action::ViewDemands => "view_demands",
            Action::HandleDemand => "handle_demand",
            Action::DispatchDemand => "dispatch_demand",
            Action::RateDemand => "rate_demand",
            Action::ManageCategories => "manage_categories",
            Action::ManageWebhooks => "manage_webhooks",
        }
    }
}

impl Role {
    /// Whether this role may take `action` at all (within its scope).
    pub fn may(self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        // Whoever may see names may see the pseudonymised view too.
        if action == ViewPseudonymised && self.may(ViewRegistry) {
            return true;
        }
        match self {
            // Administers the platform; reads no one's personal data.
            PlatformAdmin => matches!(
                action,
                ViewAreas
                    | ManageAreas
                    | ViewFigures
                    | ViewBuildings
                    | ManageTags
                    | ManageAccounts
                    | ViewAudit
                    | ManageCategories
                    | ManageWebhooks
            ),
            // Above the community: figures, not names — unless they break the glass.
            // Instructions come from every level; items escalated to a street or a
            // district are worked there (their reporters stay hidden, see the API).
            CityOfficial => {
                matches!(
                    action,
                    ViewAreas | ViewFigures | ViewPseudonymised | RequestAccess | SubmitDemand | ViewDemands
                )
            }
            DistrictOfficial | StreetOfficial => matches!(
                action,
                ViewAreas
                    | ViewFigures
                    | ViewPseudonymised
                    | RequestAccess
                    | SubmitDemand
                    | ViewDemands
                    | HandleDemand
                    | DispatchDemand
            ),
            PartySecretary => matches!(action, ViewAreas | ViewFigures),
            // Secretaries may break the glass for a family in the next community.
            CommunitySecretary => {
                !matches!(action, ManageAreas | ManageTags | ManageAccounts | ManageCategories | ManageWebhooks)
            }
            CommunityStaff => !matches!(
                action,
                ManageAreas
                    | ManageTags
                    | ManageAccounts
                    | ViewAudit
                    | RequestAccess
                    | ManageCategories
                    | ManageWebhooks
            ),
            // Grid leaders dispatch within their grid ("small matters stay in the grid").
            GridLeader => matches!(
                action,
                ViewAreas
                    | ViewFigures
                    | ViewBuildings
                    | EditBuildings
                    | ViewRegistry
                    | EditRegistry
                    | RevealPersonal
                    | SubmitDemand
                    | ViewDemands
                    | HandleDemand
                    | DispatchDemand
                    | RateDemand
            ),
            GridMember => matches!(
                action,
                ViewAreas
                    | ViewFigures
                    | ViewBuildings
                    | EditBuildings
                    | ViewRegistry
                    | EditRegistry
                    | RevealPersonal
                    | SubmitDemand
                    | ViewDemands
                    | HandleDemand
                    | RateDemand
            ),
            // The auxiliary network reports problems; it knows its buildings, not the roll.
            Auxiliary => matches!(action, ViewAreas | ViewBuildings | SubmitDemand),
            // Residents reach only their own household and their own demands, through the portal.
            Resident => matches!(action, SubmitDemand | RateDemand),
        }
    }
}

/// The matrix as a Markdown table, for docs/security.md.
pub fn matrix_markdown() -> String {
    use crate::Vocabulary;
    let mut out = String::from("| role |");
    for action in Action::ALL {
        out.push_str(&format!(" {} |", action.as_str()));
    }
    out.push_str("\n| --- |");
    out.push_str(&" :-: |".repeat(Action::ALL.len()));
    out.push('\n');
    for &role in Role::all() {
        out.push_str(&format!("| {} ({}) |", role.code(), role.label_zh()));
        for action in Action::ALL {
            out.push_str(if role.may(action) { " ✓ |" } else { " |" });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn officials_see_figures_not_names() {
        for role in [Role::CityOfficial, Role::DistrictOfficial, Role::StreetOfficial] {
            assert!(role.may(Action::ViewFigures));
            assert!(!role.may(Action::ViewRegistry));
            assert!(!role.may(Action::RevealPersonal));
        }
        assert!(!Role::PlatformAdmin.may(Action::ViewRegistry), "administrators do not read the roll");
        assert!(Role::GridMember.may(Action::RevealPersonal));
        assert!(Role::StreetOfficial.may(Action::ViewPseudonymised) && Role::StreetOfficial.may(Action::RequestAccess));
        assert!(Role::GridMember.may(Action::ViewPseudonymised), "names imply the pseudonymised view");
        assert!(!Role::Resident.may(Action::ViewAreas));
    }

    #[test]
    fn the_documented_matrix_is_the_enforced_one() {
        let doc = include_str!("../../../docs/security.md");
        assert!(
            doc.contains(&matrix_markdown()),
            "docs/security.md must contain the permission matrix exactly as `wangge_domain::matrix_markdown()` prints it:\n{}",
            matrix_markdown()
        );
    }
}
