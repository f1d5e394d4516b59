-- The queue's capped totals count part by part of the visibility rule (ticketVisibilityParts),
-- walking (org_id, number) under row-level security, whose policy reads requester_id and
-- assignee_id too: with them in the index the count is an index-only scan that never visits the
-- table (an agent's queue total at a million tickets: 29 → 5 ms, docs/search.md).
DROP INDEX IF EXISTS "tickets_org_number_idx";--> statement-breakpoint
CREATE INDEX "tickets_org_number_idx" ON "tickets" USING btree ("org_id","number") INCLUDE ("requester_id","assignee_id");
