//! Sends webhooks on demand state changes, in the background, with retries.
//!
//! Three formats: `json` (our own body, signed with HMAC-SHA256 of the body in
//! `X-Wangge-Signature: sha256=<hex>` when a secret is set), and the group-robot
//! markdown messages of WeCom (企业微信) and DingTalk (钉钉; with a secret, the URL
//! carries DingTalk's `timestamp` and `sign`). Each attempt is logged in
//! `webhook_deliveries`; a failed one is retried after 1, 2, 4 and 8 seconds. Sends
//! wait in the database (`webhook_outbox`) between tries, so a restart does not
//! lose them: every server sweeps the outbox each second, and a send is taken by
//! one server at a time (a lease of a minute, so a dead server's sends come back).
//! Bodies carry no reporter's name or phone.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use wangge_domain::{Module, Vocabulary, msg, now_millis};
use wangge_store::Db;
use wangge_store::demands::{Demand, DemandEvent};
use wangge_store::notifications::Notice;
use wangge_store::webhooks::{self, Pending, Target};

/// Tries per event and webhook, the first included.
pub const ATTEMPTS: i64 = 5;

/// How long a server holds a send it is trying (longer than one POST may take).
const LEASE_MS: i64 = 60_000;

/// How often each server looks for sends due again.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Puts the event in the outbox for every active webhook covering the item and
/// tries each at once, without waiting. What fails is tried again by [`run_outbox`]
/// after 1, 2, 4 and 8 seconds, in this server or (after a restart) the next.
/// `public_url` (`shared::site`), when the server has one, makes the item's link.
pub fn fire(db: Db, public_url: Option<&str>, demand: Demand, event: DemandEvent) {
    let link = public_url.map(|base| format!("{base}/demands/{}", demand.id));
    tokio::spawn(async move {
        let targets = match webhooks::targets_for(&db, Module::Demands, &demand.path).await {
            Ok(t) => t,
            Err(e) => return tracing::error!("webhooks for demand {}: {e}", demand.id),
        };
        for target in targets {
            let body = body(&target.format, &demand, &event, link.as_deref()).to_string();
            let name = format!("demand.{}", event.step.code());
            match webhooks::enqueue(&db, &target.id, &demand.id, &event.id, &name, &body).await {
                Ok(id) => {
                    tokio::spawn(try_send(db.clone(), id));
                }
                Err(e) => tracing::error!("queueing webhook {} for demand {}: {e}", target.id, demand.id),
            }
        }
    });
}

/// Puts a notice of any module in the outbox of every active webhook that carries
/// its module and covers its place, and tries each at once, as [`fire`] does. The
/// body names the module, the subject and the message (no personal data: notices
/// say what happened, not who). With a `public_url` the notice's link is whole.
pub fn fire_notice(db: Db, public_url: Option<&str>, mut notice: Notice) {
    if let (Some(base), Some(link)) = (public_url, &notice.link)
        && link.starts_with('/')
    {
        notice.link = Some(format!("{base}{link}"));
    }
    tokio::spawn(async move {
        let targets = match webhooks::targets_for(&db, notice.module, &notice.path).await {
            Ok(t) => t,
            Err(e) => return tracing::error!("webhooks for a {} notice: {e}", notice.module.code()),
        };
        let event_id = wangge_domain::new_id();
        let name = format!("{}.notice", notice.module.code());
        let subject = notice.subject_id.clone().unwrap_or_default();
        for target in targets {
            let body = notice_body(&target.format, &notice, &event_id).to_string();
            match webhooks::enqueue(&db, &target.id, &subject, &event_id, &name, &body).await {
                Ok(id) => {
                    tokio::spawn(try_send(db.clone(), id));
                }
                Err(e) => tracing::error!("queueing webhook {} for a notice: {e}", target.id),
            }
        }
    });
}

/// The body a webhook of `format` receives for a notice.
pub fn notice_body(format: &str, n: &Notice, event_id: &str) -> Value {
    // Chat groups of Chinese offices read Chinese; the JSON body carries the
    // message in both languages for other receivers.
    let zh = crate::shared::render::say(&n.message, "zh-CN");
    let title = format!("{}：{zh}", n.module.label_zh());
    // A chat message links only to a whole address (with a public URL).
    let text = match n.link.as_deref().filter(|l| l.starts_with("http")) {
        Some(link) => format!("**{title}**\n\n[查看]({link})"),
        None => format!("**{title}**"),
    };
    match format {
        "wecom" => json!({"msgtype": "markdown", "markdown": {"content": text}}),
        "dingtalk" => json!({"msgtype": "markdown", "markdown": {"title": title, "text": text}}),
        _ => json!({
            "event": format!("{}.notice", n.module.code()),
            "event_id": event_id,
            "at": now_millis(),
            "notice": {"module": n.module, "subject_id": n.subject_id, "path": n.path, "link": n.link,
                       "message": zh, "message_en": crate::shared::render::say(&n.message, "en")},
        }),
    }
}

/// Tries the outbox's due sends every second, for as long as the server runs and
/// its database is open: a closed pool (a benchmark's server done, a shut-down
/// server) ends the sweep instead of logging an error every second.
pub async fn run_outbox(db: Db) {
    while !db.pool.is_closed() {
        if let Err(e) = sweep(&db).await {
            if db.pool.is_closed() {
                break;
            }
            tracing::error!("webhook outbox: {e}");
        }
        tokio::time::sleep(SWEEP_EVERY).await;
    }
    tracing::debug!("webhook outbox: the database is closed; the sweep ends");
}

/// Tries every send due now; returns how many were tried (by this call).
pub async fn sweep(db: &Db) -> wangge_store::StoreResult<usize> {
    let due = webhooks::due(db, now_millis(), 100).await?;
    let mut tried = 0;
    for id in due {
        tried += usize::from(try_send(db.clone(), id).await);
    }
    Ok(tried)
}

/// One try of the send `id`, if this server can take it; whether it did.
async fn try_send(db: Db, id: String) -> bool {
    let pending = match webhooks::take(&db, &id, now_millis(), LEASE_MS).await {
        Ok(Some(p)) => p,
        Ok(None) => return false,
        Err(e) => {
            tracing::error!("taking webhook send {id}: {e}");
            return false;
        }
    };
    if let Err(e) = deliver(&db, &pending).await {
        tracing::error!("webhook send {id}: {e}");
    }
    true
}

async fn deliver(db: &Db, p: &Pending) -> wangge_store::StoreResult<()> {
    // A webhook deactivated meanwhile gets nothing more.
    let Some(target) = webhooks::target(db, &p.webhook_id).await? else {
        return webhooks::finish(db, &p.id).await;
    };
    let mut record = webhooks::attempt(&target, &p.demand_id, &p.event_id, p.attempt);
    match post(&target, p.event_name.clone(), p.event_id.clone(), p.body.clone()).await {
        Ok(status) => {
            record.status_code = Some(i64::from(status));
            record.delivered = true;
        }
        Err((status, error)) => {
            record.status_code = status.map(i64::from);
            record.error = Some(error);
        }
    }
    webhooks::record_delivery(db, &record).await?;
    if record.delivered || p.attempt >= ATTEMPTS {
        webhooks::finish(db, &p.id).await
    } else {
        let wait = 1_000i64 << (p.attempt - 1);
        webhooks::retry_at(db, &p.id, p.attempt + 1, now_millis() + wait).await
    }
}

/// The body a webhook of `format` receives; `link` is the item's page at the
/// server's public URL, when it has one.
pub fn body(format: &str, d: &Demand, e: &DemandEvent, link: Option<&str>) -> Value {
    // Group chats read Chinese; the words come from the catalogue like every page's.
    use crate::shared::render::{say, tr};
    let title = say(&msg!("webhook.demand_title", status = e.to_status.label_zh(), title = &d.title), "zh-CN");
    let text = say(
        &msg!(
            "webhook.demand_text",
            title = &title,
            step = tr(e.step.key(), "zh-CN"),
            category = &d.category,
            level = d.level.label_zh(),
            status = d.status.label_zh(),
            note = if e.note.is_empty() { "—" } else { &e.note },
            id = &d.id
        ),
        "zh-CN",
    );
    let text = match link {
        Some(link) => format!("{text}\n\n[{}]({link})", tr("webhook.view", "zh-CN")),
        None => text,
    };
    match format {
        "wecom" => json!({"msgtype": "markdown", "markdown": {"content": text}}),
        "dingtalk" => json!({"msgtype": "markdown", "markdown": {"title": title, "text": text}}),
        _ => json!({
            "event": format!("demand.{}", e.step.code()),
            "event_id": e.id,
            "at": e.at,
            "step": {"step": e.step, "from_status": e.from_status, "to_status": e.to_status, "level": e.level,
                     "actor_name": e.actor_name, "note": e.note},
            "demand": {"id": d.id, "path": d.path, "category": d.category, "kind": d.kind, "channel": d.channel,
                       "title": d.title, "status": d.status, "level": d.level, "handler_kind": d.handler_kind,
                       "handler_name": d.handler_name, "due": d.due, "overdue": d.overdue,
                       "created_at": d.created_at, "updated_at": d.updated_at, "link": link},
        }),
    }
}

/// HMAC-SHA256 of `message` under `key`, as lower-case hex.
pub fn sign_hex(key: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// DingTalk's signed URL: `timestamp` and `sign` = base64(HMAC-SHA256(secret,
/// "timestamp\nsecret")), percent-encoded.
fn dingtalk_url(url: &str, secret: &str) -> String {
    let timestamp = now_millis();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{timestamp}\n{secret}").as_bytes());
    let sign = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let encoded: String = sign
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}timestamp={timestamp}&sign={encoded}")
}

/// Posts the overdue digest once to every active webhook covering `path`, each try
/// logged in the deliveries (with `demand_id` "digest"); returns (webhook id, status
/// or error) for each.
pub async fn send_digest(
    db: &Db,
    path: &str,
    digest: &wangge_store::demands::digest::Digest,
) -> wangge_store::StoreResult<Vec<(String, Result<u16, String>)>> {
    let event_id = wangge_domain::new_id();
    let text = digest.markdown();
    let mut out = Vec::new();
    for target in webhooks::targets_for(db, Module::Demands, path).await? {
        let body = match target.format.as_str() {
            "wecom" => json!({"msgtype": "markdown", "markdown": {"content": text}}),
            "dingtalk" => json!({"msgtype": "markdown", "markdown": {"title": "超期预警", "text": text}}),
            _ => json!({"event": "demands.digest", "event_id": event_id, "at": digest.at, "digest": digest}),
        };
        let outcome = post(&target, "demands.digest".into(), event_id.clone(), body.to_string()).await;
        let mut record = webhooks::attempt(&target, "digest", &event_id, 1);
        match &outcome {
            Ok(status) => {
                record.status_code = Some(i64::from(*status));
                record.delivered = true;
            }
            Err((status, error)) => {
                record.status_code = status.map(i64::from);
                record.error = Some(error.clone());
            }
        }
        webhooks::record_delivery(db, &record).await?;
        out.push((target.id.clone(), outcome.map_err(|(_, e)| e)));
    }
    Ok(out)
}

/// One POST of `body`; the status when the receiver took it, else the status (if
/// any) and why not.
async fn post(
    target: &Target,
    event_name: String,
    event_id: String,
    body: String,
) -> Result<u16, (Option<u16>, String)> {
    let url = match (target.format.as_str(), &target.secret) {
        ("dingtalk", Some(secret)) => dingtalk_url(&target.url, secret),
        _ => target.url.clone(),
    };
    let signature = match (target.format.as_str(), &target.secret) {
        ("json", Some(secret)) => Some(format!("sha256={}", sign_hex(secret, body.as_bytes()))),
        _ => None,
    };
    let robot = target.format != "json";
    // ureq blocks: run it off the async workers.
    let outcome = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut request = agent
            .post(&url)
            .header("content-type", "application/json")
            .header("x-wangge-event", &event_name)
            .header("x-wangge-delivery", &event_id);
        if let Some(sig) = &signature {
            request = request.header("x-wangge-signature", sig);
        }
        let mut response = request.send(body).map_err(|e| (None, e.to_string()))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Ok::<_, (Option<u16>, String)>((status, text))
    })
    .await
    .map_err(|e| (None, format!("sending task failed: {e}")))?;
    let (status, text) = outcome?;
    if !(200..300).contains(&status) {
        return Err((Some(status), format!("HTTP {status}: {}", text.chars().take(200).collect::<String>())));
    }
    // The robots answer 200 with {"errcode": n, "errmsg": …}; only 0 is success.
    if robot {
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let code = answer["errcode"].as_i64().unwrap_or(-1);
        if code != 0 {
            return Err((Some(status), format!("robot errcode {code}: {}", answer["errmsg"])));
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_outbox_sweep_ends_when_its_database_closes() {
        let t = wangge_store::testing::sqlite().await;
        let sweep = tokio::spawn(super::run_outbox(t.db.clone()));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!sweep.is_finished(), "it sweeps while the database is open");
        t.db.pool.close().await;
        tokio::time::timeout(std::time::Duration::from_secs(10), sweep).await.expect("the sweep ended").unwrap();
    }

    #[test]
    fn signatures_are_hmac_sha256() {
        // RFC 4231, test case 2.
        let got = super::sign_hex("Jefe", b"what do ya want for nothing?");
        assert_eq!(got, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let url = super::dingtalk_url("https://oapi.dingtalk.com/robot/send?access_token=x", "SEC");
        assert!(url.starts_with("https://oapi.dingtalk.com/robot/send?access_token=x&timestamp="), "{url}");
        assert!(url.contains("&sign="));
    }
}
