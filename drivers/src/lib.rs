//! metacrawl-drivers: warehouse drivers behind the engine's `Driver` trait,
//! each behind a cargo feature of the same name.
//!
//! | driver | feature | URL |
//! |---|---|---|
//! | SQLite | `sqlite` | `sqlite://PATH` |

#[cfg(feature = "sqlite")]
pub mod sqlite;

use metacrawl_engine::DriverRegistry;

/// Registers every driver compiled into this build, and records the others so
/// that their URLs fail with the cargo feature to enable.
pub fn register_builtin(registry: &mut DriverRegistry) {
    #[cfg(feature = "sqlite")]
    registry.register(std::sync::Arc::new(sqlite::SqliteDriverFactory));
    #[cfg(not(feature = "sqlite"))]
    registry.register_compiled_out("sqlite", "sqlite", &["sqlite"]);
}
