-- The search indexes take new entries directly (fastupdate off) instead of through a pending list
-- (0021 kept it at 256 kB). A reply rewrites its ticket's documents, so on a 500-comment ticket
-- every second or third reply filled the list, and that reply merged it: 25-120 ms instead of
-- 13 (p50), so the bench's reply on a long thread ranged from 0.7 to 2.9x a reply on a new
-- ticket at p95. Entered directly, a reply there costs 31-34 ms every time, and every search
-- stops reading the pending list first (0.3 ms for 8 pending pages). The lists pending are merged now.
ALTER INDEX "ticket_search_public_idx" SET (fastupdate = off);--> statement-breakpoint
ALTER INDEX "ticket_search_public_idx" RESET (gin_pending_list_limit);--> statement-breakpoint
ALTER INDEX "ticket_search_title_idx" SET (fastupdate = off);--> statement-breakpoint
ALTER INDEX "ticket_search_title_idx" RESET (gin_pending_list_limit);--> statement-breakpoint
ALTER INDEX "ticket_search_staff_idx" SET (fastupdate = off);--> statement-breakpoint
ALTER INDEX "ticket_search_staff_idx" RESET (gin_pending_list_limit);--> statement-breakpoint
SELECT gin_clean_pending_list('ticket_search_public_idx'), gin_clean_pending_list('ticket_search_title_idx'), gin_clean_pending_list('ticket_search_staff_idx');
