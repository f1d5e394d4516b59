import { toMe } from '#server/services/auth/me'
import { requirePrincipal } from '#server/utils/principal'

export default defineEventHandler(async event => toMe(await requirePrincipal(event, { scope: null })))
