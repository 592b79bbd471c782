//! Accounts and security: logging in and out, sessions and API tokens, accounts and
//! their scopes, breaking the glass (grants), residents' sign-ups waiting for their
//! grid member, helping a resident back in with a one-time code (`recovery`), and
//! the audit log — the API and the pages. The guard that enforces
//! every route's rule is shared (`crate::shared::auth`); the templates are
//! `templates/security/`, the strings `locales/security.yml`.

pub(crate) mod api {
    pub(crate) mod accounts;
    pub(crate) mod audit_log;
    pub(crate) mod grants;
    pub(crate) mod session;
}

pub(crate) mod pages {
    pub(crate) mod account;
    pub(crate) mod admin;
    pub(crate) mod login;
    pub(crate) mod recovery;
    pub(crate) mod signups;
}

/// Every route of accounts and security.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    crate::shared::routes::Routes::new()
        .merge(api::session::routes())
        .merge(api::accounts::routes())
        .merge(api::audit_log::routes())
        .merge(api::grants::routes())
        .merge(pages::login::routes())
        .merge(pages::account::routes())
        .merge(pages::signups::routes())
        .merge(pages::recovery::routes())
        .merge(pages::admin::routes())
}
