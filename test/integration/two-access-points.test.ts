import { describeAcceptanceEvents } from './acceptance-events-suite.js';
import { describeTwoAccessPoints } from './two-access-points-suite.js';

// The embedded default: SQLite and the in-process queue.
describeTwoAccessPoints({ label: '' });
describeAcceptanceEvents({ label: '' });
