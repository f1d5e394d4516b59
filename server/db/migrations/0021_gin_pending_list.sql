-- The search indexes keep a short pending list (256 kB instead of gin_pending_list_limit's 4 MB).
-- GIN puts new entries in a pending list first, and every search reads all of it. A reply
-- rewrites its ticket's documents, so one reply on a long thread adds two pages: after 60
-- replies on a 500-comment ticket, a staff search read 386 pending pages (6 ms) before the
-- index, and the write that overflowed 4 MB spent 384 ms merging it. With 256 kB a search reads
-- at most 32 pending pages, and a merge is small (a comment on that ticket: mean 3 → 9 ms, worst
-- 28 ms instead of 384). The lists already pending are merged now.
ALTER INDEX "ticket_search_public_idx" SET (gin_pending_list_limit = 256);--> statement-breakpoint
ALTER INDEX "ticket_search_title_idx" SET (gin_pending_list_limit = 256);--> statement-breakpoint
ALTER INDEX "ticket_search_staff_idx" SET (gin_pending_list_limit = 256);--> statement-breakpoint
SELECT gin_clean_pending_list('ticket_search_public_idx'), gin_clean_pending_list('ticket_search_title_idx'), gin_clean_pending_list('ticket_search_staff_idx');
