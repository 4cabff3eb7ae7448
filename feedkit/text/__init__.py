"""Text tools every stage shares: languages and their catalogs (:mod:`~feedkit.text.i18n`),
dates shown to people (:mod:`~feedkit.text.dates`, with Babel's answers remembered in
:mod:`~feedkit.text.cldr`), category slugs (:mod:`~feedkit.text.slugs`), templates
(:mod:`~feedkit.text.templating`), cleaning text, URLs and article HTML
(:mod:`~feedkit.text.clean`: what both ingest and the digest use), one key per article URL
(:mod:`~feedkit.text.urlkey`: withdrawals and duplicates), text wrapped in terminal columns
(:mod:`~feedkit.text.wrap`), an image's type from its URL (:mod:`~feedkit.text.media`) and the
user's cache folder (:mod:`~feedkit.text.usercache`).

May import: ``config`` and the shared modules only. Every stage imports it; it imports no stage.
"""
