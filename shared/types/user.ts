import { z } from 'zod'

/** Staff roles, strongest first. A user with none of them is a requester. */
export const staffRoles = ['admin', 'manager', 'agent'] as const
export type StaffRole = (typeof staffRoles)[number]
export type Role = StaffRole | 'requester'
/** Flags that narrow or widen what a role sees (see the design's visibility table). */
export const visibilityFlags = ['visibility-org', 'visibility-assigned'] as const
export type VisibilityFlag = (typeof visibilityFlags)[number]

export const roleChoices = ['requester', ...staffRoles] as const

const orgSlug = z.string().trim().toLowerCase().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes')

export const loginSchema = z.object({
  email: z.email().trim().toLowerCase(),
  password: z.string().min(1, 'is required').max(1024),
})

export const userCreateSchema = z.object({
  email: z.email().trim().toLowerCase(),
  name: z.string().trim().min(1, 'is required').max(120),
  password: z.string().min(12, 'must be at least 12 characters').max(1024),
  role: z.enum(roleChoices).default('requester'),
  flags: z.array(z.enum(visibilityFlags)).max(2).default([]),
  orgs: z.array(orgSlug).max(50).default([]),
})

export type UserCreate = z.input<typeof userCreateSchema>

export const userUpdateSchema = z.object({
  name: z.string().trim().min(1, 'is required').max(120).optional(),
  role: z.enum(roleChoices).optional(),
  flags: z.array(z.enum(visibilityFlags)).max(2).optional(),
  orgs: z.array(orgSlug).max(50).optional(),
  active: z.boolean().optional(),
}).refine(v => Object.values(v).some(x => x !== undefined), 'has nothing to change')

export type UserUpdate = z.infer<typeof userUpdateSchema>

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
