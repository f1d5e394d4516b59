import { randomBytes } from 'node:crypto'
import { useStorage } from '../services/storage-settings'

const inlineTag = /<(script|style)\b(?![^>]*\bnonce=)/g

/**
 * Pages run only our own scripts: Nuxt's inline bootstrap (`window.__NUXT__` config, payload)
 * and styles get a fresh nonce per response, named in the page's Content-Security-Policy.
 * The attachment store's origin may be connected to (presigned uploads) and show images.
 */
export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook('render:html', async (html, { event }) => {
    const storage = await useStorage().then(s => s.browserOrigin()).catch(() => null)
    const store = storage ? ` ${storage}` : ''
    const nonce = randomBytes(16).toString('base64')
    const withNonce = (part: string) => part.replace(inlineTag, `<$1 nonce="${nonce}"`)
    for (const key of ['head', 'bodyPrepend', 'body', 'bodyAppend'] as const) html[key] = html[key].map(withNonce)
    setResponseHeader(event, 'Content-Security-Policy', [
      'default-src \'self\'',
      `script-src 'self' 'nonce-${nonce}'`,
      `style-src 'self' 'nonce-${nonce}'`,
      // Style attributes only (menus, modals and tables of @nuxt/ui position themselves with them); they cannot run code.
      'style-src-attr \'unsafe-inline\'',
      `img-src 'self' data: blob:${store}`,
      'font-src \'self\'',
      `connect-src 'self'${store}`,
      'object-src \'none\'',
      'base-uri \'self\'',
      'form-action \'self\'',
      'frame-ancestors \'none\'',
    ].join('; '))
  })
})
