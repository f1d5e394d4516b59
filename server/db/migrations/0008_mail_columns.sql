ALTER TABLE "orgs" ADD COLUMN "email_domains" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "email_bounced_at" timestamp (3) with time zone;