import { randomBytes } from 'node:crypto'

const inlineTag = /<(script|style)\b(?![^>]*\bnonce=)/g

/**
 * Pages run only our own scripts: Nuxt's inline bootstrap (`window.__NUXT__` config, payload)
 * and styles get a fresh nonce per response, named in the page's Content-Security-Policy.
 */
export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook('render:html', (html, { event }) => {
    const nonce = randomBytes(16).toString('base64')
    const withNonce = (part: string) => part.replace(inlineTag, `<$1 nonce="${nonce}"`)
    for (const key of ['head', 'bodyPrepend', 'body', 'bodyAppend'] as const) html[key] = html[key].map(withNonce)
    setResponseHeader(event, 'Content-Security-Policy', [
      'default-src \'self\'',
      `script-src 'self' 'nonce-${nonce}'`,
      `style-src 'self' 'nonce-${nonce}'`,
      'img-src \'self\' data: blob:',
      'font-src \'self\'',
      'connect-src \'self\'',
      'object-src \'none\'',
      'base-uri \'self\'',
      'form-action \'self\'',
      'frame-ancestors \'none\'',
    ].join('; '))
  })
})
