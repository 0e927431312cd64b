"""The declarative layer: what users write. Nothing here runs anything."""
