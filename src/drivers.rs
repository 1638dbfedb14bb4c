//! The driver registry of the metacrawl binary.

use metacrawl_engine::DriverRegistry;

/// Builds the registry of every driver compiled into this binary.
pub(crate) fn builtin_registry() -> DriverRegistry {
    let mut registry = DriverRegistry::new();
    metacrawl_drivers::register_builtin(&mut registry);
    registry
}
