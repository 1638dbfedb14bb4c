-- A music store: artists, albums, tracks, customers, invoices, staff.
-- The demo and the tests build a SQLite warehouse from this file.

CREATE TABLE artists (
    artist_id INTEGER PRIMARY KEY,
    name      TEXT NOT NULL
);

CREATE TABLE albums (
    album_id    INTEGER PRIMARY KEY,
    title       VARCHAR(160) NOT NULL,
    artist_id   INTEGER NOT NULL REFERENCES artists (artist_id),
    released_on DATE
);

CREATE TABLE genres (
    genre_id INTEGER PRIMARY KEY,
    name     VARCHAR(120) NOT NULL
);

CREATE TABLE media_types (
    media_type_id INTEGER PRIMARY KEY,
    name          VARCHAR(120) NOT NULL
);

CREATE TABLE tracks (
    track_id      INTEGER PRIMARY KEY,
    name          VARCHAR(200) NOT NULL,
    album_id      INTEGER REFERENCES albums (album_id),
    media_type_id INTEGER NOT NULL REFERENCES media_types (media_type_id),
    genre_id      INTEGER REFERENCES genres (genre_id),
    composer      VARCHAR(220),
    milliseconds  INTEGER NOT NULL,
    bytes         INTEGER,
    unit_price    NUMERIC(10, 2) NOT NULL DEFAULT 0.99
);

CREATE TABLE playlists (
    playlist_id INTEGER PRIMARY KEY,
    name        VARCHAR(120)
);

CREATE TABLE playlist_tracks (
    playlist_id INTEGER NOT NULL REFERENCES playlists (playlist_id),
    track_id    INTEGER NOT NULL REFERENCES tracks (track_id),
    PRIMARY KEY (playlist_id, track_id)
) WITHOUT ROWID;

CREATE TABLE employees (
    employee_id INTEGER PRIMARY KEY,
    last_name   VARCHAR(20) NOT NULL,
    first_name  VARCHAR(20) NOT NULL,
    title       VARCHAR(30),
    reports_to  INTEGER REFERENCES employees (employee_id),
    hired_at    DATETIME DEFAULT CURRENT_TIMESTAMP,
    email       VARCHAR(60)
);

CREATE TABLE customers (
    customer_id    INTEGER PRIMARY KEY,
    first_name     VARCHAR(40) NOT NULL,
    last_name      VARCHAR(20) NOT NULL,
    company        VARCHAR(80),
    country        VARCHAR(40),
    email          VARCHAR(60) NOT NULL,
    support_rep_id INTEGER REFERENCES employees (employee_id),
    status         TEXT NOT NULL DEFAULT 'active'
);

CREATE TABLE invoices (
    invoice_id      INTEGER PRIMARY KEY,
    customer_id     INTEGER NOT NULL REFERENCES customers (customer_id),
    invoice_date    TEXT NOT NULL,
    billing_country TEXT,
    total           REAL NOT NULL
) STRICT;

CREATE TABLE invoice_lines (
    invoice_line_id INTEGER PRIMARY KEY,
    invoice_id      INTEGER NOT NULL REFERENCES invoices (invoice_id),
    track_id        INTEGER NOT NULL REFERENCES tracks (track_id),
    unit_price      NUMERIC(10, 2) NOT NULL,
    quantity        INTEGER NOT NULL,
    line_total      NUMERIC(10, 2) GENERATED ALWAYS AS (unit_price * quantity) STORED
);

CREATE VIEW album_track_counts AS
SELECT albums.album_id, albums.title, count(tracks.track_id) AS track_count
FROM albums LEFT JOIN tracks ON tracks.album_id = albums.album_id
GROUP BY albums.album_id, albums.title;

CREATE VIEW customer_totals AS
SELECT customers.customer_id, customers.email, sum(invoices.total) AS lifetime_total
FROM customers JOIN invoices ON invoices.customer_id = customers.customer_id
GROUP BY customers.customer_id, customers.email;
