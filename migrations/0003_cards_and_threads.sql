CREATE TABLE "cards" (
	"request_id" text NOT NULL,
	"platform" text NOT NULL,
	"ref" text NOT NULL,
	"posted_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cards_request_id_platform_pk" PRIMARY KEY("request_id","platform")
);
--> statement-breakpoint
CREATE TABLE "threads" (
	"session_id" text NOT NULL,
	"platform" text NOT NULL,
	"directory" text NOT NULL,
	"title" text NOT NULL,
	"ref" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "threads_session_id_platform_pk" PRIMARY KEY("session_id","platform")
);
