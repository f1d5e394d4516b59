/**
 * The Kubernetes manifests as an operator applies them: every overlay rendered by the real
 * `kubectl kustomize`, every object validated offline against the Kubernetes OpenAPI schemas
 * (`kubernetes-models`), and the invariants the deployment guide asks for checked on every
 * container (non-root, read-only root, no capabilities, seccomp, resources, probes).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { parseConfig } from '../../server/utils/config'

type K8sObject = { apiVersion: string, kind: string, metadata: { name: string, namespace?: string, labels?: Record<string, string>, annotations?: Record<string, string> }, [key: string]: any }

const root = 'deploy/k8s'
const overlays = readdirSync(join(root, 'overlays')).map(name => join(root, 'overlays', name))

function render(dir: string): K8sObject[] {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })
  if (result.error) throw new Error(`kubectl not found (${result.error.message}): .ci/run installs it`)
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${result.stderr}`)
  return parseAllDocuments(result.stdout).map(d => d.toJS()).filter(Boolean)
}

async function validate(object: K8sObject): Promise<void> {
  const group = object.apiVersion.includes('/') ? object.apiVersion : `v1`
  const models = await import(/* @vite-ignore */ `kubernetes-models/${group}`) as Record<string, new (data: unknown) => { validate: () => void }>
  const Model = models[object.kind]
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`)
  new Model(object).validate()
}

const find = (objects: K8sObject[], kind: string, name: string) => {
  // Generated ConfigMaps carry a hash of their content in the name.
  const matches = (o: K8sObject) => o.metadata.name === name || (kind === 'ConfigMap' && /^[a-z0-9]{10}$/.test(o.metadata.name.slice(name.length + 1)) && o.metadata.name.startsWith(`${name}-`))
  const found = objects.find(o => o.kind === kind && matches(o))
  if (!found) throw new Error(`${kind} ${name} is not rendered`)
  return found
}

/** The pod template of every workload, CronJobs' included. */
const templateOf = (o: K8sObject) => o.spec?.jobTemplate?.spec?.template ?? o.spec?.template
const podSpecs = (objects: K8sObject[]) => objects.filter(o => templateOf(o)?.spec).map(o => ({ owner: `${o.kind}/${o.metadata.name}`, spec: templateOf(o).spec, labels: templateOf(o).metadata.labels as Record<string, string> }))

const allContainers = (spec: any): any[] => [...(spec.initContainers ?? []), ...spec.containers]

const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v)

const template = parseAllDocuments(readFileSync(join(root, 'base/secrets.template.yaml'), 'utf8')).map(d => d.toJS() as K8sObject)

describe.each(overlays)('kubectl kustomize %s', (overlay) => {
  const objects = render(overlay)
  const app = find(objects, 'Deployment', 'helpdesk-app')
  const worker = find(objects, 'Deployment', 'helpdesk-worker')
  const appContainer = app.spec.template.spec.containers.find((c: any) => c.name === 'app')
  const workerContainer = worker.spec.template.spec.containers.find((c: any) => c.name === 'worker')
  const config = find(objects, 'ConfigMap', 'helpdesk-config').data as Record<string, string>

  it('renders objects that the Kubernetes schemas accept', async () => {
    expect(objects.length).toBeGreaterThan(15)
    for (const object of objects) {
      await expect(validate(object), `${object.kind}/${object.metadata.name}`).resolves.toBeUndefined()
    }
  })

  it('runs every container as non-root, read-only, without capabilities, with seccomp and resources', () => {
    for (const { owner, spec } of podSpecs(objects)) {
      expect(spec.automountServiceAccountToken, owner).toBe(false)
      for (const container of allContainers(spec)) {
        const where = `${owner} ${container.name}`
        const security = container.securityContext ?? {}
        expect(security.runAsNonRoot ?? spec.securityContext?.runAsNonRoot, where).toBe(true)
        expect(security.readOnlyRootFilesystem, where).toBe(true)
        expect(security.allowPrivilegeEscalation, where).toBe(false)
        expect(security.capabilities?.drop, where).toContain('ALL')
        expect(security.capabilities?.add ?? [], where).toEqual([])
        expect((security.seccompProfile ?? spec.securityContext?.seccompProfile)?.type, where).toBe('RuntimeDefault')
        for (const kind of ['requests', 'limits']) {
          expect(container.resources?.[kind]?.cpu, `${where} ${kind}.cpu`).toBeTruthy()
          expect(container.resources?.[kind]?.memory, `${where} ${kind}.memory`).toBeTruthy()
        }
      }
    }
  })

  it('gives the Helpdesk containers a writable /tmp (an emptyDir)', () => {
    for (const { owner, spec } of podSpecs(objects).filter(p => p.labels['app.kubernetes.io/name'] === 'helpdesk')) {
      for (const container of allContainers(spec)) {
        const tmp = container.volumeMounts?.find((m: any) => m.mountPath === '/tmp')
        expect(tmp, `${owner} ${container.name}`).toBeTruthy()
        expect(spec.volumes.find((v: any) => v.name === tmp.name).emptyDir).toBeDefined()
      }
    }
    expect(config.DATA_DIR.startsWith('/tmp/')).toBe(true)
  })

  it('backs up every night onto a volume of its own, with a role that sees every row', () => {
    const cron = find(objects, 'CronJob', 'helpdesk-backup')
    expect(cron.spec.concurrencyPolicy).toBe('Forbid')
    const spec = templateOf(cron).spec
    const [container] = spec.containers
    expect(container.command).toEqual(['node', 'scripts/backup.mjs'])
    expect(container.image).toBe(appContainer.image)
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]))
    const backups = container.volumeMounts.find((m: any) => m.mountPath === env.BACKUP_DIR)
    const claim = spec.volumes.find((v: any) => v.name === backups.name).persistentVolumeClaim.claimName
    expect(find(objects, 'PersistentVolumeClaim', claim).spec.resources.requests.storage).toBeTruthy()
    expect(Number(env.BACKUP_KEEP)).toBeGreaterThan(0)
    expect(env.TMPDIR).toBe(env.BACKUP_DIR)
    const secret = template.find(s => s.metadata.name === 'helpdesk-backup')!
    expect(container.envFrom.map((e: any) => e.secretRef?.name)).toContain(secret.metadata.name)
    expect(Object.keys(secret.stringData)).toEqual(['BACKUP_DATABASE_URL'])
    expect(readFileSync('scripts/backup.mjs', 'utf8')).toMatch(/BACKUP_DATABASE_URL/)
  })

  it('rolls the app and the worker out without losing capacity, with the guide\'s resources', () => {
    for (const deployment of [app, worker]) {
      expect(deployment.spec.strategy.type).toBe('RollingUpdate')
      expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0)
      expect(deployment.spec.strategy.rollingUpdate.maxSurge).toBeGreaterThanOrEqual(1)
      // Drain (readiness fails) plus grace for requests in flight fit before the kill.
      const drain = (Number(config.SHUTDOWN_DRAIN_MS) + Number(config.SHUTDOWN_GRACE_MS)) / 1000
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(drain)
    }
    expect(app.spec.replicas).toBeGreaterThanOrEqual(2)
    expect(appContainer.resources).toEqual({ requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1000m', memory: '1Gi' } })
    expect(workerContainer.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } })
  })

  it('probes the app on /healthz and /readyz and the worker on :8081 /health and /ready', () => {
    const port = (container: any, name: string) => container.ports.find((p: any) => p.name === name)?.containerPort
    expect(port(appContainer, appContainer.livenessProbe.httpGet.port)).toBe(3000)
    expect(appContainer.startupProbe.httpGet.path).toBe('/healthz')
    expect(appContainer.livenessProbe.httpGet.path).toBe('/healthz')
    expect(appContainer.readinessProbe.httpGet.path).toBe('/readyz')
    expect(port(workerContainer, workerContainer.livenessProbe.httpGet.port)).toBe(8081)
    expect(workerContainer.startupProbe.httpGet.path).toBe('/health')
    expect(workerContainer.livenessProbe.httpGet.path).toBe('/health')
    expect(workerContainer.readinessProbe.httpGet.path).toBe('/ready')
    expect(workerContainer.command).toEqual(['node', 'scripts/worker.mjs'])
  })

  it('migrates before the new release serves: an init step running the migrator, which takes an advisory lock', () => {
    for (const deployment of [app, worker]) {
      const migrate = deployment.spec.template.spec.initContainers.find((c: any) => c.name === 'migrate')
      expect(migrate.command).toEqual(['node', 'scripts/migrate.mjs'])
      expect(migrate.image).toBe(appContainer.image)
    }
    expect(readFileSync('scripts/migrate.mjs', 'utf8')).toMatch(/pg_try_advisory_lock/)
  })

  it('configures the app with a ConfigMap and a Secret that the template provides, enough for production', () => {
    expect(objects.filter(o => o.kind === 'Secret'), 'secrets are never rendered from the repository').toEqual([])
    const secretNames = new Set(template.map(s => s.metadata.name))
    for (const { owner, spec } of podSpecs(objects)) {
      for (const container of allContainers(spec)) {
        for (const source of container.envFrom ?? []) {
          if (source.secretRef) expect(secretNames, `${owner} ${container.name}`).toContain(source.secretRef.name)
          if (source.configMapRef) expect(objects.some(o => o.kind === 'ConfigMap' && o.metadata.name === source.configMapRef.name), `${owner} ${container.name}`).toBe(true)
        }
      }
    }
    const secrets = template.find(s => s.metadata.name === 'helpdesk-secrets')!.stringData as Record<string, string>
    expect(Object.keys(config).filter(k => k in secrets), 'a setting is either secret or not').toEqual([])
    // What the app's container sees: production refuses to start without what it needs.
    expect(() => parseConfig({ ...config, ...secrets })).not.toThrow()
    expect(parseConfig({ ...config, ...secrets }).production).toBe(true)
  })

  it('serves the app over TLS through ingress-nginx, live updates unbuffered', () => {
    const host = new URL(config.PUBLIC_URL).host
    const ingresses = objects.filter(o => o.kind === 'Ingress')
    for (const ingress of ingresses) {
      expect(ingress.spec.ingressClassName).toBe('nginx')
      const hosts = ingress.spec.rules.map((r: any) => r.host)
      expect(ingress.spec.tls.flatMap((t: any) => t.hosts)).toEqual(hosts)
      expect(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/force-ssl-redirect']).toBe('true')
      for (const path of ingress.spec.rules.flatMap((r: any) => r.http.paths)) {
        const service = find(objects, 'Service', path.backend.service.name)
        expect(service.spec.ports.map((p: any) => p.name)).toContain(path.backend.service.port.name)
      }
    }
    const live = ingresses.find(i => i.spec.rules.some((r: any) => r.http.paths.some((p: any) => p.path === '/api/live')))!
    expect(live.spec.rules[0].host).toBe(host)
    expect(live.metadata.annotations['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off')
    expect(Number(live.metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(600)
    expect(ingresses.find(i => i.metadata.name === 'helpdesk')!.spec.rules[0].host).toBe(host)
  })

  it('points every Service at pods that exist, on ports they open', () => {
    for (const service of objects.filter(o => o.kind === 'Service')) {
      const pods = podSpecs(objects).filter(p => selects(service.spec.selector, p.labels))
      expect(pods.length, service.metadata.name).toBeGreaterThan(0)
      for (const port of service.spec.ports) {
        const named = pods.flatMap(p => p.spec.containers.flatMap((c: any) => c.ports ?? [])).map((p: any) => p.name)
        expect(named, `${service.metadata.name} → ${port.targetPort}`).toContain(port.targetPort)
      }
    }
  })

  it('lets only ingress-nginx reach the app, and the app and worker reach only their dependencies', () => {
    const policies = objects.filter(o => o.kind === 'NetworkPolicy')
    const deny = policies.find(p => Object.keys(p.spec.podSelector).length === 0)!
    expect(deny.spec.policyTypes).toEqual(['Ingress', 'Egress'])
    expect(deny.spec.ingress ?? []).toEqual([])
    expect(deny.spec.egress ?? []).toEqual([])

    const applies = (policy: K8sObject, labels: Record<string, string>) => {
      const { matchLabels = {}, matchExpressions = [] } = policy.spec.podSelector
      return selects(matchLabels, labels) && matchExpressions.every((e: any) => e.operator === 'In' && e.values.includes(labels[e.key]))
    }
    const rulesFor = (labels: Record<string, string>, type: 'ingress' | 'egress') =>
      policies.filter(p => p !== deny && p.spec.policyTypes.includes(type === 'ingress' ? 'Ingress' : 'Egress') && applies(p, labels)).flatMap(p => p.spec[type] ?? [])
    const portsOf = (rules: any[]) => new Set(rules.flatMap(r => r.ports.map((p: any) => p.port)))

    const ingressNginx = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } } }
    const prometheus = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }
    const appLabels = app.spec.template.metadata.labels
    // Requests come from ingress-nginx only; Prometheus scrapes /metrics (behind METRICS_TOKEN).
    const inbound = rulesFor(appLabels, 'ingress')
    expect(inbound.map(r => r.from)).toEqual(expect.arrayContaining([[ingressNginx], [prometheus]]))
    for (const rule of inbound) {
      expect([[ingressNginx], [prometheus]]).toContainEqual(rule.from)
      expect(portsOf([rule])).toContain(3000)
    }
    expect(template.find(s => s.metadata.name === 'helpdesk-secrets')!.stringData.METRICS_TOKEN).toBeTruthy()
    expect(rulesFor(worker.spec.template.metadata.labels, 'ingress').map(r => r.from)).toEqual([[prometheus]])
    // DNS, PostgreSQL, Redis, HTTPS (object store, IdP); the worker adds the mail relay and IMAPS.
    expect(portsOf(rulesFor(appLabels, 'egress'))).toEqual(new Set([53, 5432, 6379, 443]))
    expect(portsOf(rulesFor(worker.spec.template.metadata.labels, 'egress'))).toEqual(new Set([53, 5432, 6379, 443, 587, 465, 993]))
    const backup = templateOf(find(objects, 'CronJob', 'helpdesk-backup')).metadata.labels
    expect(rulesFor(backup, 'egress').length).toBeGreaterThan(0)
    expect(portsOf(rulesFor(backup, 'egress'))).toEqual(new Set([53, 5432, 6379, 443]))
  })

  it('keeps an app and a worker through disruptions and scales the app on load', () => {
    for (const deployment of [app, worker]) {
      const budget = objects.find(o => o.kind === 'PodDisruptionBudget' && selects(o.spec.selector.matchLabels, deployment.spec.template.metadata.labels))
      expect(budget?.spec.minAvailable, deployment.metadata.name).toBeGreaterThanOrEqual(1)
      expect(budget!.spec.minAvailable).toBeLessThan(deployment.spec.replicas)
    }
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'helpdesk-app')
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'helpdesk-app' })
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2)
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas)
    // More than one replica needs Redis (config.ts refuses it otherwise); the template sets it.
    expect(Number(config.REPLICAS)).toBeGreaterThan(1)
  })

  it('gives Authentik our blueprints as real files: a ConfigMap copied into an emptyDir by an init container', () => {
    const blueprints = find(objects, 'ConfigMap', 'authentik-blueprints')
    for (const file of readdirSync('blueprints').filter(f => f.endsWith('.yaml'))) {
      expect(blueprints.data[file], `${file}: cp blueprints/*.yaml deploy/k8s/base/authentik/blueprints/`).toBe(readFileSync(join('blueprints', file), 'utf8'))
    }
    const spec = find(objects, 'Deployment', 'authentik-worker').spec.template.spec
    const source = spec.volumes.find((v: any) => v.configMap?.name === blueprints.metadata.name)
    const copy = spec.volumes.find((v: any) => v.emptyDir && spec.containers[0].volumeMounts.some((m: any) => m.name === v.name && m.mountPath.startsWith('/blueprints/')))
    expect(source && copy).toBeTruthy()
    const init = spec.initContainers.find((c: any) => c.volumeMounts.some((m: any) => m.name === source.name) && c.volumeMounts.some((m: any) => m.name === copy.name))
    expect(init.command.join(' ')).toMatch(/cp -L /)
    expect(spec.containers[0].volumeMounts.some((m: any) => m.name === source.name), 'the worker reads the copies, never the symlinks').toBe(false)

    const authentik = find(objects, 'ConfigMap', 'authentik-config').data
    expect(authentik.HELPDESK_APP_URL).toBe(config.PUBLIC_URL)
    expect(authentik.HELPDESK_OIDC_CLIENT_ID).toBe(config.OIDC_CLIENT_ID)
    const idpHost = objects.find(o => o.kind === 'Ingress' && o.metadata.name === 'authentik')!.spec.rules[0].host
    expect(new URL(config.OIDC_ISSUER).host).toBe(idpHost)
  })
})

describe('the secrets template', () => {
  it('is a valid Secret per name, with placeholders only', async () => {
    for (const secret of template) {
      await expect(validate(secret)).resolves.toBeUndefined()
      for (const [key, value] of Object.entries(secret.stringData as Record<string, string>)) {
        const decoded = Buffer.from(value, 'base64').toString('latin1')
        expect(/change-?me/.test(value) || /change-?me/.test(decoded), `${secret.metadata.name}.${key} must be a placeholder`).toBe(true)
      }
    }
    expect(parse(readFileSync(join(root, 'base/kustomization.yaml'), 'utf8')).resources).not.toContain('secrets.template.yaml')
  })

  it('is kept out of the rendered output, and each overlay exists as a folder with a kustomization', () => {
    expect(overlays.length).toBeGreaterThan(0)
    for (const overlay of overlays) expect(existsSync(join(overlay, 'kustomization.yaml'))).toBe(true)
  })
})
