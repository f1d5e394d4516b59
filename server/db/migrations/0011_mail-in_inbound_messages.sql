CREATE TYPE "public"."inbound_result" AS ENUM('created', 'appended', 'bounce', 'duplicate');--> statement-breakpoint
CREATE TYPE "public"."inbound_state" AS ENUM('queued', 'processed', 'ignored', 'failed');--> statement-breakpoint
CREATE TABLE "inbound_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source" text NOT NULL,
	"raw" "bytea" NOT NULL,
	"size" integer NOT NULL,
	"message_id" text,
	"from_address" text,
	"subject" text,
	"state" "inbound_state" DEFAULT 'queued' NOT NULL,
	"result" "inbound_result",
	"ticket_id" uuid,
	"comment_id" uuid,
	"reason" text,
	"dedupe_key" text,
	"full_text" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp (3) with time zone,
	"received_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp (3) with time zone,
	CONSTRAINT "inbound_messages_dedupe_key_unique" UNIQUE("dedupe_key")
);
--> statement-breakpoint
ALTER TABLE "inbound_messages" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "inbound_messages" ADD CONSTRAINT "inbound_messages_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inbound_messages" ADD CONSTRAINT "inbound_messages_comment_id_comments_id_fk" FOREIGN KEY ("comment_id") REFERENCES "public"."comments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "inbound_messages_received_idx" ON "inbound_messages" USING btree ("received_at","id");--> statement-breakpoint
CREATE INDEX "inbound_messages_message_id_idx" ON "inbound_messages" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "inbound_messages_queued_idx" ON "inbound_messages" USING btree ("received_at") WHERE "inbound_messages"."state" = 'queued';--> statement-breakpoint
CREATE POLICY "inbound_messages_system_only" ON "inbound_messages" AS PERMISSIVE FOR ALL TO public USING ((select current_setting('app.mode', true)) = 'all') WITH CHECK ((select current_setting('app.mode', true)) = 'all');