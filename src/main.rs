//! `wangge`: the one binary. Serves the web interface and API, runs migrations,
//! imports and exports ledgers, and generates synthetic data.

mod bench;
mod bench_campaigns;
mod bench_cockpit;
mod bench_demands;
mod commands;
mod users;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Wangge (网格): community grid governance for Chinese urban communities.
///
/// One program for a community office on a cheap PC (SQLite, the default) or a whole
/// city (PostgreSQL). Start with `wangge demo`.
#[derive(Parser)]
#[command(name = "wangge", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the system on a demo community: creates (or reuses) an SQLite file in the
    /// data directory, fills it with the Tashan demo community if it is empty, serves
    /// on 127.0.0.1:8080 and prints the address.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Directory for the database file (created if missing).
        #[arg(long, default_value = "wangge-data")]
        data_dir: PathBuf,
    },
    /// Bring the database up to date and serve the web interface and API.
    Serve {
        #[command(flatten)]
        database: DatabaseArg,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Back the SQLite database up this often while serving, as `wangge backup`
        /// does: e.g. 1d, 12h, 30m. Off unless given.
        #[arg(long, value_name = "INTERVAL", value_parser = commands::parse_interval)]
        backup_every: Option<std::time::Duration>,
        /// How many scheduled backups to keep.
        #[arg(long, value_name = "N", default_value_t = wangge_store::backup::DEFAULT_KEEP)]
        backup_keep: usize,
        /// Directory of the scheduled backups (default: `backups` beside the database).
        #[arg(long, value_name = "DIR")]
        backup_to: Option<PathBuf>,
        /// The address people reach the server at, e.g. https://wangge.example.cn:
        /// QR posters, Open311 photo links and links in webhooks start with it, and
        /// the session cookie is Secure when it is https. Without it links use the
        /// address each request came in on (fine on one PC or an office LAN).
        #[arg(long, env = "WANGGE_PUBLIC_URL", value_name = "URL")]
        public_url: Option<String>,
        /// A reverse proxy (nginx, Caddy) whose X-Forwarded-For, -Proto and -Host are
        /// believed: an address or CIDR range; repeat or separate with commas. Other
        /// clients' forwarded headers are ignored.
        #[arg(long, env = "WANGGE_TRUSTED_PROXY", value_name = "ADDR|CIDR", value_delimiter = ',')]
        trusted_proxy: Vec<String>,
    },
    /// Copy the SQLite database while it serves: a consistent copy (VACUUM INTO),
    /// checked with integrity_check, named wangge-YYYYMMDD-HHMMSS.db (UTC), mode
    /// 0600; the newest N are kept. ID card numbers and phones in it open only with
    /// the key file (wangge.key): keep a copy of the key apart from the backups
    /// (--key-to). For PostgreSQL use pg_dump / pg_restore (docs/security.md).
    Backup {
        #[command(flatten)]
        database: DatabaseArg,
        /// A directory (created when missing; default: `backups` beside the database),
        /// or a file name ending in .db for a single copy.
        #[arg(long, value_name = "FILE|DIR")]
        to: Option<PathBuf>,
        /// How many dated backups to keep in the directory.
        #[arg(long, value_name = "N", default_value_t = wangge_store::backup::DEFAULT_KEEP)]
        keep: usize,
        /// Also copy the key file here (a directory, or a file name ending in .key), mode 0600:
        /// somewhere other than the backups, such as a USB stick kept in the office safe.
        #[arg(long, value_name = "DIR|FILE")]
        key_to: Option<PathBuf>,
    },
    /// Replace the SQLite database with a backup. Refused while a server uses the
    /// database (stop it first), when the backup fails its integrity check, or when
    /// the key (WANGGE_KEY, --key-file or wangge.key beside the database) is not the
    /// one the backup was sealed with. The replaced file is kept beside it as
    /// wangge.db.replaced-YYYYMMDD-HHMMSS.
    Restore {
        /// The backup file.
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Bring the database schema up to date, say which migrations were applied, then exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Import a ledger from an Excel (.xlsx) or CSV file.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Export a ledger to an Excel (.xlsx) file.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Fill the database with synthetic communities, for benchmarks and trials.
    /// Deterministic: the same seed gives the same people.
    Generate {
        #[command(flatten)]
        database: DatabaseArg,
        /// How many Tashan-sized communities (about 3,260 residents each) to make:
        /// 300 gives about a million residents, 2,150 about Yantai's seven million.
        #[arg(long)]
        communities: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Manage the key that encrypts ID card numbers and phones (see docs/security.md).
    Keys {
        #[command(subcommand)]
        what: KeysWhat,
    },
    /// Manage staff accounts: add, disable, reset a password, list.
    User {
        #[command(subcommand)]
        what: users::UserWhat,
    },
    /// Issue and revoke bearer tokens for the API.
    Token {
        #[command(subcommand)]
        what: users::TokenWhat,
    },
    /// Measure the speed of the system on the database given; prints figures.
    Bench {
        #[command(subcommand)]
        what: bench::BenchWhat,
    },
    /// Print the daily digest of demands past or within a day of their deadline,
    /// per community and grid, with the most overdue few of each; optionally post it
    /// to the webhooks covering the area (JSON, WeCom or DingTalk robot format).
    Digest {
        #[command(flatten)]
        database: DatabaseArg,
        /// The area (code or id); default everything.
        #[arg(long)]
        area: Option<String>,
        /// Also post the digest through the webhooks covering the area.
        #[arg(long)]
        send_webhooks: bool,
    },
    /// Import a community's grid boundaries from a GeoJSON FeatureCollection: each
    /// feature's `code` property names a grid of the community (or the community
    /// itself). Checked first — closed rings, known grid codes, grids inside the
    /// community's boundary —; nothing is written while a problem remains, and every
    /// problem names its feature. See docs/cockpit.md.
    Boundaries {
        #[command(flatten)]
        database: DatabaseArg,
        /// The community (code or id).
        #[arg(long)]
        community: String,
        /// The GeoJSON file.
        file: PathBuf,
    },
    /// Delete the answers of campaigns past their retention period (health data:
    /// tests, vaccination), keeping per-question counts, each purge audited. The
    /// server does this every day; `--dry-run` lists what would go and changes
    /// nothing. See docs/campaigns.md.
    PurgeCampaigns {
        #[command(flatten)]
        database: DatabaseArg,
        /// Only say what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// The cockpit's summary tables (docs/cockpit.md).
    Figures {
        #[command(subcommand)]
        what: FiguresWhat,
    },
    /// Print the OpenAPI document of the JSON API.
    Openapi,
}

#[derive(Subcommand)]
enum FiguresWhat {
    /// Recount every summary table (demands by place, category, status and day;
    /// current residents by place and residence type, and by care tag) from the
    /// rows, print every row that differs, and exit non-zero if any does.
    Verify {
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Subcommand)]
enum KeysWhat {
    /// Replace the key: make a new one, re-encrypt every ID card number and phone
    /// with it in one transaction, then put the new key file in the old one's place
    /// (the old is kept beside it as wangge.key.<old id>.old). Stop every server of
    /// this database first, and keep the old key as long as backups made before the
    /// rotation are kept: they open only with it.
    Rotate {
        #[command(flatten)]
        database: DatabaseArg,
        /// Where to write the new key instead (needed when the key comes from
        /// WANGGE_KEY); the current key file is then left as it is.
        #[arg(long, value_name = "PATH")]
        new_key_file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Residents of one community: one row a person. Columns are recognised by
    /// their usual Chinese or English names (姓名, 身份证号, 联系电话, 楼栋, 单元,
    /// 房号, 与户主关系, 人员类型, 政治面貌, 民族, 标签, 备注, 网格…); title rows
    /// above the header are skipped. Every bad row is reported with its row number,
    /// column and reason, and then nothing is imported. A file that cannot be used
    /// (empty, not a workbook, password-protected, a header without rows, text in an
    /// unknown encoding) is explained and nothing is written. Messages are in
    /// Chinese, or in English when LANG (or LC_ALL) starts with "en". The exit status
    /// is not 0 whenever nothing was imported.
    ///
    /// A community's newer ledger (sent again every month): add --update. People
    /// registered in the community are compared, not refused: the run lists the new,
    /// the changed (field by field), the unchanged and the registered people the
    /// ledger leaves out; it writes the new and the changes in one transaction, each
    /// change in the audit log with before and after. Nobody is deleted. Try it with
    /// --dry-run first.
    Residents {
        /// The ledger: .xlsx, .xls (old Excel), or .csv/.txt (UTF-8, GBK/GB18030 or
        /// UTF-16).
        file: PathBuf,
        /// Code of the community the ledger belongs to (12 digits).
        #[arg(long)]
        community: String,
        /// Check the file and report what would happen, without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// The file is a newer version of the community's ledger: update the people
        /// already registered there instead of refusing them.
        #[arg(long)]
        update: bool,
        /// Map an unusual header to a field, e.g. --map 户主楼号=building
        /// (fields: name, gender, birth_date, id_card, phone, building, unit, room,
        /// relation, residence_type, political_status, ethnicity, tags, notes, grid, occupancy).
        #[arg(long = "map", value_name = "HEADER=FIELD")]
        mapping: Vec<String>,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// A grid team roster (网格队伍花名册): one person a row, with 岗位 (网格长,
    /// 网格员, 党员, 志愿者, 楼长, 物业人员, 民警, 其他) and 姓名, and optionally
    /// 联系电话, 值班电话, 同意公示, 分工, 负责楼栋, 任职日期. Into one grid, or into a
    /// community with a 网格 column (grid name or code). Title rows and merged cells
    /// are fine. Every bad row is reported with its row and column and then nothing
    /// is written; people already on the team (same grid, post and name) are left as
    /// they are.
    Roster {
        /// The roster: .xlsx, .xls or .csv.
        file: PathBuf,
        /// Code of the grid (15 digits) or community (12 digits) it belongs to.
        #[arg(long)]
        area: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Write the ledger template: every column we recognise (required ones marked
    /// *), one example row, and a sheet of notes in Chinese and English.
    Template {
        /// The .xlsx file to write.
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
enum ExportWhat {
    /// The current residents of one community, in the shape `import residents` reads.
    Residents {
        /// Code of the community (12 digits).
        #[arg(long)]
        community: String,
        /// The .xlsx file to write.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Args, Clone)]
pub struct DatabaseArg {
    /// sqlite:PATH (created if missing) or postgres://USER:PASSWORD@HOST/DB.
    #[arg(long, env = "WANGGE_DATABASE_URL", default_value = "sqlite:wangge-data/wangge.db")]
    pub database_url: String,
    /// Key file of the encrypted ID card numbers and phones, created (mode 0600) when
    /// missing; back it up apart from the database. Default: wangge.key beside an
    /// SQLite database, wangge-data/wangge.key for PostgreSQL. The environment
    /// variable WANGGE_KEY (the key itself, base64) wins over any file.
    #[arg(long, env = "WANGGE_KEY_FILE", value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WANGGE_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let done = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(run(cli.command)));
    match done {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // A missing or wrong key is the operator's to fix: one sentence that says
        // how, not a chain of causes and a backtrace.
        Err(e) => {
            if let Some(key) = e.chain().find_map(|cause| cause.downcast_ref::<wangge_store::vault::VaultError>()) {
                eprintln!("wangge: {key}");
                return std::process::ExitCode::FAILURE;
            }
            eprintln!("{}", explain(&e, wangge_web::cli_lang()));
            std::process::ExitCode::FAILURE
        }
    }
}

/// An error as a person reads it: each cause in turn, a store error's message said
/// from the catalogue in `lang`.
pub fn explain(error: &anyhow::Error, lang: &str) -> String {
    let causes: Vec<String> = error
        .chain()
        .map(|cause| match cause.downcast_ref::<wangge_store::StoreError>().and_then(|e| e.message()) {
            Some(message) => wangge_web::say(message, lang),
            None => cause.to_string(),
        })
        .collect();
    let lead = if lang == "en" { "error" } else { "错误" };
    format!("{lead}: {}", causes.join(": "))
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Demo { listen, data_dir } => commands::demo(listen, &data_dir).await,
        Command::Serve { database, listen, backup_every, backup_keep, backup_to, public_url, trusted_proxy } => {
            let schedule =
                backup_every.map(|every| commands::BackupSchedule { every, keep: backup_keep, to: backup_to });
            let site = wangge_web::Site::new(public_url.as_deref(), &trusted_proxy).map_err(anyhow::Error::msg)?;
            commands::serve(&database, listen, schedule, site).await
        }
        Command::Backup { database, to, keep, key_to } => {
            let options = wangge_store::backup::BackupOptions { to, keep: Some(keep), key_to };
            commands::backup(&database, &options).await
        }
        Command::Restore { file, database } => commands::restore(&database, &file),
        Command::Migrate { database } => commands::migrate(&database).await,
        Command::Import { what: ImportWhat::Residents { file, community, dry_run, update, mapping, database } } => {
            let how = commands::ImportHow { dry_run, update };
            commands::import_residents(&database, &file, &community, how, &mapping).await
        }
        Command::Import { what: ImportWhat::Template { output } } => commands::import_template(&output),
        Command::Import { what: ImportWhat::Roster { file, area, database } } => {
            commands::import_roster(&database, &file, &area).await
        }
        Command::Export { what: ExportWhat::Residents { community, output, database } } => {
            commands::export_residents(&database, &community, &output).await
        }
        Command::Generate { database, communities, seed } => commands::generate(&database, communities, seed).await,
        Command::Keys { what: KeysWhat::Rotate { database, new_key_file } } => {
            commands::rotate_key(&database, new_key_file.as_deref()).await
        }
        Command::User { what } => users::user(what).await,
        Command::Token { what } => users::token(what).await,
        Command::Bench { what } => bench::run(what).await,
        Command::Digest { database, area, send_webhooks } => {
            commands::digest(&database, area.as_deref(), send_webhooks).await
        }
        Command::Boundaries { database, community, file } => commands::boundaries(&database, &community, &file).await,
        Command::PurgeCampaigns { database, dry_run } => commands::purge_campaigns(&database, dry_run).await,
        Command::Figures { what: FiguresWhat::Verify { database } } => commands::figures_verify(&database).await,
        Command::Openapi => {
            println!("{}", wangge_web::openapi_json());
            Ok(())
        }
    }
}
