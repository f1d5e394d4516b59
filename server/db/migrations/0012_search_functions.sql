-- Search documents, activity times and read markers (docs/search.md). Self-contained: functions,
-- triggers, FORCE and the backfill of existing tickets.

-- The backfill below reads every ticket and note; the tables' owner is bound by their policies too.
SELECT set_config('app.mode', 'all', true), set_config('app.staff', 'on', true);--> statement-breakpoint

ALTER TABLE "ticket_reads" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
-- Long documents live out of line, so the rows a search reads for ticket ids stay small.
ALTER TABLE "ticket_search" SET (toast_tuple_target = 128);--> statement-breakpoint

-- What a requester's name and email contribute: the whole address, and its parts (name, domain).
CREATE FUNCTION ticket_search_requester_doc(requester uuid) RETURNS tsvector
LANGUAGE sql STABLE SET search_path = public, pg_catalog AS $$
  SELECT coalesce((SELECT to_tsvector('english', name || ' ' || email || ' ' || replace(email, '@', ' ')) FROM users WHERE id = requester), ''::tsvector)
$$;--> statement-breakpoint

-- Triggers that keep ticket_search current run as its owner: the app's role cannot read or write it.
CREATE FUNCTION ticket_search_from_ticket() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
BEGIN
  INSERT INTO ticket_search (ticket_id, requester_id, title_doc, body_doc, requester_doc)
  VALUES (NEW.id, NEW.requester_id, to_tsvector('english', NEW.title), to_tsvector('english', NEW.body), ticket_search_requester_doc(NEW.requester_id))
  ON CONFLICT (ticket_id) DO UPDATE SET requester_id = excluded.requester_id, title_doc = excluded.title_doc,
    body_doc = excluded.body_doc, requester_doc = excluded.requester_doc;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER tickets_search AFTER INSERT OR UPDATE OF title, body, requester_id ON tickets
  FOR EACH ROW EXECUTE FUNCTION ticket_search_from_ticket();--> statement-breakpoint

-- A new reply or note is appended to its ticket's document: the cost does not grow with the thread's length
-- (the stored document does; positions past 16383 are kept at 16383).
CREATE FUNCTION ticket_search_from_comment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
BEGIN
  IF NEW.internal THEN
    UPDATE ticket_search SET notes_doc = notes_doc || to_tsvector('english', NEW.body) WHERE ticket_id = NEW.ticket_id;
  ELSE
    UPDATE ticket_search SET replies_doc = replies_doc || to_tsvector('english', NEW.body) WHERE ticket_id = NEW.ticket_id;
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER comments_search AFTER INSERT ON comments
  FOR EACH ROW EXECUTE FUNCTION ticket_search_from_comment();--> statement-breakpoint

CREATE FUNCTION ticket_search_from_user() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
BEGIN
  UPDATE ticket_search SET requester_doc = ticket_search_requester_doc(NEW.id) WHERE requester_id = NEW.id;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER users_search AFTER UPDATE OF name, email ON users
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email)
  EXECUTE FUNCTION ticket_search_from_user();--> statement-breakpoint

-- A ticket starts as changed by its requester, whoever inserts it (the app, mail in).
CREATE FUNCTION ticket_activity_defaults() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_by := coalesce(NEW.updated_by, NEW.requester_id);
  NEW.activity_by := coalesce(NEW.activity_by, NEW.requester_id);
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER tickets_activity_defaults BEFORE INSERT ON tickets
  FOR EACH ROW EXECUTE FUNCTION ticket_activity_defaults();--> statement-breakpoint

-- Every comment moves the staff activity time; only a public reply moves what requesters see.
-- Runs as the caller, under the tickets policies (the comment's ticket is visible to them).
CREATE FUNCTION ticket_activity_from_comment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tickets SET activity_at = NEW.created_at, activity_by = NEW.author_id,
    updated_at = CASE WHEN NEW.internal THEN updated_at ELSE NEW.created_at END,
    updated_by = CASE WHEN NEW.internal THEN updated_by ELSE NEW.author_id END
  WHERE id = NEW.ticket_id;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER comments_activity AFTER INSERT ON comments
  FOR EACH ROW EXECUTE FUNCTION ticket_activity_from_comment();--> statement-breakpoint

-- The one way the app's role searches: ids of tickets whose document matches, and whether the
-- title does. It runs as the owner so the GIN index can be used (under row-level security `@@`,
-- not LEAKPROOF, would be evaluated row by row after the policy); visibility is enforced by the
-- caller joining these ids to `tickets`, whose policies apply. Internal-note text counts only
-- when the transaction says the caller is staff (`app.staff`, set with the visibility context).
CREATE FUNCTION search_ticket_ids(query tsquery) RETURNS TABLE (ticket_id uuid, title_hit boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_catalog ROWS 1000 AS $$
BEGIN
  IF current_setting('app.staff', true) = 'on' THEN
    RETURN QUERY SELECT s.ticket_id, s.title_doc @@ query FROM ticket_search s
      WHERE (s.title_doc || s.body_doc || s.requester_doc || s.replies_doc || s.notes_doc) @@ query;
  ELSE
    RETURN QUERY SELECT s.ticket_id, s.title_doc @@ query FROM ticket_search s
      WHERE (s.title_doc || s.body_doc || s.requester_doc || s.replies_doc) @@ query;
  END IF;
END
$$;--> statement-breakpoint

-- Existing tickets: activity as last changed, documents from their text and threads.
UPDATE tickets SET activity_at = updated_at, updated_by = requester_id, activity_by = requester_id;--> statement-breakpoint
INSERT INTO ticket_search (ticket_id, requester_id, title_doc, body_doc, requester_doc, replies_doc, notes_doc)
SELECT t.id, t.requester_id, to_tsvector('english', t.title), to_tsvector('english', t.body), ticket_search_requester_doc(t.requester_id),
  coalesce((SELECT to_tsvector('english', string_agg(c.body, ' ' ORDER BY c.seq)) FROM comments c WHERE c.ticket_id = t.id AND NOT c.internal), ''),
  coalesce((SELECT to_tsvector('english', string_agg(c.body, ' ' ORDER BY c.seq)) FROM comments c WHERE c.ticket_id = t.id AND c.internal), '')
FROM tickets t
ON CONFLICT (ticket_id) DO NOTHING;
