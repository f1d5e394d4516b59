// Seeds the benchmark database in SQL (generate_series, no row-by-row inserts): organisations of
// Zipf-like sizes, requesters (some without an organisation), tickets short and long, about three
// comments per ticket (a fifth of them internal notes) and one ticket with 500 comments. Words
// follow a skewed, Zipf-like frequency over thousands of distinct words; replies and notes have
// words of their own, so "a word only in replies" exists. Deterministic (hashes and setseed).

const HEAD_WORDS = `printer vpn outlook password email laptop monitor network invoice license keyboard access backup
calendar phone server wifi meeting report export account login error screen update install driver
teams sharepoint onedrive excel word browser chrome firefox certificate token mailbox folder permission
disk storage memory battery charger dock headset camera microphone audio video slow crash freeze
restart reboot shutdown boot bios firmware patch upgrade version software hardware device mouse
cable port usb bluetooth adapter router switch firewall proxy dns domain address contract customer
order payment refund shipment delivery warehouse stock price quote ticket request issue problem
question help support urgent broken missing wrong failed denied locked expired reset sync
connection timeout latency offline online signal coverage roaming sim voicemail fax scanner toner
paper tray jam queue spool badge door office desk room building parking travel expense approval`.split(/\s+/)

// Syllables without x or z: reply-only words carry a z, note-only words an x, so they never collide.
const SYLLABLES = ['ba', 'ke', 'lo', 'mi', 'nu', 'ra', 'so', 'ti', 've', 'do', 'dar', 'fen', 'gil', 'hop', 'jun', 'kas',
  'lim', 'mor', 'nev', 'pil', 'qua', 'rud', 'sel', 'tor', 'ulm', 'vek', 'wis', 'yor', 'ban', 'cor']

const quoteList = xs => xs.map(x => `'${x}'`).join(',')

/** Picks a rank 1..n with probability ∝ 1/rank (log-uniform), from a uniform u in [0, 1). */
const zipf = (u, n) => `least(${n}, floor(exp((${u}) * ln(${n} + 1)))::int)`
/** A uniform in [0, 1) from a hash of an integer expression: the same ticket always gets the same text. */
const uniform = expr => `((abs(hashint8((${expr})::bigint)) % 1000003) / 1000003.0)`

export async function seed(sql, { tickets, agentEmail, requesterEmail, benchOrg }) {
  const N = tickets
  const V = HEAD_WORDS.length + 6000
  const step = async (label, text) => {
    const t0 = performance.now()
    await sql.unsafe(text)
    console.log(`  ${label.padEnd(44)} ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  }
  await sql.unsafe(`set session_replication_role = replica; set maintenance_work_mem = '1GB'; set work_mem = '256MB'; set synchronous_commit = off`)
  await sql.unsafe(`select set_config('app.mode', 'all', false), set_config('app.staff', 'on', false)`)

  // Indexes are built once at the end, far faster than kept up row by row.
  const indexes = await sql`select indexname, indexdef from pg_indexes where schemaname = 'public' and tablename in ('tickets', 'comments', 'ticket_search')
    and indexname not in (select conname from pg_constraint)`
  for (const { indexname } of indexes) await sql.unsafe(`drop index ${indexname}`)

  await step('vocabulary and sentences', `
    select setseed(0.42);
    create temp table words (rank int primary key, w text not null);
    insert into words select i, w from unnest(array[${quoteList(HEAD_WORDS)}]) with ordinality as h(w, i);
    insert into words select ${HEAD_WORDS.length + 1} + g,
      (array[${quoteList(SYLLABLES)}])[1 + g % 30] || (array[${quoteList(SYLLABLES)}])[1 + (g / 30) % 30] || case when g >= 900 then (array[${quoteList(SYLLABLES)}])[1 + g / 900] else '' end
      from generate_series(0, 5999) g;
    create temp table reply_words (rank int primary key, w text not null);
    insert into reply_words select row_number() over (order by rank), 'z' || w || 'z' from words where rank > ${HEAD_WORDS.length} limit 2000;
    create temp table note_words (rank int primary key, w text not null);
    insert into note_words select row_number() over (order by rank), 'x' || w || 'x' from words where rank > ${HEAD_WORDS.length} limit 2000;
    create temp table sentences (kind text, i int, s text not null, primary key (kind, i));
    insert into sentences
      select kind, i, string_agg(coalesce(
        case when kind = 'reply' and special then (select w from reply_words where rank = x.sr)
             when kind = 'note' and special then (select w from note_words where rank = x.sr) end, w.w), ' ' order by k)
      from (values ('title', 100000, 3, 6), ('body', 50000, 6, 9), ('reply', 30000, 5, 8), ('note', 10000, 5, 8)) as kinds(kind, n, len, spread),
        generate_series(1, n) i,
        lateral (select k, ${zipf('random()', V)} as r, random() < 0.15 as special, ${zipf('random()', 2000)} as sr from generate_series(1, len + i % spread) k) x
        join words w on w.rank = x.r
      group by kind, i;
    create temp table paragraphs (i int primary key, s text not null);
    insert into paragraphs select p, string_agg(s.s, '. ') from generate_series(1, 2000) p cross join lateral generate_series(1, 10 + p % 25) k
      join sentences s on s.kind = 'body' and s.i = 1 + abs(hashint4(p * 100 + k)) % 50000 group by p;`)

  await step('organisations and requesters', `
    insert into orgs (slug, name) select 'org-' || g, 'Organisation ' || g from generate_series(1, 200) g on conflict (slug) do nothing;
    insert into users (email, name) select 'r' || g || '@bench.test', 'Requester ' || (select w from words where rank = 1 + g % ${V}) || ' ' || g from generate_series(1, 20000) g on conflict do nothing;
    insert into user_orgs (user_id, org_id) select u.id, o.id from users u
      join lateral (select ${zipf(uniform('hashtext(u.email)'), 200)} as r) z on true
      join orgs o on o.slug = 'org-' || z.r
      where u.email like 'r%@bench.test' and abs(hashtext(u.email)) % 100 >= 12 on conflict do nothing;
    create temp table requesters as select row_number() over (order by u.email)::int as i, u.id, uo.org_id from users u left join user_orgs uo on uo.user_id = u.id where u.email like 'r%@bench.test';
    insert into users (email, name, roles) select 'a' || g || '@bench.test', 'Agent ' || g, '{agent}' from generate_series(1, 50) g on conflict do nothing;
    create temp table agents as select row_number() over (order by u.email = '${agentEmail}' desc, u.email)::int as i, u.id from users u where u.email like 'a%@bench.test' or u.email = '${agentEmail}';`)

  // Comment k of ticket g: how many, when, by whom, internal or not — all computable from (g, k),
  // so each ticket's last-change columns are set at insert time.
  const comments = `case when g = 1 then 500 else least(200, floor(-ln(1 - ${uniform('g * 7 + 1')}) * 3.476)::int) end`
  const internal = k => `(abs(hashint8(g::bigint * 1000 + ${k})) % 5 = 0)`
  const at = k => `(created + (${k}) * interval '37 minutes')`
  await step(`${N} tickets`, `
    insert into tickets (number, title, body, status, priority, tags, requester_id, assignee_id, org_id, created_at, updated_at, updated_by, activity_at, activity_by)
    overriding system value
    select 999 + g, ti.s, initcap(b1.s) || '. ' || coalesce(b2.s || '. ', '') || coalesce(p.s, ''),
      (array['new','open','pending','resolved','closed'])[1 + abs(hashint4(g * 3)) % 5]::ticket_status,
      (array['low','normal','normal','normal','high','urgent'])[1 + abs(hashint4(g * 5)) % 6]::ticket_priority,
      '{}', r.id, a.id, r.org_id, created,
      case when lp is null then created else ${at('lp')} end,
      case when lp is null then r.id when lp % 2 = 1 then coalesce(a.id, fa.id) else r.id end,
      case when nc = 0 then created else ${at('nc')} end,
      case when nc = 0 then r.id when nc % 2 = 1 then coalesce(a.id, fa.id) else r.id end
    from generate_series(1, ${N}) g
      cross join lateral (select timestamptz '2024-01-01' + (g * (730.0 / ${N})) * interval '1 day' as created, ${comments} as nc) c
      cross join lateral (select max(k) as lp from generate_series(1, nc) k where not ${internal('k')}) l
      join sentences ti on ti.kind = 'title' and ti.i = 1 + abs(hashint4(g)) % 100000
      join sentences b1 on b1.kind = 'body' and b1.i = 1 + abs(hashint4(g * 11)) % 50000
      left join sentences b2 on g % 3 > 0 and b2.kind = 'body' and b2.i = 1 + abs(hashint4(g * 13)) % 50000
      left join paragraphs p on g % 10 = 0 and p.i = 1 + abs(hashint4(g * 17)) % 2000
      join requesters r on r.i = 1 + floor(20000 * power(${uniform('g * 19')}, 1.5))::int
      left join agents a on abs(hashint4(g * 23)) % 10 < 6 and a.i = 1 + abs(hashint4(g * 29)) % 51
      join agents fa on fa.i = 1 + abs(hashint4(g * 31)) % 51
    -- In the order a helpdesk writes them (oldest first), not in the order a hash join leaves them.
    order by g;
    select setval(pg_get_serial_sequence('tickets', 'number'), (select max(number) from tickets));
    update tickets set requester_id = (select id from users where email = '${requesterEmail}'), org_id = (select id from orgs where slug = '${benchOrg}')
      where number % ${Math.max(1, Math.floor(N / 100))} = 7;`)

  await step(`comments`, `
    insert into comments (ticket_id, author_id, body, internal, created_at)
    select t.id, case when k % 2 = 1 then coalesce(t.assignee_id, fa.id) else t.requester_id end,
      case when ${internal('k')} then ns.s else rs.s end, ${internal('k')}, ${at('k')}
    from (select t.*, t.number - 999 as g, t.created_at as created from tickets t) t
      cross join lateral generate_series(1, ${comments}) k
      join sentences rs on rs.kind = 'reply' and rs.i = 1 + abs(hashint4(g * 37 + k)) % 30000
      join sentences ns on ns.kind = 'note' and ns.i = 1 + abs(hashint4(g * 41 + k)) % 10000
      join agents fa on fa.i = 1 + abs(hashint4(g * 31)) % 51;`)

  await step('comment index (for the documents)', `create index comments_ticket_seq_idx on comments (ticket_id, seq)`)
  await step('search documents', `
    insert into ticket_search (ticket_id, number, requester_id, assignee_id, org_id, status, priority_rank, created_at, updated_at, activity_at,
      title_doc, body_doc, requester_doc, replies_doc, notes_doc, public_doc, staff_doc, part)
    select t.id, t.number, t.requester_id, t.assignee_id, t.org_id, t.status, t.priority_rank, t.created_at, t.updated_at, t.activity_at,
      d.title_doc, d.body_doc, d.requester_doc, d.replies_doc, d.notes_doc,
      d.title_doc || d.body_doc || d.requester_doc || d.replies_doc, d.title_doc || d.body_doc || d.requester_doc || d.replies_doc || d.notes_doc,
      ticket_search_part(t.org_id)
    from tickets t left join lateral (select string_agg(body, ' ') filter (where not internal) as replies, string_agg(body, ' ') filter (where internal) as notes
      from comments where ticket_id = t.id) c on true
      cross join lateral (select to_tsvector('english', t.title) as title_doc, to_tsvector('english', t.body) as body_doc, ticket_search_requester_doc(t.requester_id) as requester_doc,
        coalesce(to_tsvector('english', c.replies), '') as replies_doc, coalesce(to_tsvector('english', c.notes), '') as notes_doc) d
    order by t.number`)
  // Triggers are off while seeding (session_replication_role), so the words a prefix expands to
  // (search_lexemes, migration 0024) are written here, as its own backfill writes them.
  await step('words of the documents', `insert into search_lexemes (lexeme)
    select distinct l from ticket_search s, unnest(tsvector_to_array(s.staff_doc)) l on conflict do nothing`)
  for (const { indexname, indexdef } of indexes) {
    // (A partitioned table's index reads `ON ONLY`, which would leave out its partitions.)
    if (indexname !== 'comments_ticket_seq_idx') await step(`index ${indexname}`, indexdef.replace(' ON ONLY ', ' ON '))
  }
  // Vacuum sets the visibility map (index-only scans) and statistics; each in a statement of its own.
  for (const table of ['tickets', 'comments', 'ticket_search', 'users', 'user_orgs', 'orgs']) await step(`vacuum analyze ${table}`, `vacuum (analyze) ${table}`)

  // The terms the bench searches for, chosen by how many tickets they match.
  const count = async w => (await sql.unsafe(`select count(*)::int as n from ticket_search where staff_doc @@ to_tsquery('english', $1)`, [w]))[0].n
  const pick = async (table, ranks, target) => {
    let best
    for (const rank of ranks) {
      const [{ w }] = await sql.unsafe(`select w from ${table} where rank = $1`, [rank])
      const n = await count(w)
      if (n > 0 && (!best || Math.abs(Math.log(n / target)) < Math.abs(Math.log(best.n / target)))) best = { w, n }
    }
    return best
  }
  return {
    selective: await pick('words', [1500, 2500, 3500, 4500, 5500], N * 0.0003),
    common: await pick('words', [20, 40, 60, 90, 120, 160], N * 0.05),
    repliesOnly: await pick('reply_words', [200, 400, 800, 1200, 1600], N * 0.0003),
  }
}
