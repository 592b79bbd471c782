//! Micro venture capital (微创投, issue 25): the community runs a call
//! (`/ventures`), takes applications on its template, types in each named judge's
//! score sheet, publishes the ranking with grades and amounts, grants, records
//! spending (over the grant only with a recorded decision) and the mid-term and
//! final evaluations. The public notice and library are `/ventures/public/{code}`;
//! residents rate finished projects on the portal (`/portal/ventures`). The rules
//! are `wangge_store::ventures` and `wangge_domain::ventures`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;
use wangge_domain::ventures::{ApplicationState, CallState, Criterion, Stage, Weight, parse_yuan, yuan};
use wangge_domain::{AreaLevel, AuditAction, Role, Vocabulary, msg, now_millis};
use wangge_store::registry::areas;
use wangge_store::ventures::{self, Application, Call, NewApplication, NewCall, NewSpending};
use wangge_store::{StoreError, Thing};

use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::render::{Lang, frame, label, local_time, render};
use crate::{ApiError, AppState};

type Pairs = Vec<(String, String)>;

fn field<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
}

fn money(pairs: &Pairs, name: &'static str) -> Result<i64, ApiError> {
    parse_yuan(field(pairs, name)).ok_or_else(|| ApiError::invalid(msg!("ventures.error.money").field(name)))
}

async fn call_in_scope(s: &AppState, p: &Principal, id: &str) -> Result<Call, ApiError> {
    p.refer(ventures::get_call(&s.db, id).await, Thing::VentureCall, id, |c| &c.path)
}

async fn application_in_scope(s: &AppState, p: &Principal, id: &str) -> Result<(Application, Call), ApiError> {
    let x = p.refer(ventures::application(&s.db, id).await, Thing::VentureApplication, id, |x| &x.path)?;
    let call = ventures::get_call(&s.db, &x.call_id).await?;
    Ok((x, call))
}

#[derive(Serialize)]
struct CallRow {
    id: String,
    title: String,
    community: String,
    state: &'static str,
    budget: String,
    given: String,
    applications: i64,
    closes_on: String,
}

fn call_row(c: &Call, lang: Lang) -> CallRow {
    CallRow {
        id: c.id.clone(),
        title: c.title.clone(),
        community: c.community_name.clone(),
        state: label(c.state, lang),
        budget: yuan(c.budget_fen),
        given: yuan(c.given_fen),
        applications: c.applications,
        closes_on: c.closes_on.clone(),
    }
}

/// The calls of the caller's communities, and a form to open one.
pub async fn list(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    list_page(&s, &p, lang, &Pairs::new(), None, StatusCode::OK).await
}

async fn list_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    given: &Pairs,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let mut rows = Vec::new();
    let mut communities = Vec::new();
    for scope in &p.scopes {
        rows.extend(ventures::calls_under(&s.db, &scope.path).await?.iter().map(|c| call_row(c, lang)));
        let area = areas::get_by_path(&s.db, &scope.path).await?;
        if area.level == AreaLevel::Community {
            communities.push((area.id, area.name));
        }
    }
    let weights: Vec<(&str, &str, String)> = wangge_domain::ventures::default_weights()
        .iter()
        .map(|w| {
            let code = w.criterion.code();
            let value =
                given.iter().find(|(k, _)| k == &format!("w_{code}")).map_or(w.percent.to_string(), |(_, v)| v.clone());
            (code, label(w.criterion, lang), value)
        })
        .collect();
    let given: std::collections::BTreeMap<String, String> = ["title", "intro", "budget", "closes_on", "community_id"]
        .iter()
        .map(|k| ((*k).to_owned(), field(given, k).to_owned()))
        .collect();
    let ctx = context! {
        rows => Value::from(Serde(&rows)), communities => communities, weights => weights, given => given,
        error => error, ..frame(p, lang, "/ventures")
    };
    Ok(render(lang, status, "ventures/list.html", ctx))
}

/// The weights as typed (`w_<criterion>`, percent).
fn weights_of(pairs: &Pairs) -> Result<Vec<Weight>, ApiError> {
    Criterion::all()
        .iter()
        .map(|c| {
            let name = format!("w_{}", c.code());
            let percent = field(pairs, &name)
                .parse()
                .map_err(|_| ApiError::invalid(msg!("ventures.error.weights").field("weights")))?;
            Ok(Weight { criterion: *c, percent })
        })
        .collect()
}

/// Opens a call in one of the caller's communities.
pub async fn create(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let area_id = field(&pairs, "community_id").to_owned();
    let area = p.refer(areas::get(&s.db, &area_id).await, Thing::Area, &area_id, |a| &a.path)?;
    let result = async {
        let new = NewCall {
            community_id: area.id.clone(),
            title: field(&pairs, "title").to_owned(),
            intro: field(&pairs, "intro").to_owned(),
            budget_fen: money(&pairs, "budget")?,
            closes_on: field(&pairs, "closes_on").to_owned(),
            weights: Some(weights_of(&pairs)?),
        };
        let c = ventures::create_call(&s.db, new, &p.actor_name(), now_millis()).await?;
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::VentureCall,
            Target("venture_call", &c.id, &c.path),
            None,
            &c.title,
        )
        .await?;
        Ok::<_, ApiError>(c)
    }
    .await;
    match result {
        Ok(c) => Ok(Redirect::to(&format!("/ventures/{}", c.id)).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            list_page(&s, &p, lang, &pairs, Some(e.said(lang.code)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Serialize)]
struct AppRow {
    id: String,
    title: String,
    applicant: String,
    state: &'static str,
    requested: String,
    score: Option<String>,
    rank: Option<i64>,
    grade: Option<&'static str>,
    amount: String,
    spent: String,
    judges: i64,
}

fn app_row(x: &Application, lang: Lang) -> AppRow {
    AppRow {
        id: x.id.clone(),
        title: x.title.clone(),
        applicant: x.applicant.clone(),
        state: label(x.state, lang),
        requested: yuan(x.requested_fen),
        score: x.score_tenths.map(|t| format!("{}.{}", t / 10, t % 10)),
        rank: x.rank,
        grade: x.grade.map(|g| label(g, lang)),
        amount: yuan(x.amount_fen),
        spent: yuan(x.spent_fen),
        judges: x.judges,
    }
}

/// A call: its budget and criteria, the applications (ranked once published), a
/// form for a new application while open, and the step to the next state.
pub async fn page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let c = call_in_scope(&s, &p, &id).await?;
    call_page(&s, &p, lang, &c, None, StatusCode::OK).await
}

async fn call_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    c: &Call,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let rows: Vec<AppRow> = ventures::applications(&s.db, &c.id).await?.iter().map(|x| app_row(x, lang)).collect();
    let weights: Vec<(&str, i64)> = c.weights.iter().map(|w| (label(w.criterion, lang), w.percent)).collect();
    let next = match c.state {
        CallState::Open => Some(label(CallState::Review, lang)),
        CallState::Review => Some(label(CallState::Published, lang)),
        CallState::Published => Some(label(CallState::Closed, lang)),
        CallState::Closed => None,
    };
    let code = areas::get(&s.db, &c.community_id).await?.code;
    // The community's registered social organisations, any of which may apply.
    let filter = wangge_store::registry::organisations::OrganisationFilter {
        under_path: Some(c.path.clone()),
        kind: Some(wangge_domain::OrganisationKind::SocialOrganisation),
        q: None,
    };
    let units: Vec<(String, String)> =
        wangge_store::registry::organisations::list(&s.db, &filter, wangge_store::PageRequest::new(Some(1), Some(200)))
            .await?
            .items
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
    let ctx = context! {
        units => units,
        c => Value::from(Serde(&call_row(c, lang))), call => Value::from(Serde(c)), rows => Value::from(Serde(&rows)),
        weights => weights, next => next, open => c.state == CallState::Open, error => error,
        public => format!("/ventures/public/{code}"), intro => &c.intro,
        ..frame(p, lang, "/ventures")
    };
    Ok(render(lang, status, "ventures/call.html", ctx))
}

async fn call_answer(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    c: &Call,
    result: Result<(), ApiError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/ventures/{}", c.id)).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let c = ventures::get_call(&s.db, &c.id).await?;
            call_page(s, p, lang, &c, Some(e.said(lang.code)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

/// An application on the template, typed in from the form the group handed in.
pub async fn apply(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let c = call_in_scope(&s, &p, &id).await?;
    let result = async {
        let unit_id = match field(&pairs, "unit_id") {
            "" => None,
            u => {
                let o =
                    p.refer(wangge_store::registry::organisations::get(&s.db, u).await, Thing::Organisation, u, |o| {
                        &o.path
                    })?;
                Some(o.id)
            }
        };
        let new = NewApplication {
            unit_id,
            applicant: field(&pairs, "applicant").to_owned(),
            contact: field(&pairs, "contact").to_owned(),
            title: field(&pairs, "title").to_owned(),
            need: field(&pairs, "need").to_owned(),
            plan: field(&pairs, "plan").to_owned(),
            requested_fen: money(&pairs, "requested")?,
        };
        let x = ventures::apply(&s.db, &c.id, new, now_millis()).await?;
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::VentureApplication,
            Target("venture_call", &c.id, &c.path),
            None,
            &x.title,
        )
        .await?;
        Ok(())
    }
    .await;
    call_answer(&s, &p, lang, &c, result).await
}

/// Moves the call on (review; published with the ranking; closed).
pub async fn advance(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let c = call_in_scope(&s, &p, &id).await?;
    let result = async {
        let after = ventures::advance(&s.db, &c.id, now_millis()).await?;
        let summary = serde_json::json!({ "from": c.state, "to": after.state, "given_fen": after.given_fen });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::VentureCall,
            Target("venture_call", &c.id, &c.path),
            None,
            &summary,
        )
        .await?;
        Ok(())
    }
    .await;
    call_answer(&s, &p, lang, &c, result).await
}

/// An application: the template, the judges' score sheets and the form for
/// another, the grant, spending, evaluations.
pub async fn application(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (x, c) = application_in_scope(&s, &p, &id).await?;
    application_page(&s, &p, lang, &x, &c, None, StatusCode::OK).await
}

#[derive(Serialize)]
struct Sheet {
    judge: String,
    scores: Vec<i64>,
    total: String,
}

async fn application_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    x: &Application,
    c: &Call,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let criteria: Vec<(&str, &str, i64)> =
        c.weights.iter().map(|w| (w.criterion.code(), label(w.criterion, lang), w.percent)).collect();
    let sheets: Vec<Sheet> = ventures::scores(&s.db, &x.id)
        .await?
        .into_iter()
        .map(|j| Sheet {
            scores: j.scores.iter().map(|(_, n)| *n).collect(),
            total: format!("{}.{}", j.total / 10, j.total % 10),
            judge: j.judge,
        })
        .collect();
    let spending: Vec<_> = ventures::spending(&s.db, &x.id)
        .await?
        .into_iter()
        .map(|sp| context! { on => sp.spent_on, amount => yuan(sp.amount_fen), what => sp.what, decision => sp.decision, by => sp.by_name })
        .collect();
    let evaluations: Vec<_> = ventures::evaluations(&s.db, &x.id)
        .await?
        .into_iter()
        .map(|e| context! { stage => label(e.stage, lang), score => e.score, text => e.text, by => e.by_name, at => local_time(e.at) })
        .collect();
    let stage = match x.state {
        ApplicationState::Granted => Some((Stage::Midterm.code(), label(Stage::Midterm, lang))),
        ApplicationState::Midterm => Some((Stage::Final.code(), label(Stage::Final, lang))),
        _ => None,
    };
    let photos = ventures::photos(&s.db, &x.id).await?;
    let ctx = context! {
        photos => Value::from(Serde(&photos)),
        x => Value::from(Serde(x)), row => Value::from(Serde(&app_row(x, lang))), c => Value::from(Serde(&call_row(c, lang))),
        criteria => criteria, sheets => Value::from(Serde(&sheets)), spending => spending, evaluations => evaluations,
        review => c.state == CallState::Review, funded => x.state == ApplicationState::Funded,
        spends => matches!(x.state, ApplicationState::Granted | ApplicationState::Midterm),
        left => yuan(x.amount_fen - x.spent_fen), stage => stage, error => error,
        ..frame(p, lang, "/ventures")
    };
    Ok(render(lang, status, "ventures/application.html", ctx))
}

async fn app_answer(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    x: &Application,
    result: Result<(), ApiError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/ventures/applications/{}", x.id)).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let x = ventures::application(&s.db, &x.id).await?;
            let c = ventures::get_call(&s.db, &x.call_id).await?;
            application_page(s, p, lang, &x, &c, Some(e.said(lang.code)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

/// A judge's score sheet: the judge's name and 0–10 for each criterion (`s_<code>`,
/// none preset).
pub async fn score(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let (x, c) = application_in_scope(&s, &p, &id).await?;
    let result = async {
        let mut given = Vec::new();
        for w in &c.weights {
            let name = format!("s_{}", w.criterion.code());
            if let Ok(n) = field(&pairs, &name).parse::<i64>() {
                given.push((w.criterion, n));
            }
        }
        let sheet = ventures::score(&s.db, &x.id, field(&pairs, "judge"), &given, now_millis()).await?;
        let summary = serde_json::json!({ "judge": sheet.judge, "total_tenths": sheet.total });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::VentureScore,
            Target("venture_application", &x.id, &x.path),
            None,
            &summary,
        )
        .await?;
        Ok(())
    }
    .await;
    app_answer(&s, &p, lang, &x, result).await
}

/// The agreement signed and the money paid.
pub async fn grant(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (x, _) = application_in_scope(&s, &p, &id).await?;
    let result = async {
        let g = ventures::grant(&s.db, &x.id, now_millis()).await?;
        let summary = serde_json::json!({ "amount_fen": g.amount_fen });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::VentureGrant,
            Target("venture_application", &x.id, &x.path),
            None,
            &summary,
        )
        .await?;
        Ok(())
    }
    .await;
    app_answer(&s, &p, lang, &x, result).await
}

/// Spending: a day, an amount in yuan, what it bought, and — to go over the grant
/// — the decision that allowed it.
pub async fn spend(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let (x, _) = application_in_scope(&s, &p, &id).await?;
    let result = async {
        let new = NewSpending {
            spent_on: field(&pairs, "spent_on").to_owned(),
            amount_fen: money(&pairs, "amount")?,
            what: field(&pairs, "what").to_owned(),
            decision: Some(field(&pairs, "decision").to_owned()),
        };
        let sp = ventures::spend(&s.db, &x.id, new, &p.actor_name(), now_millis()).await?;
        let summary = serde_json::json!({ "amount_fen": sp.amount_fen, "decision": sp.decision });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::VentureSpend,
            Target("venture_application", &x.id, &x.path),
            None,
            &summary,
        )
        .await?;
        Ok(())
    }
    .await;
    app_answer(&s, &p, lang, &x, result).await
}

/// The mid-term or final evaluation: a score 0–100 and what was found.
pub async fn evaluate(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let (x, _) = application_in_scope(&s, &p, &id).await?;
    let result = async {
        let stage = Stage::from_code(field(&pairs, "stage"))
            .ok_or_else(|| ApiError::invalid(msg!("ventures.error.stage_choice").field("stage")))?;
        let score = field(&pairs, "score")
            .parse()
            .map_err(|_| ApiError::invalid(msg!("ventures.error.evaluation_score").field("score")))?;
        let after =
            ventures::evaluate(&s.db, &x.id, stage, score, field(&pairs, "text"), &p.actor_name(), now_millis())
                .await?;
        let summary = serde_json::json!({ "stage": stage, "score": score, "state": after.state });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::VentureEvaluate,
            Target("venture_application", &x.id, &x.path),
            None,
            &summary,
        )
        .await?;
        Ok(())
    }
    .await;
    app_answer(&s, &p, lang, &x, result).await
}

/// Adds a photo of the project with its caption (multipart: `caption`, `photo`).
pub async fn add_photo(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let (x, _) = application_in_scope(&s, &p, &id).await?;
    let result = async {
        let max = wangge_store::demands::attachments::MAX_BYTES;
        let parts = crate::shared::multipart::read(request, &(), max).await?;
        let caption = field(&parts.pairs, "caption").to_owned();
        let Some(data) = parts.files.into_iter().find(|f| f.field == "photo").and_then(|f| f.data) else {
            return Err(ApiError::invalid(msg!("ventures.error.no_photo").field("photo")));
        };
        let photo = ventures::add_photo(&s.db, &x.id, &caption, &data, &p.actor_name(), now_millis()).await?;
        let summary = serde_json::json!({ "photo": photo.id, "caption": photo.caption });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::VentureSpend,
            Target("venture_application", &x.id, &x.path),
            None,
            &summary,
        )
        .await?;
        Ok(())
    }
    .await;
    app_answer(&s, &p, lang, &x, result).await
}

/// A project's photo, to staff who see the project.
pub async fn photo(State(s): State<AppState>, p: Principal, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (photo, data) = ventures::photo(&s.db, &id).await?;
    application_in_scope(&s, &p, &photo.application_id).await.map_err(|_| unknown(Thing::VenturePhoto, &id))?;
    Ok(crate::shared::api::private_file(&photo.content_type, "inline", data))
}

/// A finished project's photo, to the residents of its community on the portal.
pub async fn portal_photo(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let refused = || unknown(Thing::VenturePhoto, &id);
    let Some(home) = crate::portal::pages::home_of(&s, &p).await? else { return Err(refused()) };
    let (photo, data) = ventures::photo(&s.db, &id).await.map_err(|_| refused())?;
    let x = ventures::application(&s.db, &photo.application_id).await?;
    if !home.path.starts_with(&x.path) || x.state != ApplicationState::Finished {
        return Err(refused());
    }
    Ok(crate::shared::api::private_file(&photo.content_type, "inline", data))
}

#[derive(Serialize)]
struct Shelf {
    id: String,
    title: String,
    applicant: String,
    call: String,
    amount: String,
    spent: String,
    result: String,
    ratings: i64,
    mean: Option<String>,
    mine: Option<i64>,
    photos: Vec<ventures::Photo>,
}

async fn shelf(s: &AppState, path: &str, account: Option<&str>) -> Result<Vec<Shelf>, ApiError> {
    let mut out = Vec::new();
    for f in ventures::library(&s.db, path, account).await? {
        // Photos go to the residents on the portal, not to the open page.
        let photos = if account.is_some() { ventures::photos(&s.db, &f.application.id).await? } else { Vec::new() };
        out.push(Shelf {
            photos,
            id: f.application.id,
            title: f.application.title,
            applicant: f.application.applicant,
            call: f.call_title,
            amount: yuan(f.application.amount_fen),
            spent: yuan(f.application.spent_fen),
            result: f.application.result,
            ratings: f.ratings,
            mean: f.mean_tenths.map(|t| format!("{}.{}", t / 10, t % 10)),
            mine: f.mine,
        });
    }
    Ok(out)
}

/// The public notice of the published calls (ranks, grades, amounts) and the
/// library of finished projects with their results and residents' ratings, for a
/// community (or a grid's community), without logging in.
pub async fn public(State(s): State<AppState>, lang: Lang, Path(code): Path<String>) -> Result<Response, ApiError> {
    let area = areas::get_by_code(&s.db, &code).await.map_err(|_| unknown(Thing::Area, &code))?;
    let community = match area.level {
        AreaLevel::Community => area,
        AreaLevel::Grid => areas::get(&s.db, area.parent_id.as_deref().unwrap_or_default()).await?,
        _ => return Err(unknown(Thing::Area, &code)),
    };
    let mut notices = Vec::new();
    for c in ventures::calls_under(&s.db, &community.path).await? {
        if matches!(c.state, CallState::Published | CallState::Closed) {
            let rows: Vec<AppRow> =
                ventures::applications(&s.db, &c.id).await?.iter().map(|x| app_row(x, lang)).collect();
            notices.push(context! { c => Value::from(Serde(&call_row(&c, lang))), rows => Value::from(Serde(&rows)) });
        }
    }
    let ctx = context! {
        lang => lang.code, community => community.name, notices => notices,
        shelf => Value::from(Serde(&shelf(&s, &community.path, None).await?)),
    };
    Ok(render(lang, StatusCode::OK, "ventures/public.html", ctx))
}

/// The community's finished projects on the portal, each with one's own rating
/// or the question (nothing chosen beforehand).
pub async fn portal(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    portal_page(&s, &p, lang, None, StatusCode::OK).await
}

async fn portal_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    if p.role != Role::Resident {
        return Ok(Redirect::to(crate::shared::render::home_of(p.role)).into_response());
    }
    let rows = match crate::portal::pages::home_of(s, p).await? {
        // The community's: the household's path down to its community.
        Some(home) => {
            let community = areas::get_by_path(&s.db, &home.path).await?;
            let community = match community.level {
                AreaLevel::Community => community,
                _ => areas::get(&s.db, community.parent_id.as_deref().unwrap_or_default()).await?,
            };
            shelf(s, &community.path, Some(&home.account)).await?
        }
        None => Vec::new(),
    };
    let ctx = context! {
        rows => Value::from(Serde(&rows)), scores => crate::portal::pages::scores(lang), error => error,
        ..crate::portal::pages::portal_ctx(p, lang)
    };
    Ok(render(lang, status, "ventures/portal.html", ctx))
}

/// A resident's rating of a finished project of their community.
pub async fn portal_rate(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let Some(home) = crate::portal::pages::home_of(&s, &p).await? else {
        return Err(unknown(Thing::VentureApplication, &id));
    };
    let x = ventures::application(&s.db, &id).await.map_err(|_| unknown(Thing::VentureApplication, &id))?;
    if !home.path.starts_with(&x.path) {
        return Err(unknown(Thing::VentureApplication, &id));
    }
    let account = home.account.as_str();
    let score = field(&pairs, "score").parse().ok();
    match ventures::rate(&s.db, &x.id, account, score, field(&pairs, "comment"), now_millis()).await {
        Ok(()) => {
            let summary = serde_json::json!({ "score": score });
            audit::change(
                &s.db,
                (&p, &address),
                AuditAction::VentureRate,
                Target("venture_application", &x.id, &x.path),
                None,
                &summary,
            )
            .await?;
            Ok(Redirect::to("/portal/ventures").into_response())
        }
        Err(StoreError::Conflict(m) | StoreError::Invalid(m)) => {
            portal_page(&s, &p, lang, Some(crate::shared::render::say(&m, lang.code)), StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/ventures", Role(RunVentures), list)
        .post("/ventures", Role(RunVentures), create)
        .get("/ventures/{id}", Role(RunVentures), page)
        .post("/ventures/{id}/applications", Role(RunVentures), apply)
        .post("/ventures/{id}/advance", Role(RunVentures), advance)
        .get("/ventures/applications/{id}", Role(RunVentures), application)
        .post("/ventures/applications/{id}/scores", Role(RunVentures), score)
        .post("/ventures/applications/{id}/grant", Role(RunVentures), grant)
        .post("/ventures/applications/{id}/spending", Role(RunVentures), spend)
        .post("/ventures/applications/{id}/evaluation", Role(RunVentures), evaluate)
        .post_limited(
            "/ventures/applications/{id}/photos",
            Role(RunVentures),
            crate::shared::routes::Limit::Upload,
            add_photo,
        )
        .get("/ventures/photos/{id}", Role(RunVentures), photo)
        // The public notice and library: anyone, by a community's (or grid's) code.
        .get("/ventures/public/{code}", Public, public)
        // A resident's own community's finished projects.
        .get("/portal/ventures", Authenticated, portal)
        .post("/portal/ventures/{id}/rate", Authenticated, portal_rate)
        .get("/portal/venture-photos/{id}", Authenticated, portal_photo)
}
