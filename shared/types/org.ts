import { z } from 'zod'

/** Lower-case letters, digits and dashes: the slug is also the `helpdesk-org-<slug>` group name. */
export const orgSlugSchema = z.string().trim().toLowerCase()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'may only contain lower-case letters, digits and dashes (up to 63)')

const domain = z.string().trim().toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a mail domain such as example.com')

export const orgCreateSchema = z.object({
  slug: orgSlugSchema,
  name: z.string({ error: 'is required' }).trim().min(1, 'is required').max(120, 'must be at most 120 characters'),
  domains: z.array(domain).max(50, 'may list at most 50 domains').default([]),
})

export const orgUpdateSchema = z.object({
  slug: orgSlugSchema.optional(),
  name: z.string().trim().min(1, 'is required').max(120, 'must be at most 120 characters').optional(),
  domains: z.array(domain).max(50, 'may list at most 50 domains').optional(),
}).refine(v => Object.values(v).some(x => x !== undefined), 'has nothing to change')

export type OrgCreate = z.input<typeof orgCreateSchema>
export type OrgUpdate = z.infer<typeof orgUpdateSchema>

/** An organisation as the admin area lists it (`GET /api/admin/orgs`). */
export interface OrgSummary {
  id: string
  slug: string
  name: string
  domains: string[]
  members: number
  /** Tickets the caller may see: active (new, open, pending) and all. */
  openTickets: number
  tickets: number
  createdAt: string
}
