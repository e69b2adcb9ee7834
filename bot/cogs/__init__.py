"""Command groups, one extension per area users see."""
