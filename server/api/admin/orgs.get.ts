import { listOrgs } from '../../services/reports'
import { requirePrincipal } from '../../utils/principal'

export default defineEventHandler(async event => ({ data: await listOrgs(await requirePrincipal(event, { role: 'manager' })) }))
