import { createJobClient, type JobClient, type JobClientOptions } from '@jobtracker/sdk';

/** Another client of a test user: no cache and no tab sharing, unless `options` says otherwise. */
export function userClient(
  user: { apiUrl: string; token: string; user: string },
  options: Partial<JobClientOptions> = {},
): JobClient {
  return createJobClient({
    baseUrl: user.apiUrl,
    token: user.token,
    user: user.user,
    storage: null,
    shareTabs: false,
    ...options,
  });
}
