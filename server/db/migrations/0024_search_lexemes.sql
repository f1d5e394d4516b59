CREATE TABLE "search_lexemes" (
	"lexeme" text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
ALTER TABLE "search_lexemes" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
-- A prefix is a range of bytes: `lexeme >= 'toner' and lexeme < 'toner' || U+10FFFF`.
ALTER TABLE "search_lexemes" ALTER COLUMN "lexeme" TYPE text COLLATE "C";--> statement-breakpoint

-- New words, in one order (two writers adding the same new words wait for each other, never in a circle).
CREATE FUNCTION search_lexemes_add(doc tsvector) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
  INSERT INTO search_lexemes (lexeme) SELECT l FROM unnest(tsvector_to_array(doc)) l ORDER BY l COLLATE "C" ON CONFLICT DO NOTHING
$$;--> statement-breakpoint

-- A ticket's title, body and requester words, when its search row is written or they change.
CREATE FUNCTION ticket_search_lexemes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
BEGIN
  PERFORM search_lexemes_add(NEW.title_doc || NEW.body_doc || NEW.requester_doc);
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER ticket_search_lexemes_insert AFTER INSERT ON ticket_search FOR EACH ROW EXECUTE FUNCTION ticket_search_lexemes();--> statement-breakpoint
CREATE TRIGGER ticket_search_lexemes_update AFTER UPDATE OF title_doc, body_doc, requester_doc ON ticket_search FOR EACH ROW
  WHEN (OLD.title_doc IS DISTINCT FROM NEW.title_doc OR OLD.body_doc IS DISTINCT FROM NEW.body_doc OR OLD.requester_doc IS DISTINCT FROM NEW.requester_doc)
  EXECUTE FUNCTION ticket_search_lexemes();--> statement-breakpoint

-- A reply's or note's words (as in 0018, plus the words; only the comment's, whatever the thread's length).
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
  PERFORM search_lexemes_add(doc);
  RETURN NULL;
END
$$;--> statement-breakpoint

-- The last word of a search as a prefix: the whole words it starts, ORed, when there are a few
-- (up to 8; more, and ORing them costs as much as the prefix match); else the prefix itself, its
-- typed and stemmed forms once when they are the same (`printers` → printer:*). Same matches
-- either way: every word of every document is in search_lexemes.
CREATE FUNCTION search_prefix(word text) RETURNS tsquery
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_catalog AS $$
DECLARE
  typed tsquery := to_tsquery('simple', word || ':*');
  stemmed tsquery := to_tsquery('english', word || ':*');
  forms text[] := array(SELECT DISTINCT f FROM unnest(tsvector_to_array(to_tsvector('simple', word)) || tsvector_to_array(to_tsvector('english', word))) f);
  words text[];
BEGIN
  IF cardinality(forms) BETWEEN 1 AND 2 AND numnode(typed) = 1 AND numnode(stemmed) <= 1 THEN
    words := array(SELECT DISTINCT l.lexeme FROM unnest(forms) f, LATERAL (
      SELECT s.lexeme FROM search_lexemes s WHERE s.lexeme >= f AND s.lexeme < f || chr(1114111) ORDER BY s.lexeme LIMIT 9) l);
    IF cardinality(words) BETWEEN 1 AND 8 THEN
      RETURN array_to_string(array(SELECT '''' || replace(replace(w, '\', '\\'), '''', '''''') || '''' FROM unnest(words) w), ' | ')::tsquery;
    END IF;
  END IF;
  RETURN CASE WHEN typed = stemmed OR numnode(stemmed) = 0 THEN typed ELSE typed || stemmed END;
END
$$;--> statement-breakpoint

-- The words already written (at a million tickets every document is read once).
INSERT INTO search_lexemes (lexeme) SELECT DISTINCT l FROM ticket_search s, unnest(tsvector_to_array(s.staff_doc)) l ON CONFLICT DO NOTHING;
