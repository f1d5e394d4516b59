-- Row-level security binds the tables' owner too (see 0002_force_row_level_security).
ALTER TABLE "mail_outbox" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "mail_message_ids" FORCE ROW LEVEL SECURITY;
