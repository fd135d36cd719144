-- 001_schema.sql: the Craftista schema (PostgreSQL 15).
--
-- users     one row per account, owned by the auth service: login name, email,
--           bcrypt password hash and role ('user' or 'admin'). Usernames and emails
--           are unique regardless of letter case (unique indexes on lower(...)), so
--           two racing registrations cannot both win.
-- products  the origami catalogue, owned by the product service; the database
--           allocates ids. products.votes is the vote count: it is changed in the
--           same transaction as the votes rows, because other readers
--           (recommendation, older services) read the count from here.
-- votes     one row per user per origami (the user is the JWT `sub`, i.e. the
--           username); the primary key makes a second vote by the same user a no-op,
--           and the rows go away with their product.
--
-- No BEGIN/COMMIT here: the migration runner applies each file in one transaction
-- and records it in its own bookkeeping table.

CREATE TABLE users (
	id            BIGSERIAL    PRIMARY KEY,
	username      VARCHAR(50)  NOT NULL,
	email         VARCHAR(100) NOT NULL,
	password_hash TEXT         NOT NULL,
	role          TEXT         NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
	created_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
	updated_at    TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_username_key_ci ON users (lower(username));
CREATE UNIQUE INDEX users_email_key_ci ON users (lower(email));

CREATE TABLE products (
	id          SERIAL       PRIMARY KEY,
	name        VARCHAR(255) NOT NULL CHECK (length(name) >= 1),
	description TEXT         NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
	image_url   TEXT         NOT NULL DEFAULT '',
	votes       INTEGER      NOT NULL DEFAULT 0 CHECK (votes >= 0),
	created_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
	updated_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE TABLE votes (
	username   TEXT        NOT NULL,
	product_id INTEGER     NOT NULL REFERENCES products (id) ON DELETE CASCADE,
	created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (product_id, username)
);

-- "Which origami has this user voted for?" (GET /api/votes/mine).
CREATE INDEX votes_username_idx ON votes (username);
