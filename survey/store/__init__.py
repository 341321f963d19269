"""The persistent store (SQLite by default, PostgreSQL by URL)."""
from .responses import load_responses
from .store import ENV_DB, LoadCounts, Store, default_url, response_table_name, store_location

__all__ = ["Store", "LoadCounts", "ENV_DB", "default_url", "store_location", "response_table_name", "load_responses"]
