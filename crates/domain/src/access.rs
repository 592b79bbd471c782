//! The permission matrix: which role may do what. Scope (where) is checked apart
//! from this, against the hierarchy path of the record; this table says only what.
//!
//! It is the one place the rules live: the web layer maps every route to an
//! [`Action`] and asks [`Role::may`]; docs/security.md shows the same table, and a
//! test keeps the two equal.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::vocab::vocabulary;
use crate::{Role, Vocabulary};

vocabulary!(
    /// Everything a route can do, named by what it touches. A new module adds its
    /// actions here; no role holds one until a line of [`Role::may`] grants it and the
    /// reviewed table in this file's tests agrees.
    Action, "action" {
    /// The hierarchy: areas, grids and their posts.
    ViewAreas = "view_areas", "查看区域", "View areas", [];
    ManageAreas = "manage_areas", "管理区域", "Manage areas", [];
    /// Keep a grid's team roster (add, edit, end a post) and see its private phones;
    /// everyone who may see areas sees the team's names and posts.
    ManageTeam = "manage_team", "管理网格队伍", "Manage the grid team", [];
    /// Figures (counts) of an area: what officials above the community see.
    ViewFigures = "view_figures", "查看统计", "View figures", [];
    ViewBuildings = "view_buildings", "查看楼栋", "View buildings", [];
    EditBuildings = "edit_buildings", "编辑楼栋", "Edit buildings", [];
    /// Residents and households with names and room numbers hidden: what officials
    /// above the community may see of the roll without a grant.
    ViewPseudonymised = "view_pseudonymised", "查看匿名台账", "View the roll pseudonymised", [];
    /// Take time-limited access to names under an area, for a stated reason
    /// ("break the glass"); the grant turns the pseudonymised view into the real one.
    RequestAccess = "request_access", "申请临时查看", "Request access", [];
    /// Residents by name, households, organisations, history.
    ViewRegistry = "view_registry", "查看台账", "View the registry", [];
    EditRegistry = "edit_registry", "编辑台账", "Edit the registry", [];
    /// Show one ID card number or phone in full, with a stated reason.
    RevealPersonal = "reveal_personal", "查看完整证件号或电话", "Reveal a number", [];
    /// Download a community's whole ledger with full ID numbers and phones (audited).
    ExportRegistry = "export_registry", "导出台账", "Export the registry", [];
    ManageTags = "manage_tags", "管理标签", "Manage tags", [];
    ManageAccounts = "manage_accounts", "管理账号", "Manage accounts", [];
    ViewAudit = "view_audit", "查看审计日志", "View the audit log", [];
    /// Bring a demand in (a resident's report, a call taken, an instruction from above).
    SubmitDemand = "submit_demand", "提交诉求", "Submit a demand", [];
    /// The demand ledger and each item's timeline.
    ViewDemands = "view_demands", "查看诉求", "View demands", [];
    /// Work on an item: accept, start, note progress, report done, verify, escalate,
    /// answer a consultation.
    HandleDemand = "handle_demand", "办理诉求", "Handle a demand", [];
    /// Decide what happens to an item: dispatch, reject, merge, hand back, close.
    DispatchDemand = "dispatch_demand", "派遣诉求", "Dispatch a demand", [];
    /// Rate a closed item: the resident, or staff recording a call-back (回访).
    RateDemand = "rate_demand", "评价诉求", "Rate a demand", [];
    /// The catalogue of demand categories and the holiday calendar.
    ManageCategories = "manage_categories", "管理诉求分类", "Manage categories", [];
    /// Outgoing webhooks and their delivery log.
    ManageWebhooks = "manage_webhooks", "管理推送", "Manage webhooks", [];
    /// Home visits: the due list, recording a visit, a household's visits and what
    /// was found (sensitive: only inside the community).
    VisitHouseholds = "visit_households", "入户走访", "Visit households", [];
    /// Help a resident of the scope back in when they forgot their password: find
    /// their account, confirm having seen them or their ID card, issue a one-time code.
    HelpSignIn = "help_sign_in", "协助居民找回密码", "Help a resident sign in again", [];
    /// A community's visiting cadences, cold and heat spells, a subject's suspended
    /// or shortened cadence, and how long a visit stays editable.
    ManageVisits = "manage_visits", "管理走访频次", "Manage visiting cadences", [];
    /// Door-to-door campaigns (排查): start one over a community or a subtree, change
    /// its form, follow its progress per grid, export its results. Answering a
    /// target at the door is [`Action::VisitHouseholds`].
    RunCampaigns = "run_campaigns", "组织排查", "Run campaigns", [];
    /// See the campaigns touching one's area and their progress (a grid member their
    /// grid's part, an official the whole campaign in counts).
    ViewCampaigns = "view_campaigns", "查看排查", "View campaigns", [];
    /// Instructions (指令): send one from one's area to the areas below it, review
    /// the reports (return with a reason, or accept and lock).
    SendInstructions = "send_instructions", "下发指令", "Send instructions", [];
    /// See the instructions sent from or to one's area, confirm receipt and report
    /// back for one's own area, pass an instruction further down.
    ViewInstructions = "view_instructions", "接收指令", "Receive instructions", [];
    /// The Party registry of one's area: organisations, members (ID numbers and
    /// phones masked), units, registrations, the needs list, service records and
    /// the units' feedback reports.
    ViewParty = "view_party", "查看党建", "View Party building", [];
    /// Keep the Party registry: organisations, members (and reveal a member's ID
    /// number or phone, audited), units, the needs list, the community's Party
    /// settings and point rules.
    ManageParty = "manage_party", "管理党建", "Manage Party building", [];
    /// Confirm or refuse the registrations (双报到) of units and in-service members,
    /// and register them at the counter.
    RunRegistration = "run_registration", "办理双报到", "Run double registration", [];
    /// Confirm or reject members' service records (the grid member or the organiser).
    ConfirmService = "confirm_service", "确认党员服务", "Confirm service records", [];
    /// A registered member's own: claim needs of the community's list and record
    /// one's own service (with photos).
    ServeParty = "serve_party", "党员认领服务", "Claim needs and record one's service", [];
    /// Notices (通知公告): write one for one's area, change a draft, submit it for
    /// review, see who has read it and who has not read an important one.
    WriteNotices = "write_notices", "撰写通知", "Write notices", [];
    /// Review notices: publish (at once or at a set time), return, withdraw.
    PublishNotices = "publish_notices", "审核发布通知", "Review and publish notices", [];
    /// Surveys (问卷): build one, open and close it, set quotas, read and export the
    /// results. Entering an answer at the door or from paper is
    /// [`Action::VisitHouseholds`].
    RunSurveys = "run_surveys", "组织问卷调查", "Run surveys", [];
    /// Activities (社区活动): announce one in one's community or grid, sign residents
    /// up on their behalf, check people in and out at the door, read the sign-ups
    /// and the answers afterwards.
    RunActivities = "run_activities", "组织社区活动", "Run activities", [];
    /// Micro venture capital (微创投): open a call, take applications, type in the
    /// judges' score sheets, publish the ranking, grant, record spending and
    /// evaluations.
    RunVentures = "run_ventures", "组织微创投", "Run micro venture capital", [];
});

impl Role {
    /// Whether this role may take `action` at all (within its scope).
    ///
    /// Every role is an allow-list: an action nobody lists here is refused to
    /// everyone, so a new module's actions are closed until granted on purpose.
    pub fn may(self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        let allowed: &[Action] = match self {
            // Administers the platform; reads no one's personal data.
            PlatformAdmin => &[
                ViewAreas,
                ManageAreas,
                ViewFigures,
                ViewBuildings,
                ManageTags,
                ManageAccounts,
                ViewAudit,
                ManageCategories,
                ManageWebhooks,
            ],
            // Above the community: figures, not names — unless they break the glass.
            // Instructions come from every level.
            CityOfficial => &[
                ViewAreas,
                ViewFigures,
                ViewPseudonymised,
                RequestAccess,
                SubmitDemand,
                ViewDemands,
                SendInstructions,
                ViewInstructions,
            ],
            // Items escalated to a street or a district are worked there (their
            // reporters stay hidden, see the API).
            DistrictOfficial | StreetOfficial => &[
                ViewAreas,
                ViewFigures,
                ViewPseudonymised,
                RequestAccess,
                SubmitDemand,
                ViewDemands,
                HandleDemand,
                DispatchDemand,
                RunCampaigns,
                ViewCampaigns,
                SendInstructions,
                ViewInstructions,
            ],
            // The Party organisation secretary keeps the Party registry of their area.
            PartySecretary => &[ViewAreas, ViewFigures, ViewParty, ManageParty, RunRegistration, ConfirmService],
            // The whole community; secretaries may break the glass for a family in the
            // next community and read their community's audit entries.
            CommunitySecretary => &[
                ViewAreas,
                ManageTeam,
                ViewFigures,
                ViewBuildings,
                EditBuildings,
                ViewPseudonymised,
                RequestAccess,
                ViewRegistry,
                EditRegistry,
                RevealPersonal,
                ExportRegistry,
                ViewAudit,
                SubmitDemand,
                ViewDemands,
                HandleDemand,
                DispatchDemand,
                RateDemand,
                VisitHouseholds,
                HelpSignIn,
                ManageVisits,
                RunCampaigns,
                ViewCampaigns,
                SendInstructions,
                ViewInstructions,
                ViewParty,
                ManageParty,
                RunRegistration,
                ConfirmService,
                WriteNotices,
                PublishNotices,
                RunSurveys,
                RunActivities,
                RunVentures,
            ],
            CommunityStaff => &[
                ViewAreas,
                ManageTeam,
                ViewFigures,
                ViewBuildings,
                EditBuildings,
                ViewPseudonymised,
                ViewRegistry,
                EditRegistry,
                RevealPersonal,
                ExportRegistry,
                SubmitDemand,
                ViewDemands,
                HandleDemand,
                DispatchDemand,
                RateDemand,
                VisitHouseholds,
                HelpSignIn,
                ManageVisits,
                RunCampaigns,
                ViewCampaigns,
                SendInstructions,
                ViewInstructions,
                ViewParty,
                RunRegistration,
                ConfirmService,
                WriteNotices,
                PublishNotices,
                RunSurveys,
                RunActivities,
                RunVentures,
            ],
            // Grid leaders dispatch within their grid ("small matters stay in the grid").
            GridLeader => &[
                ViewAreas,
                ManageTeam,
                ViewFigures,
                ViewBuildings,
                EditBuildings,
                ViewPseudonymised,
                ViewRegistry,
                EditRegistry,
                RevealPersonal,
                SubmitDemand,
                ViewDemands,
                HandleDemand,
                DispatchDemand,
                RateDemand,
                VisitHouseholds,
                HelpSignIn,
                ViewCampaigns,
                ViewInstructions,
                ViewParty,
                ConfirmService,
                WriteNotices,
                PublishNotices,
                RunSurveys,
                RunActivities,
            ],
            GridMember => &[
                ViewAreas,
                ViewFigures,
                ViewBuildings,
                EditBuildings,
                ViewPseudonymised,
                ViewRegistry,
                EditRegistry,
                RevealPersonal,
                SubmitDemand,
                ViewDemands,
                HandleDemand,
                RateDemand,
                VisitHouseholds,
                HelpSignIn,
                ViewCampaigns,
                ViewInstructions,
                ViewParty,
                ConfirmService,
                WriteNotices,
                RunActivities,
            ],
            // The auxiliary network reports problems; it knows its buildings, not the roll.
            Auxiliary => &[ViewAreas, ViewBuildings, SubmitDemand],
            // Residents reach only their own household and their own demands, through the portal.
            // A resident who is a registered Party member claims needs and records
            // their own service (the pages check the account is a member's).
            Resident => &[SubmitDemand, RateDemand, ServeParty],
        };
        allowed.contains(&action)
    }
}

/// The matrix as a Markdown table, for docs/security.md.
pub fn matrix_markdown() -> String {
    let mut out = String::from("| role |");
    for action in Action::all() {
        out.push_str(&format!(" {} |", action.code()));
    }
    out.push_str("\n| --- |");
    out.push_str(&" :-: |".repeat(Action::all().len()));
    out.push('\n');
    for &role in Role::all() {
        out.push_str(&format!("| {} ({}) |", role.code(), role.label_zh()));
        for &action in Action::all() {
            out.push_str(if role.may(action) { " ✓ |" } else { " |" });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grants, reviewed by hand: one row per action, the roles that hold it.
    /// Written out rather than computed from [`Role::may`], so that a wrong grant (or a
    /// new action nobody has decided on) fails here instead of checking itself.
    /// Change a row only together with `Role::may`, after deciding the grant is right.
    const REVIEWED: &[(Action, &[Role])] = {
        use Action::*;
        use Role::*;
        const COMMUNITY_AND_GRID: &[Role] = &[CommunitySecretary, CommunityStaff, GridLeader, GridMember];
        &[
            (
                ViewAreas,
                &[
                    PlatformAdmin,
                    CityOfficial,
                    DistrictOfficial,
                    StreetOfficial,
                    CommunitySecretary,
                    CommunityStaff,
                    GridLeader,
                    GridMember,
                    Auxiliary,
                    PartySecretary,
                ],
            ),
            (ManageAreas, &[PlatformAdmin]),
            (ManageTeam, &[CommunitySecretary, CommunityStaff, GridLeader]),
            (
                ViewFigures,
                &[
                    PlatformAdmin,
                    CityOfficial,
                    DistrictOfficial,
                    StreetOfficial,
                    CommunitySecretary,
                    CommunityStaff,
                    GridLeader,
                    GridMember,
                    PartySecretary,
                ],
            ),
            (ViewBuildings, &[PlatformAdmin, CommunitySecretary, CommunityStaff, GridLeader, GridMember, Auxiliary]),
            (EditBuildings, COMMUNITY_AND_GRID),
            (
                ViewPseudonymised,
                &[
                    CityOfficial,
                    DistrictOfficial,
                    StreetOfficial,
                    CommunitySecretary,
                    CommunityStaff,
                    GridLeader,
                    GridMember,
                ],
            ),
            (RequestAccess, &[CityOfficial, DistrictOfficial, StreetOfficial, CommunitySecretary]),
            (ViewRegistry, COMMUNITY_AND_GRID),
            (EditRegistry, COMMUNITY_AND_GRID),
            (RevealPersonal, COMMUNITY_AND_GRID),
            (ExportRegistry, &[CommunitySecretary, CommunityStaff]),
            (ManageTags, &[PlatformAdmin]),
            (ManageAccounts, &[PlatformAdmin]),
            (ViewAudit, &[PlatformAdmin, CommunitySecretary]),
            (
                SubmitDemand,
                &[
                    CityOfficial,
                    DistrictOfficial,
                    StreetOfficial,
                    CommunitySecretary,
                    CommunityStaff,
                    GridLeader,
                    GridMember,
                    Auxiliary,
                    Resident,
                ],
            ),
            (
                ViewDemands,
                &[
                    CityOfficial,
                    DistrictOfficial,
                    StreetOfficial,
                    CommunitySecretary,
                    CommunityStaff,
                    GridLeader,
                    GridMember,
                ],
            ),
            (
                HandleDemand,
                &[DistrictOfficial, StreetOfficial, CommunitySecretary, CommunityStaff, GridLeader, GridMember],
            ),
            (DispatchDemand, &[DistrictOfficial, StreetOfficial, CommunitySecretary, CommunityStaff, GridLeader]),
            (RateDemand, &[CommunitySecretary, CommunityStaff, GridLeader, GridMember, Resident]),
            (ManageCategories, &[PlatformAdmin]),
            (ManageWebhooks, &[PlatformAdmin]),
            (VisitHouseholds, COMMUNITY_AND_GRID),
            (HelpSignIn, COMMUNITY_AND_GRID),
            (ManageVisits, &[CommunitySecretary, CommunityStaff]),
            (RunCampaigns, &[DistrictOfficial, StreetOfficial, CommunitySecretary, CommunityStaff]),
            (
                ViewCampaigns,
                &[DistrictOfficial, StreetOfficial, CommunitySecretary, CommunityStaff, GridLeader, GridMember],
            ),
            (SendInstructions, &[CityOfficial, DistrictOfficial, StreetOfficial, CommunitySecretary, CommunityStaff]),
            (
                ViewInstructions,
                &[
                    CityOfficial,
                    DistrictOfficial,
                    StreetOfficial,
                    CommunitySecretary,
                    CommunityStaff,
                    GridLeader,
                    GridMember,
                ],
            ),
            (ViewParty, &[CommunitySecretary, CommunityStaff, GridLeader, GridMember, PartySecretary]),
            (ManageParty, &[CommunitySecretary, PartySecretary]),
            (RunRegistration, &[CommunitySecretary, CommunityStaff, PartySecretary]),
            (ConfirmService, &[CommunitySecretary, CommunityStaff, GridLeader, GridMember, PartySecretary]),
            (ServeParty, &[Resident]),
            (WriteNotices, COMMUNITY_AND_GRID),
            (PublishNotices, &[CommunitySecretary, CommunityStaff, GridLeader]),
            (RunSurveys, &[CommunitySecretary, CommunityStaff, GridLeader]),
            (RunActivities, COMMUNITY_AND_GRID),
            (RunVentures, &[CommunitySecretary, CommunityStaff]),
        ]
    };

    #[test]
    fn every_action_is_granted_exactly_as_reviewed() {
        let mut wrong = Vec::new();
        for &action in Action::all() {
            let rows: Vec<_> = REVIEWED.iter().filter(|(a, _)| *a == action).collect();
            let [(_, holders)] = rows.as_slice() else {
                wrong.push(format!("{}: {} reviewed rows, want exactly one", action.code(), rows.len()));
                continue;
            };
            for &role in Role::all() {
                let reviewed = holders.contains(&role);
                if role.may(action) != reviewed {
                    let what = if reviewed { "reviewed as granted but refused" } else { "granted but not reviewed" };
                    wrong.push(format!("{} × {}: {what}", action.code(), role.code()));
                }
            }
        }
        assert!(wrong.is_empty(), "Role::may and the reviewed table disagree:\n{}", wrong.join("\n"));
    }

    #[test]
    fn whoever_sees_names_may_see_the_pseudonymised_view() {
        for &role in Role::all() {
            if role.may(Action::ViewRegistry) {
                assert!(role.may(Action::ViewPseudonymised), "{}", role.code());
            }
        }
    }

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
