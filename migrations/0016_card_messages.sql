ALTER TABLE "threads" ADD COLUMN "parent_card_ref" text;--> statement-breakpoint
CREATE INDEX "cards_message_idx" ON "cards" USING btree ("platform","ref");