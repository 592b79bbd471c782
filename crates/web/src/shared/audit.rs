//! Writing the audit log from handlers.

use serde::Serialize;
use wangge_domain::{AuditAction, Vocabulary};
use wangge_store::audit::{self, Entry};
use wangge_store::{Db, StoreResult};

use crate::shared::auth::{ClientAddress, Principal};

/// One audited event, filled in by the handler that caused it:
/// `Event { target_id: Some(id), ..Event::of(AuditAction::TokenRevoke) }`.
pub struct Event<'a> {
    pub action: AuditAction,
    pub target_kind: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub path: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub outcome: &'a str,
}

impl Event<'_> {
    /// An event of kind `action`, about nothing in particular yet, done (`ok`).
    pub fn of(action: AuditAction) -> Self {
        Event {
            action,
            target_kind: None,
            target_id: None,
            path: None,
            reason: None,
            before: None,
            after: None,
            outcome: "",
        }
    }
}

pub fn json(value: &impl Serialize) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// Records `event` as done by `who` (or by an anonymous caller naming itself).
pub async fn log(
    db: &Db,
    who: Option<&Principal>,
    actor_name: Option<&str>,
    address: &ClientAddress,
    event: Event<'_>,
) -> StoreResult<()> {
    audit::record(db, entry(who, actor_name, address, event)).await
}

/// The entry [`log`] writes, for a store function that writes it in its own
/// transaction.
pub fn entry(who: Option<&Principal>, actor_name: Option<&str>, address: &ClientAddress, event: Event<'_>) -> Entry {
    Entry {
        actor_id: who.map(|p| p.actor_id().to_owned()),
        actor_name: who
            .map(Principal::actor_name)
            .or(actor_name.map(str::to_owned))
            .unwrap_or_else(|| "anonymous".into()),
        address: Some(address.0.clone()),
        action: event.action.code().to_owned(),
        target_kind: event.target_kind.map(str::to_owned),
        target_id: event.target_id.map(str::to_owned),
        path: event.path.map(str::to_owned),
        reason: event.reason.map(str::to_owned),
        before: event.before,
        after: event.after,
        outcome: if event.outcome.is_empty() { "ok".into() } else { event.outcome.to_owned() },
        ..Default::default()
    }
}

/// The record a change is about: its kind, id, and where it lies.
pub struct Target<'a>(pub &'a str, pub &'a str, pub &'a str);

/// Records a change to a registry record with its state before and after.
pub async fn change<T: Serialize>(
    db: &Db,
    (who, address): (&Principal, &ClientAddress),
    action: AuditAction,
    Target(kind, id, path): Target<'_>,
    before: Option<&T>,
    after: &T,
) -> StoreResult<()> {
    let event = Event {
        target_kind: Some(kind),
        target_id: Some(id),
        path: Some(path),
        before: before.and_then(json),
        after: json(after),
        ..Event::of(action)
    };
    log(db, Some(who), None, address, event).await
}
