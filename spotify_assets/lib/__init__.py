"""Pure domain code: no Dagster imports, so it can be tested and reused on its own."""
