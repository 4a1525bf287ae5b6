ALTER TABLE "inbound_messages" ADD COLUMN "state" text DEFAULT 'sent' NOT NULL;--> statement-breakpoint
ALTER TABLE "inbound_messages" ADD COLUMN "thread_ref" text;--> statement-breakpoint
ALTER TABLE "inbound_messages" ADD COLUMN "user_name" text;--> statement-breakpoint
CREATE INDEX "inbound_messages_state_idx" ON "inbound_messages" USING btree ("state");