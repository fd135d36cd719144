-- 003_origami_of_the_day.sql: the pick of each UTC day, recorded once.
--
-- The recommendation service computes a deterministic pick from the date, but the
-- catalogue can change during a day; recording the first pick makes every replica
-- (including ones started later that day) answer with the same origami. Deleting a
-- product removes its pick, and the next request picks again.

CREATE TABLE IF NOT EXISTS origami_of_the_day (
    day        date        PRIMARY KEY,
    product_id integer     NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    picked_at  timestamptz NOT NULL DEFAULT now()
);
