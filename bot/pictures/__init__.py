"""Pictures of the lore (relation maps, timelines) drawn with Pillow. Never imports discord."""
