export { renewArchiveTimestamps, type RenewArchiveOptions, type RenewArchiveResult } from './renew-archive-timestamps.js';
