CREATE TABLE "inbound_messages" (
	"platform" text NOT NULL,
	"message_ref" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbound_messages_platform_message_ref_pk" PRIMARY KEY("platform","message_ref")
);
