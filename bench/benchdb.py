"""The PostgreSQL set-up the benchmarks share: each gets a database of its own, emptied first."""

from __future__ import annotations

from sqlalchemy import URL, create_engine, make_url, pool, text

# Never empty these: CI's and the tests' databases, the server's own, and api_overhead's data.
REFUSED = ("test", "postgres", "template0", "template1", "viva_bench")


def sync_url(url: str) -> URL:
    """`url` with the synchronous psycopg driver, whatever form it was given in."""
    return make_url(url).set(drivername="postgresql+psycopg")


def fresh_postgres(url: str) -> None:
    """Create the benchmark's database if missing and empty it (`viva serve` migrates it)."""
    parsed = sync_url(url)
    name = parsed.database
    if not name or name in REFUSED:
        raise SystemExit(f"refusing to benchmark in database {name!r}; use a viva_bench_* database")
    admin = create_engine(
        parsed.set(database="postgres"), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    engine = create_engine(parsed, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
