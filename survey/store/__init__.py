"""The persistent store (SQLite by default, PostgreSQL by URL)."""
from .responses import load_responses
from .store import Store, default_url, response_table_name

__all__ = ["Store", "default_url", "response_table_name", "load_responses"]
