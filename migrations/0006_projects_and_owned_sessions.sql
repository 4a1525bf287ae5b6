CREATE TABLE "channel_defaults" (
	"platform" text NOT NULL,
	"channel_ref" text NOT NULL,
	"project_name" text NOT NULL,
	"set_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "channel_defaults_platform_channel_ref_pk" PRIMARY KEY("platform","channel_ref")
);
--> statement-breakpoint
CREATE TABLE "owned_sessions" (
	"session_id" text PRIMARY KEY NOT NULL,
	"server_url" text NOT NULL,
	"directory" text NOT NULL,
	"project_name" text NOT NULL,
	"platform" text NOT NULL,
	"channel_ref" text NOT NULL,
	"thread_ref" text NOT NULL,
	"user_id" text NOT NULL,
	"user_name" text NOT NULL,
	"prompt" text NOT NULL,
	"agent" text,
	"model" text,
	"status_ref" text,
	"state" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"name" text PRIMARY KEY NOT NULL,
	"directory" text NOT NULL,
	"server_url" text,
	"added_by_platform" text NOT NULL,
	"added_by_user_id" text NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "owned_sessions_thread_idx" ON "owned_sessions" USING btree ("platform","thread_ref");