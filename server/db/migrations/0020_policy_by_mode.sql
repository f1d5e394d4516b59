-- The tickets policy as one CASE on the mode: the mode is read once (an InitPlan), and each row is
-- checked only with its mode's comparisons, not the OR of every mode's (0.6 µs a row, most of a
-- capped count under row-level security). Same rule as before; the visibility matrix test checks it.
ALTER POLICY "tickets_select" ON "tickets" TO public USING ((case (select current_setting('app.mode', true))
  when 'all' then true
  when 'staff' then org_id is null or org_id = any((select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[]) or requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid) or assignee_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  when 'org' then org_id = any((select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[]) or requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  when 'assigned' then requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid) or assignee_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  when 'own' then requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  else false end));--> statement-breakpoint
ALTER POLICY "tickets_insert" ON "tickets" TO public WITH CHECK ((case (select current_setting('app.mode', true))
  when 'all' then true
  when 'staff' then org_id is null or org_id = any((select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[]) or requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid) or assignee_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  when 'org' then org_id = any((select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[]) or requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  when 'assigned' then requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid) or assignee_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  when 'own' then requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  else false end));--> statement-breakpoint
ALTER POLICY "tickets_update" ON "tickets" TO public USING ((case (select current_setting('app.mode', true))
  when 'all' then true
  when 'staff' then org_id is null or org_id = any((select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[]) or requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid) or assignee_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  when 'org' then org_id = any((select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[]) or requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  when 'assigned' then requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid) or assignee_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  when 'own' then requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  else false end)) WITH CHECK (true);--> statement-breakpoint
ALTER POLICY "tickets_delete" ON "tickets" TO public USING ((case (select current_setting('app.mode', true))
  when 'all' then true
  when 'staff' then org_id is null or org_id = any((select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[]) or requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid) or assignee_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  when 'org' then org_id = any((select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[]) or requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  when 'assigned' then requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid) or assignee_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  when 'own' then requester_id = (select nullif(current_setting('app.user_id', true), '')::uuid)
  else false end));