import { toMe } from '../services/me'
import { requirePrincipal } from '../utils/principal'

export default defineEventHandler(async event => toMe(await requirePrincipal(event, { scope: null })))
