"""Use cases over the store, the summarizer and the sources: what the bot does, platform-neutral."""
