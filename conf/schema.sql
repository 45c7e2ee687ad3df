-- schema.sql: Troika's tables (MariaDB 10.11 / MySQL 8). Idempotent: every
-- statement can be run again on a loaded database. Later features add their
-- tables below their own heading.

SET NAMES utf8mb4;

-- Schema version, for operators and for migrations.
CREATE TABLE IF NOT EXISTS schema_info (
    id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    version INT UNSIGNED NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO schema_info (id, version) VALUES (1, 1)
    ON DUPLICATE KEY UPDATE version = GREATEST(version, VALUES(version));

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

-- ---- chat sessions (issue 7; the sales agent shares them) -------------------
-- A session is a conversation, named by the client's sessionId or a fresh
-- random one. chatbot_id is where it started (NULL for the sales agent).
CREATE TABLE IF NOT EXISTS sessions (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    chatbot_id VARCHAR(64) NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    KEY idx_sessions_chatbot (chatbot_id),
    KEY idx_sessions_updated (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

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
