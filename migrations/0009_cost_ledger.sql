CREATE TABLE "cost_ledger" (
	"message_id" text PRIMARY KEY NOT NULL,
	"server_url" text NOT NULL,
	"directory" text NOT NULL,
	"project_name" text,
	"session_id" text NOT NULL,
	"provider_id" text NOT NULL,
	"model_id" text NOT NULL,
	"agent" text,
	"user_platform" text,
	"user_id" text,
	"user_name" text,
	"cost" double precision NOT NULL,
	"tokens_input" bigint NOT NULL,
	"tokens_output" bigint NOT NULL,
	"tokens_reasoning" bigint NOT NULL,
	"tokens_cache_read" bigint NOT NULL,
	"tokens_cache_write" bigint NOT NULL,
	"completed_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "cost_ledger_completed_idx" ON "cost_ledger" USING btree ("completed_at");--> statement-breakpoint
CREATE INDEX "cost_ledger_session_idx" ON "cost_ledger" USING btree ("session_id");