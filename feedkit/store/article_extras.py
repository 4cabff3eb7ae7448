"""Store migration: each article's licence and its lead image's media type (issue 28).

Two columns on ``articles`` and on ``withdrawn`` (which keeps the same columns, so a withdrawal
and a restore move them along). Self-contained, like :mod:`feedkit.store.withdrawn_table`: the
step only adds columns with an empty default, so it can be renumbered when other migrations
land before it.

* ``license``: the article's licence code (:mod:`feedkit.editorial.licenses`), "" for the
  site's ``[site] license``;
* ``image_type``: the media type the image's server answered when ``feedkit update`` asked once
  (an image URL without a file extension, e.g. ``fileDownload.do?…``), "" when never asked.
"""

MIGRATION = """
ALTER TABLE articles ADD COLUMN license TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN image_type TEXT NOT NULL DEFAULT '';
ALTER TABLE withdrawn ADD COLUMN license TEXT NOT NULL DEFAULT '';
ALTER TABLE withdrawn ADD COLUMN image_type TEXT NOT NULL DEFAULT ''
"""
