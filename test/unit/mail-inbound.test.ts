import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { classify, failedRecipients } from '../../server/services/mail/inbound/classify'
import { htmlToMarkdown, messageText, stripQuoted } from '../../server/services/mail/inbound/content'
import { looksLikeMessage, messageIds, parseMessage } from '../../server/services/mail/inbound/parse'
import { storedIdFor } from '../../server/services/mail/inbound/stored-ids'
import { findThread, threadHints } from '../../server/services/mail/inbound/threading'
import type { ThreadLookups } from '../../server/services/mail/inbound/threading'
import { mailFixture } from '../fixtures/mail'
import type { MailFixture, MailVars } from '../fixtures/mail'

const own = { addresses: ['helpdesk@help.example.test'], messageIdDomains: ['help.example.test'] }

async function parsed(name: MailFixture, vars: MailVars = {}) {
  const raw = mailFixture(name, vars)
  const mail = await parseMessage(raw)
  return { raw, mail, kind: classify(mail, raw, own), text: messageText(mail) }
}

describe('parsing what real clients send', () => {
  it('Outlook: windows-1252 quoted-printable, "From: … Sent: …" quoting, winmail.dat kept as a file', async () => {
    const { mail, kind, text } = await parsed('outlook-reply', { NUMBER: 1042, IN_REPLY_TO: 'abc.def@help.example.test' })
    expect(mail.headers.get('thread-index')).toBe('AQHZx1Yk3mBq7v2r9kS0Vn3lVh2Q5a6bc7de')
    expect(mail.inReplyTo).toEqual(['abc.def@help.example.test'])
    expect(kind).toEqual({ kind: 'message' })
    expect(text.body).toBe('Hello,\n\nthe invoice still shows 120 € instead of 100 €. It’s the “Pro” plan.\n\nKind regards\nBob')
    expect(text.full).toContain('Could you tell us which invoice it is?')
    expect(mail.attachments).toMatchObject([{ filename: 'winmail.dat', contentType: 'application/ms-tnef' }])
  })

  it('Gmail: "On … wrote:" wrapped over two lines, UTF-8 quoted-printable', async () => {
    const { text } = await parsed('gmail-reply')
    expect(text.body).toBe('Thanks – the printer works again after the restart.\nI’ll let you know if it happens again.\n\nAnn')
  })

  it('Apple Mail: "Sent from my iPhone", a quoted attribution, an inline cid: picture', async () => {
    const { mail, text } = await parsed('apple-mail')
    expect(text.body).toBe('Here is a screenshot of the error.')
    expect(mail.attachments).toMatchObject([{ filename: 'screenshot.png', contentType: 'image/png', contentId: 'screenshot-1@apple.example' }])
  })

  it('Thunderbird: bottom-posted under the quote, ISO-8859-1 in base64, "-- " signature', async () => {
    const { mail, text } = await parsed('thunderbird')
    expect(mail.from).toEqual({ address: 'someone@customer.example', name: 'Jürgen Müller' })
    expect(text.body).toBe('It is version 4.2 on Windows 11. Grüße aus München!')
    expect(text.full).toContain('Jürgen Müller\nACME GmbH · Straße 1')
  })

  it('ISO-2022-JP subject, sender name and body', async () => {
    const { mail, text } = await parsed('iso-2022-jp')
    expect(mail.subject).toBe('プリンター故障')
    expect(mail.from?.name).toBe('山田')
    expect(text.body).toBe('プリンターが動きません。\n至急対応をお願いします。')
  })

  it('recognises an RFC 822 message and nothing else', () => {
    expect(looksLikeMessage(mailFixture('new-ticket'))).toBe(true)
    expect(looksLikeMessage(Buffer.from('{"from":"a@b.c"}'))).toBe(false)
    expect(looksLikeMessage(Buffer.from('Subject: no sender\r\n\r\nbody'))).toBe(false)
    expect(looksLikeMessage(Buffer.from('<html><body>From: x</body></html>'))).toBe(false)
  })

  it('reads Message-ID lists with and without brackets', () => {
    expect(messageIds('<a@b> <c@d>')).toEqual(['a@b', 'c@d'])
    expect(messageIds('a@b')).toEqual(['a@b'])
    expect(messageIds(undefined)).toEqual([])
  })
})

describe('HTML becomes safe Markdown', () => {
  it('drops scripts, styles, handlers, forms, frames and remote pictures; keeps structure and safe links', async () => {
    const { text } = await parsed('html-only')
    expect(text.body).toContain('Our **VPN** keeps dropping – see [the status page](https://status.example.com/vpn) and this.')
    for (const unsafe of ['<', 'alert', 'steal', 'javascript', 'tracker', 'evil', 'color: red', 'ignored title']) expect(text.body).not.toContain(unsafe)
  })

  it('strips quoted history of an HTML-only reply (Outlook\'s divRplyFwdMsg, Gmail\'s gmail_quote)', () => {
    const outlook = '<div>Works now, thanks!</div><hr><div id="divRplyFwdMsg"><b>From:</b> Helpdesk &lt;h@x.example&gt;<br><b>Sent:</b> Monday<br><b>To:</b> Bob</div><div>Old text</div>'
    expect(messageText({ text: null, html: outlook }).body).toBe('Works now, thanks!')
    const gmail = '<div dir="ltr">Fine.</div><div class="gmail_quote"><div class="gmail_attr">On Mon, 30 Nov 2026 at 10:15, Helpdesk &lt;h@x.example&gt; wrote:<br></div><blockquote class="gmail_quote">Old</blockquote></div>'
    expect(messageText({ text: null, html: gmail }).body).toBe('Fine.')
  })

  it('keeps cid: pictures for the attachment step, drops other picture sources', () => {
    expect(htmlToMarkdown('<img src="cid:pic@x" alt="chart"><img src="data:image/png;base64,AAAA"><img src="http://t.example/p.gif">')).toBe('![chart](cid:pic@x)')
  })
})

describe('quote and signature stripping', () => {
  it('leaves inline answers between quotes alone and drops a trailing quote', () => {
    expect(stripQuoted('> Which version?\nVersion 4.\n> And the OS?\nWindows.\n\n> old\n> older')).toBe('> Which version?\nVersion 4.\n> And the OS?\nWindows.')
  })

  it('knows "-----Original Message-----" and translated attributions', () => {
    expect(stripQuoted('Done.\n\n-----Original Message-----\nFrom: x')).toBe('Done.')
    expect(stripQuoted('Erledigt.\n\nAm 30.11.2026 um 10:15 schrieb Helpdesk <h@x.example>:\n> Alt')).toBe('Erledigt.')
    expect(stripQuoted('Merci.\n\nLe lun. 30 nov. 2026 à 10:15, Helpdesk <h@x.example> a écrit :\n> Vieux')).toBe('Merci.')
  })

  it('keeps the whole text when stripping would leave nothing', () => {
    expect(stripQuoted('> only a quote')).toBe('> only a quote')
  })
})

describe('classification', () => {
  it('auto-replies by header and, as a last resort, by subject', async () => {
    expect((await parsed('out-of-office')).kind).toEqual({ kind: 'auto-reply', reason: 'Auto-Submitted: auto-replied' })
    expect((await parsed('out-of-office-plain')).kind).toEqual({ kind: 'auto-reply', reason: 'out-of-office subject' })
    expect((await parsed('other-helpdesk')).kind).toMatchObject({ kind: 'auto-reply' })
    const precedence = await parseMessage(Buffer.from('From: a@b.example\r\nPrecedence: bulk\r\nSubject: News\r\n\r\nx'))
    expect(classify(precedence, Buffer.alloc(0), own)).toEqual({ kind: 'auto-reply', reason: 'Precedence: bulk' })
    const human = await parseMessage(Buffer.from('From: a@b.example\r\nAuto-Submitted: no\r\nSubject: Help\r\n\r\nx'))
    expect(classify(human, Buffer.alloc(0), own)).toEqual({ kind: 'message' })
  })

  it('a DSN names its failed recipients and the returned message', async () => {
    const { raw, kind } = await parsed('dsn-bounce', { BOUNCED: 'Gone@Customer.example', IN_REPLY_TO: 'orig.1@help.example.test' })
    expect(kind).toEqual({ kind: 'bounce', failedRecipients: ['gone@customer.example'], originalMessageIds: ['orig.1@help.example.test'] })
    expect(failedRecipients(raw)).toEqual(['gone@customer.example'])
  })

  it('our own mail coming back: our address (any plus variant) or our Message-ID domain', async () => {
    expect((await parsed('new-ticket', { FROM: 'HelpDesk+1042-abc@help.example.test' })).kind).toMatchObject({ kind: 'own' })
    expect((await parsed('new-ticket', { MESSAGE_ID: 'x.y@help.example.test' })).kind).toMatchObject({ kind: 'own' })
  })
})

describe('threading order and who may add', () => {
  const lookups = (found: Partial<Record<'id' | 'token' | 'number', string>>, maySee: string[]): ThreadLookups => ({
    ticketForMessageIds: async () => found.id ?? null,
    ticketForReplyAddress: async () => found.token ?? null,
    ticketForNumber: async () => found.number ?? null,
    senderMaySee: async id => maySee.includes(id),
  })

  it('Message-ID first, then the plus-token, then [#n]', async () => {
    const { mail } = await parsed('outlook-reply', { TO: 'helpdesk+1042-0123456789abcdef0123@help.example.test', NUMBER: 1042 })
    const hints = threadHints(mail)
    expect(hints).toMatchObject({ plusAddresses: ['helpdesk+1042-0123456789abcdef0123@help.example.test'], number: 1042 })
    expect(await findThread(hints, lookups({ id: 'A', token: 'B', number: 'C' }, ['A', 'B', 'C']))).toEqual({ ticketId: 'A', via: 'message-id' })
    expect(await findThread(hints, lookups({ token: 'B', number: 'C' }, ['A', 'B', 'C']))).toEqual({ ticketId: 'B', via: 'token' })
    expect(await findThread(hints, lookups({ number: 'C' }, ['C']))).toEqual({ ticketId: 'C', via: 'number' })
  })

  it('a ticket the sender may not see is never added to', async () => {
    const { mail } = await parsed('gmail-reply', { NUMBER: 1042 })
    expect(await findThread(threadHints(mail), lookups({ number: 'C' }, []))).toEqual({ ticketId: null, reason: 'the sender may not add to the ticket named by its number' })
  })
})

describe('what a message stores is named the same on every attempt', () => {
  it('gives each part of a message its own id, the same each time, valid wherever the API takes a uuid', () => {
    const message = '5b0f3c52-8a54-4f0e-9a7e-3f1f5b9d2c11'
    const ids = ['ticket', 'reply', 'note', 'file:0', 'file:1'].map(what => storedIdFor(message, what))
    expect(new Set(ids).size).toBe(5)
    expect(ids).toEqual(['ticket', 'reply', 'note', 'file:0', 'file:1'].map(what => storedIdFor(message, what)))
    expect(storedIdFor('5b0f3c52-8a54-4f0e-9a7e-3f1f5b9d2c12', 'ticket')).not.toBe(ids[0])
    for (const id of ids) expect(z.uuid().safeParse(id).success, id).toBe(true)
  })
})
