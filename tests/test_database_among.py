"""``among``: the right rows for each call's ids, with the SQL compiled once per statement."""

from __future__ import annotations

from sqlalchemy import event, select

from matching.database import among
from matching.models import User


def _ids(db, ids) -> list[int]:
    return list(db.session.scalars(select(User.id).where(among(User.id, ids)).order_by(User.id)))


def test_each_call_gets_its_own_ids_from_one_compiled_statement(db, make_user):
    users = [make_user(email=f"among{i}@example.org") for i in range(4)]
    ids = [u.id for u in users]
    hits: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        hits.append(context.cache_hit)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert _ids(db, ids[:2]) == ids[:2]
        assert _ids(db, [ids[3], ids[1], ids[3]]) == [ids[1], ids[3]]  # repeats, any order
        assert _ids(db, ids) == ids  # a longer list: the same statement
        assert _ids(db, []) == []
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    # The first call compiles (or finds it compiled by an earlier test); every later one hits.
    cache = db.engine.dialect.CACHE_HIT
    assert hits[1:] == [cache] * (len(hits) - 1), hits


def test_inside_a_bigger_statement_the_ids_stay_apart(db, make_user):
    users = [make_user(email=f"apart{i}@example.org") for i in range(3)]
    ids = [u.id for u in users]
    query = select(User.id).where(among(User.id, ids[:1]) | among(User.id, ids[2:]))
    assert sorted(db.session.scalars(query)) == [ids[0], ids[2]]
