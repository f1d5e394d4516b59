CREATE TABLE "ticket_reads" (
	"user_id" uuid NOT NULL,
	"ticket_id" uuid NOT NULL,
	"seen_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "ticket_reads_user_id_ticket_id_pk" PRIMARY KEY("user_id","ticket_id")
);
--> statement-breakpoint
ALTER TABLE "ticket_reads" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "ticket_search" (
	"ticket_id" uuid PRIMARY KEY NOT NULL,
	"requester_id" uuid NOT NULL,
	"title_doc" "tsvector" NOT NULL,
	"body_doc" "tsvector" NOT NULL,
	"requester_doc" "tsvector" NOT NULL,
	"replies_doc" "tsvector" DEFAULT ''::tsvector NOT NULL,
	"notes_doc" "tsvector" DEFAULT ''::tsvector NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ticket_search" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
DROP INDEX "tickets_search_idx";--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "updated_by" uuid;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "activity_at" timestamp (3) with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "activity_by" uuid;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "priority_rank" smallint GENERATED ALWAYS AS (case "tickets"."priority" when 'urgent' then 3 when 'high' then 2 when 'normal' then 1 else 0 end) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "ticket_reads" ADD CONSTRAINT "ticket_reads_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_reads" ADD CONSTRAINT "ticket_reads_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_search" ADD CONSTRAINT "ticket_search_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ticket_reads_ticket_idx" ON "ticket_reads" USING btree ("ticket_id");--> statement-breakpoint
CREATE INDEX "ticket_search_requester_idx" ON "ticket_search" USING btree ("requester_id");--> statement-breakpoint
CREATE INDEX "ticket_search_public_idx" ON "ticket_search" USING gin (("title_doc" || "body_doc" || "requester_doc" || "replies_doc"));--> statement-breakpoint
CREATE INDEX "ticket_search_staff_idx" ON "ticket_search" USING gin (("title_doc" || "body_doc" || "requester_doc" || "replies_doc" || "notes_doc"));--> statement-breakpoint
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_activity_by_users_id_fk" FOREIGN KEY ("activity_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tickets_activity_number_idx" ON "tickets" USING btree ("activity_at","number");--> statement-breakpoint
CREATE INDEX "tickets_updated_number_idx" ON "tickets" USING btree ("updated_at","number");--> statement-breakpoint
CREATE INDEX "tickets_created_number_idx" ON "tickets" USING btree ("created_at","number");--> statement-breakpoint
CREATE INDEX "tickets_priority_activity_number_idx" ON "tickets" USING btree ("priority_rank","activity_at","number");--> statement-breakpoint
ALTER TABLE "tickets" DROP COLUMN "search";--> statement-breakpoint
CREATE POLICY "ticket_reads_own" ON "ticket_reads" AS PERMISSIVE FOR ALL TO public USING (user_id = (select nullif(current_setting('app.user_id', true), '')::uuid) and exists (select 1 from tickets where tickets.id = ticket_id)) WITH CHECK (user_id = (select nullif(current_setting('app.user_id', true), '')::uuid) and exists (select 1 from tickets where tickets.id = ticket_id));