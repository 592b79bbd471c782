//! The ledger of an area: its items, filters and paging, the three rates, and the
//! choices (grids, buildings) its filters and the report form offer.

use super::*;

#[derive(Serialize)]
pub(super) struct Row {
    id: String,
    title: String,
    category: String,
    status: String,
    status_code: &'static str,
    level: String,
    handler: String,
    due: String,
    overdue: bool,
    due_soon: bool,
    created: String,
}

pub(super) fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

#[derive(Deserialize, Default)]
pub struct LedgerQuery {
    area: Option<String>,
    building: Option<String>,
    /// `1`: only the open items dispatched to the caller ("my items").
    mine: Option<String>,
    status: Option<String>,
    category: Option<String>,
    channel: Option<String>,
    overdue: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u32>,
    /// The search box: a tracking number, a phone or its last four digits, words.
    q: Option<String>,
    household: Option<String>,
}

/// Day `YYYY-MM-DD` at midnight China time in Unix ms (`next`: the day after).
pub(super) fn day_ms(value: &str, next: bool) -> Option<i64> {
    let day = wangge_domain::parse_date(value)?;
    let start = day.midnight().assume_offset(CHINA) + time::Duration::days(i64::from(next));
    Some((start.unix_timestamp_nanos() / 1_000_000) as i64)
}

pub(super) fn today() -> time::Date {
    time::OffsetDateTime::now_utc().to_offset(CHINA).date()
}

/// The ledger of the caller's area: filters, the table, and the three rates of the
/// period with how each is computed.
pub async fn ledger(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<LedgerQuery>,
) -> Result<Response, ApiError> {
    let under_path = p.list_path(&s.db, q.area.as_deref().filter(|a| !a.is_empty())).await?;
    // Someone searching looks for an item whatever its state.
    let searching = q.q.as_deref().and_then(demands::search::Query::read).is_some();
    let default_status = if searching { "all" } else { "open" };
    let status = match q.status.as_deref().unwrap_or(default_status) {
        "open" => DemandStatus::open(),
        "all" | "" => Vec::new(),
        code => DemandStatus::from_code(code).into_iter().collect(),
    };
    let from_day = q
        .from
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| wangge_domain::format_date(today() - time::Duration::days(365)));
    let to_day = q.to.clone().filter(|d| !d.is_empty()).unwrap_or_else(|| wangge_domain::format_date(today()));
    let (from, to) = (day_ms(&from_day, false), day_ms(&to_day, true));
    let mine = q.mine.as_deref() == Some("1");
    let mut filter = DemandFilter {
        under_path: under_path.clone(),
        status,
        category: q.category.clone().filter(|c| !c.is_empty()),
        channel: q.channel.as_deref().and_then(Channel::from_code),
        building_id: q.building.clone().filter(|b| !b.is_empty()),
        handler_ids: if mine { api::my_handler_ids(&s, &p).await? } else { Vec::new() },
        overdue: q.overdue.as_deref() == Some("1"),
        household_id: q.household.clone().filter(|h| !h.is_empty()),
        from,
        to,
        ..Default::default()
    };
    api::search(&s, &p, q.q.as_deref(), &mut filter);
    let request = PageRequest::new(q.page, Some(30));
    // The page of items and the period's three rates are independent: read side
    // by side (the rates of a district's year read 100,000 index entries; issue 18).
    let rating_days = async {
        match under_path.as_deref() {
            Some(path) => demands::rating_days(&s.db, path).await,
            None => Ok(demands::RATING_DAYS_DEFAULT),
        }
    };
    let (page, categories, calendar, rates, rating_days) = tokio::try_join!(
        demands::list(&s.db, &filter, request),
        demands::categories(&s.db),
        demands::calendar(&s.db),
        demands::rates(&s.db, under_path.as_deref(), from.unwrap_or(0), to.unwrap_or(i64::MAX)),
        rating_days,
    )?;
    let now = wangge_domain::now_millis();
    let rows: Vec<Row> = page
        .items
        .iter()
        .map(|d| Row {
            id: d.id.clone(),
            title: d.title.clone(),
            category: category_name(&categories, &d.category, lang),
            status: label(d.status, lang).to_owned(),
            status_code: d.status.code(),
            level: label(d.level, lang).to_owned(),
            handler: d.handler_name.clone().unwrap_or_default(),
            // The last day and how far it is, in working days ("3 working days left").
            due: if d.status.is_open() {
                let (date, words) = crate::demands::today::deadline(&calendar, now, d, lang);
                format!("{date} · {words}")
            } else {
                String::new()
            },
            overdue: d.overdue,
            due_soon: d.due_soon,
            created: local_time(d.created_at).chars().take(16).collect(),
        })
        .collect();
    let (from_param, to_param) = (Some(from_day.clone()), Some(to_day.clone()));
    let link = |n: u32| {
        let mut url = format!("/demands?page={n}");
        for (k, v) in [
            ("area", &q.area),
            ("building", &q.building),
            ("mine", &q.mine),
            ("status", &q.status),
            ("category", &q.category),
            ("channel", &q.channel),
            ("overdue", &q.overdue),
            ("from", &from_param),
            ("to", &to_param),
            ("q", &q.q),
            ("household", &q.household),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                url.push_str(&format!("&{k}={}", urlencode(v)));
            }
        }
        url
    };
    let last = ((page.total.max(1) - 1) / i64::from(request.per_page) + 1) as u32;
    let ctx = context! {
        rows => Value::from(Serde(&rows)),
        found => tr("demands.found", lang.code).replace("%{count}", &page.total.to_string()),
        rates => Value::from(Serde(&rates)),
        response_rate => percent(rates.response_rate), resolution_rate => percent(rates.resolution_rate),
        satisfaction_rate => percent(rates.satisfaction_rate),
        satisfaction_parts => tr("demands.satisfaction_parts", lang.code)
            .replace("%{resident_satisfied}", &rates.satisfied_by_resident.to_string())
            .replace("%{resident_rate}", &percent(rates.resident_satisfaction_rate))
            .replace("%{resident}", &rates.rated_by_resident.to_string())
            .replace("%{staff_satisfied}", &(rates.satisfied - rates.satisfied_by_resident).to_string())
            .replace("%{staff}", &rates.rated_by_staff.to_string()),
        not_rated_explain => tr("demands.not_rated_explain", lang.code)
            .replace("%{days}", &rating_days.to_string())
            .replace("%{not_rated}", &rates.not_rated.to_string())
            .replace("%{awaiting}", &rates.awaiting_rating.to_string()),
        q => q.q.clone().unwrap_or_default(),
        categories => Value::from(Serde(&category_choices(&s, lang).await?)),
        channels => Value::from(Serde(&vocab_choices::<Channel>(lang, &[]))),
        statuses => Value::from(Serde(&vocab_choices::<DemandStatus>(lang, &[]))),
        status => q.status.clone().unwrap_or_else(|| default_status.into()), category => q.category.clone().unwrap_or_default(),
        channel => q.channel.clone().unwrap_or_default(), overdue => q.overdue.as_deref() == Some("1"),
        from => from_day, to => to_day, area => q.area.clone().unwrap_or_default(),
        can_submit => p.role.may(Action::SubmitDemand),
        mine, building => q.building.clone().unwrap_or_default(),
        my_open => my_open_count(&s, &p).await?,
        grids => Value::from(Serde(&grid_choices(&s, &p).await?)),
        buildings => Value::from(Serde(&ledger_buildings(&s, under_path.as_deref(), lang).await?)),
        prev_url => (request.page > 1).then(|| link(request.page - 1)),
        next_url => (request.page < last).then(|| link(request.page + 1)),
        ..frame(&p, lang, "/demands"),
    };
    Ok(render(lang, StatusCode::OK, "demands/demands.html", ctx))
}

/// How many open items are dispatched to the caller, for the "my items" link of
/// those who handle items; `None` for the others.
pub(super) async fn my_open_count(s: &AppState, p: &Principal) -> Result<Option<i64>, ApiError> {
    if !p.role.may(Action::HandleDemand) {
        return Ok(None);
    }
    let filter = DemandFilter {
        handler_ids: api::my_handler_ids(s, p).await?,
        status: DemandStatus::open(),
        ..Default::default()
    };
    Ok(Some(demands::list(&s.db, &filter, PageRequest::new(Some(1), Some(1))).await?.total))
}

/// Most grids or buildings a ledger filter offers as a list; above it (a city's
/// thousands) the area is chosen with the scope switcher instead.
pub(super) const CHOICES_AT_MOST: i64 = 300;

#[derive(Serialize)]
pub(super) struct AreaChoice {
    code: String,
    name: String,
}

/// The grids of the caller's own area, for the ledger's grid filter.
pub(super) async fn grid_choices(s: &AppState, p: &Principal) -> Result<Vec<AreaChoice>, ApiError> {
    let under = p.list_path(&s.db, None).await.ok().flatten();
    let filter = areas::AreaFilter { level: Some(AreaLevel::Grid), under_path: under, ..Default::default() };
    let page = areas::list(&s.db, &filter, PageRequest::new(Some(1), Some(CHOICES_AT_MOST as u32))).await?;
    if page.total > CHOICES_AT_MOST || page.items.len() < 2 {
        return Ok(Vec::new());
    }
    Ok(page.items.into_iter().map(|a| AreaChoice { code: a.code, name: a.name }).collect())
}

/// The buildings under the ledger's area, for its building filter, when few enough.
pub(super) async fn ledger_buildings(
    s: &AppState,
    under: Option<&str>,
    lang: Lang,
) -> Result<Vec<BuildingChoice>, ApiError> {
    let Some(under) = under else { return Ok(Vec::new()) };
    // A street's or a city's buildings are far more than a filter can list: the
    // area's roll-up says so without counting them (a city's: 0.14–0.19 s).
    let rolled_up = wangge_store::summaries::places(&s.db, under).await?.get("buildings").copied().unwrap_or(0);
    if rolled_up > CHOICES_AT_MOST {
        return Ok(Vec::new());
    }
    let filter = buildings::BuildingFilter { under_path: Some(under.to_owned()), ..Default::default() };
    let page = buildings::list(&s.db, &filter, PageRequest::new(Some(1), Some(CHOICES_AT_MOST as u32))).await?;
    if page.total > CHOICES_AT_MOST {
        return Ok(Vec::new());
    }
    Ok(page
        .items
        .into_iter()
        .map(|b| BuildingChoice { label: tr("building.number", lang.code).replace("%{number}", &b.number), id: b.id })
        .collect())
}

#[derive(Serialize)]
pub(super) struct BuildingChoice {
    pub(super) id: String,
    pub(super) label: String,
}

/// The buildings an item can be put at: those of the caller's area (a grid member's
/// grid, a community's buildings), for the field form's two taps.
pub(super) async fn building_choices(s: &AppState, p: &Principal, lang: Lang) -> Result<Vec<BuildingChoice>, ApiError> {
    let under = p.list_path(&s.db, None).await.ok().flatten();
    let filter = buildings::BuildingFilter { under_path: under, ..Default::default() };
    let page = buildings::list(&s.db, &filter, PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE))).await?;
    Ok(page
        .items
        .into_iter()
        .map(|b| BuildingChoice { label: tr("building.number", lang.code).replace("%{number}", &b.number), id: b.id })
        .collect())
}
