import { describe, expect, it } from 'vitest'
import { fillMacro, unknownPlaceholders } from '../../shared/utils/macros'

const context = { 'requester.name': 'Rita Requester', 'requester.firstName': 'Rita', 'ticket.number': '1042', 'ticket.title': 'Printer', 'agent.name': 'Andy Agent', 'agent.firstName': 'Andy' }

describe('macro placeholders', () => {
  it('fills in the ticket, requester and agent', () => {
    expect(fillMacro('Hi {{ requester.firstName }}, #{{ticket.number}} is done. {{agent.name}}', context)).toBe('Hi Rita, #1042 is done. Andy Agent')
  })
  it('leaves unknown ones visible and names them', () => {
    expect(fillMacro('Hi {{requestor.name}}', context)).toBe('Hi {{requestor.name}}')
    expect(unknownPlaceholders('{{requestor.name}} {{ticket.number}} {{x}}')).toEqual(['requestor.name', 'x'])
  })
})
