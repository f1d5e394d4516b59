ALTER POLICY "comments_visible_to_caller" ON "comments" TO public USING (exists (select 1 from tickets where tickets.id = ticket_id) and (not internal or (select current_setting('app.staff', true)) = 'on')) WITH CHECK (exists (select 1 from tickets where tickets.id = ticket_id) and (not internal or (select current_setting('app.staff', true)) = 'on'));--> statement-breakpoint
ALTER POLICY "tickets_select" ON "tickets" TO public USING (((select current_setting('app.mode', true)) = 'all'
  or ((select current_setting('app.mode', true)) in ('own', 'assigned', 'org', 'staff') and requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid))
  or ((select current_setting('app.mode', true)) in ('assigned', 'staff') and assignee_id = (select nullif(current_setting('app.user_id', true), '')::uuid))
  or ((select current_setting('app.mode', true)) in ('org', 'staff') and org_id = any((select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[]))));--> statement-breakpoint
ALTER POLICY "tickets_insert" ON "tickets" TO public WITH CHECK (((select current_setting('app.mode', true)) = 'all'
  or ((select current_setting('app.mode', true)) in ('own', 'assigned', 'org', 'staff') and requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid))
  or ((select current_setting('app.mode', true)) in ('assigned', 'staff') and assignee_id = (select nullif(current_setting('app.user_id', true), '')::uuid))
  or ((select current_setting('app.mode', true)) in ('org', 'staff') and org_id = any((select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[]))));--> statement-breakpoint
ALTER POLICY "tickets_update" ON "tickets" TO public USING (((select current_setting('app.mode', true)) = 'all'
  or ((select current_setting('app.mode', true)) in ('own', 'assigned', 'org', 'staff') and requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid))
  or ((select current_setting('app.mode', true)) in ('assigned', 'staff') and assignee_id = (select nullif(current_setting('app.user_id', true), '')::uuid))
  or ((select current_setting('app.mode', true)) in ('org', 'staff') and org_id = any((select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[])))) WITH CHECK (true);--> statement-breakpoint
ALTER POLICY "tickets_delete" ON "tickets" TO public USING (((select current_setting('app.mode', true)) = 'all'
  or ((select current_setting('app.mode', true)) in ('own', 'assigned', 'org', 'staff') and requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid))
  or ((select current_setting('app.mode', true)) in ('assigned', 'staff') and assignee_id = (select nullif(current_setting('app.user_id', true), '')::uuid))
  or ((select current_setting('app.mode', true)) in ('org', 'staff') and org_id = any((select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[]))));