export type { Job, JobStatus } from '@jobtracker/sdk';
