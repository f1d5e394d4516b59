-- The documents' GIN takes new entries through its pending list again (0026 had switched it off),
-- and the app's job `search.flush` merges the list every SEARCH_FLUSH_INTERVAL ms, outside any
-- request. A comment writes a new version of its ticket's search row, and every word of the
-- row's staff document goes into the index again: on a 500-comment ticket (1,605 words) that is
-- 11-12 ms in the database entered directly, 2-2.5 ms appended to the pending list (5 pages).
-- 0021 had the list merged by whichever write filled it (256 kB: every second or third reply on
-- a long thread, 25-120 ms); with 4 MB and the job, a write merges only when the job is
-- behind by ~800 long replies. Searches read the pending list first: the job keeps it short.
-- Titles change rarely and stay direct.
ALTER INDEX "ticket_search_staff_idx" SET (fastupdate = on, gin_pending_list_limit = 4096);--> statement-breakpoint
-- Merging needs the index's owner: this runs as the owner for whoever calls it (the app's job).
CREATE OR REPLACE FUNCTION search_flush() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
  SELECT gin_clean_pending_list('ticket_search_staff_idx'::regclass)
$$;
