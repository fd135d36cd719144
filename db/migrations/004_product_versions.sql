-- 004_product_versions.sql: versions that let the product cache refuse stale data.
--
-- Every change to a product (vote, withdrawal, edit, delete) takes a fresh number
-- from one sequence, so versions only ever grow. Cache entries carry the version of
-- the row they were built from and Redis keeps an entry only if it is newer than the
-- one it holds: a reader that loaded an old row can never overwrite a newer count.
--
-- cache_repair lists products whose cache entry could not be brought up to date
-- after a commit (Redis down or timed out). Every product replica repairs those
-- entries from PostgreSQL before it trusts the cache again.

CREATE SEQUENCE IF NOT EXISTS product_version_seq AS bigint;

ALTER TABLE products
    ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT nextval('product_version_seq');

CREATE TABLE IF NOT EXISTS cache_repair (
    product_id integer     NOT NULL,
    version    bigint      NOT NULL,
    noted_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, version)
);
