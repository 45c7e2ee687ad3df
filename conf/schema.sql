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
