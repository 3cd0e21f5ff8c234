CREATE TABLE "event_sequence" (
	"id" smallint PRIMARY KEY NOT NULL,
	"value" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"owner_id" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"job_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "idempotency_keys_owner_id_key_pk" PRIMARY KEY("owner_id","key")
);
--> statement-breakpoint
CREATE TABLE "job_events" (
	"cursor" bigint PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"job_id" text NOT NULL,
	"version" integer NOT NULL,
	"data" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"type" text NOT NULL,
	"scope" text,
	"title" text,
	"status" text NOT NULL,
	"progress" double precision,
	"message" text,
	"input" text,
	"result" text,
	"error" text,
	"attempt" integer NOT NULL,
	"max_attempts" integer NOT NULL,
	"retry_of" text,
	"active_key" text,
	"lease_token" text,
	"lease_expires_at" bigint,
	"worker_id" text,
	"version" integer NOT NULL,
	"created_at" bigint NOT NULL,
	"started_at" bigint,
	"updated_at" bigint NOT NULL,
	"completed_at" bigint
);
--> statement-breakpoint
CREATE TABLE "meta" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "idempotency_created" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "job_events_owner_cursor" ON "job_events" USING btree ("owner_id","cursor");--> statement-breakpoint
CREATE INDEX "job_events_created" ON "job_events" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_owner_active_key" ON "jobs" USING btree ("owner_id","active_key");--> statement-breakpoint
CREATE INDEX "jobs_owner_created" ON "jobs" USING btree ("owner_id","created_at");--> statement-breakpoint
CREATE INDEX "jobs_status" ON "jobs" USING btree ("status");