"""The weekly digest: ``week`` (ISO weeks) → ``compose`` (sections, size budget) → ``render``
(templates, CSS inlining) → ``archive`` (the web archive in the build). Rendering only: sending
is :mod:`feedkit.mail`, which imports this package, never the other way round.
"""
