-- Narrow search rows (docs/search.md). A search reads one row per match from ticket_search, for
-- its visibility copies and sort keys; with the documents in the row (1 KB on average) a common
-- word read 8,000 pages for its total and pushed everything else out of shared buffers (lists
-- slowed from 7 to 35 ms beside searches). PostgreSQL moves values out of line only for rows
-- over 2 KB, however low toast_tuple_target is; the pad (2,100 spaces, compressed in the row to a
-- few bytes) makes every row qualify, and toast_tuple_target = 128 then moves every document out.
-- The title stays in the row (STORAGE MAIN): title hits are checked row by row.
-- At a million tickets: 1,499 → 337 MB of rows.
ALTER TABLE "ticket_search" SET (toast_tuple_target = 128);--> statement-breakpoint
ALTER TABLE "ticket_search" ALTER COLUMN "title_doc" SET STORAGE MAIN;--> statement-breakpoint
-- Adding a stored generated column rewrites every row, now with the settings above.
SELECT set_config('maintenance_work_mem', '256MB', true);--> statement-breakpoint
ALTER TABLE "ticket_search" ADD COLUMN "toast_pad" text GENERATED ALWAYS AS (repeat(' ', 2100)) STORED;--> statement-breakpoint
ALTER TABLE "ticket_search" ALTER COLUMN "toast_pad" SET STORAGE MAIN;--> statement-breakpoint
ANALYZE ticket_search;
