import { attachmentSuite } from './attachments-suite'

// Against an S3 emulator that checks SigV4 signatures and expiry, like a real store.
attachmentSuite('s3')
