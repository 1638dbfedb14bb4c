-- Schema changes between the demo's two refreshes.

-- New table.
CREATE TABLE reviews (
    review_id INTEGER PRIMARY KEY,
    track_id  INTEGER NOT NULL REFERENCES tracks (track_id),
    rating    INTEGER NOT NULL,
    body      TEXT
);

-- Dropped table.
DROP TABLE playlist_tracks;

-- New and dropped columns.
ALTER TABLE tracks ADD COLUMN bpm INTEGER;
ALTER TABLE customers DROP COLUMN company;

-- Renamed column and renamed table.
ALTER TABLE employees RENAME COLUMN email TO work_email;
ALTER TABLE media_types RENAME TO media_formats;

-- Type change by table rebuild, the way SQLite changes a column type.
CREATE TABLE genres_rebuilt (
    genre_id INTEGER PRIMARY KEY,
    name     TEXT NOT NULL
);
INSERT INTO genres_rebuilt (genre_id, name) SELECT genre_id, name FROM genres;
DROP TABLE genres;
ALTER TABLE genres_rebuilt RENAME TO genres;

-- New view.
CREATE VIEW track_ratings AS
SELECT tracks.track_id, tracks.name, avg(reviews.rating) AS average_rating
FROM tracks JOIN reviews ON reviews.track_id = tracks.track_id
GROUP BY tracks.track_id, tracks.name;
