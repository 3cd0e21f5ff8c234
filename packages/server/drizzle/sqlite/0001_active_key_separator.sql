-- The active key joined type and scope with a NUL, which the libsql driver cuts text at when it reads
-- it back: keys now use '|' (job types cannot contain it). Rewrite the keys of jobs still active, as
-- bytes, since SQLite's text functions also stop at a NUL.
UPDATE `jobs` SET `active_key` = `type` || '|' || CAST(substr(CAST(`active_key` AS BLOB), length(CAST(`type` AS BLOB)) + 2) AS TEXT) WHERE `active_key` IS NOT NULL;
