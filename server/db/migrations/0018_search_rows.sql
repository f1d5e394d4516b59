-- Search answered from ticket_search alone (docs/search.md): each row also carries copies of the
-- columns the visibility rule, the filters and the sorts read, and the two documents stored whole,
-- so `search_tickets()` finds a page and a capped total without joining a match to `tickets`
-- (a common word matched 60,000 tickets; joining them cost 180 ms at a million tickets).

-- The owner is bound by the tickets and comments policies too (FORCE): see every row while copying.
SELECT set_config('app.mode', 'all', true), set_config('app.staff', 'on', true);--> statement-breakpoint
-- The indexes below are built once over every row (a million tickets: minutes with the default 64 MB).
SELECT set_config('maintenance_work_mem', '256MB', true);--> statement-breakpoint

ALTER TABLE "ticket_search" RENAME TO "ticket_search_parts";--> statement-breakpoint
ALTER TABLE "ticket_search_parts" RENAME CONSTRAINT "ticket_search_pkey" TO "ticket_search_parts_pkey";--> statement-breakpoint
ALTER TABLE "ticket_search_parts" DROP CONSTRAINT "ticket_search_ticket_id_tickets_id_fk";--> statement-breakpoint
DROP INDEX "ticket_search_requester_idx";--> statement-breakpoint
DROP INDEX "ticket_search_public_idx";--> statement-breakpoint
DROP INDEX "ticket_search_staff_idx";--> statement-breakpoint
DROP FUNCTION search_ticket_ids(tsquery);--> statement-breakpoint

CREATE TABLE "ticket_search" (
	"ticket_id" uuid PRIMARY KEY NOT NULL,
	"number" integer NOT NULL,
	"requester_id" uuid NOT NULL,
	"assignee_id" uuid,
	"org_id" uuid,
	"status" "ticket_status" NOT NULL,
	"priority_rank" smallint NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"activity_at" timestamp (3) with time zone NOT NULL,
	"title_doc" "tsvector" NOT NULL,
	"body_doc" "tsvector" NOT NULL,
	"requester_doc" "tsvector" NOT NULL,
	"replies_doc" "tsvector" DEFAULT ''::tsvector NOT NULL,
	"notes_doc" "tsvector" DEFAULT ''::tsvector NOT NULL,
	"public_doc" "tsvector" NOT NULL,
	"staff_doc" "tsvector" NOT NULL
);--> statement-breakpoint
ALTER TABLE "ticket_search" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "ticket_search" ADD CONSTRAINT "ticket_search_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint

INSERT INTO ticket_search (ticket_id, number, requester_id, assignee_id, org_id, status, priority_rank, created_at, updated_at, activity_at,
  title_doc, body_doc, requester_doc, replies_doc, notes_doc, public_doc, staff_doc)
SELECT t.id, t.number, t.requester_id, t.assignee_id, t.org_id, t.status, t.priority_rank, t.created_at, t.updated_at, t.activity_at,
  p.title_doc, p.body_doc, p.requester_doc, p.replies_doc, p.notes_doc,
  p.title_doc || p.body_doc || p.requester_doc || p.replies_doc,
  p.title_doc || p.body_doc || p.requester_doc || p.replies_doc || p.notes_doc
FROM tickets t JOIN ticket_search_parts p ON p.ticket_id = t.id;--> statement-breakpoint
DROP TABLE "ticket_search_parts";--> statement-breakpoint

CREATE INDEX "ticket_search_public_idx" ON "ticket_search" USING gin ("public_doc");--> statement-breakpoint
CREATE INDEX "ticket_search_title_idx" ON "ticket_search" USING gin ("title_doc");--> statement-breakpoint
CREATE INDEX "ticket_search_staff_idx" ON "ticket_search" USING gin ("staff_doc");--> statement-breakpoint
CREATE INDEX "ticket_search_activity_number_idx" ON "ticket_search" USING btree ("activity_at","number");--> statement-breakpoint
CREATE INDEX "ticket_search_updated_number_idx" ON "ticket_search" USING btree ("updated_at","number");--> statement-breakpoint
CREATE INDEX "ticket_search_created_number_idx" ON "ticket_search" USING btree ("created_at","number");--> statement-breakpoint
CREATE UNIQUE INDEX "ticket_search_number_idx" ON "ticket_search" USING btree ("number");--> statement-breakpoint
CREATE INDEX "ticket_search_requester_idx" ON "ticket_search" USING btree ("requester_id");--> statement-breakpoint
CREATE INDEX "ticket_search_assignee_idx" ON "ticket_search" USING btree ("assignee_id");--> statement-breakpoint
CREATE INDEX "ticket_search_org_idx" ON "ticket_search" USING btree ("org_id");--> statement-breakpoint

-- A ticket's row: its copies on every change of them, its documents when the title, the body or
-- the requester change (rebuilt from the stored parts; the thread is never read again).
CREATE OR REPLACE FUNCTION ticket_search_from_ticket() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.title IS DISTINCT FROM OLD.title OR NEW.body IS DISTINCT FROM OLD.body OR NEW.requester_id IS DISTINCT FROM OLD.requester_id THEN
    INSERT INTO ticket_search AS s (ticket_id, number, requester_id, assignee_id, org_id, status, priority_rank, created_at, updated_at, activity_at,
      title_doc, body_doc, requester_doc, public_doc, staff_doc)
    SELECT NEW.id, NEW.number, NEW.requester_id, NEW.assignee_id, NEW.org_id, NEW.status, NEW.priority_rank, NEW.created_at, NEW.updated_at, NEW.activity_at,
      d.title_doc, d.body_doc, d.requester_doc, d.title_doc || d.body_doc || d.requester_doc, d.title_doc || d.body_doc || d.requester_doc
    FROM (SELECT to_tsvector('english', NEW.title) AS title_doc, to_tsvector('english', NEW.body) AS body_doc, ticket_search_requester_doc(NEW.requester_id) AS requester_doc) d
    ON CONFLICT (ticket_id) DO UPDATE SET requester_id = excluded.requester_id, assignee_id = excluded.assignee_id, org_id = excluded.org_id,
      status = excluded.status, priority_rank = excluded.priority_rank, created_at = excluded.created_at, updated_at = excluded.updated_at,
      activity_at = excluded.activity_at, title_doc = excluded.title_doc, body_doc = excluded.body_doc, requester_doc = excluded.requester_doc,
      public_doc = excluded.public_doc || s.replies_doc, staff_doc = excluded.public_doc || s.replies_doc || s.notes_doc;
  ELSE
    UPDATE ticket_search SET assignee_id = NEW.assignee_id, org_id = NEW.org_id, status = NEW.status, priority_rank = NEW.priority_rank,
      created_at = NEW.created_at, updated_at = NEW.updated_at, activity_at = NEW.activity_at
    WHERE ticket_id = NEW.id;
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
DROP TRIGGER tickets_search ON tickets;--> statement-breakpoint
CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION ticket_search_from_ticket();--> statement-breakpoint
CREATE TRIGGER tickets_search_update AFTER UPDATE ON tickets FOR EACH ROW
  WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.body IS DISTINCT FROM NEW.body OR OLD.requester_id IS DISTINCT FROM NEW.requester_id
    OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id OR OLD.org_id IS DISTINCT FROM NEW.org_id OR OLD.status IS DISTINCT FROM NEW.status
    OR OLD.priority IS DISTINCT FROM NEW.priority OR OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.updated_at IS DISTINCT FROM NEW.updated_at
    OR OLD.activity_at IS DISTINCT FROM NEW.activity_at)
  EXECUTE FUNCTION ticket_search_from_ticket();--> statement-breakpoint

-- A new reply or note is appended to its part and to the documents that include it.
CREATE OR REPLACE FUNCTION ticket_search_from_comment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
DECLARE
  doc tsvector := to_tsvector('english', NEW.body);
BEGIN
  IF NEW.internal THEN
    UPDATE ticket_search SET notes_doc = notes_doc || doc, staff_doc = staff_doc || doc WHERE ticket_id = NEW.ticket_id;
  ELSE
    UPDATE ticket_search SET replies_doc = replies_doc || doc, public_doc = public_doc || doc, staff_doc = staff_doc || doc WHERE ticket_id = NEW.ticket_id;
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint

CREATE OR REPLACE FUNCTION ticket_search_from_user() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
DECLARE
  doc tsvector := ticket_search_requester_doc(NEW.id);
BEGIN
  UPDATE ticket_search SET requester_doc = doc, public_doc = title_doc || body_doc || doc || replies_doc,
    staff_doc = title_doc || body_doc || doc || replies_doc || notes_doc
  WHERE requester_id = NEW.id;
  RETURN NULL;
END
$$;--> statement-breakpoint

-- How a search's statements may be planned, for the rest of the function only (its SET clauses restore them).
CREATE FUNCTION search_plan(names text[], value text) RETURNS void
LANGUAGE sql SET search_path = public, pg_catalog AS $$ SELECT set_config(n, value, true) FROM unnest(names) n $$;--> statement-breakpoint

-- The one way the app's role searches (docs/search.md). Runs as the owner so the GIN indexes can
-- be used (under row-level security `@@`, not LEAKPROOF, would be evaluated row by row after the
-- policy). It applies the tickets policy's rule to the row's copies, from the same settings
-- (`app.mode`, `app.user_id`, `app.org_ids`; `app.staff` picks the document with internal notes),
-- then the list's filters, and returns ids and sort keys of one page with the total up to `cap`
-- (`total` and `jump` on every row; one row with a null id when the page is empty). The caller
-- reads the page from `tickets` under its policies and the app's own rule.
-- How: every match up to the cap is collected from the indexes (bitmaps) once; below the cap the
-- page is sorted from them. At the cap the word is common: title hits still come from the title
-- index, and the rest walk the sort's index newest first until the page is full.
CREATE FUNCTION search_tickets(query tsquery, named int, statuses ticket_status[], ranks smallint[],
  assignee uuid, unassigned boolean, org text, sort text, after bigint[], lim int, cap int)
RETURNS TABLE (id uuid, tier int, k0 bigint, k1 bigint, k2 bigint, total int, jump uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog
  SET enable_bitmapscan = on SET enable_indexscan = on SET enable_seqscan = on AS $fn$
DECLARE
  staff boolean := current_setting('app.staff', true) = 'on';
  me uuid := nullif(current_setting('app.user_id', true), '')::uuid;
  my_orgs uuid[] := coalesce(string_to_array(nullif(current_setting('app.org_ids', true), ''), ',')::uuid[], '{}');
  doc text := CASE WHEN staff THEN 's.staff_doc' ELSE 's.public_doc' END;
  changed text := CASE WHEN staff THEN 's.activity_at' ELSE 's.updated_at' END;
  ms text := 'floor(extract(epoch from %s) * 1000)::bigint';
  at text := '(timestamptz ''epoch'' + $9[%s] * interval ''1 millisecond'')';
  chosen text;
  matched text;
  keys text;
  sorted text;
  cursor_at text;
  hit_after text;
  hit_order text;
  n int;
  returned int := 0;
  left_over int := lim;
  found_total int;
  found_jump uuid;
  other_than_bitmaps CONSTANT text[] := array['enable_indexscan', 'enable_seqscan'];
  other_than_walks CONSTANT text[] := array['enable_bitmapscan', 'enable_seqscan'];
BEGIN
  chosen := concat_ws(' and ',
    CASE current_setting('app.mode', true)
      WHEN 'all' THEN 'true'
      WHEN 'own' THEN 's.requester_id = $3'
      WHEN 'assigned' THEN '(s.requester_id = $3 or s.assignee_id = $3)'
      WHEN 'org' THEN '(s.requester_id = $3 or s.org_id = any($4))'
      WHEN 'staff' THEN '(s.requester_id = $3 or s.assignee_id = $3 or s.org_id = any($4) or s.org_id is null)'
      ELSE 'false' END,
    CASE WHEN statuses IS NOT NULL THEN 's.status = any($5)' END,
    CASE WHEN ranks IS NOT NULL THEN 's.priority_rank = any($6)' END,
    CASE WHEN assignee IS NOT NULL THEN 's.assignee_id = $7' WHEN unassigned THEN 's.assignee_id is null' END,
    CASE WHEN org IS NOT NULL THEN 's.org_id = (select o.id from orgs o where o.slug = $8)' END);
  matched := CASE WHEN named IS NULL THEN format('%s @@ $1', doc) ELSE format('(%s @@ $1 or s.number = $2)', doc) END;

  -- Sort keys as numbers (a cursor carries them), how a cursor continues, and the order.
  IF sort = 'relevance' THEN
    keys := format('%s as k0, s.number::bigint as k1, null::bigint as k2', format(ms, changed));
    hit_after := '(tier > $9[1] or (tier = $9[1] and (k0, k1) < ($9[2], $9[3])))';
    hit_order := 'tier, k0 desc, k1 desc';
  ELSE
    keys := CASE sort
      WHEN 'number' THEN 's.number::bigint as k0, null::bigint as k1, null::bigint as k2'
      WHEN 'created' THEN format('%s as k0, s.number::bigint as k1, null::bigint as k2', format(ms, 's.created_at'))
      WHEN 'priority' THEN format('s.priority_rank::bigint as k0, %s as k1, s.number::bigint as k2', format(ms, changed))
      ELSE format('%s as k0, s.number::bigint as k1, null::bigint as k2', format(ms, changed)) END;
    hit_after := CASE sort WHEN 'number' THEN 'k0 < $9[1]' WHEN 'priority' THEN '(k0, k1, k2) < ($9[1], $9[2], $9[3])' ELSE '(k0, k1) < ($9[1], $9[2])' END;
    hit_order := CASE sort WHEN 'number' THEN 'k0 desc' WHEN 'priority' THEN 'k0 desc, k1 desc, k2 desc' ELSE 'k0 desc, k1 desc' END;
  END IF;

  PERFORM search_plan(other_than_bitmaps, 'off');
  IF named IS NOT NULL THEN
    EXECUTE format('select s.ticket_id from ticket_search s where s.number = $2 and %s', chosen)
      INTO found_jump USING query, named, me, my_orgs, statuses, ranks, assignee, org, after, lim, cap;
  END IF;
  -- Every match up to the cap, in one scan of the indexes. Below the cap (a rare word) the page
  -- is taken from them, and that is all.
  RETURN QUERY EXECUTE format($q$
    with hits as materialized (select s.ticket_id, %s as tier, %s from ticket_search s where %s and %s limit $11)
    select p.ticket_id, p.tier, p.k0, p.k1, p.k2, c.total, $12 from (select count(*)::int as total from hits) c
      left join lateral (select * from hits where %s order by %s limit $10) p on true
    where c.total < $11$q$,
    CASE WHEN sort <> 'relevance' THEN 'null::int' WHEN named IS NULL THEN 'case when s.title_doc @@ $1 then 1 else 2 end'
      ELSE 'case when s.number = $2 then 0 when s.title_doc @@ $1 then 1 else 2 end' END,
    keys, matched, chosen, CASE WHEN after IS NULL THEN 'true' ELSE hit_after END, hit_order)
    USING query, named, me, my_orgs, statuses, ranks, assignee, org, after, lim, cap, found_jump;
  IF FOUND THEN RETURN; END IF;

  -- A common word: at least `cap` matches. Title hits still come from the title's index (a few
  -- percent of the matches); the rest walk the sort's index newest first until the page is full.
  found_total := cap;
  IF sort = 'relevance' THEN
    sorted := format('order by %s desc, s.number desc', changed);
    cursor_at := format('(%s, s.number) < (%s, $9[3])', changed, format(at, 2));
    -- The numbered ticket, then title hits, then the other matches; a cursor says where it stopped.
    IF found_jump IS NOT NULL AND after IS NULL THEN
      RETURN QUERY EXECUTE format('select s.ticket_id, 0, %s, $12, $13 from ticket_search s where s.ticket_id = $13', keys)
        USING query, named, me, my_orgs, statuses, ranks, assignee, org, after, lim, cap, found_total, found_jump;
      GET DIAGNOSTICS n = ROW_COUNT;
      left_over := left_over - n;
    END IF;
    IF after IS NULL OR after[1] <= 1 THEN
      RETURN QUERY EXECUTE format('select s.ticket_id, 1, %s, $12, $13 from ticket_search s where s.title_doc @@ $1 and s.number is distinct from $2 and %s and %s %s limit $10',
        keys, chosen, CASE WHEN after IS NOT NULL AND after[1] = 1 THEN cursor_at ELSE 'true' END, sorted)
        USING query, named, me, my_orgs, statuses, ranks, assignee, org, after, left_over, cap, found_total, found_jump;
      GET DIAGNOSTICS n = ROW_COUNT;
      left_over := left_over - n;
    END IF;
    IF left_over > 0 THEN
      PERFORM search_plan(other_than_bitmaps, 'on');
      PERFORM search_plan(other_than_walks, 'off');
      RETURN QUERY EXECUTE format('select s.ticket_id, 2, %s, $12, $13 from ticket_search s where %s @@ $1 and not s.title_doc @@ $1 and s.number is distinct from $2 and %s and %s %s limit $10',
        keys, doc, chosen, CASE WHEN after IS NOT NULL AND after[1] = 2 THEN cursor_at ELSE 'true' END, sorted)
        USING query, named, me, my_orgs, statuses, ranks, assignee, org, after, left_over, cap, found_total, found_jump;
      GET DIAGNOSTICS n = ROW_COUNT;
      left_over := left_over - n;
    END IF;
    returned := lim - left_over;
  ELSE
    sorted := CASE sort WHEN 'number' THEN 'order by s.number desc' WHEN 'created' THEN 'order by s.created_at desc, s.number desc'
      WHEN 'priority' THEN format('order by s.priority_rank desc, %s desc, s.number desc', changed)
      ELSE format('order by %s desc, s.number desc', changed) END;
    cursor_at := CASE WHEN after IS NULL THEN 'true' ELSE CASE sort
      WHEN 'number' THEN 's.number < $9[1]'
      WHEN 'created' THEN format('(s.created_at, s.number) < (%s, $9[2])', format(at, 1))
      WHEN 'priority' THEN format('(s.priority_rank, %s, s.number) < ($9[1]::smallint, %s, $9[3])', changed, format(at, 2))
      ELSE format('(%s, s.number) < (%s, $9[2])', changed, format(at, 1)) END END;
    -- (No index walks priority order: a common word sorted by priority is collected and sorted.)
    IF sort <> 'priority' THEN
      PERFORM search_plan(other_than_bitmaps, 'on');
      PERFORM search_plan(other_than_walks, 'off');
    END IF;
    RETURN QUERY EXECUTE format('select s.ticket_id, null::int, %s, $12, $13 from ticket_search s where %s and %s and %s %s limit $10',
      keys, matched, chosen, cursor_at, sorted)
      USING query, named, me, my_orgs, statuses, ranks, assignee, org, after, lim, cap, found_total, found_jump;
    GET DIAGNOSTICS returned = ROW_COUNT;
  END IF;
  IF returned = 0 THEN
    RETURN QUERY SELECT null::uuid, null::int, null::bigint, null::bigint, null::bigint, found_total, found_jump;
  END IF;
END
$fn$;
--> statement-breakpoint
-- Statistics for the new rows now (how common each word is), not when autovacuum gets to them.
ANALYZE ticket_search;
