"""The Discord adapter: translates between Discord interactions and the lore engine."""
