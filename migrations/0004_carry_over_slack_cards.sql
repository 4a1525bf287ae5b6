-- Today's rows are all Slack's: carry each card and thread over as a Slack reference, "<channel>:<ts>",
-- the encoding adapters/slack/refs.ts decodes.
INSERT INTO "cards" ("request_id", "platform", "ref")
  SELECT "id", 'slack', "card_channel" || ':' || "card_ts" FROM "permission_requests"
  WHERE "card_channel" IS NOT NULL AND "card_ts" IS NOT NULL
  ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "threads" ("session_id", "platform", "directory", "title", "ref", "created_at")
  SELECT "session_id", 'slack', "directory", "title", "channel" || ':' || "thread_ts", "created_at" FROM "session_threads"
  ON CONFLICT DO NOTHING;
