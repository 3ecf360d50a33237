"""`spotify-assets serve`: the person's pages in a browser (search, sort review, listening).

Server-rendered (Starlette + Jinja2, no JavaScript build), on the same database, bundle and
settings as the CLI, with the query model loaded once. Pure logic stays in lib/; this package
only reads requests and renders what lib/ returns.
"""
