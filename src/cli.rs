//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// metacrawl reads warehouse catalogs, keeps every refresh as a versioned
/// snapshot and reports exactly what changed.
#[derive(Debug, Parser)]
#[command(name = "metacrawl", version, about, max_term_width = 100)]
pub(crate) struct Cli {
    /// Snapshot store file [default: the config file's `store`, else metacrawl.db].
    #[arg(long, global = true, env = "METACRAWL_STORE")]
    pub(crate) store: Option<PathBuf>,

    /// Config file (TOML) with server, auth and connection settings.
    #[arg(
        long,
        global = true,
        env = "METACRAWL_CONFIG",
        default_value = "metacrawl.toml"
    )]
    pub(crate) config: PathBuf,

    /// Log filter for stderr, in tracing's EnvFilter syntax (`info`,
    /// `metacrawl_engine=debug`) [default: info for serve, warn otherwise].
    #[arg(long, global = true, env = "METACRAWL_LOG")]
    pub(crate) log: Option<String>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Add, list or remove warehouse connections.
    #[command(subcommand)]
    Connection(ConnectionCommand),

    /// Read a connection's catalog now and commit it as a new snapshot.
    Refresh(RefreshArgs),

    /// Print a connection's catalog at its latest or a given snapshot.
    Catalog(CatalogArgs),

    /// Print the changes a connection's snapshots recorded.
    Changes(ChangesArgs),

    /// List a connection's snapshots.
    History(HistoryArgs),

    /// Build a sample SQLite music-store warehouse, refresh it, change its
    /// schema, refresh again and print the changes.
    Demo(DemoArgs),

    /// Serve the GraphQL API and run queued refreshes.
    Serve(ServeArgs),

    /// Mint a development JWT signed with the configured HS256 secret.
    Token(TokenArgs),

    /// Print the GraphQL schema (SDL).
    GraphqlSchema,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address of the GraphQL HTTP server [default: config, else 127.0.0.1:8080].
    #[arg(long, env = "METACRAWL_GRAPHQL_ADDR")]
    pub(crate) graphql_addr: Option<String>,

    /// Address of the gRPC server [default: config, else 127.0.0.1:50051].
    #[arg(long, env = "METACRAWL_GRPC_ADDR")]
    pub(crate) grpc_addr: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    /// Subject (`sub` claim) of the token.
    #[arg(long)]
    pub(crate) sub: String,

    /// Give the token the ADMIN role.
    #[arg(long)]
    pub(crate) admin: bool,

    /// Lifetime of the token in seconds.
    #[arg(long, default_value_t = 3600)]
    pub(crate) ttl_secs: u64,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConnectionCommand {
    /// Add a connection and print its id. The URL scheme chooses the driver.
    Add {
        /// Name used by the other commands (letters, digits, '-', '_', '.').
        name: String,
        /// Warehouse URL, for example sqlite://./warehouse.db.
        #[arg(long)]
        url: String,
        /// Free text shown with the connection.
        #[arg(long)]
        description: Option<String>,
    },
    /// List connections; credentials in URLs are shown as ***.
    List {
        /// Print one JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Remove a connection with all its snapshots and changes.
    Remove { name: String },
    /// Let a token subject refresh and read a connection (data administrator).
    Grant {
        name: String,
        /// Token subject (`sub` claim) to grant.
        #[arg(long)]
        subject: String,
    },
    /// Withdraw a data administrator grant.
    Revoke {
        name: String,
        /// Token subject (`sub` claim) to revoke.
        #[arg(long)]
        subject: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct RefreshArgs {
    /// Name of the connection (see `connection list`).
    pub(crate) name: String,

    /// Wait for the refresh to finish. The CLI always runs the refresh in its
    /// own process and waits; the flag is accepted for scripts that pass it.
    #[arg(long)]
    pub(crate) wait: bool,

    /// Largest share of the known tables one refresh may drop (0.0 to 1.0);
    /// above it nothing is committed.
    #[arg(long, default_value_t = metacrawl_engine::refresh::DEFAULT_MAX_DROP_SHARE, value_parser = parse_share)]
    pub(crate) max_drop_share: f64,

    /// Commit even when the refresh drops more tables than --max-drop-share allows.
    #[arg(long)]
    pub(crate) allow_mass_drop: bool,

    /// Read every table, even those the warehouse reports unchanged since the
    /// last refresh (the Postgres driver skips those by default).
    #[arg(long)]
    pub(crate) full: bool,

    /// Print the change list as one JSON array instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CatalogArgs {
    /// Name of the connection (see `connection list`).
    pub(crate) name: String,

    /// Snapshot id (see `history`); the latest when omitted.
    #[arg(long)]
    pub(crate) snapshot: Option<i64>,

    /// Print the catalog as one JSON object.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ChangesArgs {
    /// Name of the connection (see `connection list`).
    pub(crate) name: String,

    /// Only changes committed after this snapshot id (0 for all).
    #[arg(long)]
    pub(crate) since: Option<i64>,

    /// Print one JSON array of changes.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// Name of the connection (see `connection list`).
    pub(crate) name: String,

    /// Print one JSON array of snapshots.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Folder for the sample warehouse and its snapshot store; emptied of
    /// earlier demo files first. The global --store option is not used.
    #[arg(long, default_value = "metacrawl-demo")]
    pub(crate) dir: PathBuf,
}

/// Parses a share between 0.0 and 1.0.
fn parse_share(text: &str) -> Result<f64, String> {
    let share: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number; use a share such as 0.5"))?;
    if !(0.0..=1.0).contains(&share) {
        return Err(format!(
            "{text} is not a share between 0.0 and 1.0 (0.5 means half of the known tables)"
        ));
    }
    Ok(share)
}
