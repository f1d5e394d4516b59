// Macro placeholders, free of zod: the reply box fills them in the browser.
/** What a macro's text may refer to; filled in when an agent picks it. */
export const macroPlaceholders = ['requester.name', 'requester.firstName', 'ticket.number', 'ticket.title', 'agent.name', 'agent.firstName'] as const
export type MacroPlaceholder = (typeof macroPlaceholders)[number]

const placeholderPattern = /\{\{\s*([\w.]+)\s*\}\}/g

/** Placeholders in a text that are not in the list above (a typo would otherwise reach the customer). */
export function unknownPlaceholders(text: string): string[] {
  return [...text.matchAll(placeholderPattern)].map(m => m[1]!).filter(p => !(macroPlaceholders as readonly string[]).includes(p))
}

export type MacroContext = Record<MacroPlaceholder, string>

/** The macro's text with its placeholders filled in. */
export function fillMacro(text: string, context: MacroContext): string {
  return text.replace(placeholderPattern, (whole, key: string) => (key in context ? context[key as MacroPlaceholder] : whole))
}
