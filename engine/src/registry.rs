//! Drivers chosen by URL scheme. The application builds the registry explicitly
//! at start-up; nothing registers itself behind its back.

use crate::driver::{Driver, DriverErrorKind, DriverFactory};
use crate::error::EngineError;
use crate::redact::redact_url;
use std::sync::Arc;

/// The drivers an engine can create, keyed by URL scheme.
#[derive(Debug, Default, Clone)]
pub struct DriverRegistry {
    factories: Vec<Arc<dyn DriverFactory>>,
    compiled_out: Vec<CompiledOut>,
}

#[derive(Debug, Clone)]
struct CompiledOut {
    driver: &'static str,
    feature: &'static str,
    schemes: &'static [&'static str],
}

impl DriverRegistry {
    /// Creates a registry with no driver.
    pub fn new() -> DriverRegistry {
        DriverRegistry::default()
    }

    /// Adds a driver factory; a later factory does not replace an earlier one
    /// for a scheme both claim.
    pub fn register(&mut self, factory: Arc<dyn DriverFactory>) -> &mut DriverRegistry {
        self.factories.push(factory);
        self
    }

    /// Records a driver that exists but was left out of this build, so a URL of
    /// its scheme fails with the cargo feature that brings it back.
    pub fn register_compiled_out(
        &mut self,
        driver: &'static str,
        feature: &'static str,
        schemes: &'static [&'static str],
    ) -> &mut DriverRegistry {
        self.compiled_out.push(CompiledOut {
            driver,
            feature,
            schemes,
        });
        self
    }

    /// Returns the name of the driver serving `url`'s scheme.
    pub fn driver_name(&self, url: &str) -> Result<&'static str, EngineError> {
        Ok(self.factory(url)?.name())
    }

    /// Returns the form of `url` its driver stores with a new connection.
    pub fn canonical_url(&self, url: &str) -> Result<String, EngineError> {
        self.factory(url)?
            .canonical_url(url)
            .map_err(|error| EngineError::InvalidUrl {
                url: redact_url(url),
                reason: error.message,
            })
    }

    /// Creates the driver for `url`, chosen by its scheme.
    pub fn create(&self, url: &str) -> Result<Arc<dyn Driver>, EngineError> {
        let factory = self.factory(url)?;
        factory.create(url).map_err(|error| match error.kind {
            DriverErrorKind::InvalidConfig => EngineError::InvalidUrl {
                url: redact_url(url),
                reason: error.message,
            },
            _ => EngineError::Driver {
                connection: redact_url(url),
                error,
            },
        })
    }

    fn factory(&self, url: &str) -> Result<&Arc<dyn DriverFactory>, EngineError> {
        let Some((scheme, _)) = url.split_once("://") else {
            return Err(EngineError::InvalidUrl {
                url: redact_url(url),
                reason: format!(
                    "expected SCHEME://..., for example sqlite://./warehouse.db; supported schemes: {}",
                    self.supported_schemes()
                ),
            });
        };
        let scheme = scheme.to_ascii_lowercase();

        if let Some(factory) = self
            .factories
            .iter()
            .find(|factory| factory.schemes().contains(&scheme.as_str()))
        {
            return Ok(factory);
        }
        if let Some(missing) = self
            .compiled_out
            .iter()
            .find(|missing| missing.schemes.contains(&scheme.as_str()))
        {
            return Err(EngineError::DriverCompiledOut {
                driver: missing.driver,
                feature: missing.feature,
            });
        }
        Err(EngineError::UnknownScheme {
            scheme,
            supported: self.supported_schemes(),
        })
    }

    fn supported_schemes(&self) -> String {
        let schemes: Vec<&str> = self
            .factories
            .iter()
            .flat_map(|factory| factory.schemes().iter().copied())
            .collect();
        if schemes.is_empty() {
            return "none (no driver is registered)".to_string();
        }
        schemes.join(", ")
    }
}
