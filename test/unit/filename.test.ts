import { describe, expect, it } from 'vitest'
import { contentDisposition, sanitizeFilename } from '../../server/utils/filename'

describe('attachment file names', () => {
  it('drops folders, so a name can never point outside the uploads', () => {
    expect(sanitizeFilename('../../etc/passwd')).toBe('passwd')
    expect(sanitizeFilename('C:\\Users\\me\\report.pdf')).toBe('report.pdf')
    expect(sanitizeFilename('..')).toBe('file')
    expect(sanitizeFilename('.env')).toBe('env')
  })

  it('removes line breaks and control characters that could inject headers', () => {
    expect(sanitizeFilename('a\r\nSet-Cookie: x=1.txt')).toBe('aSet-Cookie: x=1.txt')
    expect(sanitizeFilename('evil\u202Egnp.exe')).toBe('evilgnp.exe')
    expect(contentDisposition('x"\r\ny.txt')).not.toMatch(/[\r\n]/)
  })

  it('keeps the original name for the browser and an ASCII fallback', () => {
    expect(contentDisposition('Überweisung März.pdf')).toBe(`attachment; filename="Uberweisung Marz.pdf"; filename*=UTF-8''%C3%9Cberweisung%20M%C3%A4rz.pdf`)
    expect(contentDisposition('a "quoted" name;.txt')).toBe(`attachment; filename="a _quoted_ name_.txt"; filename*=UTF-8''a%20%22quoted%22%20name%3B.txt`)
    expect(contentDisposition('日本.png')).toMatch(/^attachment; filename="__.png"; filename\*=UTF-8''%E6%97%A5%E6%9C%AC\.png$/)
  })

  it('shortens very long names but keeps the extension', () => {
    const long = sanitizeFilename(`${'a'.repeat(500)}.docx`)
    expect(long).toHaveLength(200)
    expect(long.endsWith('.docx')).toBe(true)
  })
})
