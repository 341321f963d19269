"""The staff's web page (``pgi-survey serve``): upload, check, confirm, weights, cases, digest."""
from .app import WebConfig, create_app

__all__ = ["WebConfig", "create_app"]
