ALTER TABLE "cards" ADD COLUMN "shown_state" text;--> statement-breakpoint
CREATE INDEX "cards_showing_pending_idx" ON "cards" USING btree ("request_id") WHERE shown_state = 'pending';