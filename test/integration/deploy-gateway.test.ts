/**
 * The compose stack's gateway as it starts there: Debian's nginx with both templates of
 * deploy/nginx filled in from the compose file's gateway environment (names, ports and upstreams
 * moved to loopback), one certificate for the three names. Browsers reach Authentik under its name,
 * and upload to and download from the S3 store under its name with presigned URLs whose
 * signatures still hold after the proxy (the S3 emulator checks them).
 */
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer, request as plainRequest } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import { request } from 'node:https'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../fixtures/app'
import { nginxPath } from '../fixtures/nginx'
import type { RunningS3 } from '../fixtures/s3'
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3 } from '../fixtures/s3'
// @ts-expect-error a plain ES module script without types
import { parseEnvFile, resolveCompose } from '../../scripts/check-compose-env.mjs'

// The S3 emulator takes any other host name for virtual-host style (bucket = first label); Garage,
// without a root_domain, does not. `localhost` keeps the emulator path-style.
const names = { SERVER_NAME: 'help.test', AUTHENTIK_SERVER_NAME: 'auth.help.test', S3_SERVER_NAME: 'localhost' }

interface Answer { status: number, headers: IncomingHttpHeaders, body: Buffer }

describe('the compose gateway (deploy/nginx, both templates)', () => {
  let dir: string
  let nginx: ChildProcess
  let s3: RunningS3
  let idp: Server
  let seenByIdp: IncomingHttpHeaders | undefined
  let httpsPort: number
  let httpPort: number
  let certificate: string

  /** A request as a browser sends it to `name`: TLS with that name (SNI) and that Host. */
  function send(name: string, path: string, init: { method?: string, headers?: Record<string, string>, body?: Buffer } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: httpsPort, servername: name, ca: certificate, path, method: init.method ?? 'GET', headers: { host: `${name}:${httpsPort}`, ...init.headers } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
      })
      req.once('error', reject)
      req.end(init.body)
    })
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'helpdesk-edge-'))
    await mkdir(join(dir, 'logs'))
    s3 = await startS3()
    idp = createServer((req, res) => {
      seenByIdp = req.headers
      res.end('authentik')
    })
    await new Promise<void>(r => idp.listen(0, '127.0.0.1', r))
    ;[httpsPort, httpPort] = [await freePort(), await freePort()]

    const key = join(dir, 'privkey.pem')
    const cert = join(dir, 'fullchain.pem')
    const san = Object.values(names).map(n => `DNS:${n}`).join(',')
    const ssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', `/CN=${names.SERVER_NAME}`, '-addext', `subjectAltName=${san}`, '-keyout', key, '-out', cert], { encoding: 'utf8' })
    expect(ssl.status, ssl.stderr).toBe(0)
    certificate = await readFile(cert, 'utf8')

    // The gateway's environment from deploy/compose.yaml, then this machine's addresses.
    const compose = resolveCompose(await readFile('deploy/compose.yaml', 'utf8'), parseEnvFile(await readFile('deploy/.env.compose.example', 'utf8')))
    const gateway = compose.services.gateway
    const values: Record<string, string> = {
      ...gateway.environment,
      ...names,
      HELPDESK_UPSTREAM: `127.0.0.1:${(idp.address() as { port: number }).port}`,
      AUTHENTIK_UPSTREAM: `127.0.0.1:${(idp.address() as { port: number }).port}`,
      S3_UPSTREAM: new URL(s3.endpoint).host,
      HTTPS_PORT: `127.0.0.1:${httpsPort}`,
      HTTP_PORT: `127.0.0.1:${httpPort}`,
      TLS_CERTIFICATE: cert,
      TLS_CERTIFICATE_KEY: key,
    }
    const includes: string[] = []
    for (const volume of gateway.volumes as string[]) {
      const [source, target] = volume.split(':')
      if (!target!.startsWith('/etc/nginx/templates/')) continue
      const template = await readFile(join('deploy', source!), 'utf8')
      // envsubst as the nginx image runs it: only variables that are set; nginx's own $variables stay.
      const filled = template.replace(/\$\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole)
        .replace('access_log /dev/stdout', `access_log ${join(dir, 'logs/access.log')}`)
      const file = join(dir, target!.split('/').pop()!.replace(/\.template$/, ''))
      await writeFile(file, filled)
      includes.push(`include ${file};`)
    }
    expect(includes).toHaveLength(2)
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(t => `${t}_temp_path ${join(dir, t)};`).join('\n  ')
    await writeFile(join(dir, 'nginx.conf'), `daemon off;\nmaster_process off;\nerror_log ${join(dir, 'logs/error.log')} warn;\npid ${join(dir, 'nginx.pid')};\nevents { worker_connections 256; }\nhttp {\n  ${temp}\n  ${includes.join('\n  ')}\n}\n`)
    const check = spawnSync(nginxPath, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' })
    expect(check.status, check.stderr).toBe(0)
    nginx = spawn(nginxPath, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' })
    for (let i = 0; i < 100; i++) {
      if (await new Promise(r => connect(httpsPort, '127.0.0.1').once('connect', function (this: import('node:net').Socket) {
        this.end()
        r(true)
      }).once('error', () => r(false)))) break
      await new Promise(r => setTimeout(r, 50))
    }
  })

  afterAll(async () => {
    if (nginx?.exitCode === null) {
      nginx.kill('SIGQUIT')
      await new Promise(r => nginx.once('exit', r))
    }
    idp?.close()
    await s3?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('sends sign-in traffic for the IdP\'s name to Authentik, over TLS, saying so', async () => {
    const answer = await send(names.AUTHENTIK_SERVER_NAME, '/application/o/helpdesk/.well-known/openid-configuration')
    expect(answer.status).toBe(200)
    expect(answer.body.toString()).toBe('authentik')
    expect(answer.headers['strict-transport-security']).toMatch(/max-age=\d+/)
    expect(seenByIdp!['x-forwarded-proto']).toBe('https')
    expect(seenByIdp!.host).toBe(`${names.AUTHENTIK_SERVER_NAME}:${httpsPort}`)
  })

  it('redirects plain HTTP for the IdP and S3 names to HTTPS', async () => {
    for (const name of [names.AUTHENTIK_SERVER_NAME, names.S3_SERVER_NAME]) {
      const answer = await new Promise<{ status: number, location?: string }>((resolve, reject) => {
        plainRequest({ host: '127.0.0.1', port: httpPort, path: '/x', headers: { host: name } }, (res) => {
          res.resume()
          resolve({ status: res.statusCode!, location: res.headers.location })
        }).once('error', reject).end()
      })
      expect(answer).toEqual({ status: 308, location: `https://${name}/x` })
    }
  })

  it('passes presigned S3 uploads and downloads through with their signatures intact, larger than nginx\'s default body limit', async () => {
    // What the app hands to browsers: URLs for S3_ENDPOINT, the public name, path-style.
    const client = new S3Client({
      endpoint: `https://${names.S3_SERVER_NAME}:${httpsPort}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    })
    const bytes = randomBytes(3 * 1024 * 1024)
    const key = `tickets/${randomBytes(8).toString('hex')}/photo`
    const headers = { 'content-type': 'image/png', 'content-disposition': 'attachment; filename="photo.png"' }
    const put = new URL(await getSignedUrl(client, new PutObjectCommand({ Bucket: s3.bucket, Key: key, ContentType: headers['content-type'], ContentDisposition: headers['content-disposition'], ContentLength: bytes.length }), { expiresIn: 60 }))
    expect(put.pathname).toBe(`/${s3.bucket}/${key}`)
    const uploaded = await send(names.S3_SERVER_NAME, put.pathname + put.search, { method: 'PUT', body: bytes, headers: { ...headers, 'content-length': String(bytes.length) } })
    expect(uploaded.status, uploaded.body.toString()).toBe(200)
    expect(await s3.holds(key)).toBe(true)

    const get = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket: s3.bucket, Key: key }), { expiresIn: 60 }))
    const downloaded = await send(names.S3_SERVER_NAME, get.pathname + get.search)
    expect(downloaded.status).toBe(200)
    expect(downloaded.body.equals(bytes)).toBe(true)
    expect(downloaded.headers['content-disposition']).toBe(headers['content-disposition'])

    // A tampered URL is still refused: the proxy does not weaken the store's check.
    const tampered = await send(names.S3_SERVER_NAME, get.pathname.replace('photo', 'other') + get.search)
    expect(tampered.status).toBe(403)
  })
})
