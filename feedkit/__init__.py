"""feedkit: a city's news as RSS, Atom and JSON feeds and a weekly email digest."""

__version__ = "0.1.0"
