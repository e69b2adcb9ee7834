"""The lore engine: model, store, canon pack, search and spoiler rules. Never imports discord."""

__version__ = "0.1.0"
