/**
 * The names the forms give to the fields of the API's inputs, so an error says
 * "Title is required" instead of "title: is required". Arrays name one item ("Tag 3 …").
 */
const labels: Record<string, string | [list: string, item: string]> = {
  title: 'Title',
  body: 'Description',
  priority: 'Priority',
  status: 'Status',
  org: 'Organisation',
  orgs: ['Organisations', 'Organisation'],
  tags: ['Tags', 'Tag'],
  assigneeId: 'Assignee',
  requester: 'Requester',
  email: 'Email',
  name: 'Name',
  password: 'Password',
  current: 'Current password',
  role: 'Role',
  flags: ['Visibility', 'Visibility option'],
  active: 'Active',
  slug: 'Slug',
  domains: ['Email domains', 'Email domain'],
  filename: 'File name',
  contentType: 'File type',
  size: 'File size',
  file: 'File',
  internal: 'Internal note',
  expiresInDays: 'Expires after',
  q: 'Search',
  cursor: 'Page',
  limit: 'Page size',
  commentId: 'Reply',
  endpoint: 'Endpoint',
  bucket: 'Bucket',
  region: 'Region',
  accessKeyId: 'Access key',
  secretAccessKey: 'Secret key',
}

/** "Tag 3", "Title"; unknown fields keep their path so nothing is hidden. */
export function fieldLabel(path: readonly PropertyKey[] | string): string {
  const parts = typeof path === 'string' ? path.split('.') : path.map(String)
  const [field, index] = parts
  if (!field) return 'The request'
  const label = labels[field]
  if (!label) return parts.join('.')
  if (Array.isArray(label)) return index !== undefined && /^\d+$/.test(index) ? `${label[1]} ${Number(index) + 1}` : label[0]
  return label
}

/** One issue as a sentence: a predicate reads after the label ("Title is required"), anything else after a colon. */
export function issueMessage(field: string, problem: string): string {
  const label = fieldLabel(field)
  return /^(is|are|must|may|has|have|cannot|can't|was|were|does|do|should|not)\b/.test(problem) ? `${label} ${problem}` : `${label}: ${problem}`
}
