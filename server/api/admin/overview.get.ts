import { overview } from '#server/services/reports'
import { requirePrincipal } from '#server/utils/principal'

export default defineEventHandler(async event => overview(await requirePrincipal(event, { role: 'manager' })))
