"""The training corpus: permissively licensed sources, fetched, filtered, deduplicated, split."""
