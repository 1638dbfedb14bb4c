//! The Postgres driver on catalogs that crawlers commonly get wrong:
//! partitions, materialized views, foreign tables, dropped columns, a schema
//! without USAGE, mixed-case names, domains, and identity or generated
//! columns. Each test loads `tests/fixtures/postgres/FOLDER/setup.sql`, checks
//! the whole catalog, then applies `change.sql` and checks the exact changes.

use crate::pg_support::{PgDatabase, cluster, fresh_database};
use crate::support::{Workspace, describe_catalog, describe_changes};
use metacrawl_engine::{Catalog, Engine, RefreshOptions, RefreshReport};
use std::path::PathBuf;

/// A fresh database loaded with a fixture, and an engine whose store lives in
/// its own temporary folder.
struct Case {
    database: PgDatabase,
    folder: &'static str,
    engine: Engine,
    _workspace: Workspace,
}

impl Case {
    /// Creates a database for `test_name` and runs `FOLDER/setup.sql` in it as the superuser.
    fn load(test_name: &str, folder: &'static str) -> Case {
        let database = fresh_database(test_name);
        database.execute_file(&fixture(folder, "setup.sql"));
        let workspace = Workspace::new();
        let engine = workspace.engine(|_| {});
        Case {
            database,
            folder,
            engine,
            _workspace: workspace,
        }
    }

    /// Adds connection `pg` to this database as the superuser.
    fn connect_as_superuser(&self) {
        self.engine
            .add_connection("pg", &self.database.url(), None)
            .unwrap();
    }

    /// Runs `FOLDER/change.sql` as the superuser.
    fn apply_change(&self) {
        self.database
            .execute_file(&fixture(self.folder, "change.sql"));
    }

    async fn refresh(&self) -> RefreshReport {
        self.engine
            .refresh("pg", RefreshOptions::default(), None)
            .await
            .unwrap()
    }

    fn catalog(&self) -> Catalog {
        let (_, catalog) = self.engine.catalog("pg", None).unwrap().unwrap();
        catalog
    }

    /// Names of the schemas of the only database, in store order.
    fn schema_names(&self) -> Vec<String> {
        self.catalog().databases[0]
            .schemas
            .iter()
            .map(|schema| schema.name.clone())
            .collect()
    }
}

fn fixture(folder: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/postgres")
        .join(folder)
        .join(file)
}

#[tokio::test]
async fn partitions_fold_under_parent() {
    let case = Case::load("partitions_fold_under_parent", "range-partitions");
    let db = &case.database.name;
    // Postgres prints a bound in the session's TimeZone and DateStyle. The
    // driver pins both, so a database default of another zone and style changes nothing.
    case.database.execute(&format!(
        "ALTER DATABASE {db} SET TimeZone = 'America/New_York';
         ALTER DATABASE {db} SET DateStyle = 'SQL, DMY';"
    ));
    case.connect_as_superuser();

    let first = case.refresh().await;

    // Partitions carry no columns of their own (they have their parent's) and
    // are not counted as tables.
    assert_eq!(first.snapshot.warnings, Vec::<String>::new());
    assert_eq!(first.snapshot.counts.tables, 2);
    assert_eq!(
        describe_catalog(&case.catalog()),
        format!(
            "{db}.metrics.readings partitioned_table comment=\"Sensor readings, one partition per quarter\"
  1 reading_id \"bigint\" not-null pk
  2 SensorKey \"integer\" not-null
  3 device_uuid \"uuid\"
  4 taken_at \"timestamp with time zone\" not-null pk
  5 value \"double precision\"
{db}.metrics.readings_2024q1 partition partition of metrics.readings FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-04-01 00:00:00+00')
{db}.metrics.readings_2024q2 partition partition of metrics.readings FOR VALUES FROM ('2024-04-01 00:00:00+00') TO ('2024-07-01 00:00:00+00')
{db}.metrics.readings_other partition partition of metrics.readings DEFAULT
{db}.metrics.sensors table
  1 SensorKey \"integer\" not-null pk
  2 label \"text\" not-null
"
        )
    );

    case.apply_change();
    let second = case.refresh().await;

    // The new column reaches the partitions too, but is reported once, on the parent.
    assert_eq!(
        describe_changes(&second.changes),
        [
            "table_added metrics.readings_2024q3: - -> partition of metrics.readings FOR VALUES FROM ('2024-07-01 00:00:00+00') TO ('2024-10-01 00:00:00+00')",
            "column_added metrics.readings.unit: - -> text",
        ]
    );
    assert_eq!(second.snapshot.counts.tables, 2);
}

#[tokio::test]
async fn materialized_views_are_crawled() {
    let case = Case::load("materialized_views_are_crawled", "materialized-view");
    let db = &case.database.name;
    case.connect_as_superuser();

    let first = case.refresh().await;

    assert_eq!(first.snapshot.warnings, Vec::<String>::new());
    let catalog = case.catalog();
    assert_eq!(
        describe_catalog(&catalog),
        format!(
            "{db}.reporting.daily_totals materialized_view comment=\"Refreshed nightly\"
  1 day \"date\"
  2 order_count \"bigint\"
  3 revenue \"numeric\" comment=\"Sum of order totals\"
{db}.reporting.orders table
  1 order_id \"integer\" not-null pk
  2 customer_id \"integer\" not-null
  3 placed_on \"date\" not-null
  4 total \"numeric(12,2)\" not-null default=0
{db}.reporting.recent_orders view
  1 order_id \"integer\"
  2 customer_id \"integer\"
  3 total \"numeric(12,2)\"
"
        )
    );
    let daily_totals = catalog.table(db, "reporting", "daily_totals").unwrap();
    assert_eq!(
        daily_totals.definition.as_deref(),
        Some(
            " SELECT o.placed_on AS day,\n    count(o.order_id) AS order_count,\n    sum(o.total) AS revenue\n   FROM reporting.orders o\n  GROUP BY o.placed_on;"
        )
    );
    let recent_orders = catalog.table(db, "reporting", "recent_orders").unwrap();
    assert_eq!(
        recent_orders.definition.as_deref(),
        Some(
            " SELECT o.order_id,\n    o.customer_id,\n    o.total\n   FROM reporting.orders o\n  WHERE (o.placed_on >= '2024-01-01'::date);"
        )
    );

    let unchanged = case.refresh().await;
    assert_eq!(describe_changes(&unchanged.changes), Vec::<String>::new());

    // Loading rows into the materialized view changes no metadata.
    case.database
        .execute("REFRESH MATERIALIZED VIEW reporting.daily_totals;");
    let reloaded = case.refresh().await;
    assert_eq!(describe_changes(&reloaded.changes), Vec::<String>::new());
}

#[tokio::test]
async fn foreign_tables_read_without_scan() {
    let case = Case::load("foreign_tables_read_without_scan", "foreign-table");
    let db = &case.database.name;
    case.connect_as_superuser();

    // The foreign table's CSV file does not exist: any row read would fail the refresh.
    let first = case.refresh().await;

    assert_eq!(first.snapshot.warnings, Vec::<String>::new());
    assert_eq!(case.schema_names(), ["imports", "public"]);
    assert_eq!(
        describe_catalog(&case.catalog()),
        format!(
            "{db}.imports.currencies table
  1 code \"character(3)\" not-null pk
  2 name \"text\" not-null
{db}.imports.exchange_rates foreign_table comment=\"Daily rates from the treasury CSV drop\"
  1 currency \"character(3)\" not-null
  2 rate_date \"date\" not-null
  3 rate \"numeric(18,6)\"
"
        )
    );

    let unchanged = case.refresh().await;
    assert_eq!(describe_changes(&unchanged.changes), Vec::<String>::new());
}

#[tokio::test]
async fn dropped_columns_stay_hidden() {
    let case = Case::load("dropped_columns_stay_hidden", "dropped-columns");
    let db = &case.database.name;
    case.connect_as_superuser();

    let first = case.refresh().await;

    assert_eq!(first.snapshot.warnings, Vec::<String>::new());
    let catalog = case.catalog();
    assert_eq!(
        describe_catalog(&catalog),
        format!(
            "{db}.crm.contacts table
  1 contact_id \"integer\" not-null pk
  2 full_name \"text\" not-null
  3 email \"text\"
  4 legacy_code \"character varying(8)\"
  5 created_at \"timestamp with time zone\" not-null default=now()
"
        )
    );
    // Ordinals are dense, but the stable ids keep the attnums, which skip the dropped 3.
    assert_eq!(
        column_attnums(&catalog, db, "crm", "contacts"),
        ["1", "2", "4", "5", "6"]
    );

    case.apply_change();
    let second = case.refresh().await;

    let catalog = case.catalog();
    assert_eq!(
        describe_catalog(&catalog),
        format!(
            "{db}.crm.contacts table
  1 contact_id \"integer\" not-null pk
  2 full_name \"text\" not-null
  3 created_at \"timestamp with time zone\" not-null default=now()
  4 legacy_code \"character varying(16)\" not-null default=''::character varying
"
        )
    );
    assert_eq!(
        column_attnums(&catalog, db, "crm", "contacts"),
        ["1", "2", "6", "7"]
    );
    // The exact list is checked by recreated_column_is_drop_and_add.
    assert!(
        describe_changes(&second.changes)
            .contains(&"column_dropped crm.contacts.email: text -> - breaking".to_string()),
        "{:?}",
        describe_changes(&second.changes)
    );
}

#[tokio::test]
async fn recreated_column_is_drop_and_add() {
    let case = Case::load("recreated_column_is_drop_and_add", "dropped-columns");
    case.connect_as_superuser();
    case.refresh().await;

    case.apply_change();
    let report = case.refresh().await;

    // The re-created legacy_code has a new attnum: a drop and an addition. By
    // name, created_at now comes before legacy_code, so it moved.
    assert_eq!(
        describe_changes(&report.changes),
        [
            "column_position_changed crm.contacts.created_at: 5 -> 3",
            "column_added crm.contacts.legacy_code: - -> character varying(16)",
            "column_dropped crm.contacts.email: text -> - breaking",
            "column_dropped crm.contacts.legacy_code: character varying(8) -> - breaking",
        ]
    );
}

/// Returns the attnum part of each column's stable id (`TABLE_OID.ATTNUM`).
fn column_attnums(catalog: &Catalog, database: &str, schema: &str, table: &str) -> Vec<String> {
    let table = catalog.table(database, schema, table).unwrap();
    let table_oid = table.stable_id.clone().unwrap();
    table
        .columns
        .iter()
        .map(|column| {
            let stable_id = column.stable_id.as_deref().unwrap();
            let attnum = stable_id.strip_prefix(&format!("{table_oid}.")).unwrap();
            attnum.to_string()
        })
        .collect()
}

#[tokio::test]
async fn unusable_schema_keeps_state() {
    let case = Case::load("unusable_schema_keeps_state", "schema-without-usage");
    let db = &case.database.name;
    let reader_url = cluster().url("metacrawl_reader", db);
    case.engine.add_connection("pg", &reader_url, None).unwrap();

    let first = case.refresh().await;

    assert_eq!(
        first.snapshot.warnings,
        [format!(
            "schema '{db}.hr' unreadable (permission_denied): role metacrawl_reader has no USAGE on schema hr; grant it with GRANT USAGE ON SCHEMA hr TO metacrawl_reader; its previous state was kept and nothing in it is reported dropped"
        )]
    );
    // hr is recorded, with no tables, so the catalog shows that it exists.
    assert_eq!(case.schema_names(), ["hr", "public", "sales"]);
    assert_eq!(
        describe_catalog(&case.catalog()),
        format!(
            "{db}.sales.invoices table
  1 invoice_id \"integer\" not-null pk
  2 amount \"numeric(10,2)\" not-null
"
        )
    );

    case.apply_change();
    let second = case.refresh().await;

    assert_eq!(describe_changes(&second.changes), Vec::<String>::new());
    assert_eq!(
        second.snapshot.warnings,
        [
            format!(
                "schema '{db}.hr' unreadable (permission_denied): role metacrawl_reader has no USAGE on schema hr; grant it with GRANT USAGE ON SCHEMA hr TO metacrawl_reader; its previous state was kept and nothing in it is reported dropped"
            ),
            format!(
                "schema '{db}.sales' unreadable (permission_denied): role metacrawl_reader has no USAGE on schema sales; grant it with GRANT USAGE ON SCHEMA sales TO metacrawl_reader; its previous state was kept and nothing in it is reported dropped"
            ),
        ]
    );
    assert_eq!(
        describe_catalog(&case.catalog()),
        format!(
            "{db}.sales.invoices table
  1 invoice_id \"integer\" not-null pk
  2 amount \"numeric(10,2)\" not-null
"
        )
    );
}

#[tokio::test]
async fn mixed_case_twins_stay_apart() {
    let case = Case::load("mixed_case_twins_stay_apart", "mixed-case-names");
    let db = &case.database.name;
    case.connect_as_superuser();

    let first = case.refresh().await;

    assert_eq!(first.snapshot.warnings, Vec::<String>::new());
    let catalog = case.catalog();
    assert_eq!(
        describe_catalog(&catalog),
        format!(
            r#"{db}.Sales.OrderLines table comment="Quoted table"
  1 LineID "integer" not-null pk comment="Quoted column"
  2 orderId "integer" not-null
  3 Qty "smallint" not-null default=1
  4 qty "smallint" comment="Lower-case twin of \"Qty\""
{db}.sales.orderlines table comment="Folded twin"
  1 lineid "integer" not-null pk
"#
        )
    );
    assert_eq!(case.schema_names(), ["Sales", "public", "sales"]);
    let schemas = &catalog.databases[0].schemas;
    assert_eq!(schemas[0].comment.as_deref(), Some("Mixed-case schema"));
    assert_eq!(schemas[2].comment, None);

    let unchanged = case.refresh().await;
    assert_eq!(describe_changes(&unchanged.changes), Vec::<String>::new());

    case.apply_change();
    let renamed = case.refresh().await;

    assert_eq!(
        describe_changes(&renamed.changes),
        ["column_renamed Sales.OrderLines.OrderId: orderId -> OrderId breaking"]
    );
}

#[tokio::test]
async fn domain_columns_resolve_base_type() {
    let case = Case::load("domain_columns_resolve_base_type", "domain-columns");
    let db = &case.database.name;
    case.connect_as_superuser();

    let first = case.refresh().await;

    assert_eq!(first.snapshot.warnings, Vec::<String>::new());
    assert_eq!(case.schema_names(), ["billing", "public", "types"]);
    // `default` is the column's own default, so the domain default 0 of amount
    // and net_eur is not shown, and `base` is set only for domain columns: both
    // as the Postgres driver documents.
    assert_eq!(
        describe_catalog(&case.catalog()),
        format!(
            r#"{db}.billing.charges table
  1 charge_id "integer" not-null pk
  2 amount "billing.positive_amount" base="numeric(12,2)" not-null
  3 currency "billing.currency_code" base="character(3)" not-null
  4 net_eur "billing.eur_amount" base="numeric(12,2)" not-null
  5 tags "billing.tag_list" base="text[]"
  6 contact "types.\"Email.Address\"" base="character varying(254)"
  7 note "text"
"#
        )
    );

    let unchanged = case.refresh().await;
    assert_eq!(describe_changes(&unchanged.changes), Vec::<String>::new());

    // A new domain default changes no column's own default, so it is no change.
    case.apply_change();
    let domain_default = case.refresh().await;
    assert_eq!(
        describe_changes(&domain_default.changes),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn identity_and_generated_are_not_defaults() {
    let case = Case::load(
        "identity_and_generated_are_not_defaults",
        "identity-generated-columns",
    );
    let db = &case.database.name;
    case.connect_as_superuser();

    let first = case.refresh().await;

    assert_eq!(first.snapshot.warnings, Vec::<String>::new());
    assert_eq!(
        describe_catalog(&case.catalog()),
        format!(
            "{db}.shop.items table
  1 item_id \"bigint\" not-null pk identity=ALWAYS
  2 legacy_no \"integer\" not-null identity=BY DEFAULT
  3 row_no \"integer\" not-null default=nextval('shop.items_row_no_seq'::regclass)
  4 price_cents \"integer\" not-null
  5 qty \"integer\" not-null default=1
  6 total_cents \"integer\" generated=((price_cents * qty))
  7 created_at \"timestamp with time zone\" not-null default=now()
"
        )
    );

    let unchanged = case.refresh().await;
    assert_eq!(describe_changes(&unchanged.changes), Vec::<String>::new());

    case.apply_change();
    let second = case.refresh().await;

    assert_eq!(
        describe_catalog(&case.catalog()),
        format!(
            "{db}.shop.items table
  1 item_id \"bigint\" not-null pk identity=ALWAYS
  2 legacy_no \"integer\" not-null
  3 row_no \"integer\" not-null default=nextval('shop.items_row_no_seq'::regclass)
  4 price_cents \"integer\" not-null
  5 qty \"integer\" not-null default=1
  6 created_at \"timestamp with time zone\" not-null default=now()
  7 total_cents \"integer\" generated=(((price_cents * qty) + 99))
"
        )
    );
    // The exact list is checked by regenerated_column_is_drop_and_add.
    assert!(
        describe_changes(&second.changes).contains(
            &"column_default_changed shop.items.legacy_no: GENERATED BY DEFAULT AS IDENTITY -> -"
                .to_string()
        ),
        "{:?}",
        describe_changes(&second.changes)
    );
}

#[tokio::test]
async fn regenerated_column_is_drop_and_add() {
    let case = Case::load(
        "regenerated_column_is_drop_and_add",
        "identity-generated-columns",
    );
    case.connect_as_superuser();
    case.refresh().await;

    case.apply_change();
    let report = case.refresh().await;

    // total_cents is re-created with a new attnum, now after created_at.
    assert_eq!(
        describe_changes(&report.changes),
        [
            "column_default_changed shop.items.legacy_no: GENERATED BY DEFAULT AS IDENTITY -> -",
            "column_position_changed shop.items.created_at: 7 -> 6",
            "column_added shop.items.total_cents: - -> integer",
            "column_dropped shop.items.total_cents: integer -> - breaking",
        ]
    );
}
