import { overview } from '../../services/reports'
import { requirePrincipal } from '../../utils/principal'

export default defineEventHandler(async event => overview(await requirePrincipal(event, { role: 'manager' })))
