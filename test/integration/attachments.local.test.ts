import { attachmentSuite } from './attachments-suite'

// The embedded default: files under the data directory, uploaded through the app.
attachmentSuite('local')
