//! What every staff page shares around its content: the language, who is logged in,
//! the CSRF token for forms, the navigation by module (only the modules the role may
//! use) and, for people with several scopes, the scope switcher.

use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;
use wangge_domain::{Action, Role};

use super::render::{Lang, tr};
use crate::shared::auth::Principal;

#[derive(Serialize)]
struct NavItem {
    id: &'static str,
    href: &'static str,
    label: String,
    current: bool,
}

#[derive(Serialize)]
struct ScopeLink {
    href: String,
    name: String,
}

/// The modules of the staff side, each with the action that opens it.
const MODULES: [(&str, &str, &str, Action); 18] = [
    ("nav-cockpit", "/cockpit", "nav.cockpit", Action::ViewFigures),
    ("nav-today", "/today", "nav.today", Action::HandleDemand),
    ("nav-registry", "/registry", "nav.registry", Action::ViewFigures),
    ("nav-demands", "/demands", "nav.demands", Action::ViewDemands),
    ("nav-visits", "/visits", "nav.visits", Action::VisitHouseholds),
    ("nav-campaigns", "/campaigns", "nav.campaigns", Action::ViewCampaigns),
    ("nav-instructions", "/instructions", "nav.instructions", Action::ViewInstructions),
    ("nav-party", "/party", "nav.party", Action::ViewParty),
    ("nav-notice-board", "/notices", "nav.notice_board", Action::WriteNotices),
    ("nav-surveys", "/surveys", "nav.surveys", Action::RunSurveys),
    ("nav-activities", "/activities", "nav.activities", Action::RunActivities),
    ("nav-ventures", "/ventures", "nav.ventures", Action::RunVentures),
    ("nav-residents", "/registry/residents", "nav.residents", Action::ViewRegistry),
    ("nav-import", "/registry/import", "nav.import", Action::EditRegistry),
    ("nav-signups", "/registry/signups", "nav.signups", Action::EditRegistry),
    ("nav-accounts", "/admin/accounts", "nav.accounts", Action::ManageAccounts),
    ("nav-categories", "/demands/categories", "nav.categories", Action::ManageCategories),
    ("nav-audit", "/audit", "nav.audit", Action::ViewAudit),
];

/// The shared part of a page's context; `current` is the href of the module the
/// page belongs to. Merge it with `context! { ..frame(&p, lang, "/registry"), … }`.
pub fn frame(p: &Principal, lang: Lang, current: &str) -> Value {
    let mut nav: Vec<NavItem> = if p.role == Role::Resident {
        Vec::new()
    } else {
        MODULES
            .iter()
            .filter(|(.., action)| p.role.may(*action))
            .map(|&(id, href, key, _)| NavItem { id, href, label: tr(key, lang.code), current: href == current })
            .collect()
    };
    if nav.is_empty() && p.role.may(Action::SubmitDemand) && p.role != Role::Resident {
        // Building heads and volunteers report problems, nothing else.
        let label = tr("demands.new", lang.code);
        nav.push(NavItem { id: "nav-report", href: "/demands/new", label, current: current == "/demands" });
        let label = tr("nav.reported", lang.code);
        nav.push(NavItem { id: "nav-reported", href: "/reported", label, current: current == "/reported" });
    }
    let scopes: Vec<ScopeLink> = if p.scopes.len() > 1 {
        p.scopes
            .iter()
            .map(|s| ScopeLink { href: format!("/registry/areas/{}", s.area_id), name: s.name.clone() })
            .collect()
    } else {
        Vec::new()
    };
    context! {
        lang => lang.code,
        user => p.actor_name(),
        notices_current => current == "/notifications",
        csrf => p.csrf_token.clone().unwrap_or_default(),
        nav => Value::from(Serde(&nav)),
        scopes => Value::from(Serde(&scopes)),
    }
}
