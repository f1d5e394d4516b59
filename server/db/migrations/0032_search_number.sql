-- search_tickets() as in 0030, for the partitions (0031): a ticket number is matched by the id
-- of the ticket it names, and an admin's search for a number skips the estimate of how common
-- it is. Planning each statement reads every partition's indexes; `s.number = $2 and <the rule>`
-- made each partition's plan weigh the number's index against those of the rule's columns.
-- An agent's number: 1.9 ms in the function before (psql, p50 of 70), the collecting statement
-- 1.3 of it. A replaced function loses its SET clauses, so random_page_cost = 1.1 is repeated.
CREATE OR REPLACE FUNCTION search_tickets(query tsquery, named int, statuses ticket_status[], ranks smallint[],
  assignee uuid, unassigned boolean, org text, sort text, after bigint[], lim int, cap int)
RETURNS TABLE (id uuid, tier int, k0 bigint, k1 bigint, k2 bigint, total int, jump uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog
  SET enable_bitmapscan = on SET enable_indexscan = on SET enable_seqscan = on SET random_page_cost = 1.1 AS $fn$
DECLARE
  staff boolean := current_setting('app.staff', true) = 'on';
  me uuid := nullif(current_setting('app.user_id', true), '')::uuid;
  my_orgs uuid[] := coalesce(string_to_array(nullif(current_setting('app.org_ids', true), ''), ',')::uuid[], '{}');
  -- The words a requester's query needs, without its negations and with its phrases as plain ANDs:
  -- every public word is in staff_doc too, so this finds a superset of the public matches, and
  -- public_doc then decides exactly (a note's words can neither add nor hide a ticket).
  needed text := regexp_replace(querytree(query), '<[0-9]*-?>', '&', 'g');
  match text := CASE WHEN staff THEN 's.staff_doc @@ $1'
    WHEN needed = '' THEN 'false' -- no words (a number alone): nothing to match
    WHEN needed = 'T' THEN 's.public_doc @@ $1' -- only negations: no index can help either way
    ELSE format('(s.staff_doc @@ %L::tsquery and s.public_doc @@ $1)', needed) END;
  -- Who may see a row, as words of its access document (ticket_search_access): the rule of
  -- `visible` below, answered by the documents' index together with the query's words.
  tokens text[] := CASE current_setting('app.mode', true)
    WHEN 'own' THEN array['r:' || me]
    WHEN 'assigned' THEN array['r:' || me, 'a:' || me]
    WHEN 'org' THEN array['r:' || me] || array(SELECT 'o:' || o FROM unnest(my_orgs) o)
    WHEN 'staff' THEN array['r:' || me, 'a:' || me, 'o:none'] || array(SELECT 'o:' || o FROM unnest(my_orgs) o)
    END;
  access text := array_to_string(array(SELECT quote_literal(t) FROM unnest(tokens) t WHERE t IS NOT NULL), ' | ');
  wanted text := CASE WHEN tokens IS NULL THEN match
    WHEN access = '' THEN 'false'
    ELSE format('%s and ticket_search_access(s.requester_id, s.assignee_id, s.org_id) @@ %L::tsquery', match, access) END;
  changed text := CASE WHEN staff THEN 's.activity_at' ELSE 's.updated_at' END;
  ms text := 'floor(extract(epoch from %s) * 1000)::bigint';
  at text := '(timestamptz ''epoch'' + $9[%s] * interval ''1 millisecond'')';
  visible text := CASE current_setting('app.mode', true)
    WHEN 'all' THEN 'true'
    WHEN 'own' THEN 's.requester_id = $3'
    WHEN 'assigned' THEN '(s.requester_id = $3 or s.assignee_id = $3)'
    WHEN 'org' THEN '(s.requester_id = $3 or s.org_id = any($4))'
    WHEN 'staff' THEN '(s.requester_id = $3 or s.assignee_id = $3 or s.org_id = any($4) or s.org_id is null)'
    ELSE 'false' END;
  filters text := concat_ws(' and ',
    CASE WHEN statuses IS NOT NULL THEN 's.status = any($5)' END,
    CASE WHEN ranks IS NOT NULL THEN 's.priority_rank = any($6)' END,
    CASE WHEN assignee IS NOT NULL THEN 's.assignee_id = $7' WHEN unassigned THEN 's.assignee_id is null' END,
    CASE WHEN org IS NOT NULL THEN 's.org_id = (select o.id from orgs o where o.slug = $8)' END);
  -- The rule and the filters for a row read row by row; for one the documents' index answers, the
  -- filters alone when the access words already carry the rule.
  chosen text := concat_ws(' and ', visible, nullif(filters, ''));
  indexed text := CASE WHEN tokens IS NULL THEN chosen ELSE coalesce(nullif(filters, ''), 'true') END;
  by_rows text;
  matched text;
  keys text;
  collected text;
  page_keys text;
  sorted text;
  cursor_at text;
  hit_after text;
  hit_order text;
  n int;
  returned int := 0;
  left_over int := lim;
  found_total int;
  found_jump uuid;
  estimate json;
  common boolean := false;
  other_than_bitmaps CONSTANT text[] := array['enable_indexscan', 'enable_seqscan'];
  other_than_walks CONSTANT text[] := array['enable_bitmapscan', 'enable_seqscan'];
BEGIN
  -- (The numbered ticket comes with the rule itself: `indexed` may not carry it.)
  by_rows := CASE WHEN named IS NULL THEN match ELSE format('(%s or s.number = $2)', match) END;

  -- Sort keys as numbers (a cursor carries them), how a cursor continues, and the order. The
  -- matches collected below carry the columns as they are (a timestamp turned into milliseconds
  -- is numeric arithmetic: 5 ms over 10,000 matches) and only the page's rows are turned into
  -- numbers (`page_keys`); their cursor condition compares columns with the cursor's values.
  IF sort = 'relevance' THEN
    keys := format('%s as k0, s.number::bigint as k1, null::bigint as k2', format(ms, changed));
    collected := format('%s as k0, s.number as k1', changed);
    page_keys := format('%s, p.k1::bigint, null::bigint', format(ms, 'p.k0'));
    hit_after := format('(tier > $9[1] or (tier = $9[1] and (k0, k1) < (%s, $9[3])))', format(at, 2));
    hit_order := 'tier, k0 desc, k1 desc';
  ELSE
    collected := CASE sort
      WHEN 'number' THEN 's.number as k0'
      WHEN 'created' THEN 's.created_at as k0, s.number as k1'
      WHEN 'priority' THEN format('s.priority_rank as k0, %s as k1, s.number as k2', changed)
      ELSE format('%s as k0, s.number as k1', changed) END;
    page_keys := CASE sort
      WHEN 'number' THEN 'p.k0::bigint, null::bigint, null::bigint'
      WHEN 'priority' THEN format('p.k0::bigint, %s, p.k2::bigint', format(ms, 'p.k1'))
      ELSE format('%s, p.k1::bigint, null::bigint', format(ms, 'p.k0')) END;
    keys := CASE sort
      WHEN 'number' THEN 's.number::bigint as k0, null::bigint as k1, null::bigint as k2'
      WHEN 'created' THEN format('%s as k0, s.number::bigint as k1, null::bigint as k2', format(ms, 's.created_at'))
      WHEN 'priority' THEN format('s.priority_rank::bigint as k0, %s as k1, s.number::bigint as k2', format(ms, changed))
      ELSE format('%s as k0, s.number::bigint as k1, null::bigint as k2', format(ms, changed)) END;
    hit_after := CASE sort WHEN 'number' THEN 'k0 < $9[1]' WHEN 'priority' THEN format('(k0, k1, k2) < ($9[1]::smallint, %s, $9[3])', format(at, 2))
      ELSE format('(k0, k1) < (%s, $9[2])', format(at, 1)) END;
    hit_order := CASE sort WHEN 'number' THEN 'k0 desc' WHEN 'priority' THEN 'k0 desc, k1 desc, k2 desc' ELSE 'k0 desc, k1 desc' END;
  END IF;

  PERFORM search_plan(other_than_bitmaps, 'off');
  IF named IS NOT NULL THEN
    EXECUTE format('select s.ticket_id from ticket_search s where s.number = $2 and %s', chosen)
      INTO found_jump USING query, named, me, my_orgs, statuses, ranks, assignee, org, after, lim, cap;
  END IF;
  -- The numbered ticket by its id, found above with the rule and the filters (`chosen`): as
  -- `s.number = $2 and <the rule>`, every partition's plan weighed the number's index against
  -- those of the rule's columns, for each of the statements below (0032).
  matched := CASE WHEN found_jump IS NULL THEN wanted ELSE format('((%s) or s.ticket_id = %L::uuid)', wanted, found_jump) END;
  -- A word expected in far more tickets than the cap is counted first (nothing read but whether
  -- each row is there): at the cap the word is common and its matches need not be collected.
  -- Only without access words: with them PostgreSQL multiplies the two as if independent (1,477
  -- expected for an agent's 9,641 matches of `toner`), so the guess cannot tell a common word and
  -- planning it is wasted; the collecting statement below finds the cap itself.
  -- Nor for a ticket number: a number is rarely a common word, and if it is, the collecting
  -- statement finds the cap as well (0.4 ms of an admin's 1.2 for a number, over the partitions).
  IF tokens IS NULL AND named IS NULL THEN
    EXECUTE format('explain (format json) select from ticket_search s where %s and %s', matched, indexed)
      INTO estimate USING query, named, me, my_orgs, statuses, ranks, assignee, org, after, lim, cap;
    IF (estimate->0->'Plan'->>'Plan Rows')::float8 >= 2 * cap THEN
      EXECUTE format('select count(*)::int from (select from ticket_search s where %s and %s limit $11) x', matched, indexed)
        INTO n USING query, named, me, my_orgs, statuses, ranks, assignee, org, after, lim, cap;
      common := n >= cap;
    END IF;
  END IF;
  IF NOT common THEN
    -- Every match up to the cap, in one scan of the indexes. Below the cap (a rare word) the page
    -- is taken from them, and that is all.
    RETURN QUERY EXECUTE format($q$
      with hits as materialized (select s.ticket_id, %s as tier, %s from ticket_search s where %s and %s limit $11)
      select p.ticket_id, p.tier, %s, c.total, $12 from (select count(*)::int as total from hits) c
        left join lateral (select * from hits where %s order by %s limit $10) p on true
      where c.total < $11$q$,
      CASE WHEN sort <> 'relevance' THEN 'null::int' WHEN named IS NULL THEN 'case when s.title_doc @@ $1 then 1 else 2 end'
        ELSE 'case when s.number = $2 then 0 when s.title_doc @@ $1 then 1 else 2 end' END,
      collected, matched, indexed, page_keys, CASE WHEN after IS NULL THEN 'true' ELSE hit_after END, hit_order)
      USING query, named, me, my_orgs, statuses, ranks, assignee, org, after, lim, cap, found_jump;
    IF FOUND THEN RETURN; END IF;
  END IF;

  -- A common word: at least `cap` matches. Title hits come from the title's index or a walk of
  -- the sort's index; the rest walk the sort's index newest first until the page is full.
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
      -- The title hits as a bitmap and sorted, or by walking the sort's index: the planner's choice.
      PERFORM search_plan(array['enable_indexscan'], 'on');
      RETURN QUERY EXECUTE format('select s.ticket_id, 1, %s, $12, $13 from ticket_search s where s.title_doc @@ $1 and s.number is distinct from $2 and %s and %s %s limit $10',
        keys, chosen, CASE WHEN after IS NOT NULL AND after[1] = 1 THEN cursor_at ELSE 'true' END, sorted)
        USING query, named, me, my_orgs, statuses, ranks, assignee, org, after, left_over, cap, found_total, found_jump;
      GET DIAGNOSTICS n = ROW_COUNT;
      left_over := left_over - n;
    END IF;
    IF left_over > 0 THEN
      PERFORM search_plan(other_than_bitmaps, 'on');
      PERFORM search_plan(other_than_walks, 'off');
      RETURN QUERY EXECUTE format('select s.ticket_id, 2, %s, $12, $13 from ticket_search s where %s and not s.title_doc @@ $1 and s.number is distinct from $2 and %s and %s %s limit $10',
        keys, match, chosen, CASE WHEN after IS NOT NULL AND after[1] = 2 THEN cursor_at ELSE 'true' END, sorted)
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
      keys, by_rows, chosen, cursor_at, sorted)
      USING query, named, me, my_orgs, statuses, ranks, assignee, org, after, lim, cap, found_total, found_jump;
    GET DIAGNOSTICS returned = ROW_COUNT;
  END IF;
  IF returned = 0 THEN
    RETURN QUERY SELECT null::uuid, null::int, null::bigint, null::bigint, null::bigint, found_total, found_jump;
  END IF;
END
$fn$;
