-- The report API: a job a host runs itself carries its external id (unique per owner, for idempotent
-- creates) and its report token, which fences its writes and keeps it from claims and the lease sweep.
-- Any job may declare stale_after_ms: running with no update for that long, it counts as stalled.
ALTER TABLE `jobs` ADD `external_id` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `report_token` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `stale_after_ms` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_owner_external_id` ON `jobs` (`owner_id`,`external_id`);