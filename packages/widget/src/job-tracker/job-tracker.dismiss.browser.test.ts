/// <reference types="@jobtracker/test-support/mocha" />
import { button, card, mount, root, setUpTrackerTests, text } from '../testing/tracker.js';
import { userClient } from '../testing/user-client.js';
import {
  assert,
  assertEqual,
  claimJob,
  delay,
  eventually,
  testNetwork,
  testUser,
} from '../testing/widget-env.js';

setUpTrackerTests();

/** A browser's own storage: another browser of the same user keeps nothing in this one's. */
function browserStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    key: (index) => [...items.keys()][index] ?? null,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, String(value)),
    removeItem: (key) => void items.delete(key),
    clear: () => items.clear(),
  };
}

/** A job of `user` that failed, shown as a failed card. */
async function failedJob(user: Awaited<ReturnType<typeof testUser>>, type: string, title: string) {
  const job = await user.create({ type, title });
  const worker = await claimJob(type);
  await worker.fail(`${title} broke.`);
  return job;
}

describe('<job-tracker> dismissal, stored per user on the server', () => {
  it('hides a dismissed card in every browser of the user, live; another user on the same browser never sees it', async () => {
    const stamp = Date.now().toString(36);
    // Browser one: the user's tracker, its own storage.
    const one = await testUser('dismiss-one', { storage: browserStorage() });
    // Browser two (another device): the same user, a client of its own with its own storage.
    const twoClient = userClient(one, { storage: browserStorage(), fetch: testNetwork().fetch });
    // Another user on browser one.
    const other = await testUser('dismiss-other', { storage: browserStorage() });

    const trackerOne = await mount(one.client);
    const trackerTwo = await mount(twoClient);
    const trackerOther = await mount(other.client);
    const mine = await failedJob(one, `tracker.dismiss-${stamp}`, 'Q3 import');
    const theirs = await failedJob(other, `tracker.dismiss-other-${stamp}`, 'Their import');

    const shown = await eventually(() => card(trackerOne, mine.id), 5000, 'the failed card in browser one');
    await eventually(() => card(trackerTwo, mine.id), 5000, 'the failed card in browser two');
    await eventually(() => card(trackerOther, theirs.id), 5000, "the other user's own card");

    button(shown, 'dismiss-button')?.click();
    await eventually(() => card(trackerOne, mine.id) === null, 3000, 'the card to leave browser one');
    await eventually(() => card(trackerTwo, mine.id) === null, 5000, 'the card to leave browser two, live');
    assert(twoClient.$dismissed.get().includes(mine.id), 'browser two knows it is dismissed');
    assertEqual(twoClient.jobStore(mine.id).get()?.status, 'failed', 'the job itself is untouched');

    // A third browser opened now starts with the card hidden: the dismissal is the server's.
    const three = userClient(one, { storage: browserStorage(), fetch: testNetwork().fetch });
    const trackerThree = await mount(three);
    await eventually(() => three.jobStore(mine.id).get(), 5000, 'browser three to know the job');
    await trackerThree.updateComplete;
    assertEqual(card(trackerThree, mine.id), null, 'hidden in a browser that never saw the click');

    assertEqual(card(trackerOther, mine.id), null, "the other user never sees the first user's card");
    assertEqual(other.client.jobStore(mine.id).get(), undefined, 'nor the job');
    assert(card(trackerOther, theirs.id) !== null, "the other user's own card stays");
    assertEqual(other.client.$dismissed.get().length, 0, 'nothing of theirs is dismissed');

    // Brought back from browser two: it returns everywhere.
    const restored = await twoClient.restore(mine.id);
    assertEqual(restored.dismissedAt, null, 'restore answers the job shown');
    await eventually(() => card(trackerOne, mine.id), 5000, 'the card back in browser one');
    await eventually(() => card(trackerThree, mine.id), 5000, 'the card back in browser three');
  });

  it('brings the card back with the error notice when the dismissal fails, without an unhandled rejection', async () => {
    const stamp = Date.now().toString(36);
    const user = await testUser('dismiss-fails');
    const unhandled: unknown[] = [];
    const onUnhandled = (event: PromiseRejectionEvent) => unhandled.push(event.reason);
    window.addEventListener('unhandledrejection', onUnhandled);
    try {
      const tracker = await mount(user.client);
      const job = await failedJob(user, `tracker.dismiss-fails-${stamp}`, 'Payroll export');
      const shown = await eventually(() => card(tracker, job.id), 5000, 'the failed card');
      const errors: Event[] = [];
      tracker.addEventListener('job-error', (event) => errors.push(event));
      user.network.down();
      button(shown, 'dismiss-button')?.click();
      const error = await eventually(
        // The panel's notice, not a card's error text (also part="error").
        () => root(tracker).querySelector('[part="panel"] > p[part="error"]'),
        5000,
        'the action-error notice',
      );
      assertEqual(error.getAttribute('role'), 'alert', 'announced');
      assertEqual(text(error), 'Something went wrong.', 'from the messages (genericError)');
      await eventually(() => card(tracker, job.id), 3000, 'the card to come back');
      assertEqual(errors.length, 1, 'one job-error event');
      await delay(100);
      assertEqual(unhandled.length, 0, 'no unhandled rejection');
      user.network.up();
    } finally {
      window.removeEventListener('unhandledrejection', onUnhandled);
    }
  });
});
