-- The search rows partitioned by organisation (docs/search.md, "Partitions"): the general queue
-- (no organisation) in one partition, the organisations' tickets in 8 more by the last 32 bits of
-- the organisation's id. A common word's total reads the GIN bitmap of every row holding the word
-- (a bitmap scan has no early stop) and then one table page per match: over one table, an
-- admin's `toner` built a bitmap of all 60,013 of its rows to count 10,001, and an agent's 9,641
-- visible matches sat on 8,794 pages spread over the whole table. Partitioned, an admin's count
-- stops in the first partitions that reach the cap, and an agent's matches come from the pages of
-- two partitions (the general queue, their organisation's), whose GIN indexes answer the words and
-- the access words (0030) together; the others' indexes find the access words in few rows.
-- Measured in psql on the bench's rows (p50 of 16, taking turns): admin's count 27.8 -> 22.0 ms,
-- agent's collection 45.9 -> 32.0.
-- The partition is a column of its own, set by the triggers: a partition key cannot be a generated
-- column, and a key or unique index must carry it. The ticket's id (the primary key) and number
-- are unique on `tickets`; here the key is (ticket_id, part) and the number index is plain.
-- From the id's last hex digits, not a hash function of PostgreSQL's, so that it never changes
-- with the server's version (those digits are random in every kind of uuid; the first are a time
-- in version 7). A ticket that moves to another organisation moves to its partition.
CREATE FUNCTION ticket_search_part(org uuid) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN org IS NULL THEN 0 ELSE 1 + (('x' || substr(org::text, 29, 8))::bit(32)::int & 7) END;--> statement-breakpoint
ALTER TABLE "ticket_search" RENAME TO "ticket_search_unpartitioned";--> statement-breakpoint
-- Index names are unique in the schema: the old table's go first (it is dropped once copied).
DROP INDEX "ticket_search_title_idx", "ticket_search_staff_idx", "ticket_search_activity_number_idx", "ticket_search_updated_number_idx",
  "ticket_search_created_number_idx", "ticket_search_number_idx", "ticket_search_requester_idx", "ticket_search_assignee_idx", "ticket_search_org_idx";--> statement-breakpoint
ALTER INDEX "ticket_search_pkey" RENAME TO "ticket_search_unpartitioned_pkey";--> statement-breakpoint
-- The same columns, defaults, generated pad and column storage (the title in the row, 0019).
CREATE TABLE "ticket_search" (
  LIKE "ticket_search_unpartitioned" INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE,
  "part" smallint NOT NULL,
  CONSTRAINT "ticket_search_ticket_id_part_pk" PRIMARY KEY ("ticket_id", "part"),
  CONSTRAINT "ticket_search_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "tickets"("id") ON DELETE cascade
) PARTITION BY LIST ("part");--> statement-breakpoint
ALTER TABLE "ticket_search" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
-- Each partition: the storage settings of the rows (a partitioned table holds none itself), row
-- level security with no policy like its parent (a partition named directly is a table of its
-- own), and statistics of 1,000 lexemes per document. The planner reads every partition's: with
-- 10,000 each (as on the one table), planning a statement that tests a document took 2.2-3.0 ms
-- instead of 0.37, and the function plans each of its statements on every call.
DO $$
DECLARE
  name text;
BEGIN
  FOR p IN 0..8 LOOP
    name := CASE WHEN p = 0 THEN 'ticket_search_general' ELSE 'ticket_search_orgs_' || p END;
    EXECUTE format('CREATE TABLE %I PARTITION OF ticket_search FOR VALUES IN (%s) WITH (fillfactor = 90, toast_tuple_target = 128)', name, p);
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY, ALTER COLUMN title_doc SET STATISTICS 100, ALTER COLUMN public_doc SET STATISTICS 100, ALTER COLUMN staff_doc SET STATISTICS 100', name);
  END LOOP;
END
$$;--> statement-breakpoint
SELECT set_config('maintenance_work_mem', '256MB', true);--> statement-breakpoint
-- Oldest first, as they were written: a page's rows were written together (seed version 3).
INSERT INTO "ticket_search" ("ticket_id", "number", "requester_id", "assignee_id", "org_id", "status", "priority_rank", "created_at", "updated_at",
  "activity_at", "title_doc", "body_doc", "requester_doc", "replies_doc", "notes_doc", "public_doc", "staff_doc", "part")
SELECT "ticket_id", "number", "requester_id", "assignee_id", "org_id", "status", "priority_rank", "created_at", "updated_at",
  "activity_at", "title_doc", "body_doc", "requester_doc", "replies_doc", "notes_doc", "public_doc", "staff_doc", ticket_search_part("org_id")
FROM "ticket_search_unpartitioned" ORDER BY "number";--> statement-breakpoint
DROP TABLE "ticket_search_unpartitioned";--> statement-breakpoint
CREATE INDEX "ticket_search_title_idx" ON "ticket_search" USING gin ("title_doc") WITH (fastupdate = off);--> statement-breakpoint
CREATE INDEX "ticket_search_staff_idx" ON "ticket_search" USING gin ("staff_doc", ticket_search_access("requester_id", "assignee_id", "org_id"))
  WITH (fastupdate = on, gin_pending_list_limit = 4096);--> statement-breakpoint
CREATE INDEX "ticket_search_activity_number_idx" ON "ticket_search" USING btree ("activity_at", "number");--> statement-breakpoint
CREATE INDEX "ticket_search_updated_number_idx" ON "ticket_search" USING btree ("updated_at", "number");--> statement-breakpoint
CREATE INDEX "ticket_search_created_number_idx" ON "ticket_search" USING btree ("created_at", "number");--> statement-breakpoint
CREATE INDEX "ticket_search_number_idx" ON "ticket_search" USING btree ("number");--> statement-breakpoint
CREATE INDEX "ticket_search_requester_idx" ON "ticket_search" USING btree ("requester_id");--> statement-breakpoint
CREATE INDEX "ticket_search_assignee_idx" ON "ticket_search" USING btree ("assignee_id");--> statement-breakpoint
CREATE INDEX "ticket_search_org_idx" ON "ticket_search" USING btree ("org_id");--> statement-breakpoint
CREATE TRIGGER ticket_search_lexemes_insert AFTER INSERT ON ticket_search FOR EACH ROW EXECUTE FUNCTION ticket_search_lexemes();--> statement-breakpoint
CREATE TRIGGER ticket_search_lexemes_update AFTER UPDATE OF title_doc, body_doc, requester_doc ON ticket_search FOR EACH ROW
  WHEN (OLD.title_doc IS DISTINCT FROM NEW.title_doc OR OLD.body_doc IS DISTINCT FROM NEW.body_doc OR OLD.requester_doc IS DISTINCT FROM NEW.requester_doc)
  EXECUTE FUNCTION ticket_search_lexemes();--> statement-breakpoint
-- A new ticket's row goes to its partition; a changed one is updated where it is, and moves when
-- its organisation's partition changes (no ON CONFLICT: the key is not the ticket's id alone).
CREATE OR REPLACE FUNCTION ticket_search_from_ticket() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ticket_search (ticket_id, number, requester_id, assignee_id, org_id, status, priority_rank, created_at, updated_at, activity_at,
      title_doc, body_doc, requester_doc, public_doc, staff_doc, part)
    SELECT NEW.id, NEW.number, NEW.requester_id, NEW.assignee_id, NEW.org_id, NEW.status, NEW.priority_rank, NEW.created_at, NEW.updated_at, NEW.activity_at,
      d.title_doc, d.body_doc, d.requester_doc, d.title_doc || d.body_doc || d.requester_doc, d.title_doc || d.body_doc || d.requester_doc,
      ticket_search_part(NEW.org_id)
    FROM (SELECT to_tsvector('english', NEW.title) AS title_doc, to_tsvector('english', NEW.body) AS body_doc, ticket_search_requester_doc(NEW.requester_id) AS requester_doc) d;
  ELSIF NEW.title IS DISTINCT FROM OLD.title OR NEW.body IS DISTINCT FROM OLD.body OR NEW.requester_id IS DISTINCT FROM OLD.requester_id THEN
    UPDATE ticket_search s SET requester_id = NEW.requester_id, assignee_id = NEW.assignee_id, org_id = NEW.org_id, status = NEW.status,
      priority_rank = NEW.priority_rank, created_at = NEW.created_at, updated_at = NEW.updated_at, activity_at = NEW.activity_at,
      title_doc = d.title_doc, body_doc = d.body_doc, requester_doc = d.requester_doc,
      public_doc = d.title_doc || d.body_doc || d.requester_doc || s.replies_doc,
      staff_doc = d.title_doc || d.body_doc || d.requester_doc || s.replies_doc || s.notes_doc, part = ticket_search_part(NEW.org_id)
    FROM (SELECT to_tsvector('english', NEW.title) AS title_doc, to_tsvector('english', NEW.body) AS body_doc, ticket_search_requester_doc(NEW.requester_id) AS requester_doc) d
    WHERE s.ticket_id = NEW.id AND s.part = ticket_search_part(OLD.org_id);
  ELSE
    UPDATE ticket_search SET assignee_id = NEW.assignee_id, org_id = NEW.org_id, status = NEW.status, priority_rank = NEW.priority_rank,
      created_at = NEW.created_at, updated_at = NEW.updated_at, activity_at = NEW.activity_at, part = ticket_search_part(NEW.org_id)
    WHERE ticket_id = NEW.id AND part = ticket_search_part(OLD.org_id)
      AND (assignee_id, org_id, status, priority_rank, created_at, updated_at, activity_at)
        IS DISTINCT FROM (NEW.assignee_id, NEW.org_id, NEW.status, NEW.priority_rank, NEW.created_at, NEW.updated_at, NEW.activity_at);
  END IF;
  RETURN NULL;
END
$fn$;--> statement-breakpoint
-- Every partition's pending list (the job `search.flush`, 0029).
CREATE OR REPLACE FUNCTION search_flush() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
  SELECT coalesce(sum(gin_clean_pending_list(i.inhrelid::regclass)), 0)::bigint
  FROM pg_inherits i WHERE i.inhparent = 'ticket_search_staff_idx'::regclass
$$;--> statement-breakpoint
ANALYZE ticket_search;
