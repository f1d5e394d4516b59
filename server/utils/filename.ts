/**
 * A file name as people gave it, made safe to show, to put in a header and to save: no folders,
 * no control characters (so no header injection), no leading dots, at most 200 characters.
 */
export function sanitizeFilename(name: string): string {
  const base = name.normalize('NFC').split(/[/\\]/).pop() ?? ''
  const clean = base
    // Control characters (line breaks included) and bidi overrides that disguise extensions.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/^[\s.]+/, '')
    .trim()
  if (!clean) return 'file'
  if (clean.length <= 200) return clean
  // Keep the extension when shortening.
  const dot = clean.lastIndexOf('.')
  const ext = dot > 0 && clean.length - dot <= 16 ? clean.slice(dot) : ''
  return Array.from(clean.slice(0, clean.length - ext.length)).slice(0, 200 - ext.length).join('') + ext
}

const rfc5987 = (value: string) =>
  encodeURIComponent(value).replace(/['()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/** `attachment` with an ASCII fallback name and the exact name in `filename*` (RFC 6266 / 5987). */
export function contentDisposition(filename: string): string {
  const name = sanitizeFilename(filename)
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036F]/g, '').replace(/[^\x20-\x7E]/g, '_').replace(/["\\%;]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${rfc5987(name)}`
}
