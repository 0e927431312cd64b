"""The graph layer: turns a LazyResult tree into nodes and typed edges."""
