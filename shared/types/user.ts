import { z } from 'zod'
import { roleChoices, visibilityFlags } from '../utils/roles'
import { orgSlugSchema } from './org'

const orgSlug = orgSlugSchema
const email = z.email({ error: i => (i.input === undefined || i.input === '' ? 'is required' : 'must be an email address such as name@example.com') }).trim().toLowerCase()
const name = z.string({ error: 'is required' }).trim().min(1, 'is required').max(120, 'must be at most 120 characters')
const password = z.string({ error: 'is required' }).min(12, 'must be at least 12 characters').max(1024, 'must be at most 1024 characters')

export const loginSchema = z.object({
  email,
  password: z.string().min(1, 'is required').max(1024),
})

export const userCreateSchema = z.object({
  email,
  name,
  password,
  role: z.enum(roleChoices).default('requester'),
  flags: z.array(z.enum(visibilityFlags)).max(2).default([]),
  orgs: z.array(orgSlug).max(50).default([]),
})

export type UserCreate = z.input<typeof userCreateSchema>

export const userUpdateSchema = z.object({
  name: name.optional(),
  email: email.optional(),
  password: password.optional(),
  role: z.enum(roleChoices).optional(),
  flags: z.array(z.enum(visibilityFlags)).max(2).optional(),
  orgs: z.array(orgSlug).max(50).optional(),
  active: z.boolean().optional(),
}).refine(v => Object.values(v).some(x => x !== undefined), 'has nothing to change')

export type UserUpdate = z.infer<typeof userUpdateSchema>

/** `PATCH /api/me`: what users change about themselves. */
export const meUpdateSchema = z.object({ name })

/** Who a ticket opened by staff is for: someone they can look up, or a new requester by email. */
export const requesterRefSchema = z.union([
  z.object({ id: z.uuid({ error: 'is not a person you can choose' }) }),
  z.object({ email, name: name.optional() }),
])
export type RequesterRef = z.infer<typeof requesterRefSchema>

/** `GET /api/requesters`: a person staff may open a ticket for. */
export interface RequesterChoice { id: string, name: string, email: string, orgs: string[] }

/** `GET /api/agents`: staff a ticket can be assigned to. */
export interface StaffMember { id: string, name: string, email: string }

export interface Me {
  id: string
  email: string
  name: string
  roles: string[]
  orgs: string[]
}

export interface AdminUser extends Me {
  active: boolean
  lastSignInAt: string | null
  createdAt: string
}

/** What an API token may grant (OAuth scopes); sessions carry all of them. */
export const apiScopes = ['tickets:read', 'tickets:write', 'admin'] as const
export type ApiScope = (typeof apiScopes)[number]
