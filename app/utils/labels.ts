import type { TicketPriority, TicketStatus } from '#shared/utils/tickets'

export const statusStyles: Record<TicketStatus, string> = {
  new: 'bg-sky-50 text-sky-700 ring-sky-600/20',
  open: 'bg-amber-50 text-amber-800 ring-amber-600/20',
  pending: 'bg-violet-50 text-violet-700 ring-violet-600/20',
  resolved: 'bg-emerald-50 text-emerald-700 ring-emerald-600/20',
  closed: 'bg-slate-100 text-slate-600 ring-slate-500/20',
}

export const priorityStyles: Record<TicketPriority, string> = {
  low: 'text-slate-500',
  normal: 'text-slate-700',
  high: 'text-orange-700',
  urgent: 'text-red-700 font-semibold',
}

export function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1)
}
