"""Model management: the catalog, pulls from a hub or a package index, the cache folder, conversion."""
