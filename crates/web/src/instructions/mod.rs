//! Instructions down, reports up (指令, module 4): the list of what one's area
//! received and sent, sending one to the areas below, an instruction's page (one's
//! own receipt: confirm it, report back, pass it further down; the receivers one
//! reviews side by side, with return and accept and the accepted figures summed),
//! the JSON API and the 今日 section. The rules are
//! `wangge_domain::instructions`, the SQL `wangge_store::instructions`; the
//! templates are `templates/instructions/`, the strings `locales/instructions.yml`.
//!
//! Who does what, fail-closed:
//! - **sends** from an area: someone holding `send_instructions` whose own scope is
//!   that area (a street official from their street, a secretary from their
//!   community), to areas strictly below it;
//! - **acts on a receipt** (confirms, reports, passes down): someone holding
//!   `view_instructions` whose own scope is the receipt's area;
//! - **reviews a receipt** (returns, accepts): someone holding `send_instructions`
//!   whose own scope is the area that addressed it (the sender, or the receiver
//!   that passed it down);
//! - **sees** an instruction: those at or above its sender, and those at or above
//!   one of its receivers — each receipt only if its area is in their scope.

pub(crate) mod api;
pub(crate) mod pages;
pub(crate) mod today;

use wangge_domain::instructions::ReceiptState;
use wangge_domain::{Action, AuditAction, Module, msg};
use wangge_store::Thing;
use wangge_store::instructions::{self, Instruction, NewFile, NewInstruction, Receipt, Step};
use wangge_store::notifications::{Audience, Notice};

use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::{ApiError, AppState};

/// Whether one of the caller's own scopes is exactly the area at `path`.
pub(crate) fn is_own(p: &Principal, path: &str) -> bool {
    p.scopes.iter().any(|sc| sc.path == path)
}

/// The caller's own areas that the list of `path` shows what they received: the
/// scopes at, above or below it (a receipt is addressed to an area itself).
pub(crate) fn own_paths(p: &Principal, path: &str) -> Vec<String> {
    p.scopes
        .iter()
        .filter(|sc| sc.path.starts_with(path) || path.starts_with(&sc.path))
        .map(|sc| sc.path.clone())
        .collect()
}

/// An instruction the caller may see, with the receipts they may see, in the order
/// of the hierarchy. One out of sight answers as an unknown id.
pub(crate) async fn reachable(s: &AppState, p: &Principal, id: &str) -> Result<(Instruction, Vec<Receipt>), ApiError> {
    let i = match instructions::get(&s.db, id).await {
        Ok(i) => i,
        Err(wangge_store::StoreError::NotFound { .. }) => return Err(unknown(Thing::Instruction, id)),
        Err(e) => return Err(e.into()),
    };
    let all = instructions::receipts(&s.db, &i.id).await?;
    let sender_side = p.can_see(&i.path);
    let seen: Vec<Receipt> = all.into_iter().filter(|r| sender_side || p.can_see(&r.path)).collect();
    if !sender_side && seen.is_empty() {
        return Err(unknown(Thing::Instruction, id));
    }
    Ok((i, seen))
}

/// A receipt the caller may see (through its instruction).
pub(crate) async fn receipt_in_sight(
    s: &AppState,
    p: &Principal,
    id: &str,
) -> Result<(Instruction, Receipt, Vec<Receipt>), ApiError> {
    let r = match instructions::receipt(&s.db, id).await {
        Ok(r) => r,
        Err(wangge_store::StoreError::NotFound { .. }) => return Err(unknown(Thing::InstructionReceipt, id)),
        Err(e) => return Err(e.into()),
    };
    let (i, seen) = reachable(s, p, &r.instruction_id).await.map_err(|_| unknown(Thing::InstructionReceipt, id))?;
    let Some(r) = seen.iter().find(|x| x.id == r.id).cloned() else {
        return Err(unknown(Thing::InstructionReceipt, id));
    };
    Ok((i, r, seen))
}

/// Whether the caller reviews receipt `r` of `i`: their own scope is the area
/// that addressed it.
pub(crate) fn reviews(p: &Principal, i: &Instruction, r: &Receipt, seen: &[Receipt]) -> bool {
    if !p.role.may(wangge_domain::Action::SendInstructions) {
        return false;
    }
    match &r.parent_id {
        None => is_own(p, &i.path),
        Some(parent) => seen.iter().any(|x| &x.id == parent && is_own(p, &x.path)),
    }
}

/// Whether the caller acts for receipt `r`: their own scope is its area.
pub(crate) fn acts_for(p: &Principal, r: &Receipt) -> bool {
    p.role.may(wangge_domain::Action::ViewInstructions) && is_own(p, &r.path)
}

/// An area the caller sees (by id), else an unknown area.
async fn area_in_sight(s: &AppState, p: &Principal, id: &str) -> Result<wangge_store::registry::areas::Area, ApiError> {
    match wangge_store::registry::areas::get(&s.db, id).await {
        Ok(a) if p.can_see(&a.path) => Ok(a),
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => Err(unknown(Thing::Area, id)),
        Err(e) => Err(e.into()),
    }
}

/// Leaves a notice for those who act for the area `area_id`.
async fn tell(s: &AppState, area_id: &str, i: &Instruction, message: wangge_domain::Message) -> Result<(), ApiError> {
    let area = wangge_store::registry::areas::get(&s.db, area_id).await?;
    for role in instructions::roles_at(area.level) {
        let notice = Notice {
            module: Module::Instructions,
            subject_id: Some(i.id.clone()),
            path: area.path.clone(),
            link: Some(format!("/instructions/{}", i.id)),
            message: message.clone(),
        };
        crate::notify(&s.db, s.site.public_url(), &Audience::Role { role: *role, path: area.path.clone() }, notice)
            .await?;
    }
    Ok(())
}

/// The one way an instruction is sent, for the page and the API: from one of the
/// caller's own areas, audited, each receiver told.
pub(crate) async fn send(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    new: NewInstruction,
    files: &[NewFile],
) -> Result<Instruction, ApiError> {
    // Every id named is checked against the caller's scope first: one out of sight
    // answers as an unknown id.
    let sender = area_in_sight(s, p, &new.area_id).await?;
    if !p.role.may(Action::SendInstructions) || !is_own(p, &sender.path) {
        return Err(ApiError::forbidden(msg!("instructions.error.not_yours").field("area_id")));
    }
    for r in &new.receivers {
        area_in_sight(s, p, r).await?;
    }
    if let Some(c) = &new.campaign_id {
        crate::campaigns::reachable(s, p, c).await?;
    }
    deliver(s, p, address, new, files).await
}

/// Sends an instruction whose sender and receivers the caller has been checked
/// for (by [`send`], or by a joint meeting's resolution: `party::joint`), audited,
/// each receiver told.
pub(crate) async fn deliver(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    new: NewInstruction,
    files: &[NewFile],
) -> Result<Instruction, ApiError> {
    let i = instructions::send(&s.db, new, files, account_id(p), &p.actor_name(), instructions::today()).await?;
    let receipts = instructions::receipts(&s.db, &i.id).await?;
    let summary = serde_json::json!({
        "title": i.title, "due_on": i.due_on, "receivers": receipts.iter().map(|r| &r.area_name).collect::<Vec<_>>(),
        "table": i.table, "files": files.len(),
    });
    audit::change(
        &s.db,
        (p, address),
        AuditAction::InstructionSend,
        Target("instruction", &i.id, &i.path),
        None,
        &summary,
    )
    .await?;
    for r in &receipts {
        tell(
            s,
            &r.area_id,
            &i,
            msg!("instructions.notice.sent", title = &i.title, from = &i.area_name, due = &i.due_on),
        )
        .await?;
    }
    Ok(i)
}

/// The one way an instruction is passed further down, for the page and the API.
pub(crate) async fn pass_down(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    receipt_id: &str,
    receivers: &[String],
) -> Result<Vec<Receipt>, ApiError> {
    let (i, r, _) = receipt_in_sight(s, p, receipt_id).await?;
    for a in receivers {
        area_in_sight(s, p, a).await?;
    }
    if !acts_for(p, &r) || !p.role.may(Action::SendInstructions) {
        return Err(ApiError::forbidden(msg!("instructions.error.not_yours")));
    }
    let passed = instructions::pass_down(&s.db, &r.id, receivers).await?;
    let summary = serde_json::json!({ "to": passed.iter().map(|x| &x.area_name).collect::<Vec<_>>() });
    audit::change(
        &s.db,
        (p, address),
        AuditAction::InstructionPass,
        Target("instruction_receipt", &r.id, &r.path),
        None,
        &summary,
    )
    .await?;
    for x in &passed {
        tell(
            s,
            &x.area_id,
            &i,
            msg!("instructions.notice.sent", title = &i.title, from = &r.area_name, due = &i.due_on),
        )
        .await?;
    }
    Ok(passed)
}

/// The one way a step is taken on a receipt, for the page and the API: confirming
/// and reporting by the receiver's own people, returning and accepting by the
/// reviewer's; audited (a report without its text), and the other side told.
pub(crate) async fn take(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    receipt_id: &str,
    step: Step,
) -> Result<Receipt, ApiError> {
    let (i, r, seen) = receipt_in_sight(s, p, receipt_id).await?;
    let allowed = match step {
        Step::Read | Step::Report { .. } => acts_for(p, &r),
        Step::Return { .. } | Step::Accept => reviews(p, &i, &r, &seen),
    };
    if !allowed {
        return Err(ApiError::forbidden(msg!("instructions.error.not_yours")));
    }
    let (action, files) = match &step {
        Step::Read => (AuditAction::InstructionRead, 0),
        Step::Report { files, .. } => (AuditAction::InstructionReport, files.len()),
        Step::Return { .. } => (AuditAction::InstructionReturn, 0),
        Step::Accept => (AuditAction::InstructionAccept, 0),
    };
    let reason = match &step {
        Step::Return { reason } => Some(reason.clone()),
        _ => None,
    };
    let after = instructions::step(&s.db, &r.id, step, &p.actor_name()).await?;
    if after.state == r.state && action == AuditAction::InstructionRead {
        return Ok(after); // read again: nothing to record
    }
    let summary = serde_json::json!({
        "from": r.state, "to": after.state, "figures": after.figures, "files": files, "reason": reason,
    });
    audit::change(&s.db, (p, address), action, Target("instruction_receipt", &r.id, &r.path), None, &summary).await?;
    // The other side: the reviewer hears of a report, the receiver of a return or an acceptance.
    let reviewer = match &r.parent_id {
        Some(parent) => seen.iter().find(|x| &x.id == parent).map(|x| x.area_id.clone()),
        None => Some(i.area_id.clone()),
    };
    match after.state {
        ReceiptState::Reported => {
            if let Some(area) = reviewer {
                tell(s, &area, &i, msg!("instructions.notice.reported", title = &i.title, area = &r.area_name)).await?;
            }
        }
        ReceiptState::Returned => {
            let why = after.returned_reason.clone().unwrap_or_default();
            tell(s, &r.area_id, &i, msg!("instructions.notice.returned", title = &i.title, reason = why)).await?;
        }
        ReceiptState::Accepted => {
            tell(s, &r.area_id, &i, msg!("instructions.notice.accepted", title = &i.title)).await?;
        }
        ReceiptState::Sent | ReceiptState::Read => {}
    }
    Ok(after)
}

/// Who acted: an account's id (a token is not an account).
pub(crate) fn account_id(p: &Principal) -> Option<&str> {
    match &p.actor {
        crate::shared::auth::Actor::Account { id, .. } => Some(id),
        crate::shared::auth::Actor::Token { .. } => None,
    }
}

/// How often [`run_reminders`] sweeps: a reminder goes out within the hour.
const REMINDERS_EVERY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Reminders of instructions for as long as the server runs: open receipts the day
/// before they are due and once they are late, each sent once whichever server
/// sweeps (`store::instructions::remind`).
pub async fn run_reminders(db: wangge_store::Db) {
    while !db.pool.is_closed() {
        if let Err(e) = instructions::remind(&db, instructions::today()).await
            && !db.pool.is_closed()
        {
            tracing::error!("instruction reminders: {e}");
        }
        tokio::time::sleep(REMINDERS_EVERY).await;
    }
}

/// Every route of instructions.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    pages::routes().merge(api::routes())
}
