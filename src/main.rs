//! The `cogov` command: serve the API, apply migrations, print the OpenAPI document.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use actix_web::{web, HttpServer};
use clap::{Parser, Subcommand};
use cogov::app::{self, AppState};
use cogov::auth::tokens::Tokens;
use cogov::auth::Principal;
use cogov::commands::{access, changes, Context, RequestFacts};
use cogov::config::{LogFormat, Settings};
use cogov::db::Db;

#[derive(Parser)]
#[command(
    name = "cogov",
    version,
    about = "The open REST API for community-school governance"
)]
struct Cli {
    /// TOML configuration file (settings: see docs/OPERATIONS.md); COGOV_* variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (migrates the database first unless migrate_on_start is false).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (overrides COGOV_LISTEN).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Bootstrap access: the first district admin, and API clients for scripts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Import a roster: a zip archive, or the CSV files themselves (OneRoster 1.2 orgs.csv and
    /// users.csv, or cogov's schools.csv and people.csv). See docs/IMPORT.md.
    Import {
        /// A .zip archive, or one or more .csv files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Report what each row would do and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// all_or_nothing (default) or commit_good_rows.
        #[arg(long, default_value = "all_or_nothing", value_name = "MODE")]
        on_error: String,
        /// The external-id system rows are matched by (default: oneroster, or sis for cogov's files).
        #[arg(long)]
        system: Option<String>,
        /// Time zone of schools created from files that carry none (default UTC).
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// Service-request retention (the `service_request_retention_days` setting).
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Fill an empty database with a demo district (a year of meetings, votes, minutes and
    /// service requests) and print sign-in details for every role.
    Demo {
        /// Multiplies schools (4 each), their councils, meetings and service requests.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=500))]
        scale: u32,
        /// Seed of the demo's choices (attendance, votes, outcomes).
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Months of history to make.
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=60))]
        months: u32,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Anonymise, once, the service requests closed longer ago than the retention period.
    Run {
        /// Days after closing (overrides service_request_retention_days for this run).
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=36500))]
        days: Option<u32>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a person with a sign-in account and a role. Reads the password from standard input.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        #[arg(long)]
        email: Option<String>,
        /// district_admin, council_staff, family or partner
        #[arg(long)]
        role: String,
        /// The council, for council_staff.
        #[arg(long)]
        council: Option<String>,
    },
    /// Link a person to the `sub` their district identity provider puts in its tokens.
    LinkIdentity {
        /// The cogov person id.
        #[arg(long)]
        person: String,
        /// The identity provider's subject for this person.
        #[arg(long)]
        subject: String,
    },
    /// Create an API client (client-credentials) with a role; prints its id and secret once.
    CreateClient {
        #[arg(long)]
        name: String,
        /// district_admin, council_staff, family or partner
        #[arg(long)]
        role: String,
        /// The council, for council_staff.
        #[arg(long)]
        council: Option<String>,
    },
    /// Remove changes older than change_retention_days from the change log now (`serve` also
    /// does it every maintenance_interval_secs).
    PruneChanges,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        match app::openapi().to_pretty_json() {
            Ok(json) => {
                println!("{json}");
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("cogov: cannot render the OpenAPI document: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cogov: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(settings.log_format);
    let result = match cli.command {
        Command::Serve { listen } => {
            if let Some(addr) = listen {
                settings.listen = addr;
            }
            serve(settings)
        }
        Command::Migrate => migrate(&settings),
        Command::Admin(cmd) => admin(&settings, cmd),
        Command::Import {
            files,
            dry_run,
            on_error,
            system,
            time_zone,
        } => import(&settings, files, dry_run, &on_error, system, time_zone),
        Command::Retention(RetentionCommand::Run { days }) => retention(&settings, days),
        Command::Demo {
            scale,
            seed,
            months,
        } => demo(&settings, scale, seed, months),
        Command::Openapi => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "cogov stopped");
            eprintln!("cogov: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

fn open(settings: &Settings) -> Result<Db, String> {
    let db = Db::open(&settings.db_options()).map_err(|e| e.to_string())?;
    tracing::info!(backend = db.target().backend_name(), database = %db.target().redacted(), "database opened");
    Ok(db)
}

fn migrate(settings: &Settings) -> Result<(), String> {
    let db = open(settings)?;
    let applied = db.migrate().map_err(|e| e.to_string())?;
    tracing::info!(applied, "migrations applied");
    println!("applied {applied} migration(s)");
    Ok(())
}

fn serve(settings: Settings) -> Result<(), String> {
    let db = open(&settings)?;
    if settings.migrate_on_start {
        let applied = db.migrate().map_err(|e| e.to_string())?;
        tracing::info!(applied, "migrations applied");
    }
    let tokens = Tokens::new(&settings.token_config()?)?;
    // Webhook delivery runs beside the server and stops after it (on the same shutdown).
    let worker = settings
        .webhook_delivery
        .then(|| cogov::delivery::Worker::start(db.clone(), settings.delivery_options()));
    let state = web::Data::new(AppState {
        db,
        tokens,
        identity_claim: settings.jwt_identity_claim,
        protection: settings.protection(),
    });
    start_maintenance(&settings, state.db.clone());
    // Import jobs of an instance that died are picked up again once their lease runs out.
    cogov::jobs::start_import_sweeper(state.db.clone(), Duration::from_secs(30));
    let retention = settings
        .service_request_retention_days
        .map(|days| (state.db.clone(), days));
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        if let Some((db, days)) = retention {
            let every = Duration::from_secs(settings.retention_interval_secs);
            tracing::info!(retention_days = days, "service-request retention is on");
            actix_web::rt::spawn(cogov::jobs::retention_loop(db, days, every));
        }
        let server = HttpServer::new(move || app::build(state.clone()))
            .workers(settings.workers)
            .shutdown_timeout(settings.shutdown_timeout_secs)
            // Slow clients must not hold connections (and file descriptors) open at will: the
            // headers, the body (see `body_read_timeout_secs`), idle keep-alive and the closing
            // handshake each have a limit.
            .client_request_timeout(Duration::from_secs(settings.client_request_timeout_secs))
            .client_disconnect_timeout(Duration::from_secs(settings.client_disconnect_timeout_secs))
            .keep_alive(Duration::from_secs(settings.keep_alive_secs))
            .bind(&settings.listen)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
        for addr in server.addrs() {
            tracing::info!(%addr, "listening");
            eprintln!("cogov listening on http://{addr}  (API docs: http://{addr}/docs/)");
        }
        server.run().await.map_err(|e| e.to_string())
    })?;
    if let Some(worker) = worker {
        worker.stop();
    }
    Ok(())
}

fn admin(settings: &Settings, cmd: AdminCommand) -> Result<(), String> {
    let db = open(settings)?;
    db.migrate().map_err(|e| e.to_string())?;
    let database = db.target().redacted();
    let system = actix_web::rt::System::new();
    match cmd {
        AdminCommand::CreateUser {
            username,
            display_name,
            email,
            role,
            council,
        } => {
            let password = read_password(&username)?;
            let ctx = cli_context("cli:admin create-user");
            let created = system
                .block_on(access::bootstrap_user(
                    &ctx,
                    &db,
                    access::NewUser {
                        username: &username,
                        display_name: &display_name,
                        email,
                        password: &password,
                        role: &role,
                        council,
                    },
                ))
                .map_err(cli_error)?;
            println!(
                "created person {created} with account {username} and role {role} in {database}"
            );
        }
        AdminCommand::LinkIdentity { person, subject } => {
            let ctx = cli_context("cli:admin link-identity");
            system
                .block_on(access::link_identity(&ctx, &db, &person, &subject))
                .map_err(cli_error)?;
            println!("tokens with sub {subject:?} now sign in person {person} (in {database})");
        }
        AdminCommand::CreateClient {
            name,
            role,
            council,
        } => {
            let ctx = cli_context("cli:admin create-client");
            let (client_id, secret) = system
                .block_on(access::bootstrap_client(&ctx, &db, &name, &role, council))
                .map_err(cli_error)?;
            println!("client_id={client_id}");
            println!("client_secret={secret}");
            eprintln!("created in {database}; store the secret now: it is not shown again");
        }
        AdminCommand::PruneChanges => {
            let Some(retention) = change_retention(settings) else {
                println!("change_retention_days is 0: every change is kept");
                return Ok(());
            };
            let ctx = cli_context("cli:admin prune-changes");
            let now = chrono::Utc::now().naive_utc();
            match system
                .block_on(changes::prune(&ctx, &db, retention, now))
                .map_err(cli_error)?
            {
                Some(pruned) => println!(
                    "removed {} change(s) older than {} days from {database}",
                    pruned.removed, settings.change_retention_days
                ),
                None => println!(
                    "no change is older than {} days",
                    settings.change_retention_days
                ),
            }
        }
    }
    Ok(())
}

fn demo(settings: &Settings, scale: u32, seed: u64, months: u32) -> Result<(), String> {
    let db = open(settings)?;
    db.migrate().map_err(|e| e.to_string())?;
    let database = db.target().redacted();
    let started = std::time::Instant::now();
    let mut progress = |step: &str| eprintln!("demo: {step}");
    let summary = actix_web::rt::System::new()
        .block_on(cogov::demo::run(
            &db,
            cogov::demo::DemoOptions {
                scale,
                seed,
                months,
            },
            &mut progress,
        ))
        .map_err(cli_error)?;
    println!(
        "demo district in {database} ({:.1} s): {} schools, {} councils, {} meetings, {} service requests",
        started.elapsed().as_secs_f64(),
        summary.schools,
        summary.councils,
        summary.meetings,
        summary.service_requests
    );
    println!("\nSign in (POST /api/v1/auth/token, grant_type=password); shown once:");
    for user in &summary.users {
        println!(
            "  {:<8} {:<16} {:<15} {}",
            user.username, user.password, user.role, user.about
        );
    }
    if let Some((id, secret)) = &summary.client {
        println!("\nA script's API client (grant_type=client_credentials):");
        println!("  client_id={id}\n  client_secret={secret}");
    }
    println!(
        "\nStart it with `cogov serve`, then open /public/ or GET /api/v1/councils/{}",
        summary.featured_council
    );
    Ok(())
}

/// Runs the server's maintenance on a thread of its own, every `maintenance_interval_secs`:
/// pruning the change log and the webhook delivery log. Failures are logged and retried at the
/// next turn.
fn start_maintenance(settings: &Settings, db: Db) {
    let changes_kept = change_retention(settings);
    let deliveries_kept = (settings.webhook_delivery_retention_days > 0)
        .then(|| chrono::Duration::days(i64::from(settings.webhook_delivery_retention_days)));
    if changes_kept.is_none() && deliveries_kept.is_none() {
        return;
    }
    let every = Duration::from_secs(settings.maintenance_interval_secs.max(1));
    let spawned = std::thread::Builder::new()
        .name("cogov-maintenance".to_owned())
        .spawn(move || {
            let system = actix_web::rt::System::new();
            let ctx = cli_context("job:prune-changes");
            let deliveries_ctx = cli_context("job:prune-webhook-deliveries");
            loop {
                let now = chrono::Utc::now().naive_utc();
                if let Some(retention) = changes_kept {
                    match system.block_on(changes::prune(&ctx, &db, retention, now)) {
                        Ok(Some(pruned)) => {
                            tracing::info!(removed = pruned.removed, "change log pruned")
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "pruning the change log failed"),
                    }
                }
                if let Some(retention) = deliveries_kept {
                    match system.block_on(cogov::commands::webhooks::prune_deliveries(
                        &deliveries_ctx,
                        &db,
                        retention,
                        now,
                    )) {
                        Ok(0) => {}
                        Ok(removed) => tracing::info!(removed, "webhook delivery log pruned"),
                        Err(e) => {
                            tracing::warn!(error = %e, "pruning the webhook delivery log failed")
                        }
                    }
                }
                std::thread::sleep(every);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the maintenance thread");
    }
}

/// The change log's retention, or `None` when every change is kept.
fn change_retention(settings: &Settings) -> Option<chrono::Duration> {
    (settings.change_retention_days > 0)
        .then(|| chrono::Duration::days(i64::from(settings.change_retention_days)))
}

/// `cogov retention run`: anonymises closed service requests older than the retention period.
fn retention(settings: &Settings, days: Option<u32>) -> Result<(), String> {
    let Some(days) = days.or(settings.service_request_retention_days) else {
        return Err(
            "no retention period: set service_request_retention_days or pass --days".to_owned(),
        );
    };
    let db = open(settings)?;
    db.migrate().map_err(|e| e.to_string())?;
    let system = actix_web::rt::System::new();
    let anonymised = system
        .block_on(cogov::jobs::retention_once(&db, days, cogov::db::now()))
        .map_err(cli_error)?;
    println!("anonymised {anonymised} service request(s) closed more than {days} day(s) ago");
    Ok(())
}

/// The command line acts with the database's own authority; its audit events name the command.
fn cli_context(operation: &str) -> Context {
    Context::new(Principal::anonymous(), RequestFacts::default(), operation)
}

/// An error as the person at the terminal should read it: the problem's detail and each field.
fn cli_error(err: cogov::error::ApiError) -> String {
    let problem = err.problem();
    let mut text = problem.detail;
    for field in problem.errors {
        text.push_str(&format!("\n  {}: {}", field.field, field.message));
    }
    text
}

/// Reads a new password: prompted for without echo on a terminal, or one line of standard input
/// when it is piped (scripts, tests).
fn read_password(username: &str) -> Result<String, String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!(
            "Password for {username} (at least 12 characters): "
        ))
        .map_err(|e| format!("cannot read the password: {e}"))?;
        let again = rpassword::prompt_password("Repeat the password: ")
            .map_err(|e| format!("cannot read the password: {e}"))?;
        if first != again {
            return Err("the two passwords differ; nothing was created".to_owned());
        }
        return Ok(first);
    }
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

/// The upload the import command sends: a zip archive as given, or CSV files packed into one.
fn import_payload(files: &[PathBuf]) -> Result<Vec<u8>, String> {
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    if let [only] = files {
        if only
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            return read(only);
        }
    }
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: not a file name", path.display()))?;
        zip.start_file(name, options).map_err(|e| e.to_string())?;
        let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        std::io::copy(&mut file, &mut zip).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
}

fn import(
    settings: &Settings,
    files: Vec<PathBuf>,
    dry_run: bool,
    on_error: &str,
    system: Option<String>,
    time_zone: Option<String>,
) -> Result<(), String> {
    use cogov::commands::imports::{self, OnError};
    use std::io::IsTerminal;
    let on_error =
        OnError::parse(on_error).ok_or("--on-error must be all_or_nothing or commit_good_rows")?;
    let payload = import_payload(&files)?;
    let db = open(settings)?;
    let ctx = imports::job_context(None, "cli:import");
    let tty = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let mut progress = |done: u64| {
        let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
        if tty {
            let bar = "#".repeat(((done / 2000) % 30) as usize + 1);
            eprint!("\r[{bar:<30}] {done} rows, {rate:.0} rows/s ");
        } else if done % 10_000 < imports::BATCH as u64 || done < imports::BATCH as u64 {
            eprintln!("{done} rows, {rate:.0} rows/s");
        }
    };
    let system_rt = actix_web::rt::System::new();
    let job = system_rt.block_on(async {
        let job = imports::create(
            &ctx,
            &db,
            imports::NewImport {
                media_type: None,
                payload,
                dry_run,
                on_error,
                system,
                time_zone,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        imports::run(&ctx, &db, &job.id, &mut progress)
            .await
            .map_err(|e| e.to_string())
    })?;
    if tty {
        eprintln!();
    }
    println!(
        "import {} {}{}: create {}, update {}, unchanged {}, delete {}, error {} ({:.1} s)",
        job.id,
        job.status,
        if job.dry_run { " (dry run)" } else { "" },
        job.created_count,
        job.updated_count,
        job.unchanged_count,
        job.deleted_count,
        job.error_count,
        started.elapsed().as_secs_f64()
    );
    if let Some(failure) = &job.failure {
        println!("failure: {failure}");
    }
    let errors =
        imports::rows(&ctx, &db, &job.id, Some("error"), None, 50).map_err(|e| e.to_string())?;
    for row in &errors {
        println!(
            "{}:{}: {} {}",
            row.file,
            row.line,
            row.field.as_deref().unwrap_or(""),
            row.message.as_deref().unwrap_or("")
        );
    }
    if job.status == "succeeded" {
        Ok(())
    } else {
        Err(format!("import {} {}", job.id, job.status))
    }
}
