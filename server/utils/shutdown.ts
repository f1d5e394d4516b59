/** Set once SIGTERM arrived: readiness fails and responses close their connections (server/plugins/graceful-shutdown.ts). */
let draining = false

export function isDraining(): boolean {
  return draining
}

export function startDraining(): void {
  draining = true
}
