-- Row-level security also binds the tables' owner, so a single-role installation is protected too.
-- (Superusers and BYPASSRLS roles are never bound; the app refuses to run as one in production.)
ALTER TABLE "tickets" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "comments" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "ticket_events" FORCE ROW LEVEL SECURITY;
