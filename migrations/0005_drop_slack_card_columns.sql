DROP TABLE "session_threads" CASCADE;--> statement-breakpoint
ALTER TABLE "permission_requests" DROP COLUMN "card_channel";--> statement-breakpoint
ALTER TABLE "permission_requests" DROP COLUMN "card_ts";