CREATE TABLE "digest_slots" (
	"slot" timestamp with time zone PRIMARY KEY NOT NULL,
	"posted" boolean NOT NULL,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL
);
