"""bench/mutation.py leaves out of a group's score only mutants no test could ever catch: SQL
keywords and names in another case. These pin that its classifier never takes a mutant a user
could notice (a message, a quoted SQL value, Python names) for one of those."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "bench_mutation", Path(__file__).resolve().parents[1] / "bench" / "mutation.py")
mutation = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(mutation)


def diff(before: str, after: str, *context: str) -> str:
    """A diff as `mutmut show` prints one."""
    lines = ["--- feedkit/store/copy.py", "+++ feedkit/store/copy.py", "@@ -1,3 +1,3 @@",
             *(f" {line}" for line in context), f"-{before}", f"+{after}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("before, after", [
    ('    rows = db.execute("SELECT id, hash FROM articles WHERE id > ?")',
     '    rows = db.execute("select id, hash from articles where id > ?")'),
    ('    cur.execute("SELECT pg_advisory_lock(%s)", (key,))',
     '    cur.execute("select pg_advisory_lock(%s)", (key,))'),
    ("    db.execute('DELETE FROM claims WHERE run = ?', (run,))",
     "    db.execute('delete from claims where run = ?', (run,))"),
    # Quoted values left as they were; a call that goes on below the changed line.
    ('''    db.execute("SELECT id FROM subscribers WHERE status = 'active'")''',
     '''    db.execute("select id from subscribers where status = 'active'")'''),
    ('        db.execute("UPDATE subscribers SET categories = ?, updated_at = ? WHERE id = ?",',
     '        db.execute("update subscribers set categories = ?, updated_at = ? where id = ?",'),
])
def test_sql_in_another_case_is_equivalent(before: str, after: str) -> None:
    assert mutation.sql_case_only(diff(before, after, "def x_copy():"))


@pytest.mark.parametrize("before, after", [
    # A message a user reads: no SQL keyword in capitals.
    ('    raise StoreError("cannot delete from the store")',
     '    raise StoreError("CANNOT DELETE FROM THE STORE")'),
    # A quoted SQL value is case-sensitive.
    ('''    db.execute("SELECT id FROM subscribers WHERE status = 'active'")''',
     '''    db.execute("SELECT ID FROM SUBSCRIBERS WHERE STATUS = 'ACTIVE'")'''),
    # A string wrapped in XX, not a case change.
    ('    db.execute("SELECT id FROM articles")', '    db.execute("XXSELECT id FROM articlesXX")'),
    # The same SQL, but Python around it changed too.
    ('    rows = db.execute("SELECT id FROM articles", ())',
     '    rows = db.execute("select id from articles", None)'),
    # A number in another case, next to SQL that changed too.
    ('    db.execute("SELECT id FROM t LIMIT ?", (0x1f,))',
     '    db.execute("select id from t limit ?", (0X1F,))'),
    # An f-string's names are Python.
    ('    db.execute(f"SELECT {cols} FROM articles")',
     '    db.execute(f"select {COLS} from articles")'),
    # Nothing changed.
    ('    db.execute("SELECT 1")', '    db.execute("SELECT 1")'),
])
def test_anything_else_is_left_for_a_person_to_read(before: str, after: str) -> None:
    assert not mutation.sql_case_only(diff(before, after))


def test_a_mutant_that_changes_two_lines_is_not_taken_for_one() -> None:
    two = diff('    a = "SELECT 1"', '    a = "select 1"') + '-    b = "SELECT 2"\n+    b = "X"\n'
    assert not mutation.sql_case_only(two)
