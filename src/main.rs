//! The `metacrawl` command: connections, refreshes, catalogs and changes on a
//! snapshot store file.

mod api;
mod cli;
mod config;
mod demo;
mod drivers;
mod output;
mod serve;

use anyhow::Context as _;
use clap::Parser;
use cli::{Cli, Command, ConnectionCommand, RefreshArgs};
use metacrawl_engine::{Engine, Principal, RefreshOptions, RefreshPhase, RefreshProgress};
use std::path::PathBuf;

/// Store file used when neither --store, METACRAWL_STORE nor the config names one.
const DEFAULT_STORE: &str = "metacrawl.db";
use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;
use tokio::sync::watch;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_log = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    if let Err(error) = init_logging(cli.log.as_deref().unwrap_or(default_log)) {
        eprintln!("error: {error:#}");
        return ExitCode::from(2);
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).with_context(|| {
        format!("invalid --log filter '{filter}'; use a level such as warn, info or debug")
    })?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Demo(args) => return demo::run(&args.dir).await,
        Command::GraphqlSchema => {
            print!("{}", serve::schema_sdl());
            return Ok(());
        }
        _ => {}
    }
    let explicit_config = std::env::var_os("METACRAWL_CONFIG").is_some()
        || std::env::args()
            .any(|argument| argument == "--config" || argument.starts_with("--config="));
    let config = config::load(&cli.config, explicit_config)?;
    match cli.command {
        Command::Token(args) => return serve::print_token(&config, &args),
        Command::Serve(args) => {
            let store = cli
                .store
                .or(config.store.clone())
                .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE));
            return serve::run(config, &store, &args).await;
        }
        _ => {}
    }

    let store = cli
        .store
        .or(config.store)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE));
    // Only `connection add` creates a store: a mistyped --store elsewhere
    // must not quietly create an empty one.
    let creates_store = matches!(
        cli.command,
        Command::Connection(ConnectionCommand::Add { .. })
    );
    if !creates_store && !store.exists() {
        anyhow::bail!(
            "store '{}' not found; pass --store (or set METACRAWL_STORE) to an existing store, \
             or create one with `metacrawl connection add`",
            store.display()
        );
    }
    let engine = Engine::open(&store, drivers::builtin_registry())?;

    match cli.command {
        Command::Connection(ConnectionCommand::Add {
            name,
            url,
            description,
        }) => {
            let connection = engine.add_connection(&name, &url, description.as_deref())?;
            println!("{}", connection.id);
        }
        Command::Connection(ConnectionCommand::List { json }) => {
            let connections = engine.connections()?;
            if json {
                print!("{}", output::connections_json(&connections));
            } else {
                print!("{}", output::connections_text(&connections));
            }
        }
        Command::Connection(ConnectionCommand::Remove { name }) => {
            engine.remove_connection(&name)?;
            eprintln!("removed connection '{name}' and its history");
        }
        Command::Connection(ConnectionCommand::Grant { name, subject }) => {
            engine.grant_data_administrator(&Principal::system(), &name, &subject)?;
            eprintln!("'{subject}' may now refresh and read connection '{name}'");
        }
        Command::Connection(ConnectionCommand::Revoke { name, subject }) => {
            if !engine.revoke_data_administrator(&Principal::system(), &name, &subject)? {
                eprintln!("'{subject}' had no grant on connection '{name}'");
            }
        }
        Command::Refresh(args) => refresh(&engine, &args).await?,
        Command::Catalog(args) => {
            let Some((snapshot, catalog)) = engine.catalog(&args.name, args.snapshot)? else {
                anyhow::bail!(
                    "connection '{}' has no snapshot yet; run `metacrawl refresh {}` first",
                    args.name,
                    args.name
                );
            };
            if args.json {
                print!("{}", output::catalog_json(&snapshot, &catalog));
            } else {
                print!("{}", output::catalog_text(&snapshot, &catalog));
            }
        }
        Command::Changes(args) => {
            let changes = engine.changes(&args.name, args.since)?;
            if args.json {
                print!("{}", output::changes_json(&changes));
            } else {
                print!("{}", output::changes_text(&changes));
            }
        }
        Command::History(args) => {
            let snapshots = engine.history(&args.name)?;
            if args.json {
                print!("{}", output::history_json(&snapshots));
            } else {
                print!("{}", output::history_text(&args.name, &snapshots));
            }
        }
        Command::Demo(_) | Command::GraphqlSchema | Command::Token(_) | Command::Serve(_) => {
            unreachable!("handled above")
        }
    }
    Ok(())
}

/// Runs one refresh with progress on stderr, then prints the changes.
pub(crate) async fn refresh(engine: &Engine, args: &RefreshArgs) -> anyhow::Result<()> {
    let options = RefreshOptions {
        max_drop_share: args.max_drop_share,
        allow_mass_drop: args.allow_mass_drop,
        full: args.full,
    };
    let (sender, receiver) = watch::channel(RefreshProgress::not_started());
    let printer = tokio::spawn(print_progress(receiver));
    let result = engine.refresh(&args.name, options, Some(sender)).await;
    let _ = printer.await;
    let report = result?;

    for warning in &report.snapshot.warnings {
        eprintln!("warning: {warning}");
    }
    let changes: Vec<(i64, metacrawl_engine::Change)> = report
        .changes
        .iter()
        .map(|change| (report.snapshot.id, change.clone()))
        .collect();
    if args.json {
        print!("{}", output::changes_json(&changes));
        return Ok(());
    }

    println!(
        "snapshot {} of '{}': {}; {}, {} breaking",
        report.snapshot.id,
        args.name,
        output::describe_counts(&report.snapshot.counts),
        output::count(report.snapshot.change_count as u64, "change"),
        report.snapshot.breaking_change_count
    );
    if !changes.is_empty() {
        print!("{}", output::changes_text(&changes));
    }
    Ok(())
}

/// Prints a progress line on stderr for each schema read, until the refresh ends.
async fn print_progress(mut receiver: watch::Receiver<RefreshProgress>) {
    let interactive = std::io::stderr().is_terminal();
    while receiver.changed().await.is_ok() {
        let progress = receiver.borrow_and_update().clone();
        let line = match progress.phase {
            RefreshPhase::Queued => continue,
            RefreshPhase::ListingDatabases => "listing databases".to_string(),
            RefreshPhase::ReadingSchemas if progress.reading_ahead => match &progress.current_scope
            {
                Some(database) => format!(
                    "reading all schemas of {database} at once, {} tables read so far",
                    progress.tables_read
                ),
                None => continue,
            },
            RefreshPhase::ReadingSchemas => match &progress.current_scope {
                Some(scope) => format!(
                    "reading schema {} of {} ({scope}), {} tables read so far",
                    (progress.schemas_done + 1).min(progress.schemas_total),
                    progress.schemas_total,
                    progress.tables_read
                ),
                None => continue,
            },
            RefreshPhase::Committing => format!(
                "committing: {} schemas, {} tables read",
                progress.schemas_done, progress.tables_read
            ),
            RefreshPhase::Finished => break,
        };
        let mut stderr = std::io::stderr().lock();
        if interactive {
            let _ = write!(stderr, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(stderr, "{line}");
        }
    }
    if interactive {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
}
