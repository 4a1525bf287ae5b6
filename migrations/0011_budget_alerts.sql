CREATE TABLE "budget_alerts" (
	"project_name" text NOT NULL,
	"kind" text NOT NULL,
	"period_start" text NOT NULL,
	"percent" integer NOT NULL,
	"posted_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "budget_alerts_project_name_kind_period_start_percent_pk" PRIMARY KEY("project_name","kind","period_start","percent")
);
