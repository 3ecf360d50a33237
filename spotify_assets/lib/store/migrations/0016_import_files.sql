-- Every file of a person's import accounted for (lib/export/accounting.py): one row per file
-- and person, rewritten by a re-import. The equation is a constraint, so a summary that does
-- not add up cannot be stored.
CREATE TABLE import_files (
    person          text NOT NULL REFERENCES people (person) ON DELETE CASCADE,
    part            text NOT NULL CHECK (part IN ('playlists', 'library', 'history')),
    file            text NOT NULL,           -- the file's name without its folders
    sha256          text NOT NULL,
    rows            integer NOT NULL,
    stored          integer NOT NULL,        -- in the database after the import
    excluded_total  integer NOT NULL,        -- podcast episodes, audiobooks, videos, local files
    excluded        jsonb NOT NULL,          -- the same by kind
    quarantined     integer NOT NULL,        -- with their reasons in `quarantine`
    duplicates      integer NOT NULL,        -- the same play or song listed again
    note            text,                    -- e.g. a CSV read as Windows-1252
    imported_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person, sha256, file),
    CHECK (rows = stored + excluded_total + quarantined + duplicates)
);
