"""The stream catalog: owners (single writer), namespaces, tags, deprecation, consumers and
producers, search, governance as code and exports. State is a fold over the `_catalog` log."""
