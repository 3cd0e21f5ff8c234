-- The one row that hands out event cursors (see event_sequence in src/storage/pg/schema.ts).
INSERT INTO "event_sequence" ("id", "value") VALUES (1, 0) ON CONFLICT ("id") DO NOTHING;
