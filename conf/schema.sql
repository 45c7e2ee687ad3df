-- schema.sql: Troika's tables (MariaDB 10.11 / MySQL 8). Idempotent: every
-- statement can be run again on a loaded database. Later features add their
-- tables below their own heading.
--
-- Upgrades: loading this file again upgrades an existing database in place
-- (./quickstart loads it on every demo and test run; an operator runs
-- `mariadb troika < schema.sql` after installing a new version). New tables
-- are CREATE TABLE IF NOT EXISTS; a column added to an existing table goes
-- through troika_add_column below, which looks in information_schema first,
-- so running it twice changes nothing (MySQL 8 has no ADD COLUMN IF NOT
-- EXISTS). The procedure is dropped again at the end of the file. schema_info.version says which version
-- of this file last ran: 1 the first, 2 tenancy (issue 15: session owners,
-- API keys, chatbot origins).

SET NAMES utf8mb4;

-- Schema version, for operators and for migrations.
CREATE TABLE IF NOT EXISTS schema_info (
    id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    version INT UNSIGNED NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO schema_info (id, version) VALUES (1, 2)
    ON DUPLICATE KEY UPDATE version = GREATEST(version, VALUES(version));

-- Adds a column to an existing table unless it is there already.
DROP PROCEDURE IF EXISTS troika_add_column;
DELIMITER //
CREATE PROCEDURE troika_add_column(IN t VARCHAR(64), IN c VARCHAR(64), IN def VARCHAR(512))
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = DATABASE() AND table_name = t AND column_name = c) THEN
        SET @troika_ddl = CONCAT('ALTER TABLE `', t, '` ADD COLUMN `', c, '` ', def);
        PREPARE troika_stmt FROM @troika_ddl;
        EXECUTE troika_stmt;
        DEALLOCATE PREPARE troika_stmt;
    END IF;
END//
DELIMITER ;

-- ---- product catalog (troika-admin import-products; product search) --------
-- One row per product, upserted by sku. colors and sizes are kept twice: as
-- JSON arrays here for the product cards, and one row per value in the child
-- tables below, so that the search filters are indexed lookups. tags is the
-- comma-joined tag list (occasion, fabric, work, style) for full-text search.
-- content_hash (64-bit FNV-1a of the normalised record) lets an import skip a
-- product that did not change, so a rerun of the same file writes nothing.
CREATE TABLE IF NOT EXISTS products (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    sku VARCHAR(64) NOT NULL,
    title VARCHAR(255) NOT NULL,
    description TEXT NULL,
    category VARCHAR(64) NOT NULL,
    designer VARCHAR(128) NULL,
    colors VARCHAR(1024) NOT NULL DEFAULT '[]',
    sizes VARCHAR(512) NOT NULL DEFAULT '[]',
    price DECIMAL(12,2) NOT NULL,
    currency CHAR(3) NOT NULL,
    in_stock TINYINT(1) NOT NULL DEFAULT 1,
    stock_count INT NULL,
    tags VARCHAR(1024) NOT NULL DEFAULT '',
    image_url VARCHAR(1024) NULL,
    url VARCHAR(1024) NULL,
    popularity DOUBLE NOT NULL DEFAULT 0,
    content_hash BIGINT UNSIGNED NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    UNIQUE KEY uk_products_sku (sku),
    KEY k_products_category_pop (category, popularity),
    KEY k_products_designer (designer),
    KEY k_products_price (price),
    KEY k_products_popularity (popularity),
    KEY k_products_stock (in_stock, popularity),
    -- covers a segment (category + price band) for the sales agent's market
    -- figures and the search filters: counts, price order, stock, designers
    -- and popularity come from the index alone, without reading the rows
    KEY k_products_segment (category, price, in_stock, popularity, designer),
    FULLTEXT KEY ft_products_text (title, description, tags, designer, category)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Sizes in canonical form: XS S M L XL XXL XXXL, "Free Size", or a number.
CREATE TABLE IF NOT EXISTS product_sizes (
    product_id BIGINT UNSIGNED NOT NULL,
    size VARCHAR(32) NOT NULL,
    PRIMARY KEY (product_id, size),
    KEY k_product_sizes_size (size, product_id),
    CONSTRAINT fk_product_sizes_product FOREIGN KEY (product_id)
        REFERENCES products (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Colours as given (lower-case) with their normalised family (maroon, wine
-- and crimson are "red"; navy is "blue"); a colour filter uses the family.
CREATE TABLE IF NOT EXISTS product_colors (
    product_id BIGINT UNSIGNED NOT NULL,
    color VARCHAR(64) NOT NULL,
    family VARCHAR(32) NOT NULL,
    PRIMARY KEY (product_id, color),
    KEY k_product_colors_family (family, product_id),
    KEY k_product_colors_color (color, product_id),
    CONSTRAINT fk_product_colors_product FOREIGN KEY (product_id)
        REFERENCES products (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Tags (lower-case), so that an occasion filter ("shaadi" -> wedding) is an
-- indexed lookup too.
CREATE TABLE IF NOT EXISTS product_tags (
    product_id BIGINT UNSIGNED NOT NULL,
    tag VARCHAR(64) NOT NULL,
    PRIMARY KEY (product_id, tag),
    KEY k_product_tags_tag (tag, product_id),
    CONSTRAINT fk_product_tags_product FOREIGN KEY (product_id)
        REFERENCES products (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Derived from the catalog by troika-admin (import-products, build-index),
-- never written by the workers: one row per derived table with the version
-- of the code that built it ("terms_version", "bits_version"), so that an
-- upgrade that changes how they are built rebuilds them on the next run.
CREATE TABLE IF NOT EXISTS catalog_meta (
    k VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
    v VARCHAR(255) NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- How many products contain each full-text word (common/store/catterms.h), built
-- by troika-admin after an import: text search puts the rarest word first
-- and checks a very frequent one on the matched rows instead of reading its
-- whole document list. Words in fewer than 20 products are not stored; the
-- row "#products" holds the product count. term is lower-case.
CREATE TABLE IF NOT EXISTS search_terms (
    term VARCHAR(84) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    docs INT UNSIGNED NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The catalog's vocabulary (common/search/spell.h): every word of the
-- searchable text with a letter in it, lower-case, and how many products
-- contain it; written with search_terms after an import. Workers correct a
-- query word the vocabulary lacks to a word within one or two edits, and
-- report a word that matches nothing.
CREATE TABLE IF NOT EXISTS search_vocab (
    word VARCHAR(84) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    docs INT UNSIGNED NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Attribute bitmaps for browsing (a search whose words all became filters;
-- common/store/catbits.c, docs/search.md "Browsing"). Built by troika-admin after
-- an import that changed something, and before build-index when missing or
-- built by another version (catalog_meta "bits_version"); read by the
-- workers. One row per attribute value: k is the value with a prefix naming
-- the attribute ("cat:lehenga", "fam:red", "col:maroon", "size:M",
-- "tag:velvet", "des:<designer>", "stock:1"), a popularity tier ("pop:1" ..
-- "pop:8": about the top 1/256 .. 1/2), a price edge ("pmax:15000": price <=
-- 15000, "pmin:30000": price >= 30000), or "#all" (every product: its
-- presence says the bitmaps were built); n how many products it holds; bits
-- a bitset over product ids (byte i/8, bit i%8 from the least significant:
-- product id i), trailing zero bytes left out. k has the child tables'
-- collation, so the lookup `k = 'tag:Velvet'` finds exactly the products
-- `tag = 'Velvet'` would. Built only while MAX(id) <= 2,000,000 (a bitmap of
-- at most 250 KB); above that the table stays empty and browsing walks the
-- SQL indexes. 100k products: 334 rows, 12.5 KB each at most, 3.7 MB,
-- rebuilt in 0.7 s.
CREATE TABLE IF NOT EXISTS attr_bitmaps (
    k VARCHAR(200) NOT NULL PRIMARY KEY,
    n INT UNSIGNED NOT NULL,
    bits MEDIUMBLOB NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ---- chat sessions (issue 7; the sales agent shares them) -------------------
-- A session is a conversation. Its id is issued by the server (32 hex digits,
-- 128 bits from the kernel's CSPRNG); a client's own id is never adopted
-- (issue 15). It belongs to its owner: kind 'chat' with chatbot_id the
-- chatbot it was created for, or kind 'agent' (the sales agent) with the
-- chatbotId it was given, or NULL. Another owner sending the id gets a new
-- session. Rows from before owners existed have kind NULL and are never
-- continued. updated_at is the last use: idle expiry
-- (session_idle_timeout_s) and the retention job (`troika-admin sessions
-- prune`, session_retention_days) read it.
CREATE TABLE IF NOT EXISTS sessions (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    chatbot_id VARCHAR(64) NULL,
    kind ENUM('chat', 'agent') NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    KEY idx_sessions_chatbot (chatbot_id),
    KEY idx_sessions_updated (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- version 1 databases: sessions without an owner column
CALL troika_add_column('sessions', 'kind', 'ENUM(''chat'', ''agent'') NULL AFTER chatbot_id');

-- What was said, in order. partial = 1: an answer cut short (the client
-- left, or the upstream failed mid-answer). entities: what the sales agent
-- understood from a user message (JSON), else NULL.
CREATE TABLE IF NOT EXISTS messages (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    session_id VARCHAR(64) NOT NULL,
    role ENUM('user', 'assistant') NOT NULL,
    content MEDIUMTEXT NOT NULL,
    partial TINYINT(1) NOT NULL DEFAULT 0,
    entities JSON NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    KEY idx_messages_session (session_id, id),
    CONSTRAINT fk_messages_session FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ---- chatbots and their uploaded context (context upload; chat retrieval) ----
-- A chatbot is a row, created by its first upload (or `troika-admin
-- chatbot-create`); its id is the client's chatbotId (1-64 of A-Z a-z 0-9 _ -),
-- which also names its vector index file chatbot-<id> in index_dir. A
-- chatbot's context is only ever retrieved for that chatbot.
CREATE TABLE IF NOT EXISTS chatbots (
    id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    name VARCHAR(255) NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per uploaded file. sha256 (hex) of the raw upload: the same content
-- for the same chatbot is answered `duplicate: true` without re-embedding.
-- pages is NULL except for PDFs; tokens counts the whole extracted text with
-- `tokenizer` (cl100k_base, or estimate:chars/4 without the rank file).
CREATE TABLE IF NOT EXISTS context_files (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    chatbot_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    title VARCHAR(255) NOT NULL,
    filename VARCHAR(255) NOT NULL DEFAULT '',
    mime VARCHAR(64) CHARACTER SET ascii NOT NULL,
    bytes BIGINT UNSIGNED NOT NULL,
    sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    tokens INT UNSIGNED NOT NULL,
    chunks INT UNSIGNED NOT NULL,
    pages INT UNSIGNED NULL,
    tokenizer VARCHAR(32) CHARACTER SET ascii NOT NULL,
    embedder VARCHAR(160) NOT NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_context_files_sha (chatbot_id, sha256),
    CONSTRAINT fk_context_files_chatbot FOREIGN KEY (chatbot_id) REFERENCES chatbots (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The chunks of a file, in order (seq from 0), each with its page (PDF) or
-- NULL, its offset in characters (code points) into the extracted text, its
-- token count and its embedding: `vector` is dim little-endian float32s,
-- L2-normalised, by the embedder named in context_files. chatbot_id repeats
-- the file's so that retrieval filters by chatbot without a join. The
-- chatbot's vector index (chatbot-<id>) holds these rows' ids.
CREATE TABLE IF NOT EXISTS context_chunks (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    file_id BIGINT UNSIGNED NOT NULL,
    chatbot_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    seq INT UNSIGNED NOT NULL,
    page INT UNSIGNED NULL,
    char_offset BIGINT UNSIGNED NOT NULL,
    text MEDIUMTEXT NOT NULL,
    tokens INT UNSIGNED NOT NULL,
    vector BLOB NOT NULL,
    UNIQUE KEY uq_context_chunks_seq (file_id, seq),
    KEY ix_context_chunks_chatbot (chatbot_id, id),
    FULLTEXT KEY ft_context_chunks_text (text),
    CONSTRAINT fk_context_chunks_file FOREIGN KEY (file_id) REFERENCES context_files (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ---- who may call what (issue 15; docs/access.md) ----------------------------
-- API keys made by `troika-admin key create`. The key itself is shown once
-- and never stored: hash is its SHA-256 (a key is 256 random bits, so a fast
-- hash is enough; lookups go by it), prefix its first characters so that an
-- operator can tell keys apart in `key list`. scopes: what it may do
-- (upload < manage < admin, each including the ones before); chatbot_id: the
-- one chatbot it works for, NULL for every chatbot. A revoked key stays
-- listed with revoked_at set. last_used_at is refreshed at most once a
-- minute.
CREATE TABLE IF NOT EXISTS api_keys (
    id VARCHAR(16) CHARACTER SET ascii NOT NULL PRIMARY KEY,
    hash BINARY(32) NOT NULL,
    prefix VARCHAR(16) CHARACTER SET ascii NOT NULL,
    scopes SET('upload', 'manage', 'admin') NOT NULL,
    chatbot_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    name VARCHAR(255) NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    last_used_at TIMESTAMP(3) NULL,
    revoked_at TIMESTAMP(3) NULL,
    UNIQUE KEY uq_api_keys_hash (hash),
    KEY ix_api_keys_chatbot (chatbot_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The origins (scheme://host[:port], lower case) whose pages may call the API
-- for one chatbot from a browser (CORS), besides cors_allowed_origins in the
-- config, which holds for every chatbot. `troika-admin origin add|remove|list`.
CREATE TABLE IF NOT EXISTS chatbot_origins (
    chatbot_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    origin VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (chatbot_id, origin),
    KEY ix_chatbot_origins_origin (origin)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

DROP PROCEDURE IF EXISTS troika_add_column;
