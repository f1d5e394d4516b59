import { createError } from 'h3'
import { issueMessage } from '#shared/utils/field-labels'

/** The API's error answers, one style everywhere: a fixed status text and a short human message. */
export interface InputIssue { field: string, problem: string }

/** 400 naming each field as the form labels it; `data.issues` keeps the machine-readable fields. */
export function badRequest(issues: InputIssue[] | InputIssue, statusMessage = 'Invalid input') {
  const list = Array.isArray(issues) ? issues : [issues]
  return createError({ statusCode: 400, statusMessage, message: list.map(i => `${issueMessage(i.field, i.problem)}.`).join(' '), data: { issues: list } })
}

export const notFound = (message = 'Not found.') => createError({ statusCode: 404, statusMessage: 'Not Found', message })
export const forbidden = (message = 'You are not allowed to do this.') => createError({ statusCode: 403, statusMessage: 'Forbidden', message })
export const conflict = (message: string, statusMessage = 'Conflict') => createError({ statusCode: 409, statusMessage, message })
