"""The ways to pick or write a brief's points: extractive (default), abstractive and lead."""
