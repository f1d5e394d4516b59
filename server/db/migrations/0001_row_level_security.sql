ALTER TABLE "comments" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "ticket_events" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "tickets" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "comments_visible_to_caller" ON "comments" AS PERMISSIVE FOR ALL TO public USING (exists (select 1 from tickets where tickets.id = ticket_id) and (not internal or current_setting('app.staff', true) = 'on')) WITH CHECK (exists (select 1 from tickets where tickets.id = ticket_id) and (not internal or current_setting('app.staff', true) = 'on'));--> statement-breakpoint
CREATE POLICY "ticket_events_visible_to_caller" ON "ticket_events" AS PERMISSIVE FOR ALL TO public USING (exists (select 1 from tickets where tickets.id = ticket_id)) WITH CHECK (exists (select 1 from tickets where tickets.id = ticket_id));--> statement-breakpoint
CREATE POLICY "tickets_select" ON "tickets" AS PERMISSIVE FOR SELECT TO public USING ((current_setting('app.mode', true) = 'all'
  or (current_setting('app.mode', true) in ('own', 'assigned', 'org', 'staff') and requester_id = nullif(current_setting('app.user_id', true), '')::uuid)
  or (current_setting('app.mode', true) in ('assigned', 'staff') and assignee_id = nullif(current_setting('app.user_id', true), '')::uuid)
  or (current_setting('app.mode', true) in ('org', 'staff') and org_id = any(string_to_array(nullif(current_setting('app.org_ids', true), ''), ',')::uuid[]))));--> statement-breakpoint
CREATE POLICY "tickets_insert" ON "tickets" AS PERMISSIVE FOR INSERT TO public WITH CHECK ((current_setting('app.mode', true) = 'all'
  or (current_setting('app.mode', true) in ('own', 'assigned', 'org', 'staff') and requester_id = nullif(current_setting('app.user_id', true), '')::uuid)
  or (current_setting('app.mode', true) in ('assigned', 'staff') and assignee_id = nullif(current_setting('app.user_id', true), '')::uuid)
  or (current_setting('app.mode', true) in ('org', 'staff') and org_id = any(string_to_array(nullif(current_setting('app.org_ids', true), ''), ',')::uuid[]))));--> statement-breakpoint
CREATE POLICY "tickets_update" ON "tickets" AS PERMISSIVE FOR UPDATE TO public USING ((current_setting('app.mode', true) = 'all'
  or (current_setting('app.mode', true) in ('own', 'assigned', 'org', 'staff') and requester_id = nullif(current_setting('app.user_id', true), '')::uuid)
  or (current_setting('app.mode', true) in ('assigned', 'staff') and assignee_id = nullif(current_setting('app.user_id', true), '')::uuid)
  or (current_setting('app.mode', true) in ('org', 'staff') and org_id = any(string_to_array(nullif(current_setting('app.org_ids', true), ''), ',')::uuid[])))) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "tickets_delete" ON "tickets" AS PERMISSIVE FOR DELETE TO public USING ((current_setting('app.mode', true) = 'all'
  or (current_setting('app.mode', true) in ('own', 'assigned', 'org', 'staff') and requester_id = nullif(current_setting('app.user_id', true), '')::uuid)
  or (current_setting('app.mode', true) in ('assigned', 'staff') and assignee_id = nullif(current_setting('app.user_id', true), '')::uuid)
  or (current_setting('app.mode', true) in ('org', 'staff') and org_id = any(string_to_array(nullif(current_setting('app.org_ids', true), ''), ',')::uuid[]))));