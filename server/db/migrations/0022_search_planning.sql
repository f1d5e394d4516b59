-- How search_tickets() is planned (docs/search.md):
-- 1. Statistics of 10,000 lexemes per document instead of 1,000. PostgreSQL guesses a word it
--    has no statistics for at half the rarest one's frequency: with 1,000 that was 4,167 tickets
--    at a million for a word in none (a ticket number) or in 1,296, and it ANDed the GIN bitmap
--    with a bitmap of everything an agent may see (121,000 rows of the general queue, 11–23 ms)
--    instead of checking the few matches. ANALYZE of the search rows: 18 s at a million.
-- 2. random_page_cost 1.1 inside the function: its rows and indexes are read from memory, and at
--    4 PostgreSQL still preferred that bitmap for a word in 1,296 tickets (agent: 9.9 → 2.3 ms).
ALTER TABLE "ticket_search" ALTER COLUMN "public_doc" SET STATISTICS 1000, ALTER COLUMN "staff_doc" SET STATISTICS 1000,
  ALTER COLUMN "title_doc" SET STATISTICS 1000;--> statement-breakpoint
ALTER FUNCTION search_tickets(tsquery, int, ticket_status[], smallint[], uuid, boolean, text, text, bigint[], int, int) SET random_page_cost = 1.1;--> statement-breakpoint
ANALYZE ticket_search;
