import type { Job } from '@jobtracker/sdk';

const supported = () => typeof Notification !== 'undefined';

/** True while the browser would still ask the user whether to allow notifications. */
export const canAskNotifications = () => supported() && Notification.permission === 'default';

/** Asks for permission to notify (only from a click: browsers ignore the request otherwise). */
export async function askNotifications(): Promise<void> {
  if (supported()) await Notification.requestPermission();
}

/** A browser notification of a completion, only while the page is hidden; a click opens `link`. */
export function notifyCompletion(job: Job, title: string, body: string, link: string | null) {
  if (!supported() || Notification.permission !== 'granted') return;
  if (document.visibilityState !== 'hidden') return;
  const notification = new Notification(title, { body, tag: `jobtracker-${job.id}` });
  if (link) {
    notification.onclick = () => {
      window.focus();
      location.assign(link);
    };
  }
}
