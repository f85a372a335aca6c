export {
  renewArchiveTimestamps,
  type RenewArchiveOptions,
  type RenewArchiveResult,
} from './renew-archive-timestamps.js';
export {
  createArchiveRenewalJob,
  type ArchiveRenewalJob,
  type ArchiveRenewalJobOptions,
} from './archive-renewal-job.js';
