CREATE TABLE "approval_votes" (
	"request_id" text NOT NULL,
	"platform" text NOT NULL,
	"user_id" text NOT NULL,
	"user_name" text NOT NULL,
	"choice" text NOT NULL,
	"edited_args" jsonb,
	"voted_at" timestamp with time zone NOT NULL,
	CONSTRAINT "approval_votes_request_id_platform_user_id_pk" PRIMARY KEY("request_id","platform","user_id")
);
--> statement-breakpoint
ALTER TABLE "permission_requests" ADD COLUMN "policy" jsonb;--> statement-breakpoint
ALTER TABLE "permission_requests" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "permission_requests" ADD COLUMN "escalated_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "permission_requests_expiry_idx" ON "permission_requests" USING btree ("expires_at");