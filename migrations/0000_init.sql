CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"request_id" text NOT NULL,
	"session_id" text NOT NULL,
	"directory" text NOT NULL,
	"tool" text NOT NULL,
	"tool_name" text,
	"patterns" jsonb NOT NULL,
	"original_args" jsonb NOT NULL,
	"edited_args" jsonb,
	"decision" text NOT NULL,
	"reason" text,
	"decider_platform" text NOT NULL,
	"decider_user_id" text NOT NULL,
	"decider_name" text NOT NULL,
	"asked_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone NOT NULL,
	"linked_request_id" text,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "permission_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"directory" text NOT NULL,
	"session_id" text NOT NULL,
	"permission" text NOT NULL,
	"patterns" jsonb NOT NULL,
	"always" jsonb NOT NULL,
	"metadata" jsonb NOT NULL,
	"call_id" text,
	"message_id" text,
	"tool_name" text,
	"tool_args" jsonb,
	"state" text DEFAULT 'pending' NOT NULL,
	"asked_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone,
	"decider_platform" text,
	"decider_user_id" text,
	"decider_name" text,
	"reason" text,
	"edited_args" jsonb,
	"linked_request_id" text,
	"reply_error" text,
	"card_channel" text,
	"card_ts" text
);
--> statement-breakpoint
CREATE TABLE "preapprovals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"directory" text NOT NULL,
	"session_id" text NOT NULL,
	"permission" text NOT NULL,
	"call" jsonb NOT NULL,
	"source_request_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"consumed_by_request_id" text,
	"consumed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "session_threads" (
	"session_id" text PRIMARY KEY NOT NULL,
	"directory" text NOT NULL,
	"title" text NOT NULL,
	"channel" text NOT NULL,
	"thread_ts" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_log_request_idx" ON "audit_log" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "permission_requests_state_idx" ON "permission_requests" USING btree ("state");--> statement-breakpoint
CREATE INDEX "permission_requests_session_idx" ON "permission_requests" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "preapprovals_session_idx" ON "preapprovals" USING btree ("session_id");--> statement-breakpoint
CREATE UNIQUE INDEX "preapprovals_source_idx" ON "preapprovals" USING btree ("source_request_id");