class CatalogError(ValueError):
    """A catalog source that cannot be loaded at all; the message says why and what to do."""
