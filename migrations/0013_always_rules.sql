CREATE TABLE "always_rules" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"directory" text NOT NULL,
	"permission" text NOT NULL,
	"pattern" text NOT NULL,
	"request_id" text NOT NULL,
	"by_platform" text NOT NULL,
	"by_user_id" text NOT NULL,
	"by_name" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by" text
);
--> statement-breakpoint
CREATE INDEX "always_rules_scope_idx" ON "always_rules" USING btree ("directory","permission");