-- Whether an event was a progress report (progress_from: the version it applies on top of) and, when the
-- log kept it in place of earlier reports, the first of their cursors (see job_events in the schema).
ALTER TABLE "job_events" ADD COLUMN "progress_from" integer;--> statement-breakpoint
ALTER TABLE "job_events" ADD COLUMN "coalesced_from" bigint;