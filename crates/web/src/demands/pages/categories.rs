//! The category catalogue for platform administrators: every category with its
//! level, deadlines, whether it is offered, and whether it is public (Open311 lists
//! its items without a key). One form per category, the same rules as
//! `POST /api/v1/demand-categories` (`demands::save_category`).

use super::*;
use wangge_domain::Level;

#[derive(Serialize)]
struct Row {
    code: String,
    name_zh: String,
    name_en: String,
    level: String,
    level_code: &'static str,
    accept_days: i64,
    resolve_days: i64,
    active: bool,
    public: bool,
    public_since: Option<String>,
    /// The default route at the category's level (`post:member`, `unit:…`), or empty.
    route: String,
}

/// A default route as the form offers it.
#[derive(Serialize)]
struct RouteChoice {
    code: String,
    label: String,
}

fn route_choices(lang: Lang) -> Vec<RouteChoice> {
    use demands::routing::Route;
    Route::all()
        .into_iter()
        .map(|r| {
            let label = match r {
                Route::Post(post) => format!("{}（{}）", label(post, lang), tr("categories.route_post", lang.code)),
                Route::Unit(role) => format!("{}（{}）", label(role, lang), tr("categories.route_unit", lang.code)),
            };
            RouteChoice { code: r.code(), label }
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub(super) struct CategoryQuery {
    saved: Option<String>,
}

async fn page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    status: StatusCode,
    error: Option<(String, String)>,
    saved: Option<String>,
) -> Result<Response, ApiError> {
    let routes = demands::routing::routes(&s.db).await?;
    let rows: Vec<Row> = demands::categories(&s.db)
        .await?
        .into_iter()
        .map(|c| Row {
            route: routes
                .iter()
                .find(|(code, level, _)| *code == c.code && *level == c.level)
                .map(|(_, _, r)| r.code())
                .unwrap_or_default(),
            level: label(c.level, lang).to_owned(),
            level_code: c.level.code(),
            public_since: c.public_since.map(|at| local_time(at).chars().take(10).collect()),
            code: c.code,
            name_zh: c.name_zh,
            name_en: c.name_en,
            accept_days: c.accept_days,
            resolve_days: c.resolve_days,
            active: c.active,
            public: c.public,
        })
        .collect();
    let (error_code, error) = error.unzip();
    // A refused new category is shown on the form for a new one.
    let error_new = error_code.as_ref().is_some_and(|code| rows.iter().all(|r| &r.code != code));
    let ctx = context! {
        error_new,
        categories => Value::from(Serde(&rows)),
        levels => Value::from(Serde(&vocab_choices::<Level>(lang, &[]))),
        routes => Value::from(Serde(&route_choices(lang))),
        error, error_code, saved,
        ..frame(p, lang, "/demands/categories")
    };
    Ok(render(lang, status, "demands/categories.html", ctx))
}

pub(super) async fn categories_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<CategoryQuery>,
) -> Result<Response, ApiError> {
    page(&s, &p, lang, StatusCode::OK, None, q.saved).await
}

#[derive(Deserialize)]
pub(super) struct CategoryForm {
    code: String,
    name_zh: String,
    name_en: String,
    level: String,
    accept_days: String,
    resolve_days: String,
    active: Option<String>,
    public: Option<String>,
    /// The default route at the category's level; empty: none.
    #[serde(default)]
    route: String,
}

/// Saves one category (a new one when its code is new); a refusal shows the list
/// again with what was wrong, beside the category it is about.
pub(super) async fn save_category(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Form(f): Form<CategoryForm>,
) -> Result<Response, ApiError> {
    let code = f.code.trim().to_owned();
    // Said with the name of the field it is about: "受理时限：是 400 天；…".
    let refuse = |message: wangge_domain::Message| {
        let field = message.field.map(|f| format!("{}：", tr(&format!("categories.{f}"), lang.code)));
        Some((code.clone(), format!("{}{}", field.unwrap_or_default(), say(&message, lang.code))))
    };
    let days = |value: &str, field: &'static str| {
        value
            .trim()
            .parse::<i64>()
            .map_err(|_| wangge_domain::msg!("demands.error.days_range", days = value).field(field))
    };
    let parsed = (|| {
        let level = Level::parse(&f.level).map_err(|e| wangge_domain::Explain::message(&e).field("level"))?;
        Ok::<_, wangge_domain::Message>(Category {
            code: code.clone(),
            name_zh: f.name_zh.clone(),
            name_en: f.name_en.clone(),
            level,
            accept_days: days(&f.accept_days, "accept_days")?,
            resolve_days: days(&f.resolve_days, "resolve_days")?,
            active: f.active.is_some(),
            public: f.public.is_some(),
            public_since: None,
        })
    })();
    let category = match parsed {
        Ok(c) => c,
        Err(message) => return page(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, refuse(message), None).await,
    };
    let saved = match demands::save_category(&s.db, category).await {
        Ok(saved) => saved,
        Err(wangge_store::StoreError::Invalid(m) | wangge_store::StoreError::Conflict(m)) => {
            return page(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, refuse(m), None).await;
        }
        Err(e) => return Err(e.into()),
    };
    let route = demands::routing::Route::parse(&f.route);
    demands::routing::set_route(&s.db, &saved.code, saved.level, route).await?;
    let target = audit::Target("demand_category", &saved.code, "/");
    audit::change(&s.db, (&p, &address), AuditAction::DemandCategorySave, target, None, &saved).await?;
    Ok(Redirect::to(&format!(
        "/demands/categories?saved={}#category-{}",
        urlencode(&saved.code),
        urlencode(&saved.code)
    ))
    .into_response())
}
