-- Row-level security binds the tables' owner too (see 0002_force_row_level_security).
ALTER TABLE "inbound_messages" FORCE ROW LEVEL SECURITY;
