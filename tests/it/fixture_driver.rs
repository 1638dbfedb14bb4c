//! A driver serving catalogs held in memory, for the failure cases a real
//! warehouse cannot be made to produce on demand: a crawl failing half-way,
//! an unreadable schema, a panic, stable ids of renamed objects.

use metacrawl_engine::catalog::{DatabaseListing, SchemaListing, Table};
use metacrawl_engine::driver::{DatabaseReader, Driver, DriverError, DriverFactory};
use metacrawl_engine::{Column, DriverErrorKind, SchemaRead, TableKind, async_trait};
use std::sync::{Arc, Mutex};

/// What one schema returns when read.
#[derive(Debug, Clone)]
pub(crate) enum SchemaContent {
    Tables(Vec<Table>),
    Fails(DriverError),
    Panics,
}

#[derive(Debug, Clone)]
pub(crate) struct FixtureSchema {
    pub(crate) listing: SchemaListing,
    pub(crate) content: SchemaContent,
}

#[derive(Debug, Clone)]
pub(crate) struct FixtureDatabase {
    pub(crate) listing: DatabaseListing,
    pub(crate) schemas: Vec<FixtureSchema>,
}

/// The catalog a fixture connection serves; tests change it between refreshes.
pub(crate) type FixtureCatalog = Arc<Mutex<Vec<FixtureDatabase>>>;

/// Serves `fixture://ANY` URLs from one shared catalog.
#[derive(Debug, Clone)]
pub(crate) struct FixtureFactory {
    pub(crate) catalog: FixtureCatalog,
}

impl DriverFactory for FixtureFactory {
    fn name(&self) -> &'static str {
        "fixture"
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["fixture"]
    }

    fn create(&self, _url: &str) -> Result<Arc<dyn Driver>, DriverError> {
        Ok(Arc::new(FixtureDriver {
            catalog: Arc::clone(&self.catalog),
        }))
    }
}

#[derive(Debug)]
struct FixtureDriver {
    catalog: FixtureCatalog,
}

#[async_trait]
impl Driver for FixtureDriver {
    async fn list_databases(&self) -> Result<Vec<DatabaseListing>, DriverError> {
        let catalog = self.catalog.lock().unwrap();
        Ok(catalog
            .iter()
            .map(|database| database.listing.clone())
            .collect())
    }

    async fn open_database(
        &self,
        database: &DatabaseListing,
    ) -> Result<Box<dyn DatabaseReader>, DriverError> {
        let catalog = self.catalog.lock().unwrap();
        let found = catalog
            .iter()
            .find(|candidate| candidate.listing.name == database.name)
            .cloned()
            .ok_or_else(|| DriverError::new(DriverErrorKind::Vanished, "database vanished"))?;
        Ok(Box::new(FixtureReader { database: found }))
    }
}

struct FixtureReader {
    database: FixtureDatabase,
}

#[async_trait]
impl DatabaseReader for FixtureReader {
    async fn list_schemas(&mut self) -> Result<Vec<SchemaListing>, DriverError> {
        Ok(self
            .database
            .schemas
            .iter()
            .map(|schema| schema.listing.clone())
            .collect())
    }

    async fn read_schema(
        &mut self,
        schema: &SchemaListing,
        _known: &metacrawl_engine::KnownVersions,
    ) -> Result<SchemaRead, DriverError> {
        let found = self
            .database
            .schemas
            .iter()
            .find(|candidate| candidate.listing.name == schema.name)
            .expect("schema listed by this reader");
        match &found.content {
            SchemaContent::Tables(tables) => Ok(tables.clone().into()),
            SchemaContent::Fails(error) => Err(error.clone()),
            SchemaContent::Panics => {
                panic!("fixture driver panics while reading '{}'", schema.name)
            }
        }
    }
}

/// Builds a schema listing without id or comment.
pub(crate) fn schema(name: &str, content: SchemaContent) -> FixtureSchema {
    FixtureSchema {
        listing: SchemaListing {
            name: name.to_string(),
            stable_id: None,
            comment: None,
        },
        content,
    }
}

/// Builds a database listing without id.
pub(crate) fn database(name: &str, schemas: Vec<FixtureSchema>) -> FixtureDatabase {
    FixtureDatabase {
        listing: DatabaseListing {
            name: name.to_string(),
            stable_id: None,
        },
        schemas,
    }
}

/// Builds a table with `id integer NOT NULL` and `name text` columns.
pub(crate) fn table(name: &str) -> Table {
    let mut table = Table::new(name, TableKind::Table);
    let mut id = Column::new("id", 1, "integer");
    id.nullable = false;
    id.primary_key = true;
    table.columns.push(id);
    table.columns.push(Column::new("name", 2, "text"));
    table
}

/// `count` tables named `t00`, `t01`, ...
pub(crate) fn tables(count: usize) -> Vec<Table> {
    (0..count)
        .map(|index| table(&format!("t{index:02}")))
        .collect()
}
