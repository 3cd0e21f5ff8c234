-- When the owner hid the job from the tracker (epoch ms), null while it is shown: stored per user, so a
-- dismissal holds on every device. Existing jobs are shown.
ALTER TABLE "jobs" ADD COLUMN "dismissed_at" bigint;